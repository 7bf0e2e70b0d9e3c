"""Each limit at the limit (202) and one past it (422 naming the field), checked synchronously."""

from __future__ import annotations

import pytest


def _create(**fields):
    return ("POST", "/v1/incidents/create", {"message": "m", **fields}, None)


def _on(method, suffix, body=None, query=None):
    return (method, "{incident}" + suffix, body, query)


def _responders(count, kind="team"):
    return [{"type": kind, "id": f"r{i}"} for i in range(count)]


def ok(case_id, request):
    return pytest.param(*request, 202, None, id=case_id)


def bad(case_id, request, fragment):
    return pytest.param(*request, 422, fragment, id=case_id)


def _many(prefix, count):
    return ",".join(f"{prefix}{i}" for i in range(count))


CASES = [
    ok("message-130", _create(message="x" * 130)),
    bad("message-131", _create(message="x" * 131), "message should be at most 130 characters"),
    bad("message-missing", ("POST", "/v1/incidents/create", {"description": "d"}, None), "message"),
    bad("message-blank", _create(message="   "), "message"),
    bad("message-not-string", _create(message=5), "message should be a string"),
    ok("description-15000", _create(description="d" * 15000)),
    bad("description-15001", _create(description="d" * 15001), "description should be at most 15000"),
    ok("tags-20", _create(tags=[f"t{i}" for i in range(20)])),
    bad("tags-21", _create(tags=[f"t{i}" for i in range(21)]), "tags should have at most 20"),
    ok("tag-50-chars", _create(tags=["t" * 50])),
    bad("tag-51-chars", _create(tags=["t" * 51]), "tags items should be at most 50"),
    bad("tags-not-list", _create(tags="a,b"), "tags should be a list"),
    ok("details-8000", _create(details={"k": "v" * 7999})),
    bad("details-8001", _create(details={"k": "v" * 8000}), "details should be at most 8000"),
    bad("details-not-string", _create(details={"k": 1}), "details values should be strings"),
    ok("note-25000", _create(note="n" * 25000)),
    bad("note-25001", _create(note="n" * 25001), "note should be at most 25000"),
    ok("responders-50", _create(responders=_responders(50))),
    bad("responders-51", _create(responders=_responders(51)), "responders should have at most 50"),
    bad("responder-type", _create(responders=[{"type": "squad", "id": "1"}]), "responders type"),
    bad("responder-no-id", _create(responders=[{"type": "team"}]), "responders of type team"),
    bad("team-username", _create(responders=[{"type": "team", "username": "u"}]), "team"),
    ok("user-username", _create(responders=[{"type": "user", "username": "u"}])),
    ok("priority-P5", _create(priority="P5")),
    bad("priority-P6", _create(priority="P6"), "priority should be one of"),
    bad("status-page-no-title", _create(statusPageEntry={"detail": "d"}), "statusPageEntry title"),
    bad("notify-not-bool", _create(notifyStakeholders="yes"), "notifyStakeholders"),
    bad("bad-id-type", _on("POST", "/close", query={"identifierType": "alias"}), "identifierType"),
    bad("close-note", _on("POST", "/close", {"note": "n" * 25001}), "note should be at most"),
    bad("resolve-note", _on("POST", "/resolve", {"note": "n" * 25001}), "note should be at most"),
    bad("add-note-missing", _on("POST", "/notes", {}), "note is required"),
    ok("add-note-25000", _on("POST", "/notes", {"note": "n" * 25000})),
    bad("responder-no-incident-id", _on("POST", "/responders", {"responder": _responders(1)}), "incidentId"),
    bad("no-responder", _on("POST", "/responders", {"incidentId": "i"}), "responder is required"),
    bad("responder-51", _on("POST", "/responders", {"incidentId": "i", "responder": _responders(51)}), "50"),
    bad("add-tags-missing", _on("POST", "/tags", {}), "tags is required"),
    bad("add-tag-51", _on("POST", "/tags", {"tags": ["t" * 51]}), "at most 50 characters"),
    bad("remove-tags-missing", _on("DELETE", "/tags"), "tags is required"),
    bad("remove-tags-21", _on("DELETE", "/tags", query={"tags": _many("t", 21)}), "at most 20"),
    bad("remove-tags-note", _on("DELETE", "/tags", query={"tags": "a", "note": "n" * 25001}), "note"),
    bad("add-details-missing", _on("POST", "/details", {}), "details is required"),
    bad("add-details-8001", _on("POST", "/details", {"details": {"k": "v" * 8000}}), "8000"),
    bad("remove-details-missing", _on("DELETE", "/details"), "keys is required"),
    ok("remove-details-10", _on("DELETE", "/details", query={"keys": _many("k", 10)})),
    bad("remove-details-11", _on("DELETE", "/details", query={"keys": _many("k", 11)}), "keys"),
    bad("priority-lowercase", _on("PUT", "/priority", {"priority": "p1"}), "priority"),
    bad("priority-missing", _on("PUT", "/priority", {}), "priority"),
    ok("update-message-130", _on("PUT", "/message", {"message": "x" * 130})),
    bad("update-message-131", _on("PUT", "/message", {"message": "x" * 131}), "at most 130"),
    ok("description-empty", _on("PUT", "/description", {"description": ""})),
    bad("description-long", _on("PUT", "/description", {"description": "d" * 15001}), "15000"),
]


@pytest.mark.parametrize(("method", "path", "body", "query", "status", "fragment"), CASES)
def test_limits(api, opsgenie_emulator, method, path, body, query, status, fragment):
    incident = api.create("target")
    opsgenie_emulator.clear_requests()
    response = api.call(method, path.format(incident=api.incident_path(incident["id"])), body, query=query)
    assert response.status == status, response
    if fragment is None:
        assert response.json["result"] == "Request will be processed"
        opsgenie_emulator.wait_until_processed()
        assert api.status_of(response.json["requestId"]).data["success"] is True
    else:
        assert fragment in response.json["message"]
        assert set(response.json) == {"message", "took", "requestId"}
        assert api.status_of(response.json["requestId"]).status == 404


def test_rejected_create_applies_nothing(api, opsgenie_emulator):
    assert api.call("POST", "/v1/incidents/create", {"message": "x" * 131}).status == 422
    assert opsgenie_emulator.incidents() == []


@pytest.mark.parametrize(
    ("raw", "status", "fragment"),
    [
        (b'{"message": ', 400, "Could not parse"),
        (b"not json at all", 400, "Could not parse"),
        (b'["a list"]', 422, "JSON object"),
        (b"", 422, "message"),
    ],
    ids=["truncated", "text", "not-object", "empty"],
)
def test_bad_bodies(api, opsgenie_emulator, raw, status, fragment):
    response = api.call("POST", "/v1/incidents/create", raw=raw)
    assert response.status == status
    assert fragment in response.json["message"]
    recorded = opsgenie_emulator.requests[-1]
    expected = None if raw == b"" else (["a list"] if raw.startswith(b"[") else raw.decode())
    assert recorded.body == expected
