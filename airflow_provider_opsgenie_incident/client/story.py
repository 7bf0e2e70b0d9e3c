"""An incident's timeline as the story of what happened: one custom entry per event, exactly once.

Each event (a failure, a retry, a recovery, a missed deadline) becomes one custom timeline entry,
stamped with the event's own time. Its content ends with a marker derived from what the event is
(:func:`marker`: DAG, run, task, map index, try and kind), so the same event always carries the
same marker and the same content:

- :func:`record` reads the incident's custom entries back to the event's time before writing, so
  an event delivered twice finds its entry and writes nothing;
- a write that failed ambiguously is looked for by its content before it is sent again
  (:mod:`.verification`), so a client retry never doubles it either.

The Timeline API answers synchronously (201), so an entry costs one read and one write, fewer than
a note (write, pause, status polls). Timeline calls get a short budget of their own
(:func:`short_settings`, :class:`Routed`): a slow timeline costs a few seconds, never the page.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from airflow_provider_opsgenie_incident.client.catalogue import DESCRIPTION_LIMIT
from airflow_provider_opsgenie_incident.client.flows import Call
from airflow_provider_opsgenie_incident.client.verification import timestamp

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_opsgenie_incident.client.flows import AsyncApi, Flow, SyncApi
    from airflow_provider_opsgenie_incident.client.settings import ClientSettings

__all__ = [
    "MARKER_PREFIX",
    "TIMELINE_LIMIT",
    "Entry",
    "Routed",
    "ARouted",
    "marker",
    "record",
    "short_settings",
]

#: The prefix of an event's marker in its entry's last line.
MARKER_PREFIX = "af-e:"
#: Seconds the timeline calls of one event may take in all, retries and verification included.
TIMELINE_LIMIT = 5.0
#: Pages of 20 custom entries read back at most before writing (an event older than 100 entries
#: is written again rather than searched for longer).
_PAGES = 5
_ENDPOINTS = frozenset({"add_timeline_entry", "list_timeline_entries"})


def marker(*facts: str | None) -> str:
    """Return the marker of the event described by ``facts``: the same facts, the same marker."""
    digest = hashlib.sha256("\x1f".join(fact or "" for fact in facts).encode()).hexdigest()
    return f"{MARKER_PREFIX}{digest[:16]}"


@dataclass(frozen=True)
class Entry:
    """
    One event's timeline entry.

    :param content: the text; its first line is the title, its last names the marker.
    :param marker: the event's marker (:func:`marker`), found in ``content``.
    :param time: when the event happened (ISO 8601), or None for the server's clock.
    """

    content: str
    marker: str
    time: str | None = None

    @classmethod
    def of(cls, lines: list[str], marker: str, time: str | None) -> Entry:
        """Build the entry from its lines, cut to the API's limit with the marker line kept last."""
        tail = f"\nEvent: {marker}"
        body = "\n".join(lines)
        if len(body) + len(tail) > DESCRIPTION_LIMIT:
            body = body[: DESCRIPTION_LIMIT - len(tail) - 1] + "\u2026"
        return cls(body + tail, marker, time)


def _text(item: Mapping[str, Any]) -> str:
    description = item.get("description") or {}
    return (
        str(description.get("content", description.get("name")) or "")
        if isinstance(description, dict)
        else ""
    )


def record(incident_id: str, entry: Entry, *, fresh: bool = False) -> Flow[str]:
    """
    Add ``entry`` to the incident's timeline unless its marker is there already.

    :param fresh: the incident was just created by this flow, so no entry can be there yet.
    :return: ``added``, or ``found`` when an earlier delivery of the event wrote it.
    """
    arguments: dict[str, Any] = {
        "incident_id": incident_id,
        "groups": ["custom"],
        "order": "desc",
        "limit": 20,
    }
    for _ in range(0 if fresh else _PAGES):
        page = yield Call("list_timeline_entries", arguments)
        data = page.get("data") or {}
        entries = list(data.get("entries") or [])
        if any(entry.marker in _text(item) for item in entries):
            return "found"
        # Entries come newest first by event time: one older than the event ends the search.
        older = entry.time is not None and any(
            timestamp(i.get("eventTime")) < timestamp(entry.time) for i in entries
        )
        if older or not data.get("nextOffset") or not entries:
            break
        arguments = {**arguments, "offset": data["nextOffset"]}
    call = {"incident_id": incident_id, "content": entry.content}
    yield Call("add_timeline_entry", {**call, "time": entry.time} if entry.time else call)
    return "added"


def short_settings(settings: ClientSettings, limit: float = TIMELINE_LIMIT) -> ClientSettings:
    """Return ``settings`` with a budget that keeps one event's timeline calls within ``limit`` seconds."""
    attempt = min(settings.attempt_deadline, limit / 2.5)
    retry = replace(
        settings.retry,
        total_timeout=min(settings.retry.total_timeout, limit / 2.5),
        verify_window=min(settings.retry.verify_window, limit / 5),
    )
    return replace(
        settings,
        connect_timeout=min(settings.connect_timeout, attempt),
        read_timeout=min(settings.read_timeout, attempt),
        attempt_timeout=attempt,
        retry=retry,
    )


class Routed:
    """A synchronous API that sends the timeline calls through a client with a short budget."""

    def __init__(self, api: SyncApi, timeline: SyncApi) -> None:
        self.api, self.timeline = api, timeline

    def call(self, endpoint: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Call ``endpoint`` with the client that owns it."""
        return (self.timeline if endpoint in _ENDPOINTS else self.api).call(endpoint, arguments)

    def wait_for_request(self, request_id: str, *, timeout: float = 60.0) -> dict[str, Any]:
        """Wait for an incident write (the Timeline API has no asynchronous requests)."""
        return self.api.wait_for_request(request_id, timeout=timeout)


class ARouted:
    """The asynchronous :class:`Routed`."""

    def __init__(self, api: AsyncApi, timeline: AsyncApi) -> None:
        self.api, self.timeline = api, timeline

    async def call(self, endpoint: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Call ``endpoint`` with the client that owns it."""
        return await (self.timeline if endpoint in _ENDPOINTS else self.api).call(endpoint, arguments)

    async def wait_for_request(self, request_id: str, *, timeout: float = 60.0) -> dict[str, Any]:
        """Wait for an incident write (the Timeline API has no asynchronous requests)."""
        return await self.api.wait_for_request(request_id, timeout=timeout)
