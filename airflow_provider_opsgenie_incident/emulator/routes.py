"""The route table of both APIs and the router.

Routing works on the raw request path split at ``/``; each segment that is a parameter is then
percent-decoded exactly once. So ``/v1/incidents/a%2Fb/notes`` addresses the incident ``a/b`` and
``/v1/incidents/..%2Falerts`` the incident ``../alerts``: an encoded identifier can never reach
another endpoint. Literal segments must match as sent (undecoded).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from airflow_provider_opsgenie_incident.emulator import api
from airflow_provider_opsgenie_incident.emulator import timeline_api as tl
from airflow_provider_opsgenie_incident.emulator.errors import ApiError, not_found

__all__ = ["KNOWN_METHODS", "ROUTES", "Route", "resolve"]

KNOWN_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_P = None  # a path parameter


@dataclass(frozen=True)
class Route:
    """One endpoint: name (as the client catalogue names it), method, path pattern, handler.

    ``None`` in the pattern marks a path parameter.
    """

    name: str
    method: str
    pattern: tuple[str | None, ...]
    handler: api.Handler


_INCIDENT = ("v1", "incidents", _P)
_ENTRIES = ("v2", "incident-timelines", _P, "entries")

ROUTES: tuple[Route, ...] = (
    Route("create_incident", "POST", ("v1", "incidents", "create"), api.create_incident),
    Route("list_incidents", "GET", ("v1", "incidents"), api.list_incidents),
    Route("get_request_status", "GET", ("v1", "incidents", "requests", _P), api.request_status),
    Route("get_incident", "GET", _INCIDENT, api.get_incident),
    Route("delete_incident", "DELETE", _INCIDENT, api.delete_incident),
    Route("close_incident", "POST", (*_INCIDENT, "close"), api.close_incident),
    Route("resolve_incident", "POST", (*_INCIDENT, "resolve"), api.resolve_incident),
    Route("add_note", "POST", (*_INCIDENT, "notes"), api.add_note),
    Route("list_notes", "GET", (*_INCIDENT, "notes"), api.list_notes),
    Route("list_logs", "GET", (*_INCIDENT, "logs"), api.list_logs),
    Route("add_responder", "POST", (*_INCIDENT, "responders"), api.add_responder),
    Route("add_tags", "POST", (*_INCIDENT, "tags"), api.add_tags),
    Route("remove_tags", "DELETE", (*_INCIDENT, "tags"), api.remove_tags),
    Route("add_details", "POST", (*_INCIDENT, "details"), api.add_details),
    Route("remove_details", "DELETE", (*_INCIDENT, "details"), api.remove_details),
    Route("update_priority", "PUT", (*_INCIDENT, "priority"), api.update_priority),
    Route("update_message", "PUT", (*_INCIDENT, "message"), api.update_message),
    Route("update_description", "PUT", (*_INCIDENT, "description"), api.update_description),
    Route("add_timeline_entry", "POST", _ENTRIES, tl.add_entry),
    Route("list_timeline_entries", "GET", _ENTRIES, tl.list_entries),
    Route("get_timeline_entry", "GET", (*_ENTRIES, _P), tl.get_entry),
    Route("update_timeline_entry", "PATCH", (*_ENTRIES, _P), tl.update_entry),
    Route("delete_timeline_entry", "DELETE", (*_ENTRIES, _P), tl.delete_entry),
    Route("hide_timeline_entry", "GET", (*_ENTRIES, _P, "hide"), tl.hide_entry),
    Route("unhide_timeline_entry", "GET", (*_ENTRIES, _P, "unhide"), tl.unhide_entry),
)


def _match(pattern: tuple[str | None, ...], segments: list[str]) -> list[str] | None:
    if len(pattern) != len(segments):
        return None
    params: list[str] = []
    for expected, raw in zip(pattern, segments, strict=True):
        if expected is None:
            value = unquote(raw)
            if not value:
                return None
            params.append(value)
        elif raw != expected:
            return None
    return params


def resolve(method: str, raw_path: str) -> tuple[Route, list[str]]:
    """Return the route and decoded parameters for a request; raise 404 or 405 otherwise."""
    if method not in KNOWN_METHODS:
        raise ApiError(405, f"Method [{method}] is not allowed", {"Allow": ", ".join(sorted(KNOWN_METHODS))})
    allowed: set[str] = set()
    if raw_path.startswith("/"):
        segments = raw_path[1:].split("/")
        for route in ROUTES:
            params = _match(route.pattern, segments)
            if params is None:
                continue
            if route.method == method:
                return route, params
            allowed.add(route.method)
    if allowed:
        raise ApiError(405, f"Method [{method}] is not allowed here", {"Allow": ", ".join(sorted(allowed))})
    raise not_found(f"No endpoint matches [{method} {unquote(raw_path)}]")
