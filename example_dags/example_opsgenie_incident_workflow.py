"""
Run an incident as a workflow: create, route, annotate, record on the timeline, resolve, close.

The deferrable status sensor starts as soon as the incident exists and waits in the triggerer until
it is resolved; in real life a responder resolves it in Opsgenie. Here a task on the other branch
resolves it once the updates are in, so the example finishes on its own; the incident is closed when
both branches are done.
"""

from __future__ import annotations

from airflow.sdk import DAG, chain

from airflow_provider_opsgenie_incident.operators.incident import (
    OpsgenieAddIncidentNoteOperator,
    OpsgenieAddIncidentResponderOperator,
    OpsgenieCloseIncidentOperator,
    OpsgenieCreateIncidentOperator,
    OpsgenieResolveIncidentOperator,
)
from airflow_provider_opsgenie_incident.operators.incident_update import (
    OpsgenieAddIncidentDetailsOperator,
    OpsgenieAddIncidentTagsOperator,
    OpsgenieUpdateIncidentPriorityOperator,
)
from airflow_provider_opsgenie_incident.operators.timeline import OpsgenieAddTimelineEntryOperator
from airflow_provider_opsgenie_incident.sensors.incident import OpsgenieIncidentStatusSensor

# [START howto_operator_opsgenie_incident_workflow]
with DAG(
    dag_id="example_opsgenie_incident_workflow",
    schedule=None,
    tags=["example", "opsgenie"],
) as dag:
    create = OpsgenieCreateIncidentOperator(
        task_id="create_incident",
        message="Warehouse load is late",
        description="The nightly load has not finished by 06:00.",
        priority="P3",
        tags=["warehouse"],
    )
    incident_id = create.output["incident_id"]

    updates = [
        OpsgenieAddIncidentResponderOperator(
            task_id="add_responder",
            identifier=incident_id,
            responders=[{"type": "team", "name": "data-platform"}],
        ),
        OpsgenieAddIncidentNoteOperator(
            task_id="add_note", identifier=incident_id, note="Investigating: upstream export stalled."
        ),
        OpsgenieAddIncidentTagsOperator(task_id="add_tags", identifier=incident_id, tags=["nightly"]),
        OpsgenieAddIncidentDetailsOperator(
            task_id="add_details", identifier=incident_id, details={"run_id": "{{ run_id }}"}
        ),
        OpsgenieUpdateIncidentPriorityOperator(
            task_id="raise_priority", identifier=incident_id, priority="P2"
        ),
        OpsgenieAddTimelineEntryOperator(
            task_id="add_timeline_entry", incident_id=incident_id, content="Export restarted by Airflow."
        ),
    ]
    resolve = OpsgenieResolveIncidentOperator(
        task_id="resolve_incident", identifier=incident_id, note="The load finished at 06:20."
    )
    wait_resolved = OpsgenieIncidentStatusSensor(
        task_id="wait_until_resolved",
        identifier=incident_id,
        target_statuses=["resolved"],
        failure_statuses=["closed"],
        deferrable=True,
        poke_interval=5,
        timeout=3600,
    )
    close = OpsgenieCloseIncidentOperator(
        task_id="close_incident", identifier=incident_id, note="Post-incident review done."
    )

    chain(create, updates, resolve, close)
    chain(create, wait_resolved, close)
# [END howto_operator_opsgenie_incident_workflow]
