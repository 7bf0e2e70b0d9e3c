"""
Open an Opsgenie incident when a task fails, record each later failure on it, resolve it on recovery.

Trigger it as is to fail (``fail`` defaults to true), or with ``{"fail": false}`` to succeed.
"""

from __future__ import annotations

# [START howto_notifier_opsgenie_incident_callbacks]
from airflow.sdk import DAG, task

from airflow_provider_opsgenie_incident.notifications.incident import opsgenie_incident_callbacks

with DAG(
    dag_id="example_opsgenie_incident_callbacks",
    schedule=None,
    params={"fail": True},
    default_args={
        "retries": 0,
        # Every task: a failure opens its incident (or adds to its timeline), a success resolves it.
        **opsgenie_incident_callbacks(priority="P3", tags=["airflow", "example"]),
    },
    tags=["example", "opsgenie"],
) as dag:

    @task
    def load_warehouse(params: dict | None = None) -> str:
        if params and params["fail"]:
            raise RuntimeError("the warehouse refused the nightly load")
        return "loaded"

    load_warehouse()

if __name__ == "__main__":
    dag.test()
# [END howto_notifier_opsgenie_incident_callbacks]
