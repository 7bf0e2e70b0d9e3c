"""Incident identity: one open incident per fingerprint, kept without any lock.

Opsgenie incidents have no alias, so each incident opened by a notifier carries a **fingerprint
tag** (:mod:`.fingerprint`) derived from what it stands for, by default the DAG id and task id.
The flows that use it:

- :func:`open_or_note`: if an incident with the tag is open, record the failure on the oldest one
  (its timeline entry, :mod:`.story`, else a note); otherwise (after watching, for a staggered
  moment, the incidents created since the newest one search shows) create one *quietly*, without
  responders and
  without notifying stakeholders, find it by its one-off marker tag, and converge: the oldest
  open incident stays, its creator routes it to the responders, every other creator closes its
  own with one note naming the kept one. Responders are paged once per storm; a creator that
  dies before routing leaves the routing to the next worker that finds the incident. A create
  the server refuses (400 / 422) is sent again with only what cannot be refused, and the kept
  incident gets a note naming what was dropped and why. Ambiguous failures are the client's
  (:mod:`.verification`): a create is never sent twice blindly.
- :func:`note_open`: record a failure on an incident another notifier of the process just found.
- :func:`record_open`: record a retry on the open incident, if any; never create one.
- :func:`resolve_open`: add the recovery's timeline entry to every open incident with the tag and
  resolve it, with a note; no write at all when none is open.

Each flow is written once, as a generator of steps (:mod:`.flows`) with no I/O of its own, that
:func:`~.flows.run_flow` drives with a synchronous client and :func:`~.flows.arun_flow` with the
asynchronous one: the same decisions run in a worker, a DAG processor or the triggerer.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_opsgenie_incident.client.catalogue import TAGS_LIMIT
from airflow_provider_opsgenie_incident.client.errors import (
    InvalidRequestError,
    NotFoundError,
    OpsgenieIncidentError,
    RequestFailedError,
)
from airflow_provider_opsgenie_incident.client.fingerprint import open_query
from airflow_provider_opsgenie_incident.client.flows import Call, Flow, Sleep, Wait
from airflow_provider_opsgenie_incident.client.story import Entry, record
from airflow_provider_opsgenie_incident.client.validation import fit

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = ["IncidentOutcome", "note_open", "open_or_note", "record_open", "resolve_open"]

_PAGE = 100
#: The tag prefix of the one-off marker by which a creator recognises its own incident.
CREATOR_PREFIX = "af-c:"
#: Seconds a note usually takes to be processed, before its request is first polled.
NOTE_SETTLE = 0.25
#: Seconds after which an open duplicate counts as abandoned by a creator that died.
ABANDONED = 120.0
#: Seconds between two reads of the next tiny id while a creator waits its turn.
WATCH_STEP = 0.25
#: Incidents one watch reads at most: an account creating many others at once makes it give up.
WATCH_READS = 25
#: The newest incidents a watch looks through before it starts reading tiny ids.
WATCH_RECENT = 20
#: Any incident: the newest one search shows is where a watch starts.
WATCH_QUERY = "status:open OR status:resolved OR status:closed"
#: What a create cannot be refused for: the failure is recorded with these whatever the rest.
_UNREFUSABLE = ("message", "description", "tags", "notify_stakeholders")
_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class IncidentOutcome:
    """
    What a flow did.

    :param action: ``created``, ``noted`` (an open incident got a note), ``resolved`` or ``nothing``.
    :param incident_id: the incident created or noted (after converging: the one kept open).
    :param resolved: the incidents resolved.
    :param closed: the duplicates asked to be closed while converging (accepted, not waited for).
    :param skipped: incidents that were no longer open when acted on (closed or deleted meanwhile).
    :param dropped: when the server refused the create: the fields left out, then its reason.
    :param timeline: what became of the event's timeline entry: ``added``, ``found`` (written by an
        earlier delivery of the event), or None (no entry asked for, or it could not be written).
    :param timeline_error: why the entry could not be written (the failure is then in a note).
    """

    action: Literal["created", "noted", "resolved", "nothing"]
    incident_id: str | None = None
    resolved: tuple[str, ...] = ()
    closed: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    timeline: str | None = None
    timeline_error: str | None = None


def _age(incident: Mapping[str, Any]) -> tuple[datetime, int]:
    """Order incidents by ``createdAt``, then ``tinyId``: the first is the one to keep."""
    try:
        moment = datetime.fromisoformat(str(incident.get("createdAt") or "").replace("Z", "+00:00"))
    except ValueError:
        moment = _NEVER
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        tiny = int(incident.get("tinyId") or 0)
    except (TypeError, ValueError):
        tiny = 0
    return moment, tiny


def _list_open(tag: str) -> Flow[list[dict[str, Any]]]:
    """Find the open incidents with ``tag``, oldest first."""
    found: list[dict[str, Any]] = []
    while True:
        arguments = {"query": open_query(tag), "offset": len(found), "limit": _PAGE}
        page = yield Call("list_incidents", {**arguments, "sort": "createdAt", "order": "asc"})
        items = page.get("data") or []
        found.extend(items)
        if not items or not (page.get("paging") or {}).get("next"):
            break
    # Only exact matches count, whatever the server's search makes of the query.
    exact = [i for i in found if tag in (i.get("tags") or []) and i.get("status", "open") == "open"]
    return sorted(exact, key=_age)


def _write_all(calls: list[Call], *, tolerate: bool = False) -> Flow[tuple[list[str], list[str]]]:
    """
    Send every write first, then wait for each; return the identifiers done and skipped.

    With ``tolerate``, a write whose incident is gone or no longer open (not found, or processed
    with success false) is skipped instead of raised: the goal, "not open", is reached anyway.
    """
    pending: list[tuple[str, str | None]] = []
    skipped: list[str] = []
    for call in calls:
        identifier = str(call.arguments["identifier"])
        try:
            response = yield call
        except NotFoundError:
            if not tolerate:
                raise
            skipped.append(identifier)
            continue
        pending.append((identifier, response.get("requestId")))
    done: list[str] = []
    for identifier, request_id in pending:
        try:
            if request_id:
                yield Wait(request_id)
        except (RequestFailedError, NotFoundError):
            if not tolerate:
                raise
            skipped.append(identifier)
            continue
        done.append(identifier)
    return done, skipped


def _close(duplicates: Sequence[str], kept: Mapping[str, Any]) -> Flow[list[str]]:
    """Ask to close ``duplicates`` with a note naming ``kept``, without waiting: a failed close is moot."""
    note = (
        f"Closed as a duplicate of incident #{kept.get('tinyId')} ({kept['id']}), "
        "opened for the same failure at the same time; it stays open."
    )
    closed: list[str] = []
    for identifier in duplicates:
        try:
            yield Call("close_incident", {"identifier": identifier, "note": note})
        except NotFoundError:
            continue
        closed.append(identifier)
    return closed


def _abandoned(incidents: Sequence[Mapping[str, Any]]) -> list[str]:
    """Return the duplicates old enough that their creator must have died before closing them."""
    cutoff = datetime.now(UTC).timestamp() - ABANDONED
    return [i["id"] for i in incidents if _age(i)[0].timestamp() < cutoff]


def _route(kept: Mapping[str, Any], responders: Sequence[Mapping[str, Any]]) -> Flow[None]:
    """Page the responders of the incident that stays open, unless it has them already."""
    missing = [dict(r) for r in responders if r not in (kept.get("responders") or [])]
    if not missing:
        return
    try:
        yield Call("add_responder", {"identifier": kept["id"], "responders": missing})
    except InvalidRequestError as error:
        # A responder the account does not know: the incident stays, and says why nobody was paged.
        yield Call(
            "add_note", {"identifier": kept["id"], "note": f"Could not add the responders: {error.message}"}
        )


def _tell(
    incident_id: str, entry: Entry | None, *, fresh: bool = False
) -> Flow[tuple[str | None, str | None]]:
    """
    Write ``entry`` on the incident's timeline; return what became of it and, if dropped, why.

    A 404 is raised: the incident itself is gone, so a note would fail too (the caller looks again).
    """
    if entry is None:
        return None, None
    try:
        return (yield from record(incident_id, entry, fresh=fresh)), None
    except NotFoundError:
        raise
    except OpsgenieIncidentError as error:
        return None, f"{type(error).__name__}: {error}"


def _note(identifier: str, note: str) -> Flow[None]:
    """Add ``note`` and wait until it is processed: the event's record is done when the callback returns."""
    accepted = yield Call("add_note", {"identifier": identifier, "note": note})
    if accepted.get("requestId"):
        # A first pause spares the polls that would only find it pending.
        yield Sleep(NOTE_SETTLE)
        yield Wait(str(accepted["requestId"]))


def _join(
    open_now: Sequence[Mapping[str, Any]],
    note: str,
    responders: Sequence[Mapping[str, Any]],
    entry: Entry | None = None,
) -> Flow[IncidentOutcome]:
    """
    Record the failure on the oldest open incident, make sure it is routed, close abandoned duplicates.

    The failure is recorded once: as its timeline entry when one is given, else (or when the
    timeline refuses it or is down) as ``note``.
    """
    kept = open_now[0]
    closed = yield from _close(_abandoned(open_now[1:]), kept)
    # Routing first: a slow timeline never holds the page of an incident whose creator died.
    yield from _route(kept, responders)
    timeline, why = yield from _tell(kept["id"], entry)
    if not timeline:
        yield from _note(kept["id"], note)
    return IncidentOutcome("noted", kept["id"], closed=tuple(closed), timeline=timeline, timeline_error=why)


def _create(create: Mapping[str, Any]) -> Flow[tuple[str, ...]]:
    """
    Create the incident; return the fields dropped to get it created (none, normally).

    A create the server refuses (400 / 422: a service id it does not know, a detail it refuses)
    must not lose the failure: it is sent again with only what cannot be refused.
    """
    try:
        yield Call("create_incident", dict(create))
    except InvalidRequestError as error:
        if error.status not in (400, 422):
            raise
        plain = {name: create[name] for name in _UNREFUSABLE if create.get(name) is not None}
        dropped = tuple(
            sorted(name for name, value in create.items() if value is not None and name not in plain)
        )
        yield Call("create_incident", plain)
        return (*dropped, error.message)
    return ()


def _find_ours(
    tag: str, nonce: str, settle: float
) -> Flow[tuple[dict[str, Any] | None, list[dict[str, Any]]]]:
    """Search until our incident shows (the server applies a create later); waits double each time."""
    open_now: list[dict[str, Any]] = []
    for attempt in range(4):
        yield Sleep(settle * 2**attempt)
        open_now = yield from _list_open(tag)
        ours = next((i for i in open_now if nonce in (i.get("tags") or [])), None)
        if ours is not None:
            return ours, open_now
    return None, open_now


def _recent(tag: str) -> Flow[tuple[int | None, list[dict[str, Any]]]]:
    """
    Return the newest tiny id search shows, and the open incidents with ``tag`` among the newest.

    The tiny id is 0 when there is no incident at all, None when the newest has none. An incident
    with ``tag`` may be among the newest now and not have been a moment ago, in the first search.
    """
    page = yield Call(
        "list_incidents", {"query": WATCH_QUERY, "limit": WATCH_RECENT, "sort": "createdAt", "order": "desc"}
    )
    items = page.get("data") or []
    ours = [i for i in items if tag in (i.get("tags") or []) and i.get("status", "open") == "open"]
    try:
        return (int(items[0]["tinyId"]) if items else 0), sorted(ours, key=_age)
    except (KeyError, TypeError, ValueError):
        return None, sorted(ours, key=_age)


def _watch(tag: str, wait: Callable[[], float]) -> Flow[list[dict[str, Any]]]:
    """
    Wait up to ``wait()`` s for another creator's incident with ``tag``; return it (or the open ones).

    Search trails the writes (by seconds, in a storm), but a read by tiny id shows an incident as
    soon as it is created, and tiny ids are given in order: reading the ones after the newest that
    search shows finds the incidents created since, whatever the search lag, and the first one
    with ``tag`` is the oldest. A tiny id not found yet is read again every :data:`WATCH_STEP`.
    Without a tiny id to start from, or once :data:`WATCH_READS` incidents of others were read, it
    waits and searches instead.
    """
    newest, seen = yield from _recent(tag)
    if seen:
        return seen
    waited, reads, cursor, pending = 0.0, 0, (newest or 0) + 1, True
    while newest is not None and reads < WATCH_READS:
        if pending:  # nothing new since the last read: pause first
            limit = wait()
            if waited >= limit:
                return []
            step = min(WATCH_STEP, limit - waited)
            yield Sleep(step)
            waited += step
        try:
            response = yield Call("get_incident", {"identifier": str(cursor), "identifier_type": "tiny"})
        except NotFoundError:
            pending = True
            continue
        incident = response.get("data") or {}
        cursor, reads, pending = cursor + 1, reads + 1, False
        if tag in (incident.get("tags") or []) and incident.get("status", "open") == "open":
            return [incident]
    if (limit := wait()) > waited:
        yield Sleep(limit - waited)
    return (yield from _list_open(tag))


def open_or_note(
    tag: str,
    *,
    create: Mapping[str, Any],
    note: str,
    entry: Entry | None = None,
    stagger: float | Callable[[], float] = 0.0,
    settle: float = 0.5,
) -> Flow[IncidentOutcome]:
    """
    Open one incident for ``tag``, or add ``note`` to the one already open; page its responders once.

    The incident is created quietly (no responders, no stakeholder notification) and tagged with a
    one-off marker, so this flow recognises it in a search without waiting for the request. Once
    the search shows it, the oldest open incident with ``tag`` is kept: its creator routes it to the
    responders; any other creator closes its own (one closing note per duplicate), notes the kept
    one and routes it too if its creator died before doing so. Adding a responder an incident has
    already pages nobody, so the responders are paged once per storm, never zero times. The
    arguments and the note are cut to the API's limits (:func:`~.validation.fit`).

    :param tag: the fingerprint tag; it is added first to the created incident's tags if missing.
    :param create: the ``create_incident`` arguments (message, description, responders, ...).
    :param note: the note for an incident that is already open (or that won a creation race).
    :param entry: the failure's timeline entry (:mod:`.story`): added to the incident created, after
        it is routed; on an incident already open it records the failure instead of ``note``, which
        is added only if the entry cannot be written.
    :param stagger: seconds to watch for another creator's incident when the search found nothing
        (:func:`_watch`), so that workers failing together mostly join the first one's incident
        instead of creating theirs; 0 creates at once. A callable is asked again at every look
        (the turn may come sooner while watching).
    :param settle: the first pause before looking for the created incident; it doubles while the
        search does not show it yet (a slow server or a lagging search).
    """
    responders = list(create.get("responders") or [])
    nonce = f"{CREATOR_PREFIX}{secrets.token_hex(6)}"
    tags = list(dict.fromkeys([tag, *(create.get("tags") or [])]))[: TAGS_LIMIT - 1]
    quiet = {**create, "tags": [*tags, nonce], "responders": None, "notify_stakeholders": False}
    create = fit("create_incident", quiet)
    note = fit("add_note", {"note": note})["note"]
    open_now = yield from _list_open(tag)
    turn = stagger if callable(stagger) else (lambda: float(stagger))
    if not open_now and turn() > 0:
        open_now = yield from _watch(tag, turn)
    if open_now:
        return (yield from _join(open_now, note, responders, entry))
    dropped = yield from _create(create)
    ours, open_now = yield from _find_ours(tag, nonce, settle)
    if ours is None or not open_now:
        # Closed or resolved already by someone else, or not visible in time: nothing to converge.
        timeline, why = None, "the incident did not show in time" if entry else None
        if ours is not None:
            timeline, why = yield from _tell(ours["id"], entry, fresh=True)
        return IncidentOutcome(
            "created", ours["id"] if ours else None, dropped=dropped, timeline=timeline, timeline_error=why
        )
    kept = open_now[0]
    if ours["id"] != kept["id"]:
        closed = yield from _close([ours["id"]], kept)
        outcome = yield from _join([kept], note, responders, entry)
        return replace(outcome, closed=(*closed, *outcome.closed))
    if dropped:
        *fields, reason = dropped
        text = f"Created without {', '.join(fields)}: the server refused them ({reason})."
        yield Call("add_note", {"identifier": kept["id"], "note": text})
    yield from _route(kept, responders)
    # The page is out; the description holds this failure already, so a dropped entry loses nothing.
    timeline, why = yield from _tell(kept["id"], entry, fresh=True)
    return IncidentOutcome("created", kept["id"], dropped=dropped, timeline=timeline, timeline_error=why)


def note_open(incident: Mapping[str, Any], note: str, entry: Entry | None = None) -> Flow[IncidentOutcome]:
    """
    Record a failure on an incident another notifier just found open, without searching.

    Its responders were routed by that notifier. The failure is written once, as by
    :func:`open_or_note`: as its timeline ``entry`` when given, else (or when the timeline refuses
    it) as ``note`` (cut to fit); an ambiguous failure is verified before it is sent again.
    """
    return (yield from _join([incident], fit("add_note", {"note": note})["note"], (), entry))


def record_open(tag: str, *, note: str, entry: Entry | None = None) -> Flow[IncidentOutcome]:
    """
    Record an event on the oldest open incident carrying ``tag``, if any; never create one.

    Used for a retry: the incident it joins was opened by an earlier failure, and a retry alone
    pages nobody. The event is its timeline ``entry`` when given and writable, else ``note``.
    """
    note = fit("add_note", {"note": note})["note"]
    open_now = yield from _list_open(tag)
    if not open_now:
        return IncidentOutcome("nothing")
    kept = open_now[0]
    timeline, why = yield from _tell(kept["id"], entry)
    if not timeline:
        yield from _note(kept["id"], note)
    return IncidentOutcome("noted", kept["id"], timeline=timeline, timeline_error=why)


def resolve_open(tag: str, *, note: str, entry: Entry | None = None) -> Flow[IncidentOutcome]:
    """
    Resolve every open incident carrying ``tag`` with ``note`` (cut to fit); one read when none is open.

    :param entry: the recovery's timeline entry, added to each before it is resolved; the resolving
        note records the recovery whether or not the entry could be written.
    """
    note = fit("resolve_incident", {"note": note})["note"]
    open_now = yield from _list_open(tag)
    if not open_now:
        return IncidentOutcome("nothing")
    timeline, why = None, None
    for incident in open_now:
        try:
            told, error = yield from _tell(incident["id"], entry)
        except NotFoundError:
            continue  # deleted meanwhile: its resolve is skipped below
        timeline, why = timeline or told, why or error
    calls = [Call("resolve_incident", {"identifier": i["id"], "note": note}) for i in open_now]
    resolved, skipped = yield from _write_all(calls, tolerate=True)
    return IncidentOutcome(
        "resolved",
        open_now[0]["id"],
        resolved=tuple(resolved),
        skipped=tuple(skipped),
        timeline=timeline,
        timeline_error=why,
    )
