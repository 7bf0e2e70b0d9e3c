"""Failure notifiers of one process share the open incident they find: one searches, the others note it."""

from __future__ import annotations

import threading
import time
from collections import Counter
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from airflow_provider_opsgenie_incident.client import sightings as sightings_module
from airflow_provider_opsgenie_incident.client.fingerprint import run_fingerprint
from airflow_provider_opsgenie_incident.client.sightings import Sightings, sightings_for
from airflow_provider_opsgenie_incident.notifications.incident import (
    OpsgenieIncidentFailureNotifier,
    OpsgenieIncidentRecoveryNotifier,
)

if TYPE_CHECKING:
    import pytest

    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator


def _context(map_index: int, task_id: str = "load") -> dict[str, Any]:
    ti = SimpleNamespace(
        dag_id="etl", task_id=task_id, try_number=1, map_index=map_index, log_url=f"http://af/{map_index}"
    )
    return {"ti": ti, "run_id": "r1", "exception": RuntimeError(f"boom {map_index}")}


def _fail_at_once(count: int) -> None:
    notifiers = [OpsgenieIncidentFailureNotifier() for _ in range(count)]
    threads = [
        threading.Thread(target=notifier, args=(_context(index),)) for index, notifier in enumerate(notifiers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _notes_by_map_index(emulator: OpsgenieEmulator, incident: dict[str, Any]) -> Counter[str]:
    texts = [incident["description"], *(note["note"] for note in emulator.notes(incident["id"]))]
    return Counter(line for text in texts for line in text.splitlines() if line.startswith("Map index:"))


def _entries_by_map_index(emulator: OpsgenieEmulator, incident: dict[str, Any]) -> Counter[str]:
    texts = [e["description"]["name"] for e in emulator.timeline(incident["id"]) if e["group"] == "custom"]
    return Counter(line for text in texts for line in text.splitlines() if line.startswith("Map index:"))


def test_one_notifier_searches_and_the_others_note_what_it_found(
    opsgenie_incident_connection: OpsgenieEmulator,
) -> None:
    _fail_at_once(10)
    opsgenie_incident_connection.wait_until_processed()
    [incident] = opsgenie_incident_connection.incidents()
    assert incident["status"] == "open"
    # Each failure once on the timeline; the first also in the description, and no note.
    recorded = _entries_by_map_index(opsgenie_incident_connection, incident)
    assert recorded == Counter({f"Map index: {index}": 1 for index in range(10)})
    assert opsgenie_incident_connection.notes(incident["id"]) == []
    assert sum(_notes_by_map_index(opsgenie_incident_connection, incident).values()) == 1  # the description
    calls = Counter(r.endpoint for r in opsgenie_incident_connection.requests)
    assert calls["create_incident"] == 1
    assert calls["add_note"] == 0
    assert calls["add_timeline_entry"] == 10
    assert calls["list_incidents"] <= 3  # the leader's searches only; the nine others search nothing


def test_a_sighting_of_a_deleted_incident_is_forgotten_and_the_failure_still_recorded(
    opsgenie_incident_connection: OpsgenieEmulator,
) -> None:
    board = sightings_for(opsgenie_incident_connection.url, opsgenie_incident_connection.api_key)
    tag = run_fingerprint("etl", "load", None)
    board.record(tag, {"id": "deleted-meanwhile"})
    OpsgenieIncidentFailureNotifier()(_context(0))
    opsgenie_incident_connection.wait_until_processed()
    [incident] = opsgenie_incident_connection.incidents()
    assert "Map index: 0" in incident["description"]
    assert board.seen(tag) == {"id": incident["id"]}


def test_a_recovery_forgets_the_sighting(opsgenie_incident_connection: OpsgenieEmulator) -> None:
    OpsgenieIncidentFailureNotifier()(_context(0))
    board = sightings_for(opsgenie_incident_connection.url, opsgenie_incident_connection.api_key)
    tag = run_fingerprint("etl", "load", None)
    assert board.seen(tag) is not None
    OpsgenieIncidentRecoveryNotifier()(_context(0))
    assert board.seen(tag) is None
    OpsgenieIncidentFailureNotifier()(_context(1))  # a new failure opens a new incident
    opsgenie_incident_connection.wait_until_processed()
    statuses = Counter(i["status"] for i in opsgenie_incident_connection.incidents())
    assert statuses == {"resolved": 1, "open": 1}


def test_a_sighting_is_trusted_for_a_while_only(monkeypatch: pytest.MonkeyPatch) -> None:
    board = Sightings()
    board.record("t", {"id": "i"})
    assert board.seen("t") == {"id": "i"}
    monkeypatch.setattr(sightings_module, "TRUST", 0.0)
    time.sleep(0.01)
    assert board.seen("t") is None


def test_one_lead_per_tag_until_released_or_lapsed(monkeypatch: pytest.MonkeyPatch) -> None:
    board, first, second = Sightings(), object(), object()
    assert board.lead("t", first)
    assert board.lead("t", first)  # held already
    assert not board.lead("t", second)
    assert board.lead("u", second)  # another fingerprint
    board.release("t", second)  # not its lead: nothing changes
    assert not board.lead("t", second)
    board.release("t", first)
    assert board.lead("t", second)
    monkeypatch.setattr(sightings_module, "LEAD_LAPSE", 0.0)
    time.sleep(0.01)
    assert board.lead("t", first)  # a lead never released lapses


def test_boards_are_per_account_and_never_hold_the_key() -> None:
    board = sightings_for("http://127.0.0.1:1", "secret-key")
    assert sightings_for("http://127.0.0.1:1", "secret-key") is board
    assert sightings_for("http://127.0.0.1:1", "other-key") is not board
    assert "secret-key" not in repr(vars(sightings_module)["_boards"])


def test_the_earliest_turn_of_the_notifiers_waiting_here_is_the_leaders() -> None:
    board, first, second = Sightings(), object(), object()
    board.arrive("t", first, 2.0)
    assert board.turn("t", 9.0) == 2.0
    board.arrive("t", second, 0.0)  # map index 0 arrives while the other leads
    assert board.turn("t", 9.0) == 0.0
    board.leave("t", second)
    board.leave("t", first)
    assert board.turn("t", 9.0) == 9.0


def test_a_leader_with_a_late_turn_creates_at_once_when_map_index_zero_waits_for_it(
    opsgenie_incident_connection: OpsgenieEmulator,
) -> None:
    # Map index 6 leads with a 2.4 s turn; map index 0 arrives just after and waits for it.
    started = time.monotonic()
    late = threading.Thread(target=OpsgenieIncidentFailureNotifier(), args=(_context(6),))
    late.start()
    time.sleep(0.1)
    OpsgenieIncidentFailureNotifier()(_context(0))
    late.join()
    [incident] = opsgenie_incident_connection.incidents()
    assert time.monotonic() - started < 2.0
    # Both failures recorded once each, as timeline entries.
    assert opsgenie_incident_connection.notes(incident["id"]) == []
    entries = opsgenie_incident_connection.timeline(incident["id"])
    assert len([e for e in entries if e["group"] == "custom"]) == 2
