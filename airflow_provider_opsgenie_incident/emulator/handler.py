"""The HTTP layer: a threading server and a keep-alive request handler.

For each request the handler reads the body, records the request (with the endpoint it addresses
and the number of its TCP connection), applies a matching fault or the rate limit, checks the
``GenieKey``, routes, and answers JSON with ``took`` and a fresh ``requestId``. It never lets
garbage crash the server: malformed request lines, bad ``Content-Length``, bodies over 1 MiB (413)
and unknown methods (405) all get JSON errors.
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from airflow_provider_opsgenie_incident.emulator.api import ApiRequest, ApiResponse, Context
from airflow_provider_opsgenie_incident.emulator.errors import ApiError
from airflow_provider_opsgenie_incident.emulator.faults import (
    ACCOUNT_RATE_LIMIT_HEADERS,
    APPLYING_KINDS,
    RATE_LIMIT_MESSAGE,
    FaultSet,
    RateLimiter,
    fault_response,
)
from airflow_provider_opsgenie_incident.emulator.recording import (
    ConnectionCounter,
    RecordedRequest,
    RequestLog,
)
from airflow_provider_opsgenie_incident.emulator.routes import KNOWN_METHODS, Route, resolve

if TYPE_CHECKING:
    from airflow_provider_opsgenie_incident.emulator.faults import Fault
    from airflow_provider_opsgenie_incident.emulator.state import EmulatorState

__all__ = ["MAX_BODY_BYTES", "Core", "EmulatorHTTPServer", "EmulatorHandler"]

_log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
# A body over the limit is still read and discarded up to this size, so the client can see the
# 413 instead of a reset caused by closing a socket with unread data.
_DRAIN_LIMIT = 16 * MAX_BODY_BYTES
_LINGER_RESET = struct.pack("ii", 1, 0)


@dataclass
class Core:
    """Everything the handlers share; owned by ``OpsgenieEmulator``."""

    state: EmulatorState
    api_key: str
    rate: RateLimiter
    base_url: str = ""
    processing_delay: float = 0.0
    faults: FaultSet = field(default_factory=FaultSet)
    log: RequestLog = field(default_factory=RequestLog)
    connections: ConnectionCounter = field(default_factory=ConnectionCounter)
    generation: int = 0
    wake: threading.Event = field(default_factory=threading.Event)


class _BodyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that numbers its connections and tracks the open ones for ``stop()``."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], core: Core) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.core = core
        self._connections: dict[socket.socket, int] = {}
        self._connections_lock = threading.Lock()
        super().__init__(address, EmulatorHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Give the connection a number, track it, then serve it in a thread."""
        with self._connections_lock:
            self._connections[request] = self.core.connections.accept()
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget the connection and close it."""
        with self._connections_lock:
            self._connections.pop(request, None)
        super().shutdown_request(request)

    def connection_number(self, request: socket.socket) -> int:
        """Return the number given to an open connection (0 if it is not tracked)."""
        with self._connections_lock:
            return self._connections.get(request, 0)

    def close_connections(self) -> None:
        """Shut down every open connection so idle keep-alive threads finish."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log instead of printing a traceback to stderr."""
        _log.exception("Error while serving %s", client_address)


def _decode(raw: bytes | None) -> tuple[Any, bool]:
    """Return ``(body, invalid)``: parsed JSON, ``None`` when empty, or the text if not JSON."""
    if raw is None or not raw.strip():
        return None, False
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text), False
    except ValueError:
        return text, True


class EmulatorHandler(BaseHTTPRequestHandler):
    """Serve one connection (keep-alive) of the emulator."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "OpsgenieEmulator"
    sys_version = ""
    server: EmulatorHTTPServer

    def version_string(self) -> str:
        """Return the ``Server`` header value."""
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Send the access log to ``logging`` at debug level instead of stderr."""
        _log.debug("%s - " + format, self.address_string(), *args)

    def setup(self) -> None:
        """Set the connection up and remember its number for the request log."""
        super().setup()
        self.connection_number = self.server.connection_number(self.request)

    def handle_one_request(self) -> None:
        """Read and answer one request; connection errors just end the connection."""
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline = self.request_version = self.command = ""
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self._serve()
            self.wfile.flush()
        except OSError:
            self.close_connection = True
        except Exception:
            _log.exception("Unexpected error in the Opsgenie emulator")
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer a request the stdlib parser rejected, as a JSON error, and close the connection."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":
            # The request line was unreadable; answer with a status line and headers anyway.
            self.request_version = self.protocol_version
        text = message or HTTPStatus(code).phrase
        body = {"message": text, "took": 0.0, "requestId": str(uuid.uuid4())}
        self._send(code, json.dumps(body).encode(), "application/json", {})

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        if self.command == "HEAD":
            self.close_connection = True
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _send_api(self, response: ApiResponse, request_id: str, started: float) -> None:
        took = round(time.perf_counter() - started, 3)
        payload = {**response.payload, "took": took, "requestId": request_id}
        self._send(response.status, json.dumps(payload).encode(), "application/json", response.headers)

    def _reset(self) -> None:
        """Abort the connection with an RST and no response."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
            self.rfile.close()
            self.connection.close()
        except OSError:
            pass

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        declared = self.headers.get("Content-Length")
        if declared is None:
            return b""
        try:
            length = int(declared.strip())
        except ValueError:
            raise _BodyError(400, "Invalid Content-Length header") from None
        if length < 0:
            raise _BodyError(400, "Invalid Content-Length header")
        if length > MAX_BODY_BYTES:
            if length <= _DRAIN_LIMIT:
                self.rfile.read(length)
            raise _BodyError(413, f"Request body is larger than {MAX_BODY_BYTES} bytes")
        data = self.rfile.read(length)
        if len(data) < length:
            raise _BodyError(400, "Request body is shorter than its Content-Length")
        return data

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(65537)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise _BodyError(400, "Invalid chunked request body") from None
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise _BodyError(413, f"Request body is larger than {MAX_BODY_BYTES} bytes")
            data = self.rfile.read(size)
            if len(data) < size:
                raise _BodyError(400, "Truncated chunked request body")
            chunks.append(data)
            self.rfile.readline(65537)

    def _serve(self) -> None:
        started = time.perf_counter()
        core = self.server.core
        generation, wake = core.generation, core.wake
        request_id = str(uuid.uuid4())
        raw_path, _, raw_query = self.path.partition("?")
        path = unquote(raw_path)
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        headers = {name.lower(): value for name, value in self.headers.items()}
        body_error: _BodyError | None = None
        try:
            raw: bytes | None = self._read_body()
        except _BodyError as exc:
            raw, body_error = None, exc
            self.close_connection = True
        body, invalid = _decode(raw)
        resolved = _route(self.command, raw_path)
        fault = None
        throttled = False
        if body_error is None:
            fault = core.faults.take(self.command, path)
            if fault is None or fault.kind in APPLYING_KINDS:
                throttled = core.rate.throttled()
        label = fault.kind if fault is not None else ("rate_limit" if throttled else None)
        endpoint = resolved[0].name if isinstance(resolved, tuple) else None
        recorded = RecordedRequest(
            self.command, path, self.path, query, headers, body, label, endpoint, self.connection_number
        )
        core.log.append(recorded)

        if body_error is not None:
            answer = ApiResponse(body_error.status, {"message": body_error.message})
            self._send_api(answer, request_id, started)
            return
        if fault is not None:
            if fault.kind == "reset":
                self._reset()
                return
            if fault.kind in ("status", "malformed"):
                self._send_fault(fault, request_id)
                return
            if fault.kind == "delay" and not self._hold(fault.seconds, generation, wake):
                self._reset()  # the emulator was reset meanwhile: never touch the new state
                return
        if throttled:
            headers = {**ACCOUNT_RATE_LIMIT_HEADERS, "Retry-After": str(core.rate.retry_after())}
            response = ApiResponse(429, {"message": RATE_LIMIT_MESSAGE}, headers)
            self._send_api(response, request_id, started)
            return
        response = self._dispatch(core, ApiRequest(self.command, query, body, invalid, request_id), resolved)
        if fault is None or fault.kind == "delay":
            self._send_api(response, request_id, started)
        elif fault.kind == "applied_status":
            self._send_fault(fault, request_id)
        elif fault.kind == "applied_delay" and self._hold(fault.seconds, generation, wake):
            self._send_api(response, request_id, started)
        else:  # lost_response, or an applied_delay cut short by a reset: the answer never leaves
            self._reset()

    def _send_fault(self, fault: Fault, request_id: str) -> None:
        canned = fault_response(fault, request_id)
        self._send(canned.status, canned.body, canned.content_type, canned.headers)

    def _hold(self, seconds: float, generation: int, wake: threading.Event) -> bool:
        """Sleep up to ``seconds``; ``False`` when the emulator was reset or stopped meanwhile."""
        wake.wait(seconds)
        return self.server.core.generation == generation

    def _dispatch(
        self, core: Core, request: ApiRequest, resolved: tuple[Route, list[str]] | ApiError
    ) -> ApiResponse:
        try:
            if request.method in KNOWN_METHODS:
                scheme, _, key = self.headers.get("Authorization", "").strip().partition(" ")
                if scheme.lower() != "geniekey" or key.strip() != core.api_key:
                    return ApiResponse(401, {"message": "Could not authenticate"})
            if isinstance(resolved, ApiError):
                raise resolved
            route, params = resolved
            return route.handler(Context(core.state, core.base_url, core.processing_delay), request, params)
        except ApiError as exc:
            return ApiResponse(exc.status, {"message": exc.message}, exc.headers)
        except Exception:
            _log.exception("The emulator failed on %s %s", request.method, self.path)
            return ApiResponse(500, {"message": "Internal error in the Opsgenie emulator"})


def _route(method: str, raw_path: str) -> tuple[Route, list[str]] | ApiError:
    """Return the route and its parameters, or the 404 / 405 to answer once authenticated."""
    try:
        return resolve(method, raw_path)
    except ApiError as exc:
        return exc
