"""What the emulator records for tests to count: endpoints, TCP connections and pages."""

from __future__ import annotations

import pytest

from airflow_provider_opsgenie_incident.client.catalogue import ENDPOINTS
from airflow_provider_opsgenie_incident.emulator import Fault, Page
from airflow_provider_opsgenie_incident.emulator.routes import ROUTES

TEAM = {"type": "team", "name": "NOC"}
USER = {"type": "user", "username": "ann@example.com"}


def test_every_route_is_named_as_the_client_catalogue_names_it():
    assert sorted(route.name for route in ROUTES) == sorted(ENDPOINTS)
    for route in ROUTES:
        assert route.method == ENDPOINTS[route.name].method, route.name


def test_requests_record_their_endpoint(api, opsgenie_emulator):
    incident = api.create()
    api.call("POST", api.incident_path(incident["id"], "/notes"), {"note": "n"})
    api.call("GET", api.incident_path(incident["id"], "/notes"))
    api.call("GET", f"/v2/incident-timelines/{incident['id']}/entries")
    api.call("GET", "/v1/nowhere")
    assert [request.endpoint for request in opsgenie_emulator.requests] == [
        "create_incident",
        "get_request_status",
        "get_incident",
        "add_note",
        "list_notes",
        "list_timeline_entries",
        None,
    ]


def test_faulted_requests_record_their_endpoint_too(api, opsgenie_emulator):
    opsgenie_emulator.add_fault(Fault("status", status=503))
    api.call("POST", "/v1/incidents/create", {"message": "m"})
    [request] = opsgenie_emulator.requests
    assert (request.endpoint, request.fault) == ("create_incident", "status")


def test_request_counts_by_endpoint_connection_and_marker(opsgenie_emulator, make_client):
    first, second = make_client(), make_client()
    for _ in range(3):
        first.call("GET", "/v1/incidents", query={"query": ""}, headers={"X-Worker": "a"})
    second.call("POST", "/v1/incidents/create", {"message": "m"}, headers={"X-Worker": "b"})
    second.call("GET", "/v1/incidents", query={"query": ""})
    assert opsgenie_emulator.request_counts() == {"list_incidents": 4, "create_incident": 1}
    assert opsgenie_emulator.request_counts("method") == {"GET": 4, "POST": 1}
    assert sorted(opsgenie_emulator.request_counts("connection").values()) == [2, 3]
    by_worker = opsgenie_emulator.request_counts(lambda request: request.headers.get("x-worker"))
    assert by_worker == {"a": 3, "b": 1, None: 1}


def test_connections_accepted_counts_keep_alive_connections(opsgenie_emulator, make_client):
    assert opsgenie_emulator.connections_accepted == 0
    client = make_client()
    for _ in range(5):
        client.call("GET", "/v1/incidents", query={"query": ""})
    assert opsgenie_emulator.connections_accepted == 1
    make_client().call("GET", "/v1/incidents", query={"query": ""})
    assert opsgenie_emulator.connections_accepted == 2
    assert len({request.connection for request in opsgenie_emulator.requests}) == 2
    assert all(request.connection > 0 for request in opsgenie_emulator.requests)


def test_a_reset_connection_makes_the_next_call_reconnect(opsgenie_emulator, make_client):
    opsgenie_emulator.add_fault(Fault("reset"))
    client = make_client()
    with pytest.raises(ConnectionError):
        client.call("GET", "/v1/incidents", query={"query": ""})
    client.conn.close()
    assert client.call("GET", "/v1/incidents", query={"query": ""}).status == 200
    assert opsgenie_emulator.connections_accepted == 2
    first, second = opsgenie_emulator.requests
    assert first.connection != second.connection


def test_reset_zeroes_the_connection_count_and_keeps_numbers_unique(opsgenie_emulator, make_client):
    make_client().call("GET", "/v1/incidents", query={"query": ""})
    before = opsgenie_emulator.requests[-1].connection
    opsgenie_emulator.reset()
    assert opsgenie_emulator.connections_accepted == 0
    make_client().call("GET", "/v1/incidents", query={"query": ""})
    assert opsgenie_emulator.connections_accepted == 1
    assert opsgenie_emulator.requests[-1].connection > before


# -- pages ------------------------------------------------------------------------------------


def test_a_create_without_responders_pages_nobody(api, opsgenie_emulator):
    api.create()
    assert opsgenie_emulator.pages() == []
    assert opsgenie_emulator.paged_incidents() == []


def test_a_create_with_responders_is_one_page(api, opsgenie_emulator):
    incident = api.create(responders=[TEAM, USER])
    [page] = opsgenie_emulator.pages()
    assert isinstance(page, Page)
    assert (page.incident_id, page.tiny_id, page.action) == (incident["id"], incident["tinyId"], "Create")
    assert page.responders == (TEAM, USER)
    assert page.notify_stakeholders is False
    assert page.at.endswith("Z")
    assert opsgenie_emulator.paged_incidents() == [incident["id"]]


def test_add_responder_pages_only_new_responders(api, opsgenie_emulator):
    incident = api.create(responders=[TEAM])
    path = api.incident_path(incident["id"], "/responders")
    api.write("POST", path, {"incidentId": incident["id"], "responder": [TEAM]})
    api.write("POST", path, {"incidentId": incident["id"], "responder": [TEAM, USER, USER]})
    create, added = opsgenie_emulator.pages()
    assert create.action == "Create"
    assert (added.action, added.responders) == ("AddResponder", (USER,))
    assert opsgenie_emulator.paged_incidents() == [incident["id"]]


def test_routing_a_quiet_incident_later_is_its_one_page(api, opsgenie_emulator):
    quiet, routed = api.create("quiet"), api.create("routed")
    api.write(
        "POST",
        api.incident_path(routed["id"], "/responders"),
        {"incidentId": routed["id"], "responder": [TEAM]},
    )
    assert opsgenie_emulator.paged_incidents() == [routed["id"]]
    assert quiet["id"] not in {page.incident_id for page in opsgenie_emulator.pages()}


def test_stakeholder_notification_is_recorded(api, opsgenie_emulator):
    loud = api.create("loud", notifyStakeholders=True)
    [page] = opsgenie_emulator.pages()
    assert (page.incident_id, page.responders, page.notify_stakeholders) == (loud["id"], (), True)
    assert opsgenie_emulator.paged_incidents() == []


def test_closing_or_deleting_takes_no_page_back(api, opsgenie_emulator):
    first, second = api.create(responders=[TEAM]), api.create(responders=[USER])
    api.write("POST", api.incident_path(first["id"], "/close"), {"note": "duplicate"})
    api.write("DELETE", api.incident_path(second["id"]))
    assert opsgenie_emulator.paged_incidents() == [first["id"], second["id"]]
    opsgenie_emulator.reset()
    assert opsgenie_emulator.pages() == []
