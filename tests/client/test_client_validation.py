"""Every limit of the catalogue: at the limit (accepted), one past it (refused before any I/O), and fit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_opsgenie_incident.client import InvalidRequestError
from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient
from airflow_provider_opsgenie_incident.client.catalogue import ENDPOINTS
from airflow_provider_opsgenie_incident.client.validation import fit, truncate

if TYPE_CHECKING:
    from airflow_provider_opsgenie_incident.client.catalogue import Field

ID = "4513b7ea-3b91-438f-b7e4-e3e54af9147c"


#: Valid values of the required arguments, so that a case varies only the field under test.
_REQUIRED = {
    "identifier": "{id}",
    "incident_id": "{id}",
    "entry_id": "{entry}",
    "message": "m",
    "note": "n",
    "query": "status:open",
    "content": "c",
    "description": "d",
    "request_id": "{request}",
    "responders": [{"type": "team", "name": "NOC"}],
    "tags": ["t"],
    "details": {"k": "v"},
    "keys": ["k"],
    "priority": "P1",
}
_FAKE_IDS = {"id": ID, "entry": "e", "request": "r"}


@dataclass(frozen=True)
class LimitCase:
    """One limit of one field, read from the catalogue: arguments at the limit and one past it."""

    endpoint: str
    at_limit: dict[str, Any]
    past: dict[str, Any]
    field: str
    limit: int

    @property
    def id(self) -> str:
        return f"{self.endpoint}-{self.field}-{self.limit}"


def _text(name: str, size: int) -> str:
    # A query must stay a query the server can parse.
    return "status:open OR message:" + "q" * (size - 23) if name == "query" else "x" * size


def _sized(field: Field, attribute: str, size: int) -> tuple[Any, str]:
    """Return a value of ``field`` whose ``attribute`` measures ``size``, and the name the error gives."""
    if attribute == "max_chars":
        return _text(field.name, size), field.wire
    if attribute == "item_chars":
        return ["ok", "t" * size], f"{field.wire}[1]"
    if attribute == "total_chars":
        return {"k": "v" * (size - 1)}, field.wire
    if field.kind == "responders":
        return [{"type": "team", "name": f"team-{i}"} for i in range(size)], field.wire
    return [f"t{i}" for i in range(size)], field.wire


def _limit_cases() -> list[LimitCase]:
    cases = []
    for endpoint in ENDPOINTS.values():
        required = {f.name: _REQUIRED[f.name] for f in endpoint.fields if f.required}
        for field in endpoint.fields:
            for attribute in ("max_chars", "max_items", "item_chars", "total_chars"):
                limit = getattr(field, attribute)
                if limit is None:
                    continue
                at_limit, name = _sized(field, attribute, limit)
                past, _ = _sized(field, attribute, limit + 1)
                cases.append(
                    LimitCase(
                        endpoint.name,
                        {**required, field.name: at_limit},
                        {**required, field.name: past},
                        name,
                        limit,
                    )
                )
    return cases


LIMITS = _limit_cases()


def test_every_documented_limit_has_a_case():
    assert {(case.endpoint, case.field) for case in LIMITS} >= {
        ("create_incident", "message"),
        ("create_incident", "description"),
        ("create_incident", "tags"),
        ("create_incident", "tags[1]"),
        ("create_incident", "details"),
        ("create_incident", "responders"),
        ("update_message", "message"),
        ("add_note", "note"),
        ("add_timeline_entry", "description.content"),
        ("remove_details", "keys"),
    }


@pytest.mark.parametrize("case", LIMITS, ids=[case.id for case in LIMITS])
def test_at_the_limit_the_request_is_sent_and_accepted(case, client, emu, ids, fill):
    result = getattr(client, case.endpoint)(**fill(case.at_limit, ids))
    assert len(emu.requests) == 1
    assert "requestId" in result


@pytest.mark.parametrize("case", LIMITS, ids=[case.id for case in LIMITS])
def test_one_past_the_limit_is_refused_before_any_io(case, client, emu, fill):
    with pytest.raises(InvalidRequestError) as caught:
        getattr(client, case.endpoint)(**fill(case.past, _FAKE_IDS))
    error = caught.value
    assert (error.field, error.limit, error.size) == (case.field, case.limit, case.limit + 1)
    assert error.status is None
    assert case.field in str(error)
    assert str(case.limit) in str(error)
    assert str(case.limit + 1) in str(error)
    assert isinstance(error, ValueError)
    assert emu.requests == []


@pytest.mark.parametrize("case", LIMITS, ids=[case.id for case in LIMITS])
def test_fit_cuts_one_past_the_limit_to_the_limit(case, client, emu, ids, fill):
    fitted = fit(case.endpoint, fill(case.past, ids))
    getattr(client, case.endpoint)(**fitted)
    assert len(emu.requests) == 1


@pytest.fixture
def incident_id(ids) -> str:
    return ids["id"]


@pytest.mark.parametrize(
    ("endpoint", "kwargs", "field", "text"),
    [
        (
            "create_incident",
            {"message": "m", "responders": [{"type": "group", "name": "x"}]},
            "responders[0].type",
            "team, user",
        ),
        ("create_incident", {"message": "m", "responders": [{"type": "team"}]}, "responders[0]", "id, name"),
        (
            "create_incident",
            {"message": "m", "responders": [{"type": "team", "username": "x"}]},
            "responders[0]",
            "id, name",
        ),
        (
            "create_incident",
            {"message": "m", "responders": [{"type": "team", "name": "x", "id": 5}]},
            "responders[0].id",
            "a string; got int",
        ),
        (
            "add_responder",
            {"identifier": ID, "responders": [{"type": "user", "username": ["a"]}]},
            "responder[0].username",
            "a string; got list",
        ),
        (
            "add_responder",
            {"identifier": ID, "responders": [{"type": "user", "id": ""}]},
            "responder[0]",
            "id, name, username",
        ),
        ("add_responder", {"identifier": ID, "responders": []}, "responder", "must not be empty"),
        ("add_responder", {"identifier": ID, "responders": ["team:NOC"]}, "responder[0]", "a mapping"),
        ("create_incident", {"message": "m", "priority": "P0"}, "priority", "P1, P2, P3, P4, P5"),
        ("create_incident", {"message": "m", "priority": "P6"}, "priority", "P1, P2, P3, P4, P5"),
        ("update_priority", {"identifier": ID, "priority": "p1"}, "priority", "'p1'"),
        ("get_incident", {"identifier": ID, "identifier_type": "tinyId"}, "identifierType", "id, tiny"),
        ("close_incident", {"identifier": ID, "identifier_type": "alias"}, "identifierType", "id, tiny"),
        ("list_incidents", {"query": "status:open", "limit": 0}, "limit", "at least 1"),
        ("list_incidents", {"query": "status:open", "offset": -1}, "offset", "at least 0"),
        ("list_incidents", {"query": "status:open", "limit": True}, "limit", "an integer"),
        ("list_incidents", {"query": "status:open", "limit": "10"}, "limit", "an integer"),
        ("list_incidents", {"query": "status:open", "sort": "priority"}, "sort", "createdAt"),
        ("list_incidents", {"query": " "}, "query", "must not be empty"),
        ("list_timeline_entries", {"incident_id": ID, "limit": 0}, "limit", "at least 1 and at most 20"),
        ("list_timeline_entries", {"incident_id": ID, "groups": ["custom", "bogus"]}, "group", "'bogus'"),
        ("list_timeline_entries", {"incident_id": ID, "groups": "custom"}, "group", "a list"),
        (
            "list_timeline_entries",
            {"incident_id": ID, "discard_hidden": "false"},
            "discardHidden",
            "true or false",
        ),
        ("list_notes", {"identifier": ID, "limit": 0}, "limit", "at least 1 and at most 100"),
        ("list_logs", {"identifier": ID, "limit": 0}, "limit", "at least 1 and at most 100"),
        ("list_notes", {"identifier": ID, "direction": "back"}, "direction", "next, prev"),
        ("list_logs", {"identifier": ID, "order": "newest"}, "order", "asc, desc"),
        ("remove_details", {"identifier": ID, "keys": []}, "keys", "must not be empty"),
        ("remove_tags", {"identifier": ID, "tags": ["a,b"]}, "tags[0]", "comma"),
        ("add_tags", {"identifier": ID, "tags": ["ok", " "]}, "tags[1]", "must not be empty"),
        ("add_tags", {"identifier": ID, "tags": [1]}, "tags[0]", "a string"),
        ("add_tags", {"identifier": ID, "tags": "a,b"}, "tags", "a list of strings"),
        ("add_details", {"identifier": ID, "details": {}}, "details", "must not be empty"),
        ("add_details", {"identifier": ID, "details": {"n": 1}}, "details['n']", "string"),
        ("add_details", {"identifier": ID, "details": [("a", "b")]}, "details", "a mapping"),
        (
            "create_incident",
            {"message": "m", "notify_stakeholders": "yes"},
            "notifyStakeholders",
            "true or false",
        ),
        (
            "create_incident",
            {"message": "m", "status_page_entry": {"detail": "d"}},
            "statusPageEntry.title",
            "a string",
        ),
        (
            "create_incident",
            {"message": "m", "status_page_entry": {"title": "t" * 131}},
            "statusPageEntry.title",
            "130",
        ),
        (
            "create_incident",
            {"message": "m", "status_page_entry": {"title": "t", "detail": "d" * 15001}},
            "statusPageEntry.detail",
            "15000",
        ),
        ("create_incident", {"message": "m", "status_page_entry": "down"}, "statusPageEntry", "a mapping"),
        (
            "create_incident",
            {"message": "m", "impacted_services": [f"s{i}" for i in range(101)]},
            "impactedServices",
            "100",
        ),
        ("create_incident", {"message": 42}, "message", "a string"),
        ("create_incident", {"message": "   "}, "message", "must not be empty"),
        ("add_timeline_entry", {"incident_id": ID, "content": "c", "time": 1700000000}, "time", "a string"),
        (
            "add_timeline_entry",
            {"incident_id": ID, "content": "c", "content_type": "markdown"},
            "description.type",
            "plain_text",
        ),
        (
            "get_timeline_entry",
            {"incident_id": ID, "entry_id": "e", "content_type": "html"},
            "contentType",
            "plain_text",
        ),
    ],
)
def test_invalid_values_are_refused_naming_the_field(endpoint, kwargs, field, text, client, emu):
    with pytest.raises(InvalidRequestError) as caught:
        getattr(client, endpoint)(**kwargs)
    assert caught.value.field == field
    assert field in str(caught.value)
    assert text in str(caught.value)
    assert emu.requests == []


@pytest.mark.parametrize(
    ("endpoint", "kwargs", "field"),
    [
        ("create_incident", {"message": None}, "message"),
        ("add_note", {"identifier": ID, "note": None}, "note"),
        ("add_note", {"identifier": ID, "note": ""}, "note"),
        ("add_tags", {"identifier": ID, "tags": None}, "tags"),
        ("remove_details", {"identifier": ID, "keys": None}, "keys"),
        ("add_details", {"identifier": ID, "details": None}, "details"),
        ("add_responder", {"identifier": ID, "responders": None}, "responder"),
        ("update_priority", {"identifier": ID, "priority": None}, "priority"),
        ("update_message", {"identifier": ID, "message": None}, "message"),
        ("update_description", {"identifier": ID, "description": None}, "description"),
        ("list_incidents", {"query": None}, "query"),
        ("get_request_status", {"request_id": None}, "requestId"),
        ("add_timeline_entry", {"incident_id": ID, "content": None}, "description.content"),
        ("update_timeline_entry", {"incident_id": ID, "entry_id": "e"}, "content"),
        (
            "update_timeline_entry",
            {"incident_id": ID, "entry_id": "e", "content": None, "time": None},
            "content",
        ),
        ("get_incident", {"identifier": None}, "identifier"),
        ("get_incident", {"identifier": ""}, "identifier"),
        ("resolve_incident", {"identifier": "   "}, "identifier"),
        ("get_incident", {"identifier": 12}, "identifier"),
        ("delete_timeline_entry", {"incident_id": "", "entry_id": "e"}, "incidentId"),
        ("hide_timeline_entry", {"incident_id": ID, "entry_id": ""}, "timelineEntryId"),
        ("get_request_status", {"request_id": ""}, "requestId"),
    ],
)
def test_missing_or_empty_required_fields_are_refused(endpoint, kwargs, field, client, emu):
    with pytest.raises(InvalidRequestError) as caught:
        getattr(client, endpoint)(**kwargs)
    assert caught.value.field == field
    assert field in str(caught.value)
    assert emu.requests == []


def test_update_timeline_entry_accepts_time_alone(client, emu, incident_id):
    entry = client.add_timeline_entry(incident_id=incident_id, content="c")["data"]
    result = client.update_timeline_entry(
        incident_id=incident_id, entry_id=entry["id"], time="2024-05-06T07:08:09Z"
    )
    assert result["data"]["eventTime"].startswith("2024-05-06T07:08:09")
    assert emu.requests[-1].body == {"time": "2024-05-06T07:08:09Z"}


@pytest.mark.parametrize(
    ("responder"),
    [
        {"type": "team", "id": "4513b7ea"},
        {"type": "team", "name": "NOC"},
        {"type": "user", "id": "u1"},
        {"type": "user", "name": "Jane"},
        {"type": "user", "username": "jane@example.com"},
    ],
    ids=["team-id", "team-name", "user-id", "user-name", "user-username"],
)
def test_each_responder_form_is_accepted(responder, client, emu, incident_id):
    client.add_responder(identifier=incident_id, responders=[responder])
    emu.wait_until_processed()
    assert responder in emu.incident(incident_id)["responders"]


@pytest.mark.parametrize("priority", ["P1", "P2", "P3", "P4", "P5"])
def test_every_priority_is_accepted(priority, client, emu, incident_id):
    client.update_priority(identifier=incident_id, priority=priority)
    assert emu.incident(incident_id)["priority"] == priority


@pytest.mark.parametrize("limit", [1, 100])
def test_list_limits_at_both_ends(limit, client, emu):
    assert client.list_incidents(query="status:open", limit=limit)["data"] == []
    assert emu.requests[-1].query["limit"] == str(limit)


@pytest.mark.asyncio
async def test_async_client_validates_before_any_io(settings, emu):
    async with AsyncOpsgenieIncidentClient(settings) as client:
        with pytest.raises(InvalidRequestError) as caught:
            await client.create_incident(message="m" * 131)
    assert (caught.value.field, caught.value.limit, caught.value.size) == ("message", 130, 131)
    assert emu.requests == []


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [("short", 10, "short"), ("exactly10!", 10, "exactly10!"), ("a" * 20, 10, "a" * 9 + "…"), ("abc", 0, "")],
)
def test_truncate(text, limit, expected):
    assert truncate(text, limit) == expected
    assert len(truncate(text, limit)) <= limit


def _string_arguments():
    """Yield (endpoint, argument) for every string-carrying argument of every endpoint."""
    for endpoint in ENDPOINTS.values():
        for field in endpoint.fields:
            if field.kind in ("text", "identifier", "strings", "details", "time", "responders"):
                yield endpoint.name, field


BAD_TEXT = [pytest.param("\ud800", id="lone-surrogate"), pytest.param("a\x00b", id="nul")]


@pytest.mark.parametrize("bad", BAD_TEXT)
@pytest.mark.parametrize(
    ("endpoint", "field"), list(_string_arguments()), ids=[f"{e}-{f.name}" for e, f in _string_arguments()]
)
def test_text_that_cannot_travel_is_refused_naming_the_field(endpoint, field, bad, client, emu, fill):
    spec = ENDPOINTS[endpoint]
    arguments = {
        f.name: _REQUIRED[f.name] for f in spec.fields if f.required or f.name in spec.requires_one_of[:1]
    }
    value = {
        "strings": [bad],
        "details": {"k": bad},
        "responders": [{"type": "team", "name": bad}],
    }.get(field.kind, bad)
    with pytest.raises(InvalidRequestError) as caught:
        getattr(client, endpoint)(**fill({**arguments, field.name: value}, _FAKE_IDS))
    wires = [f.wire for f in ENDPOINTS[endpoint].fields if f.name == field.name]
    assert caught.value.field.startswith(tuple(wires))
    assert emu.requests == []


@pytest.mark.parametrize(
    ("endpoint", "kwargs", "field", "text"),
    [
        ("add_timeline_entry", {"incident_id": ID, "content": "c", "time": "yesterday"}, "time", "ISO 8601"),
        ("update_timeline_entry", {"incident_id": ID, "entry_id": "e", "time": "5 May"}, "time", "ISO 8601"),
        (
            "update_timeline_entry",
            {"incident_id": ID, "entry_id": "e", "content": ""},
            "description.content",
            "empty",
        ),
        (
            "add_responder",
            {"identifier": ID, "responders": [{"type": "team", "id": "t1", "name": "NOC"}]},
            "responder[0]",
            "once",
        ),
        ("get_incident", {"identifier": "abc", "identifier_type": "tiny"}, "identifier", "a number"),
        ("get_incident", {"identifier": "x" * 257}, "identifier", "256"),
    ],
    ids=["time-add", "time-update", "empty-content", "responder-id-and-name", "tiny-not-numeric", "long-id"],
)
def test_what_the_server_would_refuse_is_refused_first(endpoint, kwargs, field, text, client, emu):
    with pytest.raises(InvalidRequestError) as caught:
        getattr(client, endpoint)(**kwargs)
    assert caught.value.field == field
    assert text in str(caught.value)
    assert emu.requests == []


def test_an_iso_time_with_an_offset_and_a_numeric_tiny_id_are_accepted(client, emu, ids):
    client.add_timeline_entry(incident_id=ids["id"], content="c", time="2024-05-06T07:08:09+02:00")
    assert client.get_incident(identifier=ids["tiny"], identifier_type="tiny")["data"]["id"] == ids["id"]
