"""Time in the emulator: Opsgenie's timestamp format, and the clock behind its time-based faults.

The rate limit's one-second windows and the search lag read a :data:`Clock`: any callable returning
seconds on a monotonic scale (default :func:`time.monotonic`). Tests pass a :class:`ManualClock`
and move it with ``advance()`` instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["Clock", "ManualClock", "format_ms", "now_ms", "parse_time"]

Clock = Callable[[], float]


class ManualClock:
    """A monotonic clock that moves only when told to; thread-safe.

    :param start: the reading before the first ``advance``.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._now = float(start)

    def __call__(self) -> float:
        """Return the current reading, in seconds."""
        with self._lock:
            return self._now

    def __repr__(self) -> str:
        return f"ManualClock({self()})"

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (not negative)."""
        if seconds < 0:
            raise ValueError("a monotonic clock cannot go back")
        with self._lock:
            self._now += seconds


def now_ms() -> int:
    """Return the wall-clock time in milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def format_ms(epoch_ms: int) -> str:
    """Format milliseconds since the epoch as ``2017-05-24T14:24:20.844Z``."""
    moment = datetime.fromtimestamp(epoch_ms // 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def parse_time(text: str) -> int:
    """Parse an ISO-8601 timestamp (naive means UTC) into milliseconds; raise ``ValueError`` if invalid."""
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)
