"""A Deadline Alert whose notifier runs in the triggerer: the run overruns 5 s (make e2e)."""

from __future__ import annotations

import time
from datetime import timedelta

from airflow.sdk import DAG, AsyncCallback, DeadlineAlert, DeadlineReference, task

from airflow_provider_opsgenie_incident.notifications.incident import OpsgenieIncidentFailureNotifier

with DAG(
    dag_id="e2e_deadline",
    schedule=None,
    deadline=DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(seconds=5),
        callback=AsyncCallback(
            OpsgenieIncidentFailureNotifier,
            kwargs={"message": "[Airflow] {{ dag_run.dag_id }} overran its 5 s deadline", "priority": "P2"},
        ),
    ),
    tags=["e2e"],
) as dag:

    @task
    def slow() -> None:
        time.sleep(30)

    slow()
