"""The log of every request the emulator received, for assertions in tests."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

__all__ = ["RecordedRequest", "RequestLog"]


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
    :param connection: the client's port, the same for every request of one keep-alive connection.
    """

    method: str
    path: str
    raw_path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    fault: str | None = None
    connection: int | None = None


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
