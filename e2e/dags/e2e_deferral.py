"""A deferrable create and a deferrable status sensor that wait in the triggerer (make e2e)."""

from __future__ import annotations

from airflow.sdk import DAG

from airflow_provider_opsgenie_incident.operators.incident import OpsgenieCreateIncidentOperator
from airflow_provider_opsgenie_incident.sensors.incident import OpsgenieIncidentStatusSensor

with DAG(dag_id="e2e_deferral", schedule=None, default_args={"retries": 0}, tags=["e2e"]) as dag:
    create = OpsgenieCreateIncidentOperator(
        task_id="create_incident", message="e2e deferral {{ run_id }}", deferrable=True, wait_timeout=300
    )
    wait = OpsgenieIncidentStatusSensor(
        task_id="wait_until_resolved",
        identifier=create.output["incident_id"],
        target_statuses=["resolved"],
        deferrable=True,
        poke_interval=3,
        timeout=600,
    )
    create >> wait
