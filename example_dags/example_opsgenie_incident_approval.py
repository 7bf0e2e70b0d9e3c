"""
Wait for a person: page the on-call, ask them in Airflow, then resolve or escalate the incident.

The incident is opened when the wait starts, and its page names Airflow's Required Actions page,
where the on-call answers. "Resolve" resolves the incident with a note; "Escalate", or no answer
within 30 minutes, raises it to P1 and adds the team leads as responders.
"""

from __future__ import annotations

# [START howto_operator_opsgenie_incident_approval]
from datetime import timedelta

from airflow.providers.standard.operators.hitl import HITLBranchOperator
from airflow.sdk import DAG

from airflow_provider_opsgenie_incident.operators.incident import (
    OpsgenieAddIncidentResponderOperator,
    OpsgenieCreateIncidentOperator,
    OpsgenieResolveIncidentOperator,
)
from airflow_provider_opsgenie_incident.operators.incident_update import (
    OpsgenieUpdateIncidentPriorityOperator,
)

with DAG(
    dag_id="example_opsgenie_incident_approval",
    schedule=None,
    params={"mismatches": 3},
    tags=["example", "opsgenie"],
) as dag:
    page = OpsgenieCreateIncidentOperator(
        task_id="page_on_call",
        message="Refund reconciliation needs a decision",
        description="{{ params.mismatches }} refunds do not match the ledger in run {{ run_id }}. "
        "Answer in Airflow: Required Actions, task decide.",
        priority="P3",
        responders=[{"type": "team", "name": "payments"}],
        tags=["refunds"],
    )
    incident_id = page.output["incident_id"]

    decide = HITLBranchOperator(
        task_id="decide",
        subject="{{ params.mismatches }} refunds do not match the ledger",
        body="Opsgenie incident: {{ ti.xcom_pull('page_on_call', key='url') }}",
        options=["Resolve", "Escalate"],
        options_mapping={"Resolve": "resolve_incident", "Escalate": "raise_priority"},
        defaults="Escalate",
        response_timeout=timedelta(minutes=30),
    )
    resolve = OpsgenieResolveIncidentOperator(
        task_id="resolve_incident",
        identifier=incident_id,
        note="The on-call answered Resolve in Airflow: the mismatches are expected.",
    )
    raise_priority = OpsgenieUpdateIncidentPriorityOperator(
        task_id="raise_priority", identifier=incident_id, priority="P1"
    )
    add_leads = OpsgenieAddIncidentResponderOperator(
        task_id="add_team_leads",
        identifier=incident_id,
        responders=[{"type": "team", "name": "payments-leads"}],
        note="Escalated from Airflow: the on-call answered Escalate, or nobody answered in 30 minutes.",
    )

    page >> decide >> [resolve, raise_priority]
    raise_priority >> add_leads

if __name__ == "__main__":
    # Waits until someone answers in Airflow's Required Actions page (an api-server on this database).
    dag.test()
# [END howto_operator_opsgenie_incident_approval]
