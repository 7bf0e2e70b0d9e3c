"""After an ambiguous failure, ask the server whether a write was applied before sending it again.

A failure *may have been applied* (:func:`~.retry.may_have_been_applied`) when the request left
this machine and no clear answer came back: a read timeout or a reset after sending, a lost
response, a 500/502/503/504 (a gateway may time out after the backend acted) or an unreadable
2xx body. What happens next depends on the write:

**Safe to repeat**, so the retry policy repeats them blindly: every read, and the idempotent
writes without a note: ``update_priority``, ``update_message``, ``update_description``,
``update_timeline_entry``, ``hide_timeline_entry``, ``unhide_timeline_entry``, and ``close``,
``resolve``, ``add_responder``, ``add_tags``, ``remove_tags``, ``add_details``,
``remove_details`` when they carry no note (the second request finds the state already set).

**Not safe to repeat**: each has an ``evidence`` entry in the catalogue (the read that shows
its effect, and what to look for), and :func:`verify` checks it, polling for 2.5 seconds as
Opsgenie applies incident writes asynchronously:

=========================================  ===============================================
write                                      applied when
=========================================  ===============================================
``create_incident``                        a search (by its tags, else its message) finds an
                                           open incident with the same message and tags,
                                           created since just before the call
``add_note`` and every incident write      the incident's notes hold the same text, added
carrying a ``note`` (close, resolve,       since just before the call
add_responder, tags, details)
``add_timeline_entry``                     the timeline holds a custom entry with the content
                                           (read back to the entry's time when it has one)
``delete_incident``                        reading the incident answers 404
``delete_timeline_entry``                  reading the entry answers 404
=========================================  ===============================================

When the failed answer carried a ``requestId`` (a 5xx body may), each look also reads the
request status: processed successfully, the write is done; processed with failure, it is not.
A write found applied is reported as a success (``{"verified": True, "data": <what was
found>}``, without a ``requestId`` when none is known); one not found is sent once more, and a
second ambiguous failure is raised.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_opsgenie_incident.client.catalogue import ENDPOINTS
from airflow_provider_opsgenie_incident.client.errors import (
    NotFoundError,
    OpsgenieIncidentError,
)
from airflow_provider_opsgenie_incident.client.flows import Call, Sleep

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from airflow_provider_opsgenie_incident.client.flows import Flow
    from airflow_provider_opsgenie_incident.client.protocol import PreparedRequest

__all__ = ["pauses", "timestamp", "verify"]


def pauses(window: float) -> tuple[float, ...]:
    """Return the pauses between looks: growing from 0.1 s to 1 s, ``window`` seconds in all."""
    found, total, step = [0.0], 0.0, 0.1
    while total + step <= window + 1e-9:
        found.append(step)
        total += step
        step = min(step * 2, 1.0)
    return tuple(found)


#: How far before the call an item may have been created and still count as the call's (clock skew).
SKEW = 60.0


def _when(item: Mapping[str, Any]) -> float:
    text = str(item.get("createdAt") or "").replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return time.time()


def _items(page: Mapping[str, Any]) -> list[dict[str, Any]]:
    data = page.get("data") or []
    return list(data.get("entries") or []) if isinstance(data, dict) else list(data)


def _created(arguments: Mapping[str, Any], item: Mapping[str, Any], since: float) -> bool:
    tags = set(arguments.get("tags") or ())
    return (
        item.get("message") == arguments.get("message")
        and tags <= set(item.get("tags") or ())
        and _when(item) >= since
    )


def _noted(arguments: Mapping[str, Any], item: Mapping[str, Any], since: float) -> bool:
    return item.get("note") == arguments.get("note") and _when(item) >= since


def _entry(arguments: Mapping[str, Any], item: Mapping[str, Any], since: float) -> bool:
    description = item.get("description") or {}
    text = description.get("content", description.get("name")) if isinstance(description, dict) else None
    return item.get("group", "custom") == "custom" and text == arguments.get("content")


_MATCHES: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any], float], bool]] = {
    "created": _created,
    "note": _noted,
    "entry": _entry,
}


def _read_arguments(read: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Take the read's arguments from the write's, and ask for the newest items first."""
    names = ENDPOINTS[read].argument_names
    chosen = {name: arguments[name] for name in names if arguments.get(name) is not None}
    if read == "list_incidents":
        tags = list(arguments.get("tags") or ())
        terms = [f'tag:"{tag}"' for tag in tags] or [f'message:"{arguments.get("message", "")}"']
        return {"query": " AND ".join(terms), "limit": 100, "sort": "createdAt", "order": "desc"}
    if read == "list_timeline_entries":
        return {**chosen, "groups": ["custom"], "order": "desc", "limit": 20}
    return {**chosen, "order": "desc", "limit": 100} if "order" in names else chosen


def verify(
    prepared: PreparedRequest, error: OpsgenieIncidentError, started: float, window: float = 2.5
) -> Flow[dict[str, Any] | None]:
    """
    Find out whether ``prepared``, which failed with ``error``, was applied; no I/O of its own.

    :param started: the wall-clock time the call started (``time.time()``).
    :param window: seconds to keep looking, for a write the server applies a little later.
    :return: a success answer when it was applied, None when it was not (send it once more).
    """
    request_id = error.request_id if prepared.endpoint.asynchronous else None
    evidence = prepared.endpoint.evidence_for(prepared.arguments)
    read, kind = evidence if evidence is not None else ("", "")
    arguments = _read_arguments(read, prepared.arguments) if read else {}
    for pause in pauses(window):
        if pause:
            yield Sleep(pause)
        if request_id:
            try:
                status = yield Call("get_request_status", {"request_id": request_id})
            except NotFoundError:
                pass  # not processed (yet), or a request the server never took: look for the effect
            else:
                data = status.get("data") or {}
                if data.get("isSuccess", data.get("success")) is False:
                    return None
                if data:
                    return {"result": "processed", "requestId": request_id, "data": data, "verified": True}
        if not read:
            continue
        try:
            items = yield from _look(read, arguments, prepared.arguments.get("time"))
        except NotFoundError:
            if kind == "gone":
                return {"result": "deleted", "verified": True, "data": {}}
            return None  # the incident itself is gone: the write cannot have been applied to it
        found = [i for i in items if kind != "gone" and _MATCHES[kind](prepared.arguments, i, started - SKEW)]
        if found:
            return {"result": "applied", "verified": True, "data": found[0]}
    return None


#: Pages of timeline entries read back at most, for an entry dated before many others.
TIMELINE_PAGES = 5


def _look(read: str, arguments: dict[str, Any], when: Any) -> Flow[list[dict[str, Any]]]:
    """
    Read what shows the write's effect: one page, or for a dated timeline entry, every page back to its time.

    Timeline entries are listed newest event first, so an entry dated earlier than many others
    (a late callback's) may be pages back.
    """
    page = yield Call(read, arguments)
    items = _items(page)
    for _ in range(TIMELINE_PAGES - 1):
        offset = (page.get("data") or {}).get("nextOffset") if isinstance(page.get("data"), dict) else None
        if read != "list_timeline_entries" or when is None or not offset or not items:
            break
        if min(timestamp(i.get("eventTime")) for i in items) < timestamp(when):
            break
        page = yield Call(read, {**arguments, "offset": offset})
        items += _items(page)
    return items


def timestamp(value: Any) -> float:
    """Read a time (ISO 8601 text, ``Z`` or not, or a datetime) as a UTC timestamp; unreadable: newest."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return float("inf")
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
