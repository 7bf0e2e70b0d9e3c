"""Fault injection: rules that make the emulator misbehave on chosen requests, and a rate limit.

A :class:`Fault` matches requests by method and path and applies to the next ``times`` of them
(``None``: forever). Faults are tried in the order they were added; the first that matches and is
not used up applies. Kinds:

``status``
    Answer ``status`` with ``headers`` and ``body`` (default: an Opsgenie-style JSON error) without
    applying the request. A 429 also gets the ``X-RateLimit-*`` headers unless given.
``reset``
    Close the TCP connection abruptly (``SO_LINGER`` 0, an RST) without answering or applying.
``delay``
    Sleep ``seconds``, then handle the request normally (read-timeout tests).
``lost_response``
    Apply the request (an asynchronous write is accepted), then reset the connection unanswered.
``malformed``
    Answer ``status`` with a non-JSON body (default an HTML 502 page) without applying.
``applied_status``
    Apply the request, then answer ``status`` (e.g. 504) as ``status`` does: a gateway that gave up
    after the backend acted. ``Fault("applied_status", status=504)``.
``applied_delay``
    Apply the request, then hold the answer for ``seconds`` before sending it: a client with a
    shorter read timeout gives up although the write was made.

The rate limit (:meth:`OpsgenieEmulator.rate_limit`, a token bucket: :class:`RateLimiter`) is
checked before a ``delay``, ``lost_response`` or ``applied_*`` fault acts: a throttled request is
answered 429 and not applied.
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import KW_ONLY, dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_opsgenie_incident.emulator.clock import Clock

__all__ = [
    "ACCOUNT_RATE_LIMIT_HEADERS",
    "APPLYING_KINDS",
    "FAULT_KINDS",
    "Fault",
    "FaultKind",
    "FaultResponse",
    "FaultSet",
    "RateLimiter",
    "fault_response",
]

FaultKind = Literal[
    "status", "reset", "delay", "lost_response", "malformed", "applied_status", "applied_delay"
]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)
#: The kinds that let the request through to the API (and the rate limit) before misbehaving.
APPLYING_KINDS: frozenset[str] = frozenset({"delay", "lost_response", "applied_status", "applied_delay"})
DEFAULT_MALFORMED_BODY = b"<html><body>502 Bad Gateway</body></html>"
INTEGRATION_RATE_LIMIT_HEADERS = {
    "X-RateLimit-State": "THROTTLED",
    "X-RateLimit-Reason": "INTEGRATION",
    "X-RateLimit-Period-In-Sec": "60",
}
ACCOUNT_RATE_LIMIT_HEADERS = {
    "Retry-After": "1",
    "X-RateLimit-State": "THROTTLED",
    "X-RateLimit-Reason": "ACCOUNT",
    "X-RateLimit-Period-In-Sec": "1",
}
RATE_LIMIT_MESSAGE = "You are making too many requests! To avoid errors, we recommend you limit requests."


@dataclass
class Fault:
    """One fault rule; see the module docstring for the kinds.

    :param kind: ``"status"``, ``"reset"``, ``"delay"``, ``"lost_response"``, ``"malformed"``,
        ``"applied_status"`` or ``"applied_delay"``.
    :param times: how many matching requests it applies to; ``None`` means every one.
    :param method: only requests with this HTTP method (case-insensitive); ``None`` matches all.
    :param path: a regular expression searched in the decoded request path; ``None`` matches all.
    :param status: the status of a ``status``, ``malformed`` or ``applied_status`` answer.
    :param headers: extra headers of that answer.
    :param body: the body of that answer: bytes, str, or a JSON value.
    :param seconds: how long a ``delay`` fault sleeps before handling the request, or an
        ``applied_delay`` fault after it.

    ``hits`` counts the requests the fault has applied to so far.
    """

    kind: FaultKind
    _: KW_ONLY
    times: int | None = 1
    method: str | None = None
    path: str | None = None
    status: int = 500
    headers: Mapping[str, str] | None = None
    body: Any = None
    seconds: float = 0.0
    hits: int = field(default=0, init=False)
    _pattern: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be a positive integer or None")
        if self.seconds < 0:
            raise ValueError("seconds must not be negative")
        if self.method is not None:
            self.method = self.method.upper()
        if self.path is not None:
            self._pattern = re.compile(self.path)

    @property
    def exhausted(self) -> bool:
        """Whether the fault has applied ``times`` times already."""
        return self.times is not None and self.hits >= self.times

    def matches(self, method: str, path: str) -> bool:
        """Whether a request with this method and decoded path is selected (ignoring ``times``)."""
        if self.method is not None and method.upper() != self.method:
            return False
        return self._pattern is None or self._pattern.search(path) is not None


class FaultSet:
    """The ordered, thread-safe list of active faults."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        """Append ``fault`` and return it."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """Return the first matching fault that is not used up, counting this request as a hit."""
        with self._lock:
            for fault in self._faults:
                if not fault.exhausted and fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None


class RateLimiter:
    """A token bucket: ``rate`` requests per second of ``clock``, up to ``burst`` at once (no limit when off).

    Opsgenie limits the Incident API per account with a token bucket checked per second: each
    request takes a token, tokens come back at ``rate`` per second up to ``burst``, and a request
    that finds the bucket empty is answered 429 and takes none. The bucket starts full.

    :param clock: seconds on a monotonic scale; a test passes a
        :class:`~airflow_provider_opsgenie_incident.emulator.clock.ManualClock` to refill the
        bucket without sleeping.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._rate: float | None = None
        self._burst = 0.0
        self._tokens = 0.0
        self._updated = 0.0

    def configure(self, rate: float | None, burst: int | None = None) -> None:
        """Allow ``rate`` requests per second, ``burst`` at once (default: ``rate``); ``None``: off.

        The bucket starts full.
        """
        if rate is not None and rate < 0:
            raise ValueError("the rate limit must not be negative")
        if burst is not None and burst < 0:
            raise ValueError("the burst must not be negative")
        with self._lock:
            self._rate = rate
            self._burst = float(burst if burst is not None else (rate or 0))
            self._tokens = self._burst
            self._updated = self._clock()

    def throttled(self) -> bool:
        """Take a token for one request; tell whether there was none (the request is over the limit)."""
        with self._lock:
            if self._rate is None:
                return False
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
            self._updated = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return False
            return True

    def retry_after(self) -> int:
        """Return whole seconds until a token is back, at least 1 (``Retry-After`` is in whole seconds)."""
        with self._lock:
            if not self._rate:
                return 1
            return max(1, math.ceil((1.0 - self._tokens) / self._rate))


@dataclass(frozen=True)
class FaultResponse:
    """What a ``status`` or ``malformed`` fault answers."""

    status: int
    headers: dict[str, str]
    body: bytes
    content_type: str


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_body(message: str, request_id: str, took: float = 0.0) -> bytes:
    """Encode an Opsgenie-style error body."""
    return json.dumps({"message": message, "took": took, "requestId": request_id}).encode()


def _encode(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


def fault_response(fault: Fault, request_id: str) -> FaultResponse:
    """Build the answer of a ``status``, ``malformed`` or ``applied_status`` fault."""
    headers = dict(fault.headers or {})
    given = {name.lower(): name for name in headers}
    content_type = headers.pop(given["content-type"], None) if "content-type" in given else None
    if fault.kind == "malformed":
        body = DEFAULT_MALFORMED_BODY if fault.body is None else _encode(fault.body)
        return FaultResponse(fault.status, headers, body, content_type or "text/html; charset=utf-8")
    if fault.status == 429:
        for name, value in INTEGRATION_RATE_LIMIT_HEADERS.items():
            if name.lower() not in given:
                headers[name] = value
    message = RATE_LIMIT_MESSAGE if fault.status == 429 else _reason(fault.status)
    body = error_body(message, request_id) if fault.body is None else _encode(fault.body)
    return FaultResponse(fault.status, headers, body, content_type or "application/json")
