"""Every endpoint, through the sync and async clients, against the emulator: the exact request sent."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient
from airflow_provider_opsgenie_incident.client.catalogue import ENDPOINTS

if TYPE_CHECKING:
    from collections.abc import Callable

ACCEPTED = "Request will be processed"


@dataclass(frozen=True)
class Case:
    """One endpoint call: ``{id}``, ``{tiny}``, ``{entry}`` and ``{request}`` are filled in per test."""

    name: str
    kwargs: dict[str, Any]
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    check: Callable[[dict[str, Any], dict[str, str], Any], None] | None = None


def _accepted(result, ids, emu):
    assert result["result"] == ACCEPTED
    assert result["requestId"]


def _then(predicate: Callable[[Any, dict[str, str]], bool]) -> Callable[..., None]:
    def check(result, ids, emu):
        _accepted(result, ids, emu)
        emu.wait_until_processed()
        assert predicate(emu, ids)

    return check


def _incident(emu, ids):
    return emu.incident(ids["id"])


def _entry(emu, ids):
    return next(entry for entry in emu.timeline(ids["id"]) if entry["id"] == ids["entry"])


CASES = [
    Case(
        "create_incident",
        {
            "message": "Disk is full",
            "description": "/var at 100%",
            "responders": [{"type": "team", "name": "NOC"}],
            "tags": ["disk", "prod"],
            "details": {"host": "db1"},
            "priority": "P2",
            "note": "opened by a test",
            "service_id": "svc-1",
            "impacted_services": ["svc-1", "svc-2"],
            "status_page_entry": {"title": "Degraded", "detail": "db"},
            "notify_stakeholders": True,
        },
        "POST",
        "/v1/incidents/create",
        body={
            "message": "Disk is full",
            "description": "/var at 100%",
            "responders": [{"type": "team", "name": "NOC"}],
            "tags": ["disk", "prod"],
            "details": {"host": "db1"},
            "priority": "P2",
            "note": "opened by a test",
            "serviceId": "svc-1",
            "impactedServices": ["svc-1", "svc-2"],
            "statusPageEntry": {"title": "Degraded", "detail": "db"},
            "notifyStakeholders": True,
        },
        check=_then(lambda emu, ids: emu.incidents()[-1]["impactedServices"] == ["svc-1", "svc-2"]),
    ),
    Case(
        "get_incident",
        {"identifier": "{tiny}", "identifier_type": "tiny"},
        "GET",
        "/v1/incidents/{tiny}",
        query={"identifierType": "tiny"},
        check=lambda result, ids, emu: (
            result["data"]["id"] == ids["id"] and result["data"]["links"]["web"].endswith(ids["id"])
        ),
    ),
    Case(
        "list_incidents",
        {"query": "status:open", "offset": 0, "limit": 5, "sort": "createdAt", "order": "asc"},
        "GET",
        "/v1/incidents",
        query={"query": "status:open", "offset": "0", "limit": "5", "sort": "createdAt", "order": "asc"},
        check=lambda result, ids, emu: (
            [i["id"] for i in result["data"]] == [ids["id"]] and result["totalCount"] == 1
        ),
    ),
    Case(
        "delete_incident",
        {"identifier": "{id}"},
        "DELETE",
        "/v1/incidents/{id}",
        check=_then(lambda emu, ids: _incident(emu, ids) is None),
    ),
    Case(
        "close_incident",
        {"identifier": "{id}", "identifier_type": "id", "note": "closing"},
        "POST",
        "/v1/incidents/{id}/close",
        query={"identifierType": "id"},
        body={"note": "closing"},
        check=_then(lambda emu, ids: _incident(emu, ids)["status"] == "closed"),
    ),
    Case(
        "resolve_incident",
        {"identifier": "{tiny}", "identifier_type": "tiny", "note": "fixed"},
        "POST",
        "/v1/incidents/{tiny}/resolve",
        query={"identifierType": "tiny"},
        body={"note": "fixed"},
        check=_then(lambda emu, ids: _incident(emu, ids)["status"] == "resolved"),
    ),
    Case(
        "add_note",
        {"identifier": "{id}", "note": "hello"},
        "POST",
        "/v1/incidents/{id}/notes",
        body={"note": "hello"},
        check=_then(lambda emu, ids: emu.notes(ids["id"])[-1]["note"] == "hello"),
    ),
    Case(
        "list_notes",
        {"identifier": "{id}", "identifier_type": "id", "limit": 10, "order": "asc"},
        "GET",
        "/v1/incidents/{id}/notes",
        query={"identifierType": "id", "limit": "10", "order": "asc"},
        check=lambda result, ids, emu: [n["note"] for n in result["data"]] == ["first note"],
    ),
    Case(
        "list_logs",
        {"identifier": "{id}", "offset": "0", "direction": "next", "limit": 100, "order": "asc"},
        "GET",
        "/v1/incidents/{id}/logs",
        query={"offset": "0", "direction": "next", "limit": "100", "order": "asc"},
        check=lambda result, ids, emu: result["data"][0]["log"] == "Incident created via API",
    ),
    Case(
        "add_responder",
        {
            "identifier": "{id}",
            "responders": [{"type": "user", "username": "jane@example.com"}],
            "note": "pg",
        },
        "POST",
        "/v1/incidents/{id}/responders",
        body={
            "incidentId": "{id}",
            "responder": [{"type": "user", "username": "jane@example.com"}],
            "note": "pg",
        },
        check=_then(
            lambda emu, ids: (
                {"type": "user", "username": "jane@example.com"} in _incident(emu, ids)["responders"]
            )
        ),
    ),
    Case(
        "add_tags",
        {"identifier": "{id}", "tags": ["a", "b"], "note": "tagged"},
        "POST",
        "/v1/incidents/{id}/tags",
        body={"tags": ["a", "b"], "note": "tagged"},
        check=_then(lambda emu, ids: _incident(emu, ids)["tags"] == ["disk", "x", "a", "b"]),
    ),
    Case(
        "remove_tags",
        {"identifier": "{id}", "tags": ["disk", "x"], "note": "untagged"},
        "DELETE",
        "/v1/incidents/{id}/tags",
        query={"tags": "disk,x", "note": "untagged"},
        check=_then(lambda emu, ids: _incident(emu, ids)["tags"] == []),
    ),
    Case(
        "add_details",
        {"identifier": "{id}", "details": {"run": "r1"}, "note": "more"},
        "POST",
        "/v1/incidents/{id}/details",
        body={"details": {"run": "r1"}, "note": "more"},
        check=_then(
            lambda emu, ids: _incident(emu, ids)["details"] == {"host": "db1", "k2": "v", "run": "r1"}
        ),
    ),
    Case(
        "remove_details",
        {"identifier": "{id}", "keys": ["host", "k2"], "note": "less"},
        "DELETE",
        "/v1/incidents/{id}/details",
        query={"keys": "host,k2", "note": "less"},
        check=_then(lambda emu, ids: _incident(emu, ids)["details"] == {}),
    ),
    Case(
        "update_priority",
        {"identifier": "{id}", "priority": "P1"},
        "PUT",
        "/v1/incidents/{id}/priority",
        body={"priority": "P1"},
        check=_then(lambda emu, ids: _incident(emu, ids)["priority"] == "P1"),
    ),
    Case(
        "update_message",
        {"identifier": "{id}", "message": "Disk is fuller"},
        "PUT",
        "/v1/incidents/{id}/message",
        body={"message": "Disk is fuller"},
        check=_then(lambda emu, ids: _incident(emu, ids)["message"] == "Disk is fuller"),
    ),
    Case(
        "update_description",
        {"identifier": "{id}", "description": ""},
        "PUT",
        "/v1/incidents/{id}/description",
        body={"description": ""},
        check=_then(lambda emu, ids: _incident(emu, ids)["description"] == ""),
    ),
    Case(
        "get_request_status",
        {"request_id": "{request}"},
        "GET",
        "/v1/incidents/requests/{request}",
        check=lambda result, ids, emu: (
            result["data"]["isSuccess"] is True
            and result["data"]["incidentId"] == ids["id"]
            and result["data"]["action"] == "Create"
        ),
    ),
    Case(
        "add_timeline_entry",
        {
            "incident_id": "{id}",
            "content": "Deployed the fix",
            "time": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            "content_type": "plain_text",
        },
        "POST",
        "/v2/incident-timelines/{id}/entries",
        body={
            "description": {"content": "Deployed the fix", "type": "plain_text"},
            "time": "2024-01-02T03:04:05Z",
        },
        check=lambda result, ids, emu: (
            result["data"]["group"] == "custom"
            and result["data"]["eventTime"].startswith("2024-01-02T03:04:05")
        ),
    ),
    Case(
        "get_timeline_entry",
        {"incident_id": "{id}", "entry_id": "{entry}", "content_type": "plain_text"},
        "GET",
        "/v2/incident-timelines/{id}/entries/{entry}",
        query={"contentType": "plain_text"},
        check=lambda result, ids, emu: result["data"]["id"] == ids["entry"],
    ),
    Case(
        "update_timeline_entry",
        {"incident_id": "{id}", "entry_id": "{entry}", "content": "Edited", "time": datetime(2024, 1, 3)},
        "PATCH",
        "/v2/incident-timelines/{id}/entries/{entry}",
        body={"description": {"content": "Edited"}, "time": "2024-01-03T00:00:00Z"},
        check=lambda result, ids, emu: _entry(emu, ids)["eventTime"].startswith("2024-01-03T00:00:00"),
    ),
    Case(
        "delete_timeline_entry",
        {"incident_id": "{id}", "entry_id": "{entry}"},
        "DELETE",
        "/v2/incident-timelines/{id}/entries/{entry}",
        check=lambda result, ids, emu: (
            result["result"] == "Deleted"
            and all(entry["id"] != ids["entry"] for entry in emu.timeline(ids["id"]))
        ),
    ),
    Case(
        "list_timeline_entries",
        {
            "incident_id": "{id}",
            "groups": ["custom", "incident"],
            "discard_hidden": True,
            "order": "asc",
            "limit": 5,
            "content_type": "plain_text",
        },
        "GET",
        "/v2/incident-timelines/{id}/entries",
        query={
            "group": "custom,incident",
            "discardHidden": "true",
            "order": "asc",
            "limit": "5",
            "contentType": "plain_text",
        },
        check=lambda result, ids, emu: (
            [e["type"] for e in result["data"]["entries"]][0] == "IncidentCreated"
            and ids["entry"] in [e["id"] for e in result["data"]["entries"]]
        ),
    ),
    Case(
        "hide_timeline_entry",
        {"incident_id": "{id}", "entry_id": "{entry}"},
        "GET",
        "/v2/incident-timelines/{id}/entries/{entry}/hide",
        check=lambda result, ids, emu: _entry(emu, ids)["hidden"] is True,
    ),
    Case(
        "unhide_timeline_entry",
        {"incident_id": "{id}", "entry_id": "{entry}"},
        "GET",
        "/v2/incident-timelines/{id}/entries/{entry}/unhide",
        check=lambda result, ids, emu: _entry(emu, ids)["hidden"] is False,
    ),
]


def _assert_sent(case: Case, result: dict[str, Any], ids: dict[str, str], emu, fill) -> None:
    assert len(emu.requests) == 1, emu.requests
    sent = emu.requests[-1]
    assert sent.method == case.method
    assert sent.path == fill(case.path, ids)
    assert sent.query == fill(case.query, ids)
    assert sent.body == fill(case.body, ids)
    assert sent.headers["authorization"] == f"GenieKey {emu.api_key}"
    assert sent.headers["accept"] == "application/json"
    assert sent.headers["user-agent"].startswith("airflow-provider-opsgenie-incident/")
    if case.body is not None:
        assert sent.headers["content-type"] == "application/json"
    assert isinstance(result["requestId"], str)
    assert "took" in result  # unknown fields are kept
    assert case.check is not None
    outcome = case.check(result, ids, emu)
    assert outcome is None or outcome is True


def test_the_table_covers_every_endpoint_once():
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))
    assert set(names) == set(ENDPOINTS)


def test_the_table_matches_the_catalogue():
    for case in CASES:
        endpoint = ENDPOINTS[case.name]
        assert case.method == endpoint.method
        assert set(case.kwargs) <= set(endpoint.argument_names)
        assert {f.name for f in endpoint.fields if f.required} <= set(case.kwargs)
        template = endpoint.path
        for name in ("identifier", "incidentId", "timelineEntryId", "requestId"):
            template = template.replace("{" + name + "}", "*")
        assert (
            case.path.replace("{tiny}", "*")
            .replace("{id}", "*")
            .replace("{entry}", "*")
            .replace("{request}", "*")
            == template
        )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_sync_client_sends_the_documented_request(case, client, emu, ids, fill):
    result = getattr(client, case.name)(**fill(case.kwargs, ids))
    _assert_sent(case, result, ids, emu, fill)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
@pytest.mark.asyncio
async def test_async_client_sends_the_documented_request(case, settings, emu, ids, fill):
    async with AsyncOpsgenieIncidentClient(settings) as client:
        result = await getattr(client, case.name)(**fill(case.kwargs, ids))
    # The emulator's checks read its state from this thread; let the event loop breathe first.
    await asyncio.sleep(0)
    _assert_sent(case, result, ids, emu, fill)
