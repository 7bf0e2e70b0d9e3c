"""Incident identity: one open incident per fingerprint, kept without any lock.

Opsgenie incidents have no alias, so each incident opened by a notifier carries a **fingerprint
tag** (:mod:`.fingerprint`) derived from what it stands for, by default the DAG id and task id.
Two flows use it:

- :func:`open_or_note`: if an incident with the tag is open, add a note to the oldest one;
  otherwise create one, wait until it is processed, then converge: when several workers created
  one at the same moment, the oldest (``createdAt``, then ``tinyId``) stays open and each other
  creator closes its own with a note naming it, then notes it. After an ambiguous create failure
  (the request may have arrived), search again before creating again: never a blind retry.
- :func:`resolve_open`: resolve every open incident with the tag, with a note; no write at all
  when none is open.

Each flow is written once, as a generator of steps (:mod:`.flows`) with no I/O of its own, that
:func:`~.flows.run_flow` drives with a synchronous client and :func:`~.flows.arun_flow` with the
asynchronous one: the same decisions run in a worker, a DAG processor or the triggerer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_opsgenie_incident.client.errors import (
    NotFoundError,
    RequestFailedError,
    ServerError,
    TransportError,
)
from airflow_provider_opsgenie_incident.client.fingerprint import open_query
from airflow_provider_opsgenie_incident.client.flows import Call, Flow, Sleep, Wait
from airflow_provider_opsgenie_incident.client.retry import may_have_been_applied
from airflow_provider_opsgenie_incident.client.validation import fit

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["IncidentOutcome", "open_or_note", "resolve_open"]

_PAGE = 100
_NEVER = datetime.max.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class IncidentOutcome:
    """
    What a flow did.

    :param action: ``created``, ``noted`` (an open incident got a note), ``resolved`` or ``nothing``.
    :param incident_id: the incident created or noted (after converging: the one kept open).
    :param resolved: the incidents resolved.
    :param closed: the duplicates asked to be closed while converging (accepted, not waited for).
    :param skipped: incidents that were no longer open when acted on (closed or deleted meanwhile).
    """

    action: Literal["created", "noted", "resolved", "nothing"]
    incident_id: str | None = None
    resolved: tuple[str, ...] = ()
    closed: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


def _age(incident: Mapping[str, Any]) -> tuple[datetime, int]:
    """Order incidents by ``createdAt``, then ``tinyId``: the first is the one to keep."""
    try:
        moment = datetime.fromisoformat(str(incident.get("createdAt") or "").replace("Z", "+00:00"))
    except ValueError:
        moment = _NEVER
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
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


def _create(tag: str, create: Mapping[str, Any], attempts: int, settle: float) -> Flow[str | None]:
    """Create the incident; return its id, or None when a lost answer's incident turned up in a search."""
    for attempt in range(1, attempts + 1):
        try:
            response = yield Call("create_incident", dict(create))
        except (TransportError, ServerError) as error:
            if not may_have_been_applied(error) or attempt == attempts:
                raise
            # The create may have been applied: look for it (once more after a pause, as the server
            # processes writes asynchronously) before creating again.
            if (yield from _list_open(tag)):
                return None
            yield Sleep(settle)
            if (yield from _list_open(tag)):
                return None
            continue
        if response.get("verified") and not response.get("requestId"):
            # The client found the create applied after an ambiguous failure: the incident is known.
            return str(response["data"].get("id") or "") or None
        data = yield Wait(str(response["requestId"]))
        return str(data.get("incidentId") or "") or None
    raise AssertionError("unreachable")  # pragma: no cover


def open_or_note(
    tag: str,
    *,
    create: Mapping[str, Any],
    note: str,
    create_attempts: int = 3,
    settle: float = 1.0,
) -> Flow[IncidentOutcome]:
    """
    Open one incident for ``tag``, or add ``note`` to the one already open.

    The create arguments and the note are cut to the API's limits (:func:`~.validation.fit`), so a
    long text never loses the incident.

    :param tag: the fingerprint tag; it is added first to the created incident's tags if missing.
    :param create: the ``create_incident`` arguments (message, description, details, ...).
    :param note: the note for an incident that is already open (or that won a creation race).
    :param create_attempts: creates at most, each after a search found nothing.
    :param settle: the pause before the second search after an ambiguous create failure.
    """
    create = fit(
        "create_incident", {**create, "tags": list(dict.fromkeys([tag, *(create.get("tags") or [])]))}
    )
    note = fit("add_note", {"note": note})["note"]
    open_now = yield from _list_open(tag)
    if open_now:
        # Several open (a creator died before converging): close the newer ones, then note the
        # oldest and wait for that note only, as this failure's record on the incident kept open.
        kept = open_now[0]
        closed = yield from _close([i["id"] for i in open_now[1:]], kept)
        yield from _write_all([Call("add_note", {"identifier": kept["id"], "note": note})])
        return IncidentOutcome("noted", kept["id"], closed=tuple(closed))
    created = yield from _create(tag, create, create_attempts, settle)
    open_now = yield from _list_open(tag)
    if not open_now:
        # Resolved or closed already by someone else: nothing left to converge.
        return IncidentOutcome("created", created)
    kept = open_now[0]
    if created is None:
        # A lost answer's incident turned up in a search, but which one is ours is unknown.
        closed = yield from _close([i["id"] for i in open_now[1:]], kept)
        return IncidentOutcome("created", kept["id"], closed=tuple(closed))
    if created == kept["id"]:
        # Ours is the oldest open: close the newer ones this search shows, without waiting. Their
        # creators close their own too once their search shows ours; closing from both sides keeps
        # the convergence when a creator died before its search or its search lagged behind, for at
        # most one extra close per duplicate.
        closed = yield from _close([i["id"] for i in open_now[1:]], kept)
        return IncidentOutcome("created", kept["id"], closed=tuple(closed))
    # Another worker won: close ours (only ours: no close is sent twice), then note the survivor, as
    # a later failure would. No schedule closes them all: an incident is only closed by someone who
    # saw an older one open, so the oldest of all stays open. So ours is closed only when the
    # search shows it behind the kept one; missing, it was closed already (or the search lags).
    closed = yield from _close([created] if any(i["id"] == created for i in open_now) else [], kept)
    yield from _write_all([Call("add_note", {"identifier": kept["id"], "note": note})])
    return IncidentOutcome("noted", kept["id"], closed=tuple(closed))


def resolve_open(tag: str, *, note: str) -> Flow[IncidentOutcome]:
    """Resolve every open incident carrying ``tag`` with ``note`` (cut to fit); one read when none is open."""
    note = fit("resolve_incident", {"note": note})["note"]
    open_now = yield from _list_open(tag)
    if not open_now:
        return IncidentOutcome("nothing")
    calls = [Call("resolve_incident", {"identifier": i["id"], "note": note}) for i in open_now]
    resolved, skipped = yield from _write_all(calls, tolerate=True)
    return IncidentOutcome("resolved", open_now[0]["id"], resolved=tuple(resolved), skipped=tuple(skipped))
