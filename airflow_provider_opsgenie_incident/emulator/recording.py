"""What the emulator saw, for assertions in tests: requests, TCP connections and pages.

- :class:`RecordedRequest`: every request received, faulted ones included, with the endpoint it
  addressed and the number of the TCP connection it came on.
- :class:`ConnectionCounter`: the TCP connections accepted (keep-alive checks count these).
- :class:`Page`: every time an incident was routed to responders or its stakeholders notified, so
  a test can count how often people would have been paged.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

__all__ = ["ConnectionCounter", "Page", "RecordedRequest", "RequestLog"]


@dataclass(frozen=True)
class RecordedRequest:
    """One received request.

    :param method: the HTTP method.
    :param path: the percent-decoded path, e.g. ``/v1/incidents/a/b``.
    :param raw_path: the request target as received, e.g. ``/v1/incidents/a%2Fb?x=1``.
    :param query: the decoded query parameters (the last value of a repeated name wins).
    :param headers: the headers, names lower-cased.
    :param body: the parsed JSON body, ``None`` if empty, or the raw text if it was not JSON.
    :param fault: the fault kind applied (``"rate_limit"`` for the rate limit), else ``None``.
    :param endpoint: the API action addressed, named as the client catalogue names it
        (``"create_incident"``, ``"add_note"``, ``"get_request_status"``, ...); ``None`` if no route
        matched.
    :param connection: the number of the TCP connection it arrived on (1 for the first accepted);
        requests sharing a number came over one keep-alive connection.
    """

    method: str
    path: str
    raw_path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    fault: str | None = None
    endpoint: str | None = None
    connection: int = 0


class RequestLog:
    """A thread-safe, append-only log of :class:`RecordedRequest`.

    It keeps the latest ``limit`` requests, so a long-running emulator does not grow forever.
    """

    def __init__(self, limit: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._items: deque[RecordedRequest] = deque(maxlen=limit)

    def append(self, request: RecordedRequest) -> None:
        """Record one request."""
        with self._lock:
            self._items.append(request)

    def snapshot(self) -> list[RecordedRequest]:
        """Return a copy of the log, in arrival order."""
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self._items.clear()


class ConnectionCounter:
    """Number the TCP connections accepted; count them since the last ``clear``.

    Numbers keep growing across ``clear`` so that they stay unique for the emulator's lifetime.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0
        self._accepted = 0

    def accept(self) -> int:
        """Count one new connection and return its number."""
        with self._lock:
            self._last += 1
            self._accepted += 1
            return self._last

    @property
    def accepted(self) -> int:
        """Connections accepted since the last ``clear``."""
        with self._lock:
            return self._accepted

    def clear(self) -> None:
        """Start counting from zero again."""
        with self._lock:
            self._accepted = 0


@dataclass(frozen=True)
class Page:
    """One routing of an incident to people: what Opsgenie would page or notify.

    :param incident_id: the incident's id.
    :param tiny_id: its tiny id.
    :param action: ``"Create"`` (created with responders or ``notifyStakeholders``) or
        ``"AddResponder"`` (responders added that it did not have).
    :param responders: the responders paged by this action (those it newly got).
    :param notify_stakeholders: whether the action notified the incident's stakeholders.
    :param at: when it was applied, as Opsgenie formats times.
    """

    incident_id: str
    tiny_id: str
    action: str
    responders: tuple[dict[str, Any], ...]
    notify_stakeholders: bool
    at: str
