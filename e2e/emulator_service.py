"""The bundled Opsgenie emulator as its own process, with a small loopback control API for the checks.

``python -m e2e.emulator_service --port P --control-port C --api-key K`` serves the Opsgenie API on
``P`` (the package's ``OpsgenieEmulator``) and, on ``C``, JSON views of what the emulator holds:

- ``GET /incidents``: every incident, any status, in creation order;
- ``GET /notes/<id>``: an incident's notes; ``GET /timeline/<id>``: its timeline, oldest event first;
- ``GET /requests?since=N``: the request log from position ``N`` (method, path, query, body; never
  headers, which carry the GenieKey), with ``next`` to continue from;
- ``POST /processing-delay`` ``{"seconds": S}``: how long accepted writes wait before they apply.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator


def _control_handler(emulator: OpsgenieEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _answer(self, status: int, payload: Any) -> None:
            body = json.dumps(payload, default=str).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/incidents":
                return self._answer(200, emulator.incidents())
            if url.path.startswith("/notes/"):
                return self._answer(200, emulator.notes(url.path.removeprefix("/notes/")))
            if url.path.startswith("/timeline/"):
                return self._answer(200, emulator.timeline(url.path.removeprefix("/timeline/")))
            if url.path == "/requests":
                since = int(parse_qs(url.query).get("since", ["0"])[0])
                log = emulator.requests
                items = [
                    {"method": r.method, "path": r.path, "query": r.query, "body": r.body, "fault": r.fault}
                    for r in log[since:]
                ]
                return self._answer(200, {"requests": items, "next": len(log)})
            return self._answer(404, {"error": f"no {url.path}"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path == "/processing-delay":
                emulator.processing_delay = float(body["seconds"])
                return self._answer(200, {"seconds": emulator.processing_delay})
            return self._answer(404, {"error": f"no {self.path}"})

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m e2e.emulator_service")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--control-port", type=int, required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--processing-delay", type=float, default=0.2)
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    emulator = OpsgenieEmulator(port=args.port, api_key=args.api_key, processing_delay=args.processing_delay)
    emulator.start()
    control = ThreadingHTTPServer(("127.0.0.1", args.control_port), _control_handler(emulator))
    threading.Thread(target=control.serve_forever, daemon=True).start()
    print(f"emulator {emulator.url} control http://127.0.0.1:{args.control_port}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        control.shutdown()
        control.server_close()
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
