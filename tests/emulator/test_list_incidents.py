from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_provider_opsgenie_incident.emulator.query import QueryError, parse_query

INCIDENTS = {
    "1": {"message": "Disk is full on db1", "status": "open", "tags": ["disk", "fp:abc 1"], "priority": "P1"},
    "2": {"message": "CPU high", "status": "resolved", "tags": ["cpu"], "priority": "P3"},
    "3": {"message": "disk slow", "status": "closed", "tags": ["disk"], "priority": "P2"},
    "4": {"message": "Memory leak", "status": "open", "tags": [], "priority": "P3"},
}


def _matching(query):
    predicate = parse_query(query)
    return sorted(tiny for tiny, incident in INCIDENTS.items() if predicate({"tinyId": tiny, **incident}))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["1", "2", "3", "4"]),
        ("*", ["1", "2", "3", "4"]),
        ("status:open", ["1", "4"]),
        ("status: OPEN", ["1", "4"]),
        ("Status:resolved", ["2"]),
        ("tag:disk", ["1", "3"]),
        ('tag:"fp:abc 1"', ["1"]),
        ("tags:cpu", ["2"]),
        ("tag:dis", []),
        ("message:disk", ["1", "3"]),
        ('message:"is full"', ["1"]),
        ("disk", ["1", "3"]),
        ('"cpu high"', ["2"]),
        ("tinyId:3", ["3"]),
        ("priority:p3", ["2", "4"]),
        ("status:open AND tag:disk", ["1"]),
        ('status:open and tag:"fp:abc 1"', ["1"]),
        ("status:open tag:disk", ["1"]),
        ("status:resolved OR status:closed", ["2", "3"]),
        ("status:resolved or tag:disk and status:open", ["1", "2"]),
        ("(status:resolved OR tag:disk) AND NOT status:closed", ["1", "2"]),
        ("NOT status:open", ["2", "3"]),
        ("not (tag:disk or tag:cpu)", ["4"]),
        ("NOT NOT status:open", ["1", "4"]),
        ("((status:open))", ["1", "4"]),
    ],
    ids=lambda value: value if isinstance(value, str) and value else None,
)
def test_query_subset(query, expected):
    assert _matching(query) == expected


def test_id_term():
    predicate = parse_query("id:abc-123")
    assert predicate({"id": "abc-123"})
    assert not predicate({"id": "abc-1234"})


@pytest.mark.parametrize(
    "query",
    [
        "status:open AND",
        "(status:open",
        "status:open)",
        "OR tag:x",
        'tag:"unterminated',
        "owner:me",
        "tag:",
        "()",
    ],
    ids=[
        "dangling-and",
        "open-paren",
        "close-paren",
        "leading-or",
        "quote",
        "unknown-field",
        "no-value",
        "empty",
    ],
)
def test_unparsable_queries(query):
    with pytest.raises(QueryError):
        parse_query(query)


# -- the list endpoint --------------------------------------------------------------------------


@pytest.fixture
def seeded(api):
    created = []
    for tiny, fields in INCIDENTS.items():
        incident = api.create(fields["message"], tags=fields["tags"], priority=fields["priority"])
        assert incident["tinyId"] == tiny
        if fields["status"] != "open":
            action = "/resolve" if fields["status"] == "resolved" else "/close"
            api.write("POST", api.incident_path(incident["id"], action))
        created.append(incident)
    return created


def test_list_filters_and_sorts_newest_first(api, seeded):
    response = api.call("GET", "/v1/incidents", query={"query": "status:open"})
    assert response.status == 200
    assert set(response.json) == {"data", "paging", "totalCount", "took", "requestId"}
    assert [incident["tinyId"] for incident in response.data] == ["4", "1"]
    assert response.json["totalCount"] == 2
    assert "next" not in response.json["paging"]


@pytest.mark.parametrize(
    ("sort", "order", "expected"),
    [
        ("createdAt", "asc", ["1", "2", "3", "4"]),
        ("createdAt", "desc", ["4", "3", "2", "1"]),
        ("tinyId", "asc", ["1", "2", "3", "4"]),
        ("message", "asc", ["2", "1", "4", "3"]),
        ("status", "asc", ["3", "1", "4", "2"]),
    ],
    ids=["created-asc", "created-desc", "tiny-asc", "message-asc", "status-asc"],
)
def test_list_sort(api, seeded, sort, order, expected):
    response = api.call("GET", "/v1/incidents", query={"query": "", "sort": sort, "order": order})
    assert [incident["tinyId"] for incident in response.data] == expected


def test_list_paging_links_are_absolute(api, opsgenie_emulator, seeded):
    query = {"query": "*", "limit": 3, "order": "asc"}
    first = api.call("GET", "/v1/incidents", query=query)
    assert [incident["tinyId"] for incident in first.data] == ["1", "2", "3"]
    paging = first.json["paging"]
    assert paging["next"].startswith(f"{opsgenie_emulator.url}/v1/incidents?")
    assert parse_qs(urlsplit(paging["next"]).query)["offset"] == ["3"]
    assert parse_qs(urlsplit(paging["last"]).query)["offset"] == ["3"]
    assert parse_qs(urlsplit(paging["first"]).query)["offset"] == ["0"]

    split = urlsplit(paging["next"])
    second = api.call("GET", f"{split.path}?{split.query}")
    assert [incident["tinyId"] for incident in second.data] == ["4"]
    assert "next" not in second.json["paging"]
    assert second.json["totalCount"] == 4


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({}, "query is required"),
        ({"query": "status:open AND"}, "query [status:open AND] is invalid"),
        ({"query": "", "limit": 0}, "limit"),
        ({"query": "", "limit": 101}, "limit"),
        ({"query": "", "limit": "ten"}, "limit"),
        ({"query": "", "offset": -1}, "offset"),
        ({"query": "", "sort": "priority"}, "sort"),
        ({"query": "", "order": "up"}, "order"),
    ],
    ids=["no-query", "bad-query", "limit-0", "limit-101", "limit-text", "offset-negative", "sort", "order"],
)
def test_list_validation(api, query, fragment):
    response = api.call("GET", "/v1/incidents", query=query)
    assert response.status == 422
    assert fragment in response.json["message"]


@pytest.mark.parametrize("limit", [1, 100], ids=["limit-1", "limit-100"])
def test_list_limit_bounds_accepted(api, seeded, limit):
    response = api.call("GET", "/v1/incidents", query={"query": "", "limit": limit})
    assert response.status == 200
    assert len(response.data) == min(limit, 4)
