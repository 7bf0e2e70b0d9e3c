from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest


@pytest.fixture
def noted(api):
    incident = api.create("with notes", note="note 0")
    for i in range(1, 5):
        api.write("POST", api.incident_path(incident["id"], "/notes"), {"note": f"note {i}"})
    return incident


def _texts(response, field="note"):
    return [item[field] for item in response.data]


def test_notes_default_newest_first_with_item_shape(api, noted):
    response = api.call("GET", api.incident_path(noted["id"], "/notes"))
    assert response.status == 200
    assert _texts(response) == ["note 4", "note 3", "note 2", "note 1", "note 0"]
    item = response.data[0]
    assert set(item) == {"note", "owner", "createdAt", "offset"}
    offsets = [item["offset"] for item in response.data]
    assert offsets == sorted(offsets, reverse=True)
    assert len({len(offset) for offset in offsets}) == 1
    assert "next" not in response.json["paging"]
    assert "first" in response.json["paging"]


def test_notes_paging_by_offset_follows_next_links(api, noted, opsgenie_emulator):
    path = api.incident_path(noted["id"], "/notes")
    seen = []
    response = api.call("GET", path, query={"limit": 2})
    while True:
        seen.extend(_texts(response))
        if "next" not in response.json["paging"]:
            break
        link = urlsplit(response.json["paging"]["next"])
        assert f"{link.scheme}://{link.netloc}" == opsgenie_emulator.url
        assert parse_qs(link.query)["direction"] == ["next"]
        response = api.call("GET", f"{link.path}?{link.query}")
    assert seen == ["note 4", "note 3", "note 2", "note 1", "note 0"]


@pytest.mark.parametrize(
    ("order", "direction", "pivot", "expected", "more"),
    [
        ("asc", "next", 1, ["note 2", "note 3"], True),
        ("asc", "next", 3, ["note 4"], False),
        ("asc", "prev", 3, ["note 1", "note 2"], True),
        ("asc", "prev", 1, ["note 0"], True),
        ("desc", "next", 3, ["note 2", "note 1"], True),
        ("desc", "next", 1, ["note 0"], False),
        ("desc", "prev", 1, ["note 3", "note 2"], True),
        ("desc", "prev", 3, ["note 4"], True),
    ],
    ids=[
        "asc-next",
        "asc-next-last",
        "asc-prev",
        "asc-prev-first",
        "desc-next",
        "desc-next-last",
        "desc-prev",
        "desc-prev-first",
    ],
)
def test_notes_offset_and_direction(api, opsgenie_emulator, noted, order, direction, pivot, expected, more):
    offset = opsgenie_emulator.notes(noted["id"])[pivot]["offset"]
    query = {"offset": offset, "direction": direction, "order": order, "limit": 2}
    response = api.call("GET", api.incident_path(noted["id"], "/notes"), query=query)
    assert _texts(response) == expected
    assert ("next" in response.json["paging"]) is more


def test_logs_list_every_action_by_tiny_id(api, noted):
    api.write("POST", api.incident_path(noted["id"], "/resolve"), {"note": "fixed"})
    response = api.call("GET", "/v1/incidents/1/logs", query={"identifierType": "tiny", "order": "asc"})
    assert response.status == 200
    logs = _texts(response, "log")
    assert logs[0] == "Incident created via API"
    assert logs[-1] == "Incident resolved via API"
    assert len(logs) == 6
    assert set(response.data[0]) == {"log", "type", "owner", "createdAt", "offset"}
    assert response.data[0]["type"] == "system"


@pytest.mark.parametrize("kind", ["notes", "logs"])
@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"limit": 0}, 422),
        ({"limit": 101}, 422),
        ({"limit": 100}, 200),
        ({"direction": "sideways"}, 422),
        ({"order": "random"}, 422),
        ({"identifierType": "alias"}, 422),
    ],
    ids=["limit-0", "limit-101", "limit-100", "direction", "order", "identifier-type"],
)
def test_list_parameters_validated(api, noted, kind, query, status):
    assert api.call("GET", api.incident_path(noted["id"], f"/{kind}"), query=query).status == status


@pytest.mark.parametrize("kind", ["notes", "logs"])
def test_list_of_missing_incident_is_404(api, kind):
    response = api.call("GET", api.incident_path("missing", f"/{kind}"))
    assert response.status == 404
    assert response.json["message"] == "No incident exists with id [missing]"
