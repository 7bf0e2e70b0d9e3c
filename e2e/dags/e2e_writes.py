"""20 deferrable creates, each in its own task; make e2e sets how soon Opsgenie processes them."""

from __future__ import annotations

from airflow.sdk import DAG

from airflow_provider_opsgenie_incident.operators.incident import OpsgenieCreateIncidentOperator

with DAG(
    dag_id="e2e_writes",
    schedule=None,
    max_active_tasks=20,
    default_args={"retries": 0},
    tags=["e2e"],
) as dag:
    OpsgenieCreateIncidentOperator.partial(task_id="create_incident", deferrable=True).expand(
        message=[f"e2e write {i} {{{{ run_id }}}}" for i in range(20)]
    )
