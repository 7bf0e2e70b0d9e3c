"""Deferred application of asynchronous writes: one worker thread and a time-ordered queue.

Opsgenie answers every incident write with 202 and applies it later. The emulator applies a write
either at once (delay 0, before the 202 is sent: deterministic tests) or after the delay, from a
single background thread that sleeps until the earliest due item (not a timer per request).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["AsyncProcessor"]

_log = logging.getLogger(__name__)

Apply = Callable[[str, str, dict[str, Any]], None]


class AsyncProcessor:
    """Queue ``(request_id, action, params)`` items and hand each to ``apply`` when it is due.

    ``lock`` is the state's (reentrant) lock: ``apply`` runs while holding it, so a write is applied
    atomically with respect to every other state operation.
    """

    def __init__(self, lock: threading.RLock, apply: Apply) -> None:
        self._cond = threading.Condition(lock)
        self._apply = apply
        self._queue: list[tuple[float, int, str, str, dict[str, Any]]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, request_id: str, action: str, params: dict[str, Any], delay: float) -> None:
        """Apply now if ``delay`` <= 0, else queue for ``delay`` seconds from now."""
        with self._cond:
            if delay <= 0:
                self._apply(request_id, action, params)
                return
            due = time.monotonic() + delay
            heapq.heappush(self._queue, (due, next(self._seq), request_id, action, params))
            if self._thread is None or not self._thread.is_alive():
                self._closed = False
                self._thread = threading.Thread(target=self._run, name="opsgenie-emulator-writer")
                self._thread.daemon = True
                self._thread.start()
            self._cond.notify_all()

    def pending(self) -> int:
        """Return how many writes are waiting."""
        with self._cond:
            return len(self._queue)

    def wait_idle(self, timeout: float) -> bool:
        """Block until no write is waiting; return ``False`` on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue, timeout)

    def clear(self) -> None:
        """Drop every waiting write."""
        with self._cond:
            self._queue.clear()
            self._cond.notify_all()

    def close(self) -> None:
        """Drop waiting writes and stop the worker thread."""
        with self._cond:
            self._queue.clear()
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
            self._thread = None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                if not self._queue:
                    self._cond.wait()
                    continue
                wait = self._queue[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                _, _, request_id, action, params = heapq.heappop(self._queue)
                try:
                    self._apply(request_id, action, params)
                except Exception:
                    _log.exception("Applying %s request %s failed", action, request_id)
                self._cond.notify_all()
