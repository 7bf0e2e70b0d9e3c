"""Incident timeline entries (Incident Timeline API v2), kept per incident id.

Entries are ordered by ``eventTime`` (ties by insertion). A list page's ``nextOffset`` is the id of
its last entry, as in the API docs; passing it back as ``offset`` continues after that entry.
User entries are ``group: "custom"``; the incident's own events (created, resolved, closed) are
``group: "incident"`` entries with a ``title`` instead of a ``description``.
"""

from __future__ import annotations

import copy
import itertools
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, get_args

from airflow_provider_opsgenie_incident.client.types import TimelineGroup
from airflow_provider_opsgenie_incident.emulator.clock import format_ms, now_ms
from airflow_provider_opsgenie_incident.emulator.errors import not_found, unprocessable

if TYPE_CHECKING:
    import threading

__all__ = ["TIMELINE_GROUPS", "TimelineStore"]

TIMELINE_GROUPS: tuple[str, ...] = get_args(TimelineGroup)
_ACTOR = {"name": "API", "type": "api"}


@dataclass
class _Entry:
    data: dict[str, Any]
    when: int
    seq: int


class TimelineStore:
    """Timeline entries of every incident; every method takes the shared state lock."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._seq = itertools.count()
        self._entries: dict[str, list[_Entry]] = {}

    def clear(self) -> None:
        """Forget every timeline."""
        with self._lock:
            self._entries.clear()

    def open(self, incident_id: str) -> None:
        """Start an empty timeline for a new incident."""
        with self._lock:
            self._entries[incident_id] = []

    def drop(self, incident_id: str) -> None:
        """Forget the timeline of a deleted incident."""
        with self._lock:
            self._entries.pop(incident_id, None)

    def add_system(self, incident_id: str, kind: str, title: str, when: int) -> None:
        """Record an incident event (``IncidentCreated``, ``IncidentResolved``, ...)."""
        data = {
            "id": f"{kind}_{uuid.uuid4()}",
            "group": "incident",
            "type": kind,
            "eventTime": format_ms(when),
            "hidden": False,
            "actor": dict(_ACTOR),
            "title": {"type": "plain_text", "content": title},
        }
        with self._lock:
            self._entries.setdefault(incident_id, []).append(_Entry(data, when, next(self._seq)))

    def add(self, incident_id: str, content: str, when: int | None) -> dict[str, Any]:
        """Add a custom entry; return it."""
        when = now_ms() if when is None else when
        data = {
            "id": str(uuid.uuid4()),
            "group": "custom",
            "type": "CustomUserEntry",
            "eventTime": format_ms(when),
            "hidden": False,
            "actor": dict(_ACTOR),
            "description": {"name": content, "type": "plain_text"},
        }
        with self._lock:
            self._timeline(incident_id).append(_Entry(data, when, next(self._seq)))
            return copy.deepcopy(data)

    def get(self, incident_id: str, entry_id: str) -> dict[str, Any]:
        """Return one entry."""
        with self._lock:
            return copy.deepcopy(self._entry(incident_id, entry_id).data)

    def update(
        self, incident_id: str, entry_id: str, content: str | None, when: int | None
    ) -> dict[str, Any]:
        """Change the description and/or time of a custom entry; return it."""
        with self._lock:
            entry = self._entry(incident_id, entry_id)
            if entry.data["group"] != "custom":
                raise unprocessable("only timeline entries of group [custom] can be updated")
            if content is not None:
                entry.data["description"] = {"name": content, "type": "plain_text"}
            if when is not None:
                entry.when = when
                entry.data["eventTime"] = format_ms(when)
            entry.data["lastEdit"] = {"editTime": format_ms(now_ms()), "actor": dict(_ACTOR)}
            return copy.deepcopy(entry.data)

    def delete(self, incident_id: str, entry_id: str) -> None:
        """Delete one entry."""
        with self._lock:
            entry = self._entry(incident_id, entry_id)
            self._timeline(incident_id).remove(entry)

    def set_hidden(self, incident_id: str, entry_id: str, hidden: bool) -> None:
        """Hide or unhide one entry."""
        with self._lock:
            self._entry(incident_id, entry_id).data["hidden"] = hidden

    def entries(self, incident_id: str) -> list[dict[str, Any]]:
        """Return copies of an incident's entries, oldest event first (empty if unknown)."""
        with self._lock:
            ordered = sorted(self._entries.get(incident_id, []), key=lambda e: (e.when, e.seq))
            return [copy.deepcopy(entry.data) for entry in ordered]

    def page(
        self,
        incident_id: str,
        *,
        groups: set[str] | None,
        discard_hidden: bool,
        offset: str | None,
        order: str,
        limit: int,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Return one page of entries and the ``nextOffset`` (``None`` on the last page)."""
        with self._lock:
            selected = [
                entry
                for entry in self._timeline(incident_id)
                if (groups is None or entry.data["group"] in groups)
                and not (discard_hidden and entry.data["hidden"])
            ]
            selected.sort(key=lambda e: (e.when, e.seq), reverse=order == "desc")
            start = 0
            if offset:
                ids = [entry.data["id"] for entry in selected]
                if offset not in ids:
                    raise unprocessable(f"offset [{offset}] is not a valid timeline entry offset")
                start = ids.index(offset) + 1
            chunk = selected[start : start + limit]
            more = start + limit < len(selected)
            next_offset = chunk[-1].data["id"] if chunk and more else None
            return [copy.deepcopy(entry.data) for entry in chunk], next_offset

    def _timeline(self, incident_id: str) -> list[_Entry]:
        timeline = self._entries.get(incident_id)
        if timeline is None:
            raise not_found(f"No incident exists with id [{incident_id}]")
        return timeline

    def _entry(self, incident_id: str, entry_id: str) -> _Entry:
        for entry in self._timeline(incident_id):
            if entry.data["id"] == entry_id:
                return entry
        raise not_found(f"No timeline entry exists with id [{entry_id}]")
