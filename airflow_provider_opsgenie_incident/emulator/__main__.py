"""Run the Opsgenie emulator as a standalone server until SIGINT or SIGTERM.

``python -m airflow_provider_opsgenie_incident.emulator [--host H] [--port P] [--api-key K]
[--processing-delay S] [--search-lag S]`` prints ``Opsgenie emulator listening on http://H:P`` once it serves.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import TYPE_CHECKING

from airflow_provider_opsgenie_incident.emulator.server import OpsgenieEmulator

if TYPE_CHECKING:
    from types import FrameType


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_opsgenie_incident.emulator",
        description="Serve a fake Opsgenie Incident API and Incident Timeline API.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=8025, help="port; 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument(
        "--api-key",
        default=OpsgenieEmulator.DEFAULT_API_KEY,
        help="GenieKey to accept (default: %(default)s)",
    )
    parser.add_argument(
        "--processing-delay",
        type=float,
        default=0.2,
        help="seconds before an accepted write is applied (default: %(default)s)",
    )
    parser.add_argument(
        "--search-lag",
        type=float,
        default=0.0,
        help="seconds before incident search sees an applied write (default: %(default)s)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted; return the exit status."""
    args = _parser().parse_args(argv)
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    emulator = OpsgenieEmulator(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        processing_delay=args.processing_delay,
        search_lag=args.search_lag,
    )
    emulator.start()
    try:
        print(f"Opsgenie emulator listening on {emulator.url}", flush=True)
        while not stop.wait(1.0):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
