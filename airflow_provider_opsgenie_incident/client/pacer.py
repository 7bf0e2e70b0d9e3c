"""When any client of one account may send: one pacer per account (base URL and key) in a process.

Opsgenie limits the Incident API per account with a token bucket. Clients that retry on their own
after a 429 all come back together when the server's ``Retry-After`` ends and empty the bucket
again, so most of what they send is answered 429. A :class:`Pacer` is shared by every client,
sync or async, of one account in the process and decides *when* anyone may send; the retry policy
(:mod:`.retry`) still decides *whether* a failed call is tried again.

- Until a 429 is seen, a turn is given at once: no lock is taken and nothing waits.
- A 429 holds every caller until the server's hint has passed, and spaces the turns after it by
  an interval that doubles on each round of 429s (a round: the requests sent before the last
  adjustment) and halves every 4 s without one, so the clients of a process settle near the
  rate the bucket refills at; after ``QUIET`` seconds without a 429,
  turns are free again. A caller that reserved a turn before a
  later 429 takes a new one.
- A turn that would come after the time budget of the call or of its flow is not reserved: the
  call fails at once with :class:`~.errors.RateLimitedError` saying when the turn would have come.

The pacer knows the account by the base URL and a digest of the key; the key itself is never kept.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_opsgenie_incident.client.accounts import PerAccount
from airflow_provider_opsgenie_incident.client.errors import RateLimitedError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

__all__ = ["Pacer", "budget", "current_deadline", "pacer_for", "reset_pacers"]

T = TypeVar("T")

#: The spacing of turns after a first 429, in seconds; below it, the pacer stops spacing turns.
MIN_INTERVAL = 0.05
#: The widest spacing of turns, in seconds.
MAX_INTERVAL = 5.0
#: What the spacing is multiplied by per second without a 429 (it halves in 4 s).
RELAX = 0.5**0.25
#: Seconds without a 429 after which turns are given at once again.
QUIET = 10.0

_deadline: contextvars.ContextVar[float] = contextvars.ContextVar(
    "opsgenie_incident_deadline", default=math.inf
)


def current_deadline() -> float:
    """Return the ``time.monotonic()`` by which the running flow must be done (``inf``: none)."""
    return _deadline.get()


@contextmanager
def budget(seconds: float) -> Iterator[float]:
    """Run the block within ``seconds`` (and within any budget around it); yield the deadline."""
    deadline = min(_deadline.get(), time.monotonic() + seconds)
    token = _deadline.set(deadline)
    try:
        yield deadline
    finally:
        _deadline.reset(token)


class Pacer:
    """
    Decide when the clients of one account in this process may send.

    :param label: how the account is shown: its base URL and a short digest of its key.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self._lock = threading.Lock()
        self._free_at = 0.0  # monotonic: no turn before this
        self._interval = 0.0  # seconds between turns; 0 while not throttled
        self._adjusted_at = -math.inf  # when a 429 last widened the interval
        self._relaxed_at = 0.0  # when the interval last changed
        self._generation = 0  # 429s seen: a turn reserved before the latest one is taken again
        #: 429 answers seen, and turns that had to wait.
        self.throttled = 0
        self.held = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label!r}, interval={self._interval:.3f})"

    def delay(self) -> float:
        """Return the seconds until the next free turn, without reserving it."""
        return max(self._free_at - time.monotonic(), 0.0)

    def _reserve(self, now: float, latest: float) -> float | None:
        """Reserve the next turn; return the seconds to wait for it, or None when it is after ``latest``."""
        if not self._interval and now >= self._free_at:
            return 0.0
        with self._lock:
            slot = max(now, self._free_at)
            if slot > latest:
                return None
            self._free_at = slot + self._interval
            self.held += 1
        return slot - now

    def _refused(self) -> RateLimitedError:
        wait = self.delay()
        return RateLimitedError(
            f"throttled: the next turn to send comes in {wait:.1f} s, after the time budget ends",
            retry_after=wait,
        )

    def _record(self, sent_at: float, error: BaseException | None) -> None:
        """Learn from one exchange's outcome: a 429 holds and spaces the turns, an answer relaxes them."""
        if isinstance(error, RateLimitedError):
            with self._lock:
                now = time.monotonic()
                self.throttled += 1
                self._generation += 1
                if sent_at >= self._adjusted_at:
                    self._interval = min(max(self._interval * 2.0, MIN_INTERVAL), MAX_INTERVAL)
                    self._adjusted_at = self._relaxed_at = now
                hint = error.retry_after if error.retry_after is not None else self._interval
                self._free_at = max(self._free_at, now + hint)
        elif self._interval and error is None:
            with self._lock:
                now = time.monotonic()
                # Relaxed by the time since the last change, not by the answers counted, so a
                # process whose turns are far apart recovers as fast as a busy one.
                self._interval *= RELAX ** (now - self._relaxed_at)
                self._relaxed_at = now
                if self._interval < MIN_INTERVAL:
                    self._interval = MIN_INTERVAL if now - self._adjusted_at < QUIET else 0.0

    def _waits(self, now: float, budget: float) -> Iterator[float]:
        """Yield the sleeps until this caller's turn: a turn reserved before a newer 429 is taken again."""
        latest = min(current_deadline(), now + budget)
        while True:
            wait = self._reserve(now, latest)
            if wait is None:
                raise self._refused()
            if not wait:
                return
            seen = self._generation
            yield wait
            if self._generation == seen:
                return
            now = time.monotonic()

    def wrap(self, send: Callable[[Any], T], budget: float) -> Callable[[Any], T]:
        """Return ``send`` (one exchange) taking its turn first; ``budget``: seconds a call may take."""

        def paced(request: Any) -> T:
            now = time.monotonic()
            if self._interval or now < self._free_at:
                for wait in self._waits(now, budget):
                    time.sleep(wait)
                now = time.monotonic()
            try:
                result = send(request)
            except Exception as error:
                self._record(now, error)
                raise
            if self._interval:
                self._record(now, None)
            return result

        return paced

    def awrap(self, send: Callable[[Any], Awaitable[T]], budget: float) -> Callable[[Any], Awaitable[T]]:
        """Return the async ``send`` taking its turn first, as :meth:`wrap` does."""

        async def paced(request: Any) -> T:
            now = time.monotonic()
            if self._interval or now < self._free_at:
                for wait in self._waits(now, budget):
                    await asyncio.sleep(wait)
                now = time.monotonic()
            try:
                result = await send(request)
            except Exception as error:
                self._record(now, error)
                raise
            if self._interval:
                self._record(now, None)
            return result

        return paced


_pacers = PerAccount(lambda base_url, digest: Pacer(f"{base_url} key#{digest[:6]}"))


def pacer_for(base_url: str, api_key: str) -> Pacer:
    """Return the pacer of the account behind ``base_url`` and ``api_key`` in this process."""
    return _pacers.get(base_url, api_key)


def reset_pacers() -> None:
    """Forget every account's pacer (a forked child starts afresh; tests start each case afresh)."""
    _pacers.reset()
