from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _is_uuid(value: str) -> bool:
    return str(uuid.UUID(value)) == value


# -- create and get -----------------------------------------------------------------------------


def test_create_answers_202_and_request_status_reports_the_incident(api, opsgenie_emulator):
    response = api.call("POST", "/v1/incidents/create", {"message": "Disk is full"})
    assert response.status == 202
    body = response.json
    assert set(body) == {"result", "took", "requestId"}
    assert body["result"] == "Request will be processed"
    assert _is_uuid(body["requestId"])

    status = api.status_of(body["requestId"])
    assert status.status == 200
    data = status.data
    assert set(data) == {
        "success",
        "isSuccess",
        "action",
        "processedAt",
        "integrationId",
        "status",
        "incidentId",
    }
    assert data["success"] is data["isSuccess"] is True
    assert data["action"] == "Create"
    assert data["status"] == "Created incident"
    assert ISO_MS.match(data["processedAt"])
    assert [incident["id"] for incident in opsgenie_emulator.incidents()] == [data["incidentId"]]
    assert status.json["requestId"] != body["requestId"]


def test_created_incident_has_the_real_fields(api, opsgenie_emulator):
    incident = api.create(
        "Disk is full",
        description="/var is at 100%",
        tags=["disk", "prod", "disk"],
        details={"host": "db1"},
        responders=[{"type": "team", "name": "NOC"}, {"type": "user", "username": "a@example.com"}],
        priority="P2",
        serviceId="svc-1",
        statusPageEntry={"title": "Degraded", "detail": "db"},
        notifyStakeholders=True,
        note="first note",
        unknownField={"kept": "or ignored, never rejected"},
    )
    url = opsgenie_emulator.url
    assert _is_uuid(incident["id"])
    assert incident["tinyId"] == "1"
    assert incident["message"] == "Disk is full"
    assert incident["description"] == "/var is at 100%"
    assert incident["status"] == "open"
    assert incident["tags"] == ["disk", "prod"]
    assert incident["details"] == {"host": "db1"}
    assert incident["priority"] == "P2"
    assert incident["responders"] == [
        {"type": "team", "name": "NOC"},
        {"type": "user", "username": "a@example.com"},
    ]
    assert incident["serviceId"] == "svc-1"
    assert incident["impactedServices"] == ["svc-1"]
    assert incident["statusPageEntry"] == {"title": "Degraded", "detail": "db"}
    assert incident["notifyStakeholders"] is True
    assert incident["isSeen"] is False
    assert incident["owner"] == ""
    assert incident["ownerTeam"] == ""
    assert incident["source"] == "API"
    assert ISO_MS.match(incident["createdAt"])
    assert incident["impactStartDate"] == incident["createdAt"] == incident["updatedAt"]
    assert incident["links"] == {
        "web": f"{url}/incident/detail/{incident['id']}",
        "api": f"{url}/v1/incidents/{incident['id']}",
    }
    assert [note["note"] for note in opsgenie_emulator.notes(incident["id"])] == ["first note"]
    assert [log["log"] for log in opsgenie_emulator.logs(incident["id"])] == ["Incident created via API"]
    created = opsgenie_emulator.timeline(incident["id"])
    assert [(e["group"], e["type"], e["title"]["content"]) for e in created] == [
        ("incident", "IncidentCreated", "Incident created")
    ]


def test_defaults_and_impacted_services(api):
    incident = api.create("m", impactedServices=["a", "b"])
    assert incident["priority"] == "P3"
    assert incident["tags"] == []
    assert incident["details"] == {}
    assert incident["impactedServices"] == ["a", "b"]
    assert "serviceId" not in incident


def test_created_at_strictly_increases_and_tiny_ids_count_up(api, opsgenie_emulator):
    for i in range(5):
        api.create(f"incident {i}")
    incidents = opsgenie_emulator.incidents()
    stamps = [incident["createdAt"] for incident in incidents]
    assert stamps == sorted(set(stamps))
    assert [incident["tinyId"] for incident in incidents] == ["1", "2", "3", "4", "5"]


def test_get_by_tiny_id_and_unknown_incident(api):
    incident = api.create()
    got = api.call("GET", "/v1/incidents/1", query={"identifierType": "tiny"})
    assert got.status == 200
    assert got.data == incident
    assert set(got.json) == {"data", "took", "requestId"}

    missing = api.call("GET", "/v1/incidents/nope")
    assert missing.status == 404
    assert missing.json["message"] == "No incident exists with id [nope]"
    assert set(missing.json) == {"message", "took", "requestId"}


# -- every asynchronous write -------------------------------------------------------------------

WRITES: list[Any] = [
    pytest.param(
        "POST", "/close", {"note": "done"}, None, "Close", "Closed incident",
        lambda inc: inc["status"] == "closed", ["done"], id="close",
    ),
    pytest.param(
        "POST", "/resolve", {"note": "fixed"}, None, "Resolve", "Resolved incident",
        lambda inc: inc["status"] == "resolved", ["fixed"], id="resolve",
    ),
    pytest.param(
        "POST", "/notes", {"note": "hello"}, None, "AddNote", "Added note",
        lambda inc: True, ["hello"], id="add-note",
    ),
    pytest.param(
        "POST", "/responders",
        {"incidentId": "x", "responder": [{"type": "team", "id": "t1"}, {"type": "user", "username": "u"}]},
        None, "AddResponder", "Added responder",
        lambda inc: inc["responders"] == [{"type": "team", "id": "t1"}, {"type": "user", "username": "u"}],
        [], id="add-responder",
    ),
    pytest.param(
        "POST", "/tags", {"tags": ["b", "c"], "note": "tagged"}, None, "AddTags", "Added tags",
        lambda inc: inc["tags"] == ["a", "b", "c"], ["tagged"], id="add-tags",
    ),
    pytest.param(
        "DELETE", "/tags", None, {"tags": "a,b", "note": "untagged"}, "RemoveTags", "Removed tags",
        lambda inc: inc["tags"] == [], ["untagged"], id="remove-tags",
    ),
    pytest.param(
        "POST", "/details", {"details": {"k2": "v2"}}, None, "AddDetails", "Added details",
        lambda inc: inc["details"] == {"k1": "v1", "k2": "v2"}, [], id="add-details",
    ),
    pytest.param(
        "DELETE", "/details", None, {"keys": "k1,absent"}, "RemoveDetails", "Removed details",
        lambda inc: inc["details"] == {}, [], id="remove-details",
    ),
    pytest.param(
        "PUT", "/priority", {"priority": "P1"}, None, "UpdatePriority", "Updated priority",
        lambda inc: inc["priority"] == "P1", [], id="update-priority",
    ),
    pytest.param(
        "PUT", "/message", {"message": "new"}, None, "UpdateMessage", "Updated message",
        lambda inc: inc["message"] == "new", [], id="update-message",
    ),
    pytest.param(
        "PUT", "/description", {"description": "longer"}, None, "UpdateDescription", "Updated description",
        lambda inc: inc["description"] == "longer", [], id="update-description",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("method", "suffix", "body", "query", "action", "text", "check", "notes"), WRITES)
@pytest.mark.parametrize("identifier_type", ["id", "tiny"])
def test_write_endpoints(
    api, opsgenie_emulator, identifier_type, method, suffix, body, query, action, text, check, notes
):
    incident = api.create(tags=["a", "b"], details={"k1": "v1"})
    identifier = incident["id"] if identifier_type == "id" else incident["tinyId"]
    params = {**(query or {}), "identifierType": identifier_type}
    result = api.write(method, api.incident_path(identifier, suffix), body, query=params)
    assert result["success"] is result["isSuccess"] is True
    assert result["action"] == action
    assert result["status"] == text
    assert result["incidentId"] == incident["id"]
    assert result["integrationId"]

    after = opsgenie_emulator.incident(incident["id"])
    assert check(after)
    assert after["updatedAt"] >= incident["updatedAt"]
    assert [n["note"] for n in opsgenie_emulator.notes(incident["id"])] == notes
    assert len(opsgenie_emulator.logs(incident["id"])) == 2


@pytest.mark.parametrize(("method", "suffix", "body", "query", "action", "text", "check", "notes"), WRITES)
def test_write_to_a_missing_incident_is_accepted_then_fails(
    api, method, suffix, body, query, action, text, check, notes
):
    result = api.write(method, api.incident_path("no-such-incident", suffix), body, query=query)
    assert result["success"] is False
    assert result["isSuccess"] is False
    assert result["action"] == action
    assert result["status"] == "Incident does not exist"
    assert result["incidentId"] == ""


def test_delete_removes_the_incident(api, opsgenie_emulator):
    incident = api.create()
    result = api.write("DELETE", api.incident_path(incident["id"]))
    assert (result["success"], result["action"], result["status"]) == (True, "Delete", "Deleted incident")
    assert opsgenie_emulator.incidents() == []
    assert api.call("GET", api.incident_path(incident["id"])).status == 404
    assert api.call("GET", api.incident_path(incident["id"], "/notes")).status == 404
    assert api.call("GET", f"/v2/incident-timelines/{incident['id']}/entries").status == 404
    again = api.write("DELETE", api.incident_path(incident["id"]))
    assert again["status"] == "Incident does not exist"


def test_resolve_a_closed_incident_fails_but_close_a_resolved_one_works(api, opsgenie_emulator):
    first, second = api.create("one"), api.create("two")
    assert api.write("POST", api.incident_path(first["id"], "/close"))["success"] is True
    failed = api.write("POST", api.incident_path(first["id"], "/resolve"), {"note": "n"})
    assert (failed["success"], failed["status"]) == (False, "Incident is already closed")
    assert opsgenie_emulator.incident(first["id"])["status"] == "closed"

    assert api.write("POST", api.incident_path(second["id"], "/resolve"))["success"] is True
    assert api.write("POST", api.incident_path(second["id"], "/close"))["success"] is True
    assert opsgenie_emulator.incident(second["id"])["status"] == "closed"
    kinds = [entry["type"] for entry in opsgenie_emulator.timeline(second["id"])]
    assert kinds == ["IncidentCreated", "IncidentResolved", "IncidentClosed"]


# -- asynchronous processing --------------------------------------------------------------------


def test_processing_delay_makes_request_status_404_until_processed(api, opsgenie_emulator):
    opsgenie_emulator.processing_delay = 0.15
    response = api.call("POST", "/v1/incidents/create", {"message": "later"})
    assert response.status == 202
    pending = api.status_of(response.json["requestId"])
    assert pending.status == 404
    assert pending.headers["x-opsgenie-errortype"] == "RequestNotProcessed"
    assert pending.json["message"] == "Request not processed yet"
    assert opsgenie_emulator.incidents() == []

    opsgenie_emulator.wait_until_processed(timeout=2)
    done = api.status_of(response.json["requestId"])
    assert done.status == 200
    assert done.data["success"] is True
    assert len(opsgenie_emulator.incidents()) == 1


def test_delayed_writes_apply_in_order(api, opsgenie_emulator):
    incident = api.create()
    opsgenie_emulator.processing_delay = 0.05
    for priority in ("P1", "P2", "P4"):
        body = {"priority": priority}
        assert api.call("PUT", api.incident_path(incident["id"], "/priority"), body).status == 202
    opsgenie_emulator.wait_until_processed()
    assert opsgenie_emulator.incident(incident["id"])["priority"] == "P4"


def test_wait_until_processed_times_out(api, opsgenie_emulator):
    opsgenie_emulator.processing_delay = 5
    api.call("POST", "/v1/incidents/create", {"message": "much later"})
    with pytest.raises(TimeoutError):
        opsgenie_emulator.wait_until_processed(timeout=0.05)
    opsgenie_emulator.reset()
    opsgenie_emulator.wait_until_processed(timeout=0.05)
    assert opsgenie_emulator.processing_delay == 0.0


def test_unknown_request_id_is_404_without_not_processed_header(api):
    response = api.status_of(str(uuid.uuid4()))
    assert response.status == 404
    assert "x-opsgenie-errortype" not in response.headers


# -- authentication -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "GenieKey wrong", "Bearer emulator-key", "emulator-key", "GenieKey"],
    ids=["missing", "wrong-key", "wrong-scheme", "no-scheme", "no-key"],
)
def test_requests_without_the_right_key_get_401(opsgenie_emulator, make_client, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = make_client(key="").call("POST", "/v1/incidents/create", {"message": "x"}, headers=headers)
    assert response.status == 401
    assert response.json["message"] == "Could not authenticate"
    assert set(response.json) == {"message", "took", "requestId"}
    assert opsgenie_emulator.incidents() == []


def test_scheme_is_case_insensitive(opsgenie_emulator, make_client):
    headers = {"Authorization": f"geniekey {opsgenie_emulator.api_key}"}
    response = make_client(key="").call("GET", "/v1/incidents", query={"query": ""}, headers=headers)
    assert response.status == 200
