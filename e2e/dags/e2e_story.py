"""One task's story on its incident's timeline: fail, retry, fail, recover (make e2e).

With ``retries=1`` and the retry callback on: run 1 fails its two tries (the first is a retry with
nothing open yet, the second opens the incident), run 2 fails a try (a retry) and then its last
try, run 3 (``{"fail": false}``) succeeds and resolves the incident.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, task

from airflow_provider_opsgenie_incident.notifications.incident import opsgenie_incident_callbacks

with DAG(
    dag_id="e2e_story",
    schedule=None,
    params={"fail": True},
    max_active_runs=1,
    default_args={
        "retries": 1,
        "retry_delay": timedelta(seconds=1),
        **opsgenie_incident_callbacks(on_retry=True, responders=[{"type": "team", "name": "data-platform"}]),
    },
    tags=["e2e"],
) as dag:

    @task
    def load(params: dict | None = None, ti=None) -> str:
        if params and params["fail"]:
            raise RuntimeError(f"try {ti.try_number}: the warehouse refused the load")
        return "loaded"

    load()
