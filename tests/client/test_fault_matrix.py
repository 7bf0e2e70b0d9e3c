"""Every write x every fault: applied exactly once and a success, or nothing applied and a typed error.

One table row per write of the catalogue (every endpoint that changes state: each non-GET one, and
the timeline's GET hide / unhide) says how to prepare its target, the arguments to call it with, and
how to count its effect in the emulator's state (incidents, notes, tags, details, responders,
priority, timeline entries...). Writes that accept a note are called with one, so a repeated write
shows as a second note. Each cell injects one fault on the first attempt of that write only, calls
it through the sync client's public funnel (and waits for an asynchronous request's outcome, as the
operators do), then reads the state. The outcome of a cell is one of:

``pass``          success with the effect applied once, or a typed error with nothing applied
``duplicate``     the effect applied twice or more
``false error``   a typed error although the effect was applied (once)
``lost``          success although nothing was applied
``untyped error`` an exception that is not an ``OpsgenieIncidentError``

and the test demands ``pass`` everywhere. The notifiers' timeline entries
(:func:`~airflow_provider_opsgenie_incident.client.story.record`) go through the same faults and
must also be found, not doubled, when the same event is delivered again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_opsgenie_incident.client import OpsgenieIncidentError, RetrySettings
from airflow_provider_opsgenie_incident.client.catalogue import ENDPOINTS
from airflow_provider_opsgenie_incident.client.story import Entry, marker, record
from airflow_provider_opsgenie_incident.emulator import Fault

if TYPE_CHECKING:
    from airflow_provider_opsgenie_incident.client.sync import OpsgenieIncidentClient
    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator

#: Every catalogue endpoint that changes state.
WRITES = sorted(
    {name for name, endpoint in ENDPOINTS.items() if endpoint.method != "GET"}
    | {"hide_timeline_entry", "unhide_timeline_entry"}
)
READ_TIMEOUT = 0.25
#: The fast retries of the client tests; writes apply at once here, so a short look-again window
#: decides every cell as a long one would.
MATRIX_RETRY = RetrySettings(
    total_timeout=5.0, max_attempts=4, backoff_initial=0.01, backoff_max=0.05, verify_window=0.3
)
NOTE = "matrix note"
MARK = "matrix write"
TEAM = {"type": "team", "name": "matrix-team"}

#: The faults, each injected on the first attempt of the write under test only.
FAULTS: dict[str, dict[str, Any]] = {
    "429": {"kind": "status", "status": 429, "headers": {"Retry-After": "0"}},
    "500": {"kind": "status", "status": 500},
    "502": {"kind": "status", "status": 502},
    "503": {"kind": "status", "status": 503},
    "504": {"kind": "status", "status": 504},
    "reset": {"kind": "reset"},
    # The write is applied, and its answer comes after the client stopped waiting.
    "read timeout": {"kind": "applied_delay", "seconds": 4 * READ_TIMEOUT},
    "lost response": {"kind": "lost_response"},
    "malformed body": {"kind": "malformed", "status": 502},
    "applied-then-504": {"kind": "applied_status", "status": 504},
}


@dataclass
class Target:
    """What a cell's write acts on."""

    incident_id: str = ""
    entry_id: str = ""


State = Callable[["OpsgenieEmulator", Target], bool]


@dataclass(frozen=True)
class Write:
    """
    How to exercise one write.

    :param arguments: the call's arguments, given the prepared target.
    :param count: how many times the effect shows in the emulator's state.
    :param incident: the fields of the incident created as the target (``None``: create none).
    :param entry: whether the target includes a custom timeline entry; ``"hidden"`` hides it first.
    """

    arguments: Callable[[Target], dict[str, Any]]
    count: Callable[[OpsgenieEmulator, Target], int]
    incident: dict[str, Any] | None = field(default_factory=dict)
    entry: bool | str = False


def _incident(emu: OpsgenieEmulator, target: Target) -> dict[str, Any]:
    return emu.incident(target.incident_id) or {}


def _entry(emu: OpsgenieEmulator, target: Target) -> dict[str, Any] | None:
    return next((e for e in emu.timeline(target.incident_id) if e["id"] == target.entry_id), None)


def noted(state: State | None = None) -> Callable[[OpsgenieEmulator, Target], int]:
    """Count the write's notes; its state change, if any, must be there exactly when a note is."""

    def count(emu: OpsgenieEmulator, target: Target) -> int:
        notes = sum(note["note"] == NOTE for note in emu.notes(target.incident_id))
        if state is not None:
            assert state(emu, target) == (notes > 0), f"state and notes disagree: {notes} notes"
        return notes

    return count


@dataclass(frozen=True)
class Once:
    """Count a state change that cannot show twice (an update, a delete): 1 if made, else 0."""

    state: State

    def __call__(self, emu: OpsgenieEmulator, target: Target) -> int:
        return int(self.state(emu, target))


def _on_incident(**arguments: Any) -> Callable[[Target], dict[str, Any]]:
    return lambda target: {"identifier": target.incident_id, **arguments}


def _on_entry(**arguments: Any) -> Callable[[Target], dict[str, Any]]:
    return lambda target: {"incident_id": target.incident_id, "entry_id": target.entry_id, **arguments}


def _custom_entries(emu: OpsgenieEmulator, target: Target) -> int:
    entries = emu.timeline(target.incident_id)
    return sum(e["group"] == "custom" and e["description"]["name"] == MARK for e in entries)


TABLE: dict[str, Write] = {
    "create_incident": Write(
        arguments=lambda target: {"message": MARK, "responders": [TEAM], "tags": ["matrix"], "note": NOTE},
        count=lambda emu, target: sum(incident["message"] == MARK for incident in emu.incidents()),
        incident=None,
    ),
    "delete_incident": Write(
        arguments=_on_incident(),
        count=Once(lambda emu, target: emu.incident(target.incident_id) is None),
    ),
    "close_incident": Write(
        arguments=_on_incident(note=NOTE),
        count=noted(lambda emu, target: _incident(emu, target)["status"] == "closed"),
    ),
    "resolve_incident": Write(
        arguments=_on_incident(note=NOTE),
        count=noted(lambda emu, target: _incident(emu, target)["status"] == "resolved"),
    ),
    "add_note": Write(arguments=_on_incident(note=NOTE), count=noted()),
    "add_responder": Write(
        arguments=_on_incident(responders=[TEAM], note=NOTE),
        count=noted(lambda emu, target: TEAM in _incident(emu, target)["responders"]),
    ),
    "add_tags": Write(
        arguments=_on_incident(tags=["added"], note=NOTE),
        count=noted(lambda emu, target: "added" in _incident(emu, target)["tags"]),
    ),
    "remove_tags": Write(
        arguments=_on_incident(tags=["gone"], note=NOTE),
        count=noted(lambda emu, target: "gone" not in _incident(emu, target)["tags"]),
        incident={"tags": ["kept", "gone"]},
    ),
    "add_details": Write(
        arguments=_on_incident(details={"region": "eu"}, note=NOTE),
        count=noted(lambda emu, target: _incident(emu, target)["details"].get("region") == "eu"),
    ),
    "remove_details": Write(
        arguments=_on_incident(keys=["region"], note=NOTE),
        count=noted(lambda emu, target: "region" not in _incident(emu, target)["details"]),
        incident={"details": {"region": "eu", "kept": "yes"}},
    ),
    "update_priority": Write(
        arguments=_on_incident(priority="P1"),
        count=Once(lambda emu, target: _incident(emu, target)["priority"] == "P1"),
    ),
    "update_message": Write(
        arguments=_on_incident(message=MARK),
        count=Once(lambda emu, target: _incident(emu, target)["message"] == MARK),
    ),
    "update_description": Write(
        arguments=_on_incident(description=MARK),
        count=Once(lambda emu, target: _incident(emu, target)["description"] == MARK),
    ),
    "add_timeline_entry": Write(
        arguments=lambda target: {"incident_id": target.incident_id, "content": MARK},
        count=_custom_entries,
    ),
    "update_timeline_entry": Write(
        arguments=_on_entry(content=MARK),
        count=Once(lambda emu, target: (_entry(emu, target) or {})["description"]["name"] == MARK),
        entry=True,
    ),
    "delete_timeline_entry": Write(
        arguments=_on_entry(),
        count=Once(lambda emu, target: _entry(emu, target) is None),
        entry=True,
    ),
    "hide_timeline_entry": Write(
        arguments=_on_entry(),
        count=Once(lambda emu, target: (_entry(emu, target) or {})["hidden"] is True),
        entry=True,
    ),
    "unhide_timeline_entry": Write(
        arguments=_on_entry(),
        count=Once(lambda emu, target: (_entry(emu, target) or {})["hidden"] is False),
        entry="hidden",
    ),
}


def test_the_table_covers_every_write_of_the_catalogue():
    assert sorted(TABLE) == WRITES
    assert len(WRITES) == 18


def _path_pattern(name: str) -> str:
    """Match the decoded path of this endpoint's requests, and no other endpoint's."""
    template = ENDPOINTS[name].path
    parts = re.split(r"\{\w+\}", template)
    return "^" + "[^/]+".join(re.escape(part) for part in parts) + "$"


def _prepare(client: OpsgenieIncidentClient, write: Write) -> Target:
    """Create the target with a client of normal patience; no fault is active yet."""
    target = Target()
    if write.incident is None:
        return target
    accepted = client.create_incident(message="matrix target", **write.incident)
    target.incident_id = str(client.wait_for_request(accepted["requestId"], timeout=5)["incidentId"])
    if write.entry:
        entry = client.add_timeline_entry(incident_id=target.incident_id, content="matrix entry")
        target.entry_id = entry["data"]["id"]
        if write.entry == "hidden":
            client.hide_timeline_entry(incident_id=target.incident_id, entry_id=target.entry_id)
    return target


@pytest.mark.parametrize("name", WRITES)
def test_the_counts_see_nothing_before_the_write(name, client, emu):
    write = TABLE[name]
    assert write.count(emu, _prepare(client, write)) == 0


@pytest.mark.parametrize("name", [name for name in WRITES if not name.startswith("delete_")])
def test_the_counts_see_a_write_made_twice(name, client, emu):
    write = TABLE[name]
    target = _prepare(client, write)
    for _ in range(2):
        answer = client.call(name, write.arguments(target))
        if ENDPOINTS[name].asynchronous:
            client.wait_for_request(answer["requestId"], timeout=5)
    assert write.count(emu, target) == (1 if isinstance(write.count, Once) else 2)


def classify(succeeded: bool, typed: bool, count: int) -> str:
    """Name a cell's outcome (see the module docstring)."""
    if count >= 2:
        return "duplicate"
    if not succeeded and not typed:
        return "untyped error"
    if succeeded:
        return "pass" if count == 1 else "lost"
    return "pass" if count == 0 else "false error"


@pytest.mark.parametrize(
    ("succeeded", "typed", "count", "outcome"),
    [
        (True, False, 1, "pass"),
        (False, True, 0, "pass"),
        (True, False, 2, "duplicate"),
        (False, True, 2, "duplicate"),
        (False, True, 1, "false error"),
        (True, False, 0, "lost"),
        (False, False, 0, "untyped error"),
    ],
)
def test_classify(succeeded, typed, count, outcome):
    assert classify(succeeded, typed, count) == outcome


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("name", WRITES)
def test_write_under_fault_is_applied_once_or_fails_typed(
    name: str,
    fault: str,
    client: OpsgenieIncidentClient,
    make_client: Callable[..., OpsgenieIncidentClient],
    emu: OpsgenieEmulator,
) -> None:
    write = TABLE[name]
    endpoint = ENDPOINTS[name]
    target = _prepare(client, write)
    impatient = make_client(read_timeout=READ_TIMEOUT, retry=MATRIX_RETRY)
    emu.clear_requests()
    injected = emu.add_fault(Fault(**FAULTS[fault], method=endpoint.method, path=_path_pattern(name)))

    error: BaseException | None = None
    try:
        answer = impatient.call(name, write.arguments(target))
        if endpoint.asynchronous and answer.get("requestId"):
            impatient.wait_for_request(answer["requestId"], timeout=5)
    except Exception as caught:
        error = caught
    emu.wait_until_processed()

    count = write.count(emu, target)
    outcome = classify(error is None, isinstance(error, OpsgenieIncidentError), count)
    calls = [(request.endpoint, request.fault) for request in emu.requests]
    assert injected.hits == 1, calls
    assert outcome == "pass", (
        f"{name} x {fault}: {outcome} (effect {count}x, "
        f"{'success' if error is None else f'{type(error).__name__}: {error}'}); calls {calls}"
    )


@pytest.mark.parametrize("fault", list(FAULTS))
def test_story_entry_under_fault_is_written_once_and_found_on_redelivery(
    fault: str,
    client: OpsgenieIncidentClient,
    make_client: Callable[..., OpsgenieIncidentClient],
    emu: OpsgenieEmulator,
) -> None:
    target = _prepare(client, TABLE["add_timeline_entry"])
    entry = Entry.of([f"Failed: matrix.task ({fault})"], marker("matrix", fault), "2025-01-01T10:00:00.000Z")
    impatient = make_client(read_timeout=READ_TIMEOUT, retry=MATRIX_RETRY)
    emu.clear_requests()
    injected = emu.add_fault(Fault(**FAULTS[fault], method="POST", path=_path_pattern("add_timeline_entry")))

    def written() -> int:
        entries = emu.timeline(target.incident_id)
        return sum(entry.marker in (e.get("description") or {}).get("name", "") for e in entries)

    error: BaseException | None = None
    try:
        impatient.run_flow(record(target.incident_id, entry), timeout=10)
    except Exception as caught:
        error = caught
    count = written()
    outcome = classify(error is None, isinstance(error, OpsgenieIncidentError), count)
    calls = [(request.endpoint, request.fault) for request in emu.requests]
    assert injected.hits == 1, calls
    assert outcome == "pass", f"{fault}: {outcome} ({count}x, {error!r}); calls {calls}"
    # The same event delivered again finds its entry (or writes the one that was not applied).
    again = impatient.run_flow(record(target.incident_id, entry), timeout=10)
    assert (again, written()) == ("found" if count else "added", 1)


def test_a_lost_answer_to_an_entry_dated_before_many_others_is_found_pages_back(
    client: OpsgenieIncidentClient,
    make_client: Callable[..., OpsgenieIncidentClient],
    emu: OpsgenieEmulator,
) -> None:
    write = TABLE["add_timeline_entry"]
    target = _prepare(client, write)
    for minute in range(25):  # more than a page of entries later than the one written below
        client.add_timeline_entry(
            incident_id=target.incident_id, content=f"later {minute}", time=f"2025-01-01T11:{minute:02d}:00Z"
        )
    impatient = make_client(read_timeout=READ_TIMEOUT, retry=MATRIX_RETRY)
    lost = emu.add_fault(Fault("lost_response", method="POST", path=_path_pattern("add_timeline_entry")))
    answer = impatient.add_timeline_entry(
        incident_id=target.incident_id, content=MARK, time="2025-01-01T10:00:00Z"
    )
    assert lost.hits == 1
    assert answer["verified"] is True
    assert write.count(emu, target) == 1
