from __future__ import annotations

import pytest


@pytest.fixture
def incident(api):
    return api.create("timeline target")


def _entries_path(incident_id, suffix=""):
    return f"/v2/incident-timelines/{incident_id}/entries{suffix}"


def _add(api, incident_id, content, time=None):
    body = {"description": {"content": content}}
    if time:
        body["time"] = time
    response = api.call("POST", _entries_path(incident_id), body)
    assert response.status == 201, response
    return response.data


def test_add_entry_shape(api, incident):
    response = api.call(
        "POST",
        _entries_path(incident["id"]),
        {"time": "2019-01-30T16:55:00Z", "description": {"type": "plain_text", "content": "sample entry"}},
    )
    assert response.status == 201
    assert set(response.json) == {"data", "took", "requestId"}
    entry = response.data
    assert entry["group"] == "custom"
    assert entry["type"] == "CustomUserEntry"
    assert entry["eventTime"] == "2019-01-30T16:55:00.000Z"
    assert entry["hidden"] is False
    assert entry["actor"] == {"name": "API", "type": "api"}
    assert entry["description"] == {"name": "sample entry", "type": "plain_text"}
    assert entry["id"]


def test_add_entry_defaults_time_to_now(api, incident, opsgenie_emulator):
    entry = _add(api, incident["id"], "now")
    assert entry["eventTime"] >= incident["createdAt"]
    assert opsgenie_emulator.timeline(incident["id"])[-1] == entry


def test_get_update_delete_entry(api, incident):
    entry = _add(api, incident["id"], "first")
    path = _entries_path(incident["id"], f"/{entry['id']}")

    got = api.call("GET", path, query={"contentType": "plain_text"})
    assert (got.status, got.data) == (200, entry)

    updated = api.call("PATCH", path, {"description": {"content": "edited"}})
    assert updated.status == 200
    assert updated.data["description"] == {"name": "edited", "type": "plain_text"}
    assert updated.data["lastEdit"]["actor"] == {"name": "API", "type": "api"}
    assert updated.data["lastEdit"]["editTime"].endswith("Z")
    assert updated.data["eventTime"] == entry["eventTime"]

    moved = api.call("PATCH", path, {"time": "2020-02-02T02:02:02.123Z"})
    assert moved.data["eventTime"] == "2020-02-02T02:02:02.123Z"
    assert moved.data["description"]["name"] == "edited"

    deleted = api.call("DELETE", path)
    assert (deleted.status, deleted.json["result"]) == (200, "Deleted")
    assert api.call("GET", path).status == 404


def test_hide_and_unhide_are_gets(api, incident, opsgenie_emulator):
    entry = _add(api, incident["id"], "hide me")
    hide = api.call("GET", _entries_path(incident["id"], f"/{entry['id']}/hide"))
    assert (hide.status, hide.json["result"]) == (200, "Hided")
    assert opsgenie_emulator.timeline(incident["id"])[-1]["hidden"] is True
    unhide = api.call("GET", _entries_path(incident["id"], f"/{entry['id']}/unhide"))
    assert (unhide.status, unhide.json["result"]) == (200, "Unhided")
    assert opsgenie_emulator.timeline(incident["id"])[-1]["hidden"] is False


def test_system_entries_cannot_be_updated(api, incident, opsgenie_emulator):
    created = opsgenie_emulator.timeline(incident["id"])[0]
    assert created["group"] == "incident"
    response = api.call(
        "PATCH", _entries_path(incident["id"], f"/{created['id']}"), {"time": "2020-01-01T00:00:00Z"}
    )
    assert response.status == 422
    assert "custom" in response.json["message"]


def test_list_pages_with_next_offset(api, incident):
    for i in range(5):
        _add(api, incident["id"], f"entry {i}", time=f"2020-01-0{i + 1}T00:00:00Z")
    seen, offset = [], None
    while True:
        query = {"limit": 2, "group": "custom"}
        if offset:
            query["offset"] = offset
        response = api.call("GET", _entries_path(incident["id"]), query=query)
        assert response.status == 200
        seen.extend(entry["description"]["name"] for entry in response.data["entries"])
        offset = response.data.get("nextOffset")
        if offset is None:
            break
        assert offset == response.data["entries"][-1]["id"]
    assert seen == ["entry 4", "entry 3", "entry 2", "entry 1", "entry 0"]


def test_list_groups_order_and_discard_hidden(api, incident):
    api.write("POST", api.incident_path(incident["id"], "/resolve"))
    old = _add(api, incident["id"], "old", time="2000-01-01T00:00:00Z")
    hidden = _add(api, incident["id"], "hidden", time="2000-01-02T00:00:00Z")
    api.call("GET", _entries_path(incident["id"], f"/{hidden['id']}/hide"))
    path = _entries_path(incident["id"])

    everything = api.call("GET", path, query={"order": "asc"}).data["entries"]
    assert [entry["id"] for entry in everything[:2]] == [old["id"], hidden["id"]]
    assert [entry["type"] for entry in everything[2:]] == ["IncidentCreated", "IncidentResolved"]

    incident_only = api.call("GET", path, query={"group": "incident"}).data["entries"]
    assert {entry["group"] for entry in incident_only} == {"incident"}
    both = api.call("GET", path, query={"group": "custom,incident"}).data["entries"]
    assert len(both) == 4

    visible = api.call("GET", path, query={"discardHidden": "true"}).data["entries"]
    assert hidden["id"] not in [entry["id"] for entry in visible]
    assert len(visible) == 3
    assert "nextOffset" not in api.call("GET", path).data


@pytest.mark.parametrize(
    ("method", "suffix", "body", "query", "fragment"),
    [
        ("POST", "", {}, None, "description is required"),
        ("POST", "", {"description": {"content": ""}}, None, "content"),
        ("POST", "", {"description": {"content": "x", "type": "html"}}, None, "plain_text"),
        ("POST", "", {"description": "text"}, None, "description"),
        ("POST", "", {"description": {"content": "x"}, "time": "yesterday"}, None, "time"),
        ("PATCH", "/{entry}", {}, None, "one of description and time"),
        ("GET", "", None, {"limit": 0}, "limit"),
        ("GET", "", None, {"limit": 21}, "limit"),
        ("GET", "", None, {"group": "nonsense"}, "group"),
        ("GET", "", None, {"discardHidden": "maybe"}, "discardHidden"),
        ("GET", "", None, {"order": "sideways"}, "order"),
        ("GET", "", None, {"offset": "not-an-entry"}, "offset"),
        ("GET", "", None, {"contentType": "html"}, "contentType"),
        ("GET", "/{entry}", None, {"contentType": "html"}, "contentType"),
    ],
    ids=[
        "no-description",
        "empty-content",
        "type",
        "description-string",
        "bad-time",
        "empty-patch",
        "limit-0",
        "limit-21",
        "group",
        "discard-hidden",
        "order",
        "offset",
        "list-content-type",
        "get-content-type",
    ],
)
def test_timeline_validation(api, incident, method, suffix, body, query, fragment):
    entry = _add(api, incident["id"], "existing")
    path = _entries_path(incident["id"], suffix.format(entry=entry["id"]))
    response = api.call(method, path, body, query=query)
    assert response.status == 422, response
    assert fragment in response.json["message"]


def test_limit_20_is_accepted(api, incident):
    for i in range(21):
        _add(api, incident["id"], f"e{i}")
    response = api.call("GET", _entries_path(incident["id"]), query={"limit": 20})
    assert len(response.data["entries"]) == 20
    assert "nextOffset" in response.data


_ENDPOINTS = [
    ("add", "POST", "", {"description": {"content": "x"}}),
    ("list", "GET", "", None),
    ("get", "GET", "/{entry}", None),
    ("update", "PATCH", "/{entry}", {"time": "2020-01-01T00:00:00Z"}),
    ("delete", "DELETE", "/{entry}", None),
    ("hide", "GET", "/{entry}/hide", None),
    ("unhide", "GET", "/{entry}/unhide", None),
]
_MISSING = [
    pytest.param(method, suffix, body, missing, id=f"{name}-{missing}")
    for name, method, suffix, body in _ENDPOINTS
    for missing in ("incident", "entry")
    if missing == "incident" or "{entry}" in suffix
]


@pytest.mark.parametrize(("method", "suffix", "body", "missing"), _MISSING)
def test_timeline_404(api, incident, method, suffix, body, missing):
    entry = _add(api, incident["id"], "existing")
    incident_id = "no-such-incident" if missing == "incident" else incident["id"]
    entry_id = entry["id"] if missing == "incident" else "no-such-entry"
    response = api.call(method, _entries_path(incident_id, suffix.format(entry=entry_id)), body)
    assert response.status == 404
    assert "no-such" in response.json["message"]


def test_timeline_does_not_accept_tiny_ids(api, incident):
    assert api.call("GET", _entries_path(incident["tinyId"])).status == 404
