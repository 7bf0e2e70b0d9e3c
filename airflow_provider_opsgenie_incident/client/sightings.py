"""Open incidents seen in this process, per account and fingerprint: searched once, noted by many.

When many tasks fail at once, every failure notifier of one fingerprint would search for the open
incident, and under the account's rate limit each search costs a turn. A :class:`Sightings`
board, shared by the notifiers of one account in the process, lets one of them *lead*: it
searches (and creates, if need be) while the others wait, then records the incident it keeps
open, and the others add their note to it without searching (:func:`.incidents.open_or_note`).

A sighting is trusted for :data:`TRUST` seconds only, as another process may resolve the
incident; a recovery in this process forgets it at once. A lead that is never released (its
flow gave up without ending) lapses after :data:`LEAD_LAPSE` seconds. The board holds incident
ids and tags, never the key: the account is known by the base URL and a digest of the key.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from airflow_provider_opsgenie_incident.client.accounts import PerAccount
from airflow_provider_opsgenie_incident.client.errors import NotFoundError, RequestFailedError
from airflow_provider_opsgenie_incident.client.flows import Flow, Sleep

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_opsgenie_incident.client.incidents import IncidentOutcome

__all__ = ["LEAD_LAPSE", "TRUST", "Sightings", "reset_sightings", "share", "sightings_for"]

#: Seconds a sighting of an open incident is trusted.
TRUST = 15.0
#: Seconds after which a lead not released lapses.
LEAD_LAPSE = 300.0
#: Seconds between two looks at the board while another notifier leads.
LOOK = 0.1


class Sightings:
    """The open incidents seen for each fingerprint tag of one account, and who is looking for one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[dict[str, Any], float]] = {}
        self._leads: dict[str, tuple[object, float]] = {}
        self._turns: dict[str, dict[object, float]] = {}

    def seen(self, tag: str) -> dict[str, Any] | None:
        """Return the open incident last seen for ``tag``, if seen less than :data:`TRUST` s ago."""
        found = self._seen.get(tag)
        if found is None or time.monotonic() - found[1] > TRUST:
            return None
        return found[0]

    def record(self, tag: str, incident: dict[str, Any]) -> None:
        """Record ``incident`` as the one open for ``tag``."""
        with self._lock:
            self._seen[tag] = (dict(incident), time.monotonic())

    def forget(self, tag: str) -> None:
        """Forget what was seen for ``tag`` (it was resolved, or a note on it failed)."""
        with self._lock:
            self._seen.pop(tag, None)

    def lead(self, tag: str, token: object) -> bool:
        """Take the lead for ``tag`` as ``token`` unless another holds it; tell whether ``token`` leads."""
        now = time.monotonic()
        with self._lock:
            held = self._leads.get(tag)
            if held is None or held[0] is token or now - held[1] > LEAD_LAPSE:
                self._leads[tag] = (token, now)
                return True
            return False

    def arrive(self, tag: str, token: object, turn: float) -> None:
        """Note that ``token``, whose turn to create comes after ``turn`` seconds, wants ``tag``."""
        with self._lock:
            self._turns.setdefault(tag, {})[token] = turn

    def leave(self, tag: str, token: object) -> None:
        """Note that ``token`` is done with ``tag``."""
        with self._lock:
            turns = self._turns.get(tag, {})
            turns.pop(token, None)
            if not turns:
                self._turns.pop(tag, None)

    def turn(self, tag: str, default: float) -> float:
        """
        Return the earliest turn of the notifiers of ``tag`` here, or ``default`` when none is.

        The one leading creates for all of them, so it takes the earliest of their turns: map index
        0 arriving while another leads makes the leader create at once.
        """
        with self._lock:
            return min(self._turns.get(tag, {}).values(), default=default)

    def release(self, tag: str, token: object) -> None:
        """Give up the lead for ``tag`` if ``token`` holds it."""
        with self._lock:
            if tag in self._leads and self._leads[tag][0] is token:
                del self._leads[tag]


def share(
    board: Sightings,
    tag: str,
    lead: Flow[IncidentOutcome],
    note: Callable[[dict[str, Any]], Flow[IncidentOutcome]],
    turn: float = 0.0,
) -> Flow[IncidentOutcome]:
    """
    Run ``lead`` (search, create or note) as the one leader for ``tag``, or ``note`` what it found.

    While another notifier of the process leads, wait for its sighting; with a sighting, run
    ``note(incident)`` on it, with no search. When that note finds the incident gone or no longer
    accepting it (not found, processed with success false), the note was not written: the
    sighting is forgotten and the notifier leads or waits again. The leader records the incident
    its flow kept open, for the others, once its flow is done (its responders routed). ``turn``
    is this notifier's turn to create (:meth:`Sightings.turn`), counted while it waits or leads.
    """
    token = object()
    board.arrive(tag, token, turn)
    try:
        return (yield from _share(board, tag, lead, note, token))
    finally:
        board.leave(tag, token)


def _share(
    board: Sightings,
    tag: str,
    lead: Flow[IncidentOutcome],
    note: Callable[[dict[str, Any]], Flow[IncidentOutcome]],
    token: object,
) -> Flow[IncidentOutcome]:
    while True:
        known = board.seen(tag)
        if known is not None:
            try:
                return (yield from note(known))
            except (NotFoundError, RequestFailedError):
                board.forget(tag)
                continue
        if board.lead(tag, token):
            break
        yield Sleep(LOOK)
    try:
        outcome = yield from lead
    finally:
        board.release(tag, token)
    if outcome.action in ("created", "noted") and outcome.incident_id:
        board.record(tag, {"id": outcome.incident_id})
    return outcome


_boards = PerAccount(lambda base_url, digest: Sightings())


def sightings_for(base_url: str, api_key: str) -> Sightings:
    """Return the board of the account behind ``base_url`` and ``api_key`` in this process."""
    return _boards.get(base_url, api_key)


def reset_sightings() -> None:
    """Forget every board (a forked child starts afresh; tests start each case afresh)."""
    _boards.reset()
