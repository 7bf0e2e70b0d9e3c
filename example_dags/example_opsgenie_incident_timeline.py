"""
Keep an incident's timeline from a DAG: add, update, hide, list, get, unhide and delete entries.

The Incident Timeline API answers synchronously and addresses incidents by id. A run triggered by hand
has no logical date, so the texts use the run's ``run_after`` then.
"""

from __future__ import annotations

# [START howto_operator_opsgenie_incident_timeline]
from airflow.sdk import DAG, chain

from airflow_provider_opsgenie_incident.operators.incident import OpsgenieCreateIncidentOperator
from airflow_provider_opsgenie_incident.operators.timeline import (
    OpsgenieAddTimelineEntryOperator,
    OpsgenieDeleteTimelineEntryOperator,
    OpsgenieGetTimelineEntryOperator,
    OpsgenieHideTimelineEntryOperator,
    OpsgenieListTimelineEntriesOperator,
    OpsgenieUnhideTimelineEntryOperator,
    OpsgenieUpdateTimelineEntryOperator,
)

with DAG(
    dag_id="example_opsgenie_incident_timeline",
    schedule=None,
    tags=["example", "opsgenie"],
) as dag:
    create = OpsgenieCreateIncidentOperator(
        task_id="create_incident",
        message="Backfill of {{ (dag_run.logical_date or dag_run.run_after) | ds }}",
    )
    incident_id = "{{ ti.xcom_pull('create_incident', key='incident_id') }}"
    entry_id = "{{ ti.xcom_pull('add_entry')['id'] }}"

    add = OpsgenieAddTimelineEntryOperator(
        task_id="add_entry",
        incident_id=incident_id,
        content="Backfill started",
        time="{{ (dag_run.logical_date or dag_run.run_after) | ts }}",
    )
    update = OpsgenieUpdateTimelineEntryOperator(
        task_id="update_entry", incident_id=incident_id, entry_id=entry_id, content="Backfill 50 % done"
    )
    hide = OpsgenieHideTimelineEntryOperator(task_id="hide_entry", incident_id=incident_id, entry_id=entry_id)
    listing = OpsgenieListTimelineEntriesOperator(
        task_id="list_entries", incident_id=incident_id, order="asc", max_results=50
    )
    get = OpsgenieGetTimelineEntryOperator(task_id="get_entry", incident_id=incident_id, entry_id=entry_id)
    unhide = OpsgenieUnhideTimelineEntryOperator(
        task_id="unhide_entry", incident_id=incident_id, entry_id=entry_id
    )
    delete = OpsgenieDeleteTimelineEntryOperator(
        task_id="delete_entry", incident_id=incident_id, entry_id=entry_id
    )

    chain(create, add, update, hide, listing, get, unhide, delete)

if __name__ == "__main__":
    dag.test()
# [END howto_operator_opsgenie_incident_timeline]
