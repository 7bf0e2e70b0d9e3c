"""Search trailing the writes: ``search_lag`` seconds of the emulator's clock."""

from __future__ import annotations

import pytest

from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator


def search(api, query: str = "") -> list[str]:
    response = api.call("GET", "/v1/incidents", query={"query": query, "sort": "tinyId", "order": "asc"})
    assert response.status == 200, response
    assert response.json["totalCount"] == len(response.data)
    return [incident["tinyId"] for incident in response.data]


def test_a_new_incident_is_found_only_after_the_lag(clocked_emulator, clocked_api, clock):
    clocked_emulator.search_lag = 2.0
    incident = clocked_api.create()
    assert clocked_api.call("GET", clocked_api.incident_path(incident["id"])).status == 200
    assert search(clocked_api) == []
    clock.advance(1.999)
    assert search(clocked_api) == []
    clock.advance(0.001)
    assert search(clocked_api) == [incident["tinyId"]]


def test_a_close_shows_in_search_only_after_the_lag(clocked_emulator, clocked_api, clock):
    first = clocked_api.create("first")
    clocked_emulator.search_lag = 1.0
    second = clocked_api.create("second")
    assert search(clocked_api, "status:open") == [first["tinyId"]]
    clock.advance(0.5)
    clocked_api.write("POST", clocked_api.incident_path(first["id"], "/close"), {})
    assert clocked_emulator.incident(first["id"])["status"] == "closed"
    assert search(clocked_api, "status:open") == [first["tinyId"]]
    clock.advance(0.5)
    assert search(clocked_api, "status:open") == [first["tinyId"], second["tinyId"]]
    clock.advance(0.5)
    assert search(clocked_api, "status:open") == [second["tinyId"]]
    assert search(clocked_api, "status:closed") == [first["tinyId"]]


def test_tags_added_are_searchable_only_after_the_lag(clocked_emulator, clocked_api, clock):
    incident = clocked_api.create()
    clocked_emulator.search_lag = 1.0
    clocked_api.write("POST", clocked_api.incident_path(incident["id"], "/tags"), {"tags": ["fp"]})
    assert search(clocked_api, 'tag:"fp"') == []
    clock.advance(1.0)
    assert search(clocked_api, 'tag:"fp"') == [incident["tinyId"]]


def test_a_deleted_incident_is_found_until_the_lag_passes(clocked_emulator, clocked_api, clock):
    incident = clocked_api.create()
    clocked_emulator.search_lag = 1.0
    clocked_api.write("DELETE", clocked_api.incident_path(incident["id"]))
    assert clocked_emulator.incidents() == []
    [found] = clocked_api.call("GET", "/v1/incidents", query={"query": ""}).data
    assert found["id"] == incident["id"]
    clock.advance(1.0)
    assert search(clocked_api) == []


def test_created_and_changed_within_the_lag(clocked_emulator, clocked_api, clock):
    clocked_emulator.search_lag = 1.0
    incident = clocked_api.create()
    clock.advance(0.6)
    clocked_api.write("PUT", clocked_api.incident_path(incident["id"], "/priority"), {"priority": "P1"})
    clock.advance(0.4)
    [found] = clocked_api.call("GET", "/v1/incidents", query={"query": ""}).data
    assert found["priority"] == "P3"
    clock.advance(0.6)
    [found] = clocked_api.call("GET", "/v1/incidents", query={"query": ""}).data
    assert found["priority"] == "P1"


def test_turning_the_lag_off_shows_everything(clocked_emulator, clocked_api):
    clocked_emulator.search_lag = 5.0
    incident = clocked_api.create()
    assert search(clocked_api) == []
    clocked_emulator.search_lag = 0
    assert search(clocked_api) == [incident["tinyId"]]


def test_without_a_lag_search_is_immediate(api):
    incident = api.create()
    assert search(api) == [incident["tinyId"]]


def test_reset_turns_the_lag_off(opsgenie_emulator):
    opsgenie_emulator.search_lag = 3
    assert opsgenie_emulator.search_lag == 3.0
    opsgenie_emulator.reset()
    assert opsgenie_emulator.search_lag == 0.0


def test_the_lag_is_a_constructor_argument_and_not_negative():
    emulator = OpsgenieEmulator(search_lag=0.5)
    assert emulator.search_lag == 0.5
    with pytest.raises(ValueError, match="negative"):
        emulator.search_lag = -1


def test_the_command_line_takes_a_lag():
    from airflow_provider_opsgenie_incident.emulator.__main__ import _parser

    assert _parser().parse_args(["--search-lag", "1.5"]).search_lag == 1.5
    assert _parser().parse_args([]).search_lag == 0.0
