"""A DAG-level failure callback: the dag-processor runs it when the run fails (make e2e)."""

from __future__ import annotations

from airflow.sdk import DAG, task

from airflow_provider_opsgenie_incident.notifications.incident import OpsgenieIncidentFailureNotifier

with DAG(
    dag_id="e2e_dag_callback",
    schedule=None,
    default_args={"retries": 0},
    on_failure_callback=OpsgenieIncidentFailureNotifier(priority="P2"),
    tags=["e2e"],
) as dag:

    @task
    def extract() -> None:
        raise RuntimeError("the source database is unreachable")

    extract()
