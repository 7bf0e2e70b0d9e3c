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
    """One endpoint: method, path pattern (``None`` marks a parameter) and handler."""

    method: str
    pattern: tuple[str | None, ...]
    handler: api.Handler


_INCIDENT = ("v1", "incidents", _P)
_ENTRIES = ("v2", "incident-timelines", _P, "entries")

ROUTES: tuple[Route, ...] = (
    Route("POST", ("v1", "incidents", "create"), api.create_incident),
    Route("GET", ("v1", "incidents"), api.list_incidents),
    Route("GET", ("v1", "incidents", "requests", _P), api.request_status),
    Route("GET", _INCIDENT, api.get_incident),
    Route("DELETE", _INCIDENT, api.delete_incident),
    Route("POST", (*_INCIDENT, "close"), api.close_incident),
    Route("POST", (*_INCIDENT, "resolve"), api.resolve_incident),
    Route("POST", (*_INCIDENT, "notes"), api.add_note),
    Route("GET", (*_INCIDENT, "notes"), api.list_notes),
    Route("GET", (*_INCIDENT, "logs"), api.list_logs),
    Route("POST", (*_INCIDENT, "responders"), api.add_responder),
    Route("POST", (*_INCIDENT, "tags"), api.add_tags),
    Route("DELETE", (*_INCIDENT, "tags"), api.remove_tags),
    Route("POST", (*_INCIDENT, "details"), api.add_details),
    Route("DELETE", (*_INCIDENT, "details"), api.remove_details),
    Route("PUT", (*_INCIDENT, "priority"), api.update_priority),
    Route("PUT", (*_INCIDENT, "message"), api.update_message),
    Route("PUT", (*_INCIDENT, "description"), api.update_description),
    Route("POST", _ENTRIES, tl.add_entry),
    Route("GET", _ENTRIES, tl.list_entries),
    Route("GET", (*_ENTRIES, _P), tl.get_entry),
    Route("PATCH", (*_ENTRIES, _P), tl.update_entry),
    Route("DELETE", (*_ENTRIES, _P), tl.delete_entry),
    Route("GET", (*_ENTRIES, _P, "hide"), tl.hide_entry),
    Route("GET", (*_ENTRIES, _P, "unhide"), tl.unhide_entry),
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


def resolve(method: str, raw_path: str) -> tuple[api.Handler, list[str]]:
    """Return the handler and decoded parameters for a request; raise 404 or 405 otherwise."""
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
                return route.handler, params
            allowed.add(route.method)
    if allowed:
        raise ApiError(405, f"Method [{method}] is not allowed here", {"Allow": ", ".join(sorted(allowed))})
    raise not_found(f"No endpoint matches [{method} {unquote(raw_path)}]")
