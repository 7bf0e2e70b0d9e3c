"""One thread per process that ends every sync exchange past its deadline.

``requests`` bounds only the connect and each silence between bytes, so a server that trickles one
byte every half second, or never ends its 1xx answers, could hold a call forever. Each exchange
registers its deadline here (a push on a heap, no thread per call); past the deadline the watchdog
shuts the exchange's socket down, which wakes the blocked read at once, and the client reports
``TransportError(cause="deadline")``. Standard library only; no I/O until the first exchange.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_opsgenie_incident.client.limits import TransportCause

__all__ = ["Exchange", "current", "watch"]

#: ``current.exchange``: the exchange the calling thread is making, set by the client around each attempt.
current = threading.local()


class Exchange:
    """
    One HTTP attempt under a deadline: the socket it runs on, and how it ended.

    :param deadline: the ``time.monotonic()`` after which the exchange is ended.
    """

    __slots__ = ("cause", "deadline", "done", "expired", "message", "sent", "sock")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.sock: socket.socket | None = None
        #: Set by the watchdog; checked after the socket was attached, so neither side misses it.
        self.expired = False
        self.done = False
        #: True from the moment request bytes may have left on a connected socket.
        self.sent = False
        #: A limit or framing rule the response broke, named by the parser that found it.
        self.cause: TransportCause | None = None
        self.message = ""

    def attach(self, sock: socket.socket | None) -> None:
        """Record the socket the exchange now runs on; shut it down at once if the deadline passed."""
        self.sock = sock
        if self.expired:
            _shutdown(sock)

    def finish(self) -> None:
        """Mark the exchange over: the watchdog leaves it alone, and its socket is forgotten."""
        self.done = True
        self.sock = None

    def expire(self) -> None:
        """End the exchange: shut its socket down so a blocked read or write returns now."""
        self.expired = True
        _shutdown(self.sock)


def _shutdown(sock: socket.socket | None) -> None:
    if sock is None:
        return
    try:
        # The plain socket's shutdown, also for a TLS socket: ssl.SSLSocket.shutdown would drop its
        # TLS state under the thread still reading it.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


class _Watchdog:
    """The heap of deadlines and the daemon thread that serves it."""

    def __init__(self) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, Exchange]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        # Finished exchanges stay in the heap until their deadline; past this size it is compacted.
        self._compact_at = 1024

    def watch(self, seconds: float) -> Exchange:
        exchange = Exchange(time.monotonic() + seconds)
        with self._condition:
            heap = self._heap
            if len(heap) >= self._compact_at:
                heap[:] = [entry for entry in heap if not entry[2].done]
                heapq.heapify(heap)
                self._compact_at = max(1024, 2 * len(heap))
            heapq.heappush(heap, (exchange.deadline, next(self._order), exchange))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="opsgenie-incident-watchdog", daemon=True
                )
                self._thread.start()
            elif heap[0][2] is exchange:
                self._condition.notify()
        return exchange

    def _run(self) -> None:
        heap = self._heap
        with self._condition:
            while True:
                now = time.monotonic()
                while heap and heap[0][0] <= now:
                    exchange = heapq.heappop(heap)[2]
                    if not exchange.done:
                        exchange.expire()
                self._condition.wait(heap[0][0] - now if heap else None)


_WATCHDOG = _Watchdog()


def _after_fork() -> None:
    # A forked worker inherits the heap but not the thread: it starts its own on first use.
    global _WATCHDOG
    _WATCHDOG = _Watchdog()


os.register_at_fork(after_in_child=_after_fork)


def watch(seconds: float) -> Exchange:
    """Register an exchange that must end within ``seconds``; call :meth:`Exchange.finish` when it does."""
    return _WATCHDOG.watch(seconds)
