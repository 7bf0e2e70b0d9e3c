"""The emulator's data model: incidents, notes, logs, timeline entries and asynchronous requests.

Every operation holds one reentrant lock, so any number of server threads can use the state at
once. Writes arrive as ``(action, params)`` after synchronous validation and are applied by
:class:`~airflow_provider_opsgenie_incident.emulator.processing.AsyncProcessor`, immediately or
after the processing delay; until then the request's status is "not processed". Notes and logs
live in a :class:`~airflow_provider_opsgenie_incident.emulator.journal.Journal`.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from airflow_provider_opsgenie_incident.emulator.clock import format_ms, now_ms
from airflow_provider_opsgenie_incident.emulator.journal import Journal
from airflow_provider_opsgenie_incident.emulator.processing import AsyncProcessor
from airflow_provider_opsgenie_incident.emulator.recording import Page
from airflow_provider_opsgenie_incident.emulator.search import SearchIndex
from airflow_provider_opsgenie_incident.emulator.timeline import TimelineStore

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from airflow_provider_opsgenie_incident.emulator.clock import Clock

__all__ = ["ACTIONS", "EmulatorState"]

Incident = dict[str, Any]
Outcome = tuple[bool, str, str]  # success, status text, incident id

ACTIONS = (
    "Create",
    "Close",
    "Resolve",
    "Delete",
    "AddNote",
    "AddResponder",
    "AddTags",
    "RemoveTags",
    "AddDetails",
    "RemoveDetails",
    "UpdatePriority",
    "UpdateMessage",
    "UpdateDescription",
)
_OWNER = "API"
_SORT_FIELDS = ("createdAt", "tinyId", "message", "status", "isSeen", "owner")


def _sort_key(field: str) -> Callable[[Incident], tuple[Any, ...]]:
    if field == "tinyId":
        return lambda incident: (int(incident["tinyId"]),)
    return lambda incident: (str(incident.get(field, "")), int(incident["tinyId"]))


class EmulatorState:
    """All mutable emulator data, behind one lock.

    :param base_url: the emulator's URL, for the incidents' links.
    :param clock: the monotonic clock of the search lag.
    """

    def __init__(self, base_url: str = "http://127.0.0.1", clock: Clock = time.monotonic) -> None:
        self.lock = threading.RLock()
        self.base_url = base_url
        self.integration_id = str(uuid.uuid4())
        self.timeline = TimelineStore(self.lock)
        self.journal = Journal()
        self.search = SearchIndex(clock)
        self.processor = AsyncProcessor(self.lock, self._process)
        self._actions: dict[str, Callable[[Incident, Mapping[str, Any]], Outcome]] = {
            "Close": self._close,
            "Resolve": self._resolve,
            "Delete": self._delete,
            "AddNote": self._add_note,
            "AddResponder": self._add_responder,
            "AddTags": self._add_tags,
            "RemoveTags": self._remove_tags,
            "AddDetails": self._add_details,
            "RemoveDetails": self._remove_details,
            "UpdatePriority": self._update_priority,
            "UpdateMessage": self._update_message,
            "UpdateDescription": self._update_description,
        }
        self._clear()

    def _clear(self) -> None:
        self._incidents: dict[str, Incident] = {}
        self._tiny: dict[str, str] = {}
        self._next_tiny = 1
        self._requests: dict[str, dict[str, Any] | None] = {}
        self._last_ms = 0
        self._pages: list[Page] = []
        self.timeline.clear()
        self.journal.clear()
        self.search.clear()

    def reset(self) -> None:
        """Forget everything, including writes still waiting to be applied."""
        with self.lock:
            self.processor.clear()
            self._clear()

    def close(self) -> None:
        """Stop the background writer."""
        self.processor.close()

    # -- asynchronous requests -------------------------------------------------------------

    def submit(self, request_id: str, action: str, params: dict[str, Any], delay: float) -> None:
        """Accept a validated write; it is applied now (``delay`` <= 0) or after ``delay`` seconds."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        with self.lock:
            self._requests[request_id] = None
            self.processor.submit(request_id, action, params, delay)

    def request_status(self, request_id: str) -> tuple[bool, dict[str, Any] | None]:
        """Return ``(known, data)``; ``data`` is ``None`` while the request is not processed."""
        with self.lock:
            if request_id not in self._requests:
                return False, None
            return True, copy.deepcopy(self._requests[request_id])

    def _process(self, request_id: str, action: str, params: dict[str, Any]) -> None:
        if request_id not in self._requests:
            return  # the state was reset while the write waited
        before: Incident | None = None
        if action == "Create":
            outcome = self._create(params)
        else:
            incident = self._find(params["identifier"], params.get("identifierType", "id"))
            if incident is None:
                outcome = (False, "Incident does not exist", "")
            else:
                before = copy.deepcopy(incident) if self.search.lag else None
                outcome = self._actions[action](incident, params)
        success, status, incident_id = outcome
        if success:
            self.search.record(incident_id, before, self._incidents.get(incident_id))
        self._requests[request_id] = {
            "success": success,
            "action": action,
            "processedAt": format_ms(now_ms()),
            "integrationId": self.integration_id,
            "isSuccess": success,
            "status": status,
            "incidentId": incident_id,
        }

    # -- reads -------------------------------------------------------------------------------

    def _find(self, identifier: str, identifier_type: str = "id") -> Incident | None:
        if identifier_type == "tiny":
            identifier = self._tiny.get(identifier, "")
        return self._incidents.get(identifier)

    def get(self, identifier: str, identifier_type: str = "id") -> Incident | None:
        """Return a copy of one incident, or ``None``."""
        with self.lock:
            return copy.deepcopy(self._find(identifier, identifier_type))

    def incidents(self) -> list[Incident]:
        """Return copies of every incident in creation order."""
        with self.lock:
            return copy.deepcopy(list(self._incidents.values()))

    def list_incidents(
        self, predicate: Callable[[Incident], bool], *, sort: str, order: str, offset: int, limit: int
    ) -> tuple[list[Incident], int]:
        """Return one page of matching incidents as search sees them, and the number of matches."""
        if sort not in _SORT_FIELDS:
            raise ValueError(f"unknown sort field {sort!r}")
        with self.lock:
            visible = self.search.view(self._incidents.values())
            matched = [incident for incident in visible if predicate(incident)]
            matched.sort(key=_sort_key(sort), reverse=order == "desc")
            return copy.deepcopy(matched[offset : offset + limit]), len(matched)

    def pages(self) -> list[Page]:
        """Return every page recorded so far, oldest first."""
        with self.lock:
            return list(self._pages)

    def items(self, kind: str, identifier: str, identifier_type: str = "id") -> list[dict[str, Any]] | None:
        """Return copies of an incident's ``notes`` or ``logs``, oldest first (``None``: no incident)."""
        with self.lock:
            incident = self._find(identifier, identifier_type)
            if incident is None:
                return None
            return self.journal.items(kind, incident["id"])

    def page_items(
        self,
        kind: str,
        identifier: str,
        identifier_type: str,
        *,
        offset: str | None,
        direction: str,
        order: str,
        limit: int,
    ) -> tuple[list[dict[str, Any]], bool] | None:
        """Return one page of ``notes`` or ``logs`` and whether more follow it (``None``: no incident)."""
        with self.lock:
            incident = self._find(identifier, identifier_type)
            if incident is None:
                return None
            return self.journal.page(
                kind, incident["id"], offset=offset, direction=direction, order=order, limit=limit
            )

    # -- helpers -----------------------------------------------------------------------------

    def _tick(self, strict: bool = False) -> int:
        self._last_ms = max(now_ms(), self._last_ms + 1 if strict else self._last_ms)
        return self._last_ms

    def _log(self, incident: Incident, text: str) -> None:
        item = {"log": text, "type": "system", "owner": _OWNER, "createdAt": format_ms(self._tick())}
        self.journal.add("logs", incident["id"], item)

    def _note(self, incident: Incident, text: str | None) -> None:
        if text:
            item = {"note": text, "owner": _OWNER, "createdAt": format_ms(self._tick())}
            self.journal.add("notes", incident["id"], item)

    def _page(self, incident: Incident, action: str, responders: list[dict[str, Any]], notify: bool) -> None:
        if responders or notify:
            at = format_ms(self._tick())
            paged = tuple(copy.deepcopy(responders))
            self._pages.append(Page(incident["id"], incident["tinyId"], action, paged, notify, at))

    def _done(self, incident: Incident, params: Mapping[str, Any], log: str, status: str) -> Outcome:
        """Log the action, add its note, bump ``updatedAt``; return a success outcome."""
        self._log(incident, log)
        self._note(incident, params.get("note"))
        incident["updatedAt"] = format_ms(self._tick())
        return True, status, incident["id"]

    # -- actions -----------------------------------------------------------------------------

    def _create(self, params: Mapping[str, Any]) -> Outcome:
        created = self._tick(strict=True)
        incident_id = str(uuid.uuid4())
        tiny_id = str(self._next_tiny)
        self._next_tiny += 1
        stamp = format_ms(created)
        incident: Incident = {
            "id": incident_id,
            "tinyId": tiny_id,
            "message": params["message"],
            "description": params.get("description", ""),
            "status": "open",
            "isSeen": False,
            "tags": list(params.get("tags", [])),
            "details": dict(params.get("details", {})),
            "priority": params.get("priority", "P3"),
            "responders": list(params.get("responders", [])),
            "impactedServices": list(params.get("impactedServices", [])),
            "notifyStakeholders": params.get("notifyStakeholders", False),
            "owner": "",
            "ownerTeam": "",
            "source": "API",
            "createdAt": stamp,
            "updatedAt": stamp,
            "impactStartDate": stamp,
            "links": {
                "web": f"{self.base_url}/incident/detail/{incident_id}",
                "api": f"{self.base_url}/v1/incidents/{incident_id}",
            },
        }
        for key in ("serviceId", "statusPageEntry"):
            if key in params:
                incident[key] = copy.deepcopy(params[key])
        self._incidents[incident_id] = incident
        self._tiny[tiny_id] = incident_id
        self.journal.open(incident_id)
        self.timeline.open(incident_id)
        self.timeline.add_system(incident_id, "IncidentCreated", "Incident created", created)
        self._log(incident, "Incident created via API")
        self._note(incident, params.get("note"))
        self._page(incident, "Create", incident["responders"], incident["notifyStakeholders"])
        return True, "Created incident", incident_id

    def _close(self, incident: Incident, params: Mapping[str, Any]) -> Outcome:
        incident["status"] = "closed"
        self.timeline.add_system(incident["id"], "IncidentClosed", "Incident closed", self._tick())
        return self._done(incident, params, "Incident closed via API", "Closed incident")

    def _resolve(self, incident: Incident, params: Mapping[str, Any]) -> Outcome:
        if incident["status"] == "closed":
            return False, "Incident is already closed", incident["id"]
        incident["status"] = "resolved"
        self.timeline.add_system(incident["id"], "IncidentResolved", "Incident resolved", self._tick())
        return self._done(incident, params, "Incident resolved via API", "Resolved incident")

    def _delete(self, incident: Incident, params: Mapping[str, Any]) -> Outcome:
        incident_id = incident["id"]
        del self._incidents[incident_id]
        del self._tiny[incident["tinyId"]]
        self.journal.drop(incident_id)
        self.timeline.drop(incident_id)
        return True, "Deleted incident", incident_id

    def _add_note(self, incident: Incident, params: Mapping[str, Any]) -> Outcome:
        return self._done(incident, params, "Note added via API", "Added note")

    def _add_responder(self, incident: Incident, params: Mapping[str, Any]) -> Outcome:
        added: list[dict[str, Any]] = []
        for responder in params["responder"]:
            if responder not in incident["responders"]:
                incident["responders"].append(dict(responder))
                added.append(dict(responder))
        self._page(incident, "AddResponder", added, False)
        return self._done(incident, params, "Responders added via API", "Added responder")

    def _add_tags(self, incident: Incident, params: Mapping[str, Any]) -> Outcome:
        added = [tag for tag in params["tags"] if tag not in incident["tags"]]
        incident["tags"].extend(added)
        return self._done(incident, params, f"Tags {params['tags']} added via API", "Added tags")

    def _remove_tags(self, incident: Incident, params: Mapping[str, Any]) -> Outcome:
        incident["tags"] = [tag for tag in incident["tags"] if tag not in params["tags"]]
        return self._done(incident, params, f"Tags {params['tags']} removed via API", "Removed tags")

    def _add_details(self, incident: Incident, params: Mapping[str, Any]) -> Outcome:
        incident["details"].update(params["details"])
        keys = list(params["details"])
        return self._done(incident, params, f"Details {keys} added via API", "Added details")

    def _remove_details(self, incident: Incident, params: Mapping[str, Any]) -> Outcome:
        for key in params["keys"]:
            incident["details"].pop(key, None)
        return self._done(incident, params, f"Details {params['keys']} removed via API", "Removed details")

    def _update_priority(self, incident: Incident, params: Mapping[str, Any]) -> Outcome:
        log = f"Priority changed from {incident['priority']} to {params['priority']} via API"
        incident["priority"] = params["priority"]
        return self._done(incident, params, log, "Updated priority")

    def _update_message(self, incident: Incident, params: Mapping[str, Any]) -> Outcome:
        incident["message"] = params["message"]
        return self._done(incident, params, "Message updated via API", "Updated message")

    def _update_description(self, incident: Incident, params: Mapping[str, Any]) -> Outcome:
        incident["description"] = params["description"]
        return self._done(incident, params, "Description updated via API", "Updated description")
