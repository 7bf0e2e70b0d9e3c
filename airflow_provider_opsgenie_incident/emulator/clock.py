"""Timestamps in the format Opsgenie uses: ISO-8601, UTC, milliseconds, ``Z``."""

from __future__ import annotations

import time
from datetime import datetime, timezone

__all__ = ["format_ms", "now_ms", "parse_time"]


def now_ms() -> int:
    """Return the wall-clock time in milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def format_ms(epoch_ms: int) -> str:
    """Format milliseconds since the epoch as ``2017-05-24T14:24:20.844Z``."""
    moment = datetime.fromtimestamp(epoch_ms // 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def parse_time(text: str) -> int:
    """Parse an ISO-8601 timestamp (naive means UTC) into milliseconds; raise ``ValueError`` if invalid."""
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return round(moment.timestamp() * 1000)
