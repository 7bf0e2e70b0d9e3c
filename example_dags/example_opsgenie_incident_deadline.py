"""
Open an Opsgenie incident when a DAG run overruns its deadline; resolve it when the run succeeds.

The Deadline Alert runs the notifier in the triggerer (``async_notify``). Both notifiers default to
the DAG's fingerprint, so the run's success resolves the overrun incident.
"""

from __future__ import annotations

# [START howto_notifier_opsgenie_incident_deadline]
from datetime import timedelta

from airflow.sdk import DAG, AsyncCallback, DeadlineAlert, DeadlineReference, task

from airflow_provider_opsgenie_incident.notifications.incident import (
    OpsgenieIncidentFailureNotifier,
    OpsgenieIncidentRecoveryNotifier,
)

with DAG(
    dag_id="example_opsgenie_incident_deadline",
    schedule=None,
    deadline=DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(minutes=30),
        callback=AsyncCallback(
            OpsgenieIncidentFailureNotifier,
            kwargs={
                "message": "[Airflow] {{ dag_run.dag_id }} still running after 30 minutes",
                "priority": "P2",
            },
        ),
    ),
    on_success_callback=OpsgenieIncidentRecoveryNotifier(),
    tags=["example", "opsgenie"],
) as dag:

    @task
    def crunch_numbers() -> int:
        return 42

    crunch_numbers()

if __name__ == "__main__":
    # dag.test() on Airflow 3.3 fails on a DAG with a Deadline Alert once its tasks are done
    # (docs/callbacks.md says why): test the DAG without it.
    dag.deadline = None
    dag.test()
# [END howto_notifier_opsgenie_incident_deadline]
