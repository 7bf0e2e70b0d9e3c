"""Every documented limit, at the limit (sent, accepted) and one past it (refused before any I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_opsgenie_incident.client import InvalidRequestError
from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient
from airflow_provider_opsgenie_incident.client.validation import truncate

ID = "4513b7ea-3b91-438f-b7e4-e3e54af9147c"


def _team(index: int) -> dict[str, str]:
    return {"type": "team", "name": f"team-{index}"}


def _details(total: int) -> dict[str, str]:
    return {"k": "v" * (total - 1)}


# (endpoint, kwargs at the limit, kwargs one past it, field, limit, size)
LIMITS = [
    ("create_incident", {"message": "m" * 130}, {"message": "m" * 131}, "message", 130, 131),
    (
        "update_message",
        {"identifier": ID, "message": "m" * 130},
        {"identifier": ID, "message": "m" * 131},
        "message",
        130,
        131,
    ),
    (
        "create_incident",
        {"message": "m", "description": "d" * 15000},
        {"message": "m", "description": "d" * 15001},
        "description",
        15000,
        15001,
    ),
    (
        "update_description",
        {"identifier": ID, "description": "d" * 15000},
        {"identifier": ID, "description": "d" * 15001},
        "description",
        15000,
        15001,
    ),
    (
        "create_incident",
        {"message": "m", "tags": [f"t{i}" for i in range(20)]},
        {"message": "m", "tags": [f"t{i}" for i in range(21)]},
        "tags",
        20,
        21,
    ),
    (
        "add_tags",
        {"identifier": ID, "tags": [f"t{i}" for i in range(20)]},
        {"identifier": ID, "tags": [f"t{i}" for i in range(21)]},
        "tags",
        20,
        21,
    ),
    (
        "remove_tags",
        {"identifier": ID, "tags": [f"t{i}" for i in range(20)]},
        {"identifier": ID, "tags": [f"t{i}" for i in range(21)]},
        "tags",
        20,
        21,
    ),
    (
        "create_incident",
        {"message": "m", "tags": ["t" * 50]},
        {"message": "m", "tags": ["ok", "t" * 51]},
        "tags[1]",
        50,
        51,
    ),
    (
        "add_tags",
        {"identifier": ID, "tags": ["t" * 50]},
        {"identifier": ID, "tags": ["t" * 51]},
        "tags[0]",
        50,
        51,
    ),
    (
        "create_incident",
        {"message": "m", "details": _details(8000)},
        {"message": "m", "details": _details(8001)},
        "details",
        8000,
        8001,
    ),
    (
        "add_details",
        {"identifier": ID, "details": {"a": "b" * 3999, "c": "d" * 3999}},
        {"identifier": ID, "details": {"a": "b" * 3999, "cc": "d" * 3999}},
        "details",
        8000,
        8001,
    ),
    (
        "add_note",
        {"identifier": ID, "note": "n" * 25000},
        {"identifier": ID, "note": "n" * 25001},
        "note",
        25000,
        25001,
    ),
    (
        "close_incident",
        {"identifier": ID, "note": "n" * 25000},
        {"identifier": ID, "note": "n" * 25001},
        "note",
        25000,
        25001,
    ),
    (
        "create_incident",
        {"message": "m", "note": "n" * 25000},
        {"message": "m", "note": "n" * 25001},
        "note",
        25000,
        25001,
    ),
    (
        "remove_details",
        {"identifier": ID, "keys": ["k"], "note": "n" * 25000},
        {"identifier": ID, "keys": ["k"], "note": "n" * 25001},
        "note",
        25000,
        25001,
    ),
    (
        "create_incident",
        {"message": "m", "responders": [_team(i) for i in range(50)]},
        {"message": "m", "responders": [_team(i) for i in range(51)]},
        "responders",
        50,
        51,
    ),
    (
        "add_responder",
        {"identifier": ID, "responders": [_team(i) for i in range(50)]},
        {"identifier": ID, "responders": [_team(i) for i in range(51)]},
        "responder",
        50,
        51,
    ),
    (
        "remove_details",
        {"identifier": ID, "keys": [f"k{i}" for i in range(10)]},
        {"identifier": ID, "keys": [f"k{i}" for i in range(11)]},
        "keys",
        10,
        11,
    ),
    (
        "list_incidents",
        {"query": "status:open", "limit": 100},
        {"query": "status:open", "limit": 101},
        "limit",
        100,
        101,
    ),
    ("list_notes", {"identifier": "{id}", "limit": 100}, {"identifier": ID, "limit": 101}, "limit", 100, 101),
    ("list_logs", {"identifier": "{id}", "limit": 100}, {"identifier": ID, "limit": 101}, "limit", 100, 101),
    (
        "list_timeline_entries",
        {"incident_id": "{id}", "limit": 20},
        {"incident_id": ID, "limit": 21},
        "limit",
        20,
        21,
    ),
    (
        "add_timeline_entry",
        {"incident_id": "{id}", "content": "c" * 15000},
        {"incident_id": ID, "content": "c" * 15001},
        "description.content",
        15000,
        15001,
    ),
]

LIMIT_IDS = [f"{name}-{field}" for name, _, _, field, _, _ in LIMITS]


@pytest.fixture
def incident_id(new_incident) -> str:
    return new_incident()


def _fill(kwargs: dict[str, Any], incident_id: str) -> dict[str, Any]:
    return {key: incident_id if value == "{id}" else value for key, value in kwargs.items()}


@pytest.mark.parametrize(("endpoint", "at_limit", "past", "field", "limit", "size"), LIMITS, ids=LIMIT_IDS)
def test_at_the_limit_the_request_is_sent_and_accepted(
    endpoint, at_limit, past, field, limit, size, client, emu, incident_id
):
    result = getattr(client, endpoint)(**_fill(at_limit, incident_id))
    assert len(emu.requests) == 1
    assert "requestId" in result


@pytest.mark.parametrize(("endpoint", "at_limit", "past", "field", "limit", "size"), LIMITS, ids=LIMIT_IDS)
def test_one_past_the_limit_is_refused_before_any_io(
    endpoint, at_limit, past, field, limit, size, client, emu
):
    with pytest.raises(InvalidRequestError) as caught:
        getattr(client, endpoint)(**past)
    error = caught.value
    assert (error.field, error.limit, error.size) == (field, limit, size)
    assert error.status is None
    assert field in str(error)
    assert str(limit) in str(error)
    assert str(size) in str(error)
    assert isinstance(error, ValueError)
    assert emu.requests == []


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
