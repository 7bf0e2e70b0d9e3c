"""
Run an incident as a workflow: create, route, annotate, record on the timeline, resolve, close.

In real life a responder resolves the incident in Opsgenie while the deferrable status sensor waits
for it in the triggerer. Here the ``resolve_incident`` task plays the responder and runs before the
sensor, whose first poke then finds the incident resolved; the incident is closed last. That order
also lets a plain ``dag.test()`` run the example to its end: ``dag.test()`` runs one task at a time
and a deferred task's trigger in line, so a sensor waiting for a later task of the same run would
wait out its whole timeout.
"""

from __future__ import annotations

# [START howto_operator_opsgenie_incident_workflow]
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

    chain(create, updates, resolve, wait_resolved, close)

if __name__ == "__main__":
    dag.test()
# [END howto_operator_opsgenie_incident_workflow]
