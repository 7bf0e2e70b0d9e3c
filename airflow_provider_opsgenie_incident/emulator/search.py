"""The search lag: incident search sees each incident as it was ``lag`` seconds ago.

Opsgenie's incident search reads an index that trails the incidents themselves, so a search right
after a write may miss it while ``GET /v1/incidents/{id}`` already shows it. With ``lag`` > 0 the
emulator keeps, per incident, the versions written within the last ``lag`` seconds (and the one
before them); a search shows the newest version at least ``lag`` old: an incident created less
than ``lag`` ago is not found, one closed less than ``lag`` ago is still found as open, one deleted
less than ``lag`` ago is still found. Reads by id, notes, logs and the timeline are not lagged.

A new lag applies to writes made after it is set; writes made before count as old.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from airflow_provider_opsgenie_incident.emulator.clock import Clock

__all__ = ["SearchIndex"]

Incident = dict[str, Any]
_BEFORE_EVERYTHING = float("-inf")


class SearchIndex:
    """The versions search has not caught up with yet; the caller holds the state lock.

    :param clock: seconds on a monotonic scale.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lag = 0.0
        self._versions: dict[str, list[tuple[float, Incident | None]]] = {}

    @property
    def lag(self) -> float:
        """Seconds between a write and search seeing it."""
        return self._lag

    @lag.setter
    def lag(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("search_lag must not be negative")
        self._lag = float(seconds)
        if not self._lag:
            self._versions.clear()

    def clear(self) -> None:
        """Forget every pending version."""
        self._versions.clear()

    def record(self, incident_id: str, before: Incident | None, after: Incident | None) -> None:
        """Note that an incident changed from ``before`` to ``after`` (``None``: absent) just now."""
        if not self._lag:
            return
        versions = self._versions.setdefault(incident_id, [(_BEFORE_EVERYTHING, copy.deepcopy(before))])
        versions.append((self._clock(), copy.deepcopy(after)))
        self._prune(self._clock() - self._lag)

    def view(self, live: Iterable[Incident]) -> list[Incident]:
        """Return the incidents search sees, given the ``live`` ones (not copied: read-only)."""
        if not self._versions:
            return list(live)
        cutoff = self._clock() - self._lag
        self._prune(cutoff)
        seen: list[Incident] = []
        for incident in live:
            if incident["id"] not in self._versions:
                seen.append(incident)
        for versions in self._versions.values():
            visible = [incident for when, incident in versions if when <= cutoff][-1]
            if visible is not None:
                seen.append(visible)
        return seen

    def _prune(self, cutoff: float) -> None:
        """Drop versions search has caught up with; an incident fully caught up reads live again."""
        for incident_id in list(self._versions):
            versions = self._versions[incident_id]
            while len(versions) > 1 and versions[1][0] <= cutoff:
                versions.pop(0)
            if len(versions) == 1:  # the one version left is the newest write: the live incident
                del self._versions[incident_id]
