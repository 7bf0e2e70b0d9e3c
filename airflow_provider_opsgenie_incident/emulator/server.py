"""``OpsgenieEmulator``: an in-process fake Opsgenie over real loopback HTTP.

It serves every endpoint of the Incident API (v1) and the Incident Timeline API (v2) with the
documented shapes, validation and status codes, applies writes asynchronously after
``processing_delay`` seconds, lets search trail the writes by ``search_lag`` seconds, and injects
faults on demand::

    with OpsgenieEmulator() as emu:
        emu.add_fault(Fault("status", status=503, path=r"/create$"))
        emu.add_fault(Fault("applied_status", status=504, path=r"/notes$"))  # applied, then a 504
        emu.search_lag = 2.0  # a search finds an incident 2 s after it was created
        ...  # point a client at emu.url with the key emu.api_key
        assert emu.incidents()[0]["status"] == "open"
        assert len(emu.paged_incidents()) == 1  # responders were paged for one incident
        assert emu.request_counts()["create_incident"] == 1
        assert emu.connections_accepted == 1  # every call on one keep-alive connection

Pass ``clock=ManualClock()`` to drive the rate limit's windows and the search lag by
``clock.advance(seconds)`` instead of waiting.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from airflow_provider_opsgenie_incident.emulator.faults import RateLimiter
from airflow_provider_opsgenie_incident.emulator.handler import Core, EmulatorHTTPServer
from airflow_provider_opsgenie_incident.emulator.state import EmulatorState

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from airflow_provider_opsgenie_incident.emulator.clock import Clock
    from airflow_provider_opsgenie_incident.emulator.faults import Fault
    from airflow_provider_opsgenie_incident.emulator.recording import Page, RecordedRequest

__all__ = ["OpsgenieEmulator"]


class OpsgenieEmulator:
    """A fake Opsgenie server; ``start()`` serves it from a daemon thread.

    :param host: the interface to bind (loopback by default).
    :param port: the port; 0 picks a free one.
    :param api_key: the ``GenieKey`` every request must carry.
    :param processing_delay: seconds before an accepted write is applied (0: before the 202).
    :param search_lag: seconds before incident search sees a write that was applied (see
        :mod:`~airflow_provider_opsgenie_incident.emulator.search`).
    :param clock: the monotonic clock of the rate limit and the search lag (default
        :func:`time.monotonic`); a
        :class:`~airflow_provider_opsgenie_incident.emulator.clock.ManualClock` makes them
        move only when the test says so.
    """

    DEFAULT_API_KEY = "emulator-key"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = DEFAULT_API_KEY,
        processing_delay: float = 0.0,
        search_lag: float = 0.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.host = host
        self._port = port
        self.clock = clock
        self._core = Core(
            state=EmulatorState(clock=clock),
            api_key=api_key,
            rate=RateLimiter(clock),
            processing_delay=processing_delay,
        )
        self.search_lag = search_lag
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        running = "running" if self._server is not None else "stopped"
        return f"<OpsgenieEmulator {self.url if self._server else self.host} {running}>"

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> OpsgenieEmulator:
        """Bind the socket and serve from a daemon thread; return ``self``."""
        if self._server is not None:
            return self
        server = EmulatorHTTPServer((self.host, self._port), self._core)
        self._server = server
        self._port = server.server_address[1]
        self._core.base_url = self.url
        self._core.state.base_url = self.url
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"opsgenie-emulator-{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the listening socket and every open connection."""
        server, self._server = self._server, None
        if server is None:
            return
        self._wake_sleepers()
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._core.state.close()

    def __enter__(self) -> OpsgenieEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- settings --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8025``."""
        if self._port == 0:
            raise RuntimeError("the emulator has no port until start() binds one")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    @property
    def port(self) -> int:
        """The TCP port (0 until started when a free port was asked for)."""
        return self._port

    @property
    def api_key(self) -> str:
        """The ``GenieKey`` requests must carry."""
        return self._core.api_key

    @property
    def processing_delay(self) -> float:
        """Seconds between accepting an asynchronous write and applying it."""
        return self._core.processing_delay

    @processing_delay.setter
    def processing_delay(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("processing_delay must not be negative")
        self._core.processing_delay = float(seconds)

    @property
    def search_lag(self) -> float:
        """Seconds between a write being applied and incident search seeing it."""
        with self._core.state.lock:
            return self._core.state.search.lag

    @search_lag.setter
    def search_lag(self, seconds: float) -> None:
        with self._core.state.lock:
            self._core.state.search.lag = seconds

    def reset(self) -> None:
        """Return to a fresh state (the clock stays as it is).

        No data, faults, rate limit, pages, recorded requests or connection count; no processing
        delay and no search lag.
        """
        self._wake_sleepers()
        self._core.state.reset()
        self._core.faults.clear()
        self._core.rate.configure(None)
        self._core.log.clear()
        self._core.connections.clear()
        self._core.processing_delay = 0.0
        self.search_lag = 0.0

    def _wake_sleepers(self) -> None:
        """End ``delay`` faults in progress; their requests are dropped, not applied."""
        core = self._core
        core.generation += 1
        wake, core.wake = core.wake, threading.Event()
        wake.set()

    # -- recorded requests -----------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received (faulted ones included), in arrival order; a copy."""
        return self._core.log.snapshot()

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        self._core.log.clear()

    def request_counts(self, by: str | Callable[[RecordedRequest], Any] = "endpoint") -> Counter[Any]:
        """Count the recorded requests by a field of :class:`RecordedRequest` or by a function of one.

        ``request_counts()`` counts by endpoint (``{"create_incident": 1, "add_note": 2, ...}``);
        ``request_counts("connection")`` by TCP connection; a caller's own marker, such as a
        header its client sends, with ``request_counts(lambda r: r.headers.get("x-worker"))``.
        """
        key = by if callable(by) else (lambda request: getattr(request, by))
        return Counter(key(request) for request in self._core.log.snapshot())

    @property
    def connections_accepted(self) -> int:
        """TCP connections accepted since the emulator started or was last ``reset()``."""
        return self._core.connections.accepted

    # -- pages -------------------------------------------------------------------------------

    def pages(self) -> list[Page]:
        """Return every time an incident was routed to responders or notified stakeholders, in order.

        A create with ``responders`` or ``notifyStakeholders`` is one page; so is an
        ``add_responder`` that adds someone the incident did not have. Deleting or closing the
        incident takes nothing back.
        """
        return self._core.state.pages()

    def paged_incidents(self) -> list[str]:
        """Return the ids of the incidents that ever had responders, in the order they were paged."""
        return list(dict.fromkeys(page.incident_id for page in self.pages() if page.responders))

    # -- state inspection ------------------------------------------------------------------

    def incidents(self) -> list[dict[str, Any]]:
        """Return copies of every incident (any status), in creation order."""
        return self._core.state.incidents()

    def incident(self, id_or_tiny: str) -> dict[str, Any] | None:
        """Return a copy of the incident with this id or tiny id, or ``None``."""
        state = self._core.state
        return state.get(id_or_tiny, "id") or state.get(id_or_tiny, "tiny")

    def notes(self, incident_id: str) -> list[dict[str, Any]]:
        """Return an incident's notes, oldest first (empty if there is no such incident)."""
        return self._items("notes", incident_id)

    def logs(self, incident_id: str) -> list[dict[str, Any]]:
        """Return an incident's log entries, oldest first (empty if there is no such incident)."""
        return self._items("logs", incident_id)

    def timeline(self, incident_id: str) -> list[dict[str, Any]]:
        """Return an incident's timeline entries, oldest event first (hidden ones included)."""
        incident = self.incident(incident_id)
        return self._core.state.timeline.entries(incident["id"]) if incident else []

    def _items(self, kind: str, incident_id: str) -> list[dict[str, Any]]:
        state = self._core.state
        return state.items(kind, incident_id, "id") or state.items(kind, incident_id, "tiny") or []

    # -- faults ----------------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> Fault:
        """Add a fault rule after the existing ones; return it."""
        return self._core.faults.add(fault)

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._core.faults.clear()

    def rate_limit(self, per_second: float | None, *, burst: int | None = None) -> None:
        """
        Limit requests as Opsgenie's account bucket does: a token bucket, answering 429 when empty.

        :param per_second: tokens back per second; ``None`` turns the limit off.
        :param burst: the bucket's size, the requests allowed at once (default: ``per_second``).
        """
        self._core.rate.configure(per_second, burst)

    # -- asynchronous processing -----------------------------------------------------------

    def wait_until_processed(self, timeout: float = 5.0) -> None:
        """Block until no accepted write is waiting; raise ``TimeoutError`` after ``timeout``."""
        if not self._core.state.processor.wait_idle(timeout):
            raise TimeoutError(f"asynchronous writes still pending after {timeout} s")
