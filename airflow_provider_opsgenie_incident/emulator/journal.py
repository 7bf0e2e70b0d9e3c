"""The notes and logs of every incident, and their paging.

Notes and logs carry an opaque ``offset``: a zero-padded, strictly increasing counter shared by
both kinds. Paging with ``direction=next`` continues after the given offset in the requested
``order`` (for the default ``desc``: older items) and ``direction=prev`` returns the items just
before it in that order. The caller holds the emulator state's lock.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["Journal"]

Item = dict[str, Any]


def _after(item: str, offset: str, order: str) -> bool:
    """Whether ``item`` comes after ``offset`` when listing in ``order``."""
    return item > offset if order == "asc" else item < offset


class Journal:
    """The ``notes`` and ``logs`` of each incident, oldest first."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Forget every item."""
        self._notes: dict[str, list[Item]] = {}
        self._logs: dict[str, list[Item]] = {}
        self._seq = 0

    def _store(self, kind: str) -> dict[str, list[Item]]:
        return self._notes if kind == "notes" else self._logs

    def open(self, incident_id: str) -> None:
        """Start the (empty) notes and logs of a new incident."""
        self._notes[incident_id] = []
        self._logs[incident_id] = []

    def drop(self, incident_id: str) -> None:
        """Forget the notes and logs of a deleted incident."""
        del self._notes[incident_id]
        del self._logs[incident_id]

    def add(self, kind: str, incident_id: str, item: Item) -> None:
        """Append ``item`` to an incident's ``notes`` or ``logs``, giving it the next offset."""
        self._seq += 1
        self._store(kind)[incident_id].append({**item, "offset": f"{self._seq:019d}"})

    def items(self, kind: str, incident_id: str) -> list[Item]:
        """Return copies of an incident's ``notes`` or ``logs``, oldest first."""
        return copy.deepcopy(self._store(kind)[incident_id])

    def page(
        self, kind: str, incident_id: str, *, offset: str | None, direction: str, order: str, limit: int
    ) -> tuple[list[Item], bool]:
        """Return one page of ``notes`` or ``logs`` and whether more follow it."""
        everything = self.items(kind, incident_id)
        if order == "desc":
            everything.reverse()
        offsets = [item["offset"] for item in everything]
        if offset is None:
            start, end = 0, limit
        elif direction == "next":
            start = sum(1 for item in offsets if not _after(item, offset, order))
            end = start + limit
        else:
            end = sum(1 for item in offsets if _after(offset, item, order))
            start = max(0, end - limit)
        return everything[start:end], end < len(everything)
