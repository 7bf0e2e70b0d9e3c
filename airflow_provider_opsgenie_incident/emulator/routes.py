"""The route table of both APIs and the router.

Routing works on the raw request path split at ``/``; each segment that is a parameter is then
percent-decoded exactly once. So ``/v1/incidents/a%2Fb/notes`` addresses the incident ``a/b`` and
``/v1/incidents/..%2Falerts`` the incident ``../alerts``: an encoded identifier can never reach
another endpoint. Literal segments must match as sent (undecoded).
"""

from __future__ import annotations

from urllib.parse import unquote

from airflow_provider_opsgenie_incident.emulator import (
    api,
    timeline_api,  # noqa: F401  (declares its routes)
)
from airflow_provider_opsgenie_incident.emulator.api import Route
from airflow_provider_opsgenie_incident.emulator.errors import ApiError, not_found

__all__ = ["KNOWN_METHODS", "ROUTES", "Route", "resolve"]

KNOWN_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})

# Each handler declares its route beside itself (``@endpoint``); importing both handler modules
# collects them. A literal segment wins over a parameter at the same place, so
# ``/v1/incidents/requests/{id}`` is tried before ``/v1/incidents/{identifier}/...``.
ROUTES: tuple[Route, ...] = tuple(
    sorted(api.ROUTES, key=lambda route: tuple(part is None for part in route.pattern))
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
