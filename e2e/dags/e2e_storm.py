"""A storm: one task mapped over 12 instances, all failing at once, each paging the same team (make e2e)."""

from __future__ import annotations

from airflow.sdk import DAG, task

from airflow_provider_opsgenie_incident.notifications.incident import OpsgenieIncidentFailureNotifier

with DAG(
    dag_id="e2e_storm",
    schedule=None,
    max_active_tasks=12,
    default_args={
        "retries": 0,
        "on_failure_callback": OpsgenieIncidentFailureNotifier(
            responders=[{"type": "team", "name": "data-platform"}], priority="P2"
        ),
    },
    tags=["e2e"],
) as dag:

    @task
    def load_partition(partition: int) -> None:
        raise RuntimeError(f"partition {partition}: the warehouse refused the load")

    load_partition.expand(partition=list(range(12)))
