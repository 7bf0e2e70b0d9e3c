"""Every operator, run inside real Airflow (``dag.test()``) against the emulator, with templated arguments."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_opsgenie_incident._tasks import DEFAULT_CONN_ID
from airflow_provider_opsgenie_incident.client.catalogue import ENDPOINTS
from airflow_provider_opsgenie_incident.operators import incident, incident_update, timeline
from airflow_provider_opsgenie_incident.operators.incident import IDEMPOTENCY_PREFIX, idempotency_tag

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator
    from airflow_provider_opsgenie_incident.hooks.incident import OpsgenieIncidentHook
    from airflow_provider_opsgenie_incident.operators._base import _OpsgenieIncidentBaseOperator

T = "{{ dag_run.conf['word'] }}"  # renders "templated"
INCIDENT = "{{ dag_run.conf['incident_id'] }}"
ENTRY = "{{ dag_run.conf['entry_id'] }}"
#: Every public operator class, from the modules' ``__all__``.
OPERATORS: dict[str, type[_OpsgenieIncidentBaseOperator]] = {
    name: getattr(module, name) for module in (incident, incident_update, timeline) for name in module.__all__
}
OPTIONS = {
    "opsgenie_incident_conn_id",
    "wait_for_completion",
    "wait_timeout",
    "deferrable",
    "defer_after",
    "max_results",
    "idempotency_key",
}


@dataclass(frozen=True)
class Case:
    operator: str
    kwargs: dict[str, Any]
    method: str
    path: str  # {incident_id}, {tiny_id} and {entry_id} are filled in
    body: Any = None  # the exact JSON body expected, when given
    query: dict[str, str] = field(default_factory=dict)  # expected query parameters
    check: Callable[[Any, dict[str, str], OpsgenieEmulator], bool] = lambda result, ids, emulator: True


def _processed(action: str, status: str) -> Callable[[Any, dict[str, str], OpsgenieEmulator], bool]:
    def check(result: Any, ids: dict[str, str], emulator: OpsgenieEmulator) -> bool:
        return bool(result["request_id"]) and result == {
            "request_id": result["request_id"],
            "incident_id": ids["incident_id"],
            "action": action,
            "status": status,
        }

    return check


def _check_create(result: Any, ids: dict[str, str], emulator: OpsgenieEmulator) -> bool:
    new_id = result["incident_id"]
    assert new_id not in (ids["incident_id"], ids["other_id"])
    assert result["tiny_id"] == "3"
    assert result["url"] == f"{emulator.url}/incident/detail/{new_id}"
    assert result["status"] == "Created incident"
    created = emulator.incident(new_id)
    return created is not None and created["message"] == "templated failed"


CASES = [
    Case(
        "OpsgenieCreateIncidentOperator",
        {
            "message": f"{T} failed",
            "description": f"about {T}",
            "responders": [{"type": "team", "name": T}],
            "tags": [T],
            "details": {"word": T},
            "priority": "{{ dag_run.conf['priority'] }}",
            "note": T,
            "notify_stakeholders": False,
            "idempotency_key": f"{T} key",
        },
        "POST",
        "/v1/incidents/create",
        body={
            "message": "templated failed",
            "description": "about templated",
            "responders": [{"type": "team", "name": "templated"}],
            "tags": ["templated", idempotency_tag("templated key")],
            "details": {"word": "templated"},
            "priority": "P1",
            "note": "templated",
            "notifyStakeholders": False,
        },
        check=_check_create,
    ),
    Case(
        "OpsgenieGetIncidentOperator",
        {"identifier": "{{ dag_run.conf['tiny_id'] }}", "identifier_type": "tiny"},
        "GET",
        "/v1/incidents/{tiny_id}",
        query={"identifierType": "tiny"},
        check=lambda result, ids, emulator: result["id"] == ids["incident_id"],
    ),
    Case(
        "OpsgenieListIncidentsOperator",
        {"query": f'status:open AND tag:"{T}"', "order": "asc", "max_results": 1},
        "GET",
        "/v1/incidents",
        query={"query": 'status:open AND tag:"templated"', "order": "asc"},
        check=lambda result, ids, emulator: [i["id"] for i in result] == [ids["incident_id"]],
    ),
    Case(
        "OpsgenieListIncidentNotesOperator",
        {"identifier": "{{ dag_run.conf['tiny_id'] }}", "identifier_type": "tiny", "order": "asc"},
        "GET",
        "/v1/incidents/{tiny_id}/notes",
        query={"identifierType": "tiny", "order": "asc"},
        check=lambda result, ids, emulator: [n["note"] for n in result] == ["first note"],
    ),
    Case(
        "OpsgenieListIncidentLogsOperator",
        {"identifier": INCIDENT, "max_results": 1},
        "GET",
        "/v1/incidents/{incident_id}/logs",
        check=lambda result, ids, emulator: len(result) == 1 and "log" in result[0],
    ),
    Case(
        "OpsgenieDeleteIncidentOperator",
        {"identifier": INCIDENT},
        "DELETE",
        "/v1/incidents/{incident_id}",
        check=_processed("Delete", "Deleted incident"),
    ),
    Case(
        "OpsgenieCloseIncidentOperator",
        {"identifier": INCIDENT, "note": f"closed by {T}"},
        "POST",
        "/v1/incidents/{incident_id}/close",
        body={"note": "closed by templated"},
        check=_processed("Close", "Closed incident"),
    ),
    Case(
        "OpsgenieResolveIncidentOperator",
        {"identifier": INCIDENT, "note": T},
        "POST",
        "/v1/incidents/{incident_id}/resolve",
        body={"note": "templated"},
        check=_processed("Resolve", "Resolved incident"),
    ),
    Case(
        "OpsgenieAddIncidentNoteOperator",
        {"identifier": INCIDENT, "note": f"{T} note"},
        "POST",
        "/v1/incidents/{incident_id}/notes",
        body={"note": "templated note"},
        check=_processed("AddNote", "Added note"),
    ),
    Case(
        "OpsgenieAddIncidentResponderOperator",
        {"identifier": INCIDENT, "responders": [{"type": "user", "username": f"{T}@example.com"}], "note": T},
        "POST",
        "/v1/incidents/{incident_id}/responders",
        body={
            "incidentId": "{incident_id}",
            "responder": [{"type": "user", "username": "templated@example.com"}],
            "note": "templated",
        },
        check=_processed("AddResponder", "Added responder"),
    ),
    Case(
        "OpsgenieAddIncidentTagsOperator",
        {"identifier": INCIDENT, "tags": [T, "new"]},
        "POST",
        "/v1/incidents/{incident_id}/tags",
        body={"tags": ["templated", "new"]},
        check=_processed("AddTags", "Added tags"),
    ),
    Case(
        "OpsgenieRemoveIncidentTagsOperator",
        {"identifier": INCIDENT, "tags": [T], "note": T},
        "DELETE",
        "/v1/incidents/{incident_id}/tags",
        query={"tags": "templated", "note": "templated"},
        check=_processed("RemoveTags", "Removed tags"),
    ),
    Case(
        "OpsgenieAddIncidentDetailsOperator",
        {"identifier": INCIDENT, "details": {"word": T}, "note": T},
        "POST",
        "/v1/incidents/{incident_id}/details",
        body={"details": {"word": "templated"}, "note": "templated"},
        check=_processed("AddDetails", "Added details"),
    ),
    Case(
        "OpsgenieRemoveIncidentDetailsOperator",
        {"identifier": INCIDENT, "keys": [T]},
        "DELETE",
        "/v1/incidents/{incident_id}/details",
        query={"keys": "templated"},
        check=_processed("RemoveDetails", "Removed details"),
    ),
    Case(
        "OpsgenieUpdateIncidentPriorityOperator",
        {"identifier": INCIDENT, "priority": "{{ dag_run.conf['priority'] }}"},
        "PUT",
        "/v1/incidents/{incident_id}/priority",
        body={"priority": "P1"},
        check=_processed("UpdatePriority", "Updated priority"),
    ),
    Case(
        "OpsgenieUpdateIncidentMessageOperator",
        {"identifier": INCIDENT, "message": f"{T} again"},
        "PUT",
        "/v1/incidents/{incident_id}/message",
        body={"message": "templated again"},
        check=_processed("UpdateMessage", "Updated message"),
    ),
    Case(
        "OpsgenieUpdateIncidentDescriptionOperator",
        {"identifier": INCIDENT, "description": f"{T} details"},
        "PUT",
        "/v1/incidents/{incident_id}/description",
        body={"description": "templated details"},
        check=_processed("UpdateDescription", "Updated description"),
    ),
    Case(
        "OpsgenieAddTimelineEntryOperator",
        {"incident_id": INCIDENT, "content": f"{T} entry", "time": "{{ dag_run.conf['time'] }}"},
        "POST",
        "/v2/incident-timelines/{incident_id}/entries",
        body={"description": {"content": "templated entry"}, "time": "2024-01-02T03:04:05Z"},
        check=lambda result, ids, emulator: (
            result["id"] in [e["id"] for e in emulator.timeline(ids["incident_id"])]
        ),
    ),
    Case(
        "OpsgenieGetTimelineEntryOperator",
        {"incident_id": INCIDENT, "entry_id": ENTRY},
        "GET",
        "/v2/incident-timelines/{incident_id}/entries/{entry_id}",
        check=lambda result, ids, emulator: result["id"] == ids["entry_id"],
    ),
    Case(
        "OpsgenieUpdateTimelineEntryOperator",
        {"incident_id": INCIDENT, "entry_id": ENTRY, "content": f"{T} edited"},
        "PATCH",
        "/v2/incident-timelines/{incident_id}/entries/{entry_id}",
        body={"description": {"content": "templated edited"}},
        check=lambda result, ids, emulator: result["id"] == ids["entry_id"],
    ),
    Case(
        "OpsgenieDeleteTimelineEntryOperator",
        {"incident_id": INCIDENT, "entry_id": ENTRY},
        "DELETE",
        "/v2/incident-timelines/{incident_id}/entries/{entry_id}",
        check=lambda result, ids, emulator: result["result"] == "Deleted",
    ),
    Case(
        "OpsgenieHideTimelineEntryOperator",
        {"incident_id": INCIDENT, "entry_id": ENTRY},
        "GET",
        "/v2/incident-timelines/{incident_id}/entries/{entry_id}/hide",
        check=lambda result, ids, emulator: result["result"] == "Hided",
    ),
    Case(
        "OpsgenieUnhideTimelineEntryOperator",
        {"incident_id": INCIDENT, "entry_id": ENTRY},
        "GET",
        "/v2/incident-timelines/{incident_id}/entries/{entry_id}/unhide",
        check=lambda result, ids, emulator: result["result"] == "Unhided",
    ),
    Case(
        "OpsgenieListTimelineEntriesOperator",
        {"incident_id": INCIDENT, "order": "asc", "max_results": 2},
        "GET",
        "/v2/incident-timelines/{incident_id}/entries",
        query={"order": "asc"},
        check=lambda result, ids, emulator: (
            [e["id"] for e in result] == [e["id"] for e in emulator.timeline(ids["incident_id"])][:2]
        ),
    ),
]
CASE_IDS = [case.operator for case in CASES]

DAG_SOURCE = """
from airflow.sdk import DAG
from {module} import {name}

with DAG("op_{name}", schedule=None) as dag:
    {name}(task_id="op", **{kwargs!r})
"""


def _is_lookup(request: Any) -> bool:
    """A request status poll, or the create operator's search for an incident it created earlier."""
    return request.path.startswith("/v1/incidents/requests/") or request.query.get("query", "").startswith(
        f'tag:"{IDEMPOTENCY_PREFIX}'
    )


def test_every_operator_has_a_case() -> None:
    assert sorted(CASE_IDS) == sorted(OPERATORS)
    assert len(OPERATORS) == 24


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_operator_runs_in_airflow(
    case: Case,
    opsgenie_incident_connection: OpsgenieEmulator,
    hook: OpsgenieIncidentHook,
    make_incident: Callable[..., dict[str, Any]],
    run_dag: Any,
    fill: Any,
) -> None:
    emulator = opsgenie_incident_connection
    target = make_incident(
        tags=["templated", "keep"], details={"k": "v", "templated": "x"}, note="first note"
    )
    other = make_incident(tags=["templated"])
    entry = hook.add_timeline_entry(incident_id=target["id"], content="first")["data"]
    ids = {
        "incident_id": target["id"],
        "tiny_id": target["tinyId"],
        "entry_id": entry["id"],
        "other_id": other["id"],
    }
    emulator.clear_requests()
    cls = OPERATORS[case.operator]
    conf = {**ids, "word": "templated", "priority": "P1", "time": "2024-01-02T03:04:05Z"}

    result = run_dag(
        DAG_SOURCE.format(module=cls.__module__, name=case.operator, kwargs=case.kwargs), run_conf=conf
    )

    assert result.task_states == {"op": "success"}
    sent = [r for r in emulator.requests if not _is_lookup(r)][0]
    assert (sent.method, sent.path) == (case.method, case.path.format(**ids))
    if case.body is not None:
        assert sent.body == fill(case.body, ids)
    assert {key: sent.query.get(key) for key in case.query} == case.query
    assert case.check(result.xcom("op"), ids, emulator), result.xcom("op")


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_parameters_are_catalogue_arguments(case: Case) -> None:
    """Every parameter reaches the API: one the catalogue does not know would be dropped silently..."""
    cls = OPERATORS[case.operator]
    endpoint = ENDPOINTS[cls.action]
    parameters: dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        if klass.__module__.startswith("airflow_provider_opsgenie_incident") and "__init__" in vars(klass):
            parameters.update(inspect.signature(klass).parameters)
    own = {name for name, p in parameters.items() if p.kind is p.KEYWORD_ONLY} - OPTIONS
    assert own <= set(endpoint.argument_names)
    required = {f.name for f in endpoint.fields if f.required}
    assert {name for name in own if parameters[name].default is inspect.Parameter.empty} == required
    assert parameters["opsgenie_incident_conn_id"].default == DEFAULT_CONN_ID
    # ... and no attribute Airflow gives every operator can leak into the request under a catalogue name.
    operator = cls(task_id="op", **case.kwargs)
    assert all(getattr(operator, name, None) is None for name in set(endpoint.argument_names) - own)
    assert f"docs.opsgenie.com/docs/{endpoint.docs.rsplit('/', 1)[-1]}#" in (cls.__doc__ or "")
