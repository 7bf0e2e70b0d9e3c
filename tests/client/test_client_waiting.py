"""Waiting for asynchronous requests, and paging through lists, against the emulator."""

from __future__ import annotations

import time

import pytest

from airflow_provider_opsgenie_incident.client import RequestFailedError, WaitTimeoutError
from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient

STATUS_PATH = "/v1/incidents/requests/"


def _status_polls(emu) -> list[str | None]:
    return [r.fault for r in emu.requests if r.path.startswith(STATUS_PATH)]


def test_wait_for_request_polls_until_processed(client, emu):
    emu.processing_delay = 0.3
    accepted = client.create_incident(message="slow")
    started = time.monotonic()
    data = client.wait_for_request(accepted["requestId"], timeout=5)
    elapsed = time.monotonic() - started
    assert data["isSuccess"] is True
    assert data["action"] == "Create"
    assert emu.incident(data["incidentId"])["message"] == "slow"
    assert 0.2 <= elapsed < 3.0
    # Pending polls are 404s, then one success: several polls, but not a busy loop.
    assert 3 <= len(_status_polls(emu)) <= 10


def test_wait_for_a_failed_request_raises_with_the_servers_status(client, emu):
    accepted = client.resolve_incident(identifier="no-such-incident")
    with pytest.raises(RequestFailedError) as caught:
        client.wait_for_request(accepted["requestId"], timeout=5)
    error = caught.value
    assert error.message == "Incident does not exist"
    assert error.request_id == accepted["requestId"]
    assert error.action == "Resolve"
    assert error.incident_id is None
    assert str(error) == f"Incident does not exist (requestId {accepted['requestId']})"


def test_wait_for_a_request_never_processed_times_out(client, emu):
    started = time.monotonic()
    with pytest.raises(WaitTimeoutError) as caught:
        client.wait_for_request("never-heard-of-it", timeout=0.3)
    assert 0.3 <= time.monotonic() - started < 2.0
    assert caught.value.request_id == "never-heard-of-it"
    assert "within 0.3 s" in str(caught.value)
    assert len(_status_polls(emu)) >= 3


@pytest.mark.asyncio
async def test_async_wait_for_request(settings, emu):
    emu.processing_delay = 0.3
    async with AsyncOpsgenieIncidentClient(settings) as client:
        accepted = await client.create_incident(message="slow")
        data = await client.wait_for_request(accepted["requestId"], timeout=5)
        assert data["incidentId"]
        assert emu.incident(data["incidentId"]) is not None
        resolved = await client.resolve_incident(identifier="no-such-incident")
        with pytest.raises(RequestFailedError, match="Incident does not exist") as caught:
            await client.wait_for_request(resolved["requestId"], timeout=5)
        assert caught.value.request_id == resolved["requestId"]
        with pytest.raises(WaitTimeoutError):
            await client.wait_for_request("never-heard-of-it", timeout=0.2)
    assert len(_status_polls(emu)) >= 5


# -- pagination -------------------------------------------------------------------------------


def test_iter_incidents_follows_pages(client, emu):
    for index in range(120):
        client.create_incident(message=f"incident {index}", tags=["paged"])
    client.create_incident(message="other")
    emu.clear_requests()
    messages = [incident["message"] for incident in client.iter_incidents('tag:"paged"', order="asc")]
    assert messages == [f"incident {index}" for index in range(120)]
    pages = [(r.query["offset"], r.query["limit"]) for r in emu.requests]
    assert pages == [("0", "100"), ("100", "100")]


def test_iter_incidents_with_small_pages_and_no_results(client, emu):
    for index in range(7):
        client.create_incident(message=f"incident {index}")
    emu.clear_requests()
    assert len(list(client.iter_incidents("status:open", page_size=3, sort="tinyId"))) == 7
    assert [r.query["offset"] for r in emu.requests] == ["0", "3", "6"]
    assert emu.requests[0].query["sort"] == "tinyId"
    emu.clear_requests()
    assert list(client.iter_incidents("status:closed")) == []
    assert len(emu.requests) == 1


@pytest.fixture
def busy_incident(client, emu, new_incident) -> str:
    """An incident with 230 notes (and 231 log entries)."""
    incident_id = new_incident()
    for index in range(230):
        client.add_note(identifier=incident_id, note=f"note {index}")
    emu.clear_requests()
    return incident_id


def test_iter_notes_follows_the_offset_across_pages(client, emu, busy_incident):
    notes = [note["note"] for note in client.iter_notes(busy_incident)]
    assert notes == [f"note {index}" for index in reversed(range(230))]
    assert len(emu.requests) == 3
    first, second, third = emu.requests
    assert "offset" not in first.query
    assert first.query["limit"] == "100"
    assert second.query["direction"] == third.query["direction"] == "next"
    offsets = [note["offset"] for note in emu.notes(busy_incident)]
    assert [second.query["offset"], third.query["offset"]] == [offsets[130], offsets[30]]


def test_iter_notes_in_ascending_order_by_tiny_id(client, emu, busy_incident):
    tiny = emu.incident(busy_incident)["tinyId"]
    notes = [note["note"] for note in client.iter_notes(tiny, identifier_type="tiny", order="asc")]
    assert notes == [f"note {index}" for index in range(230)]
    assert {r.query["identifierType"] for r in emu.requests} == {"tiny"}


def test_iter_logs_follows_the_offset_across_pages(client, emu, busy_incident):
    logs = [entry["log"] for entry in client.iter_logs(busy_incident, order="asc")]
    assert len(logs) == 231
    assert logs[0] == "Incident created via API"
    assert logs[1:] == ["Note added via API"] * 230
    assert len(emu.requests) == 3


def test_iter_timeline_entries_follows_next_offset(client, emu, new_incident):
    incident_id = new_incident()
    for index in range(45):
        client.add_timeline_entry(incident_id=incident_id, content=f"entry {index}")
    hidden = client.add_timeline_entry(incident_id=incident_id, content="hidden")["data"]["id"]
    client.hide_timeline_entry(incident_id=incident_id, entry_id=hidden)
    emu.clear_requests()
    entries = list(client.iter_timeline_entries(incident_id, order="asc"))
    assert entries[0]["type"] == "IncidentCreated"
    assert [e["description"]["name"] for e in entries[1:-1]] == [f"entry {i}" for i in range(45)]
    assert entries[-1]["hidden"] is True
    assert len(emu.requests) == 3
    assert [r.query.get("offset") for r in emu.requests][1:] == [entries[19]["id"], entries[39]["id"]]
    emu.clear_requests()
    visible = list(client.iter_timeline_entries(incident_id, discard_hidden=True))
    assert len(visible) == 46
    assert all(r.query["discardHidden"] == "true" for r in emu.requests)
