"""Helpers shared by the benchmark parts: statistics, child processes, emulator, result rows."""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# A private bytecode cache: the shell may set PYTHONDONTWRITEBYTECODE, and a DAG parser in production
# reads compiled bytecode, so children compile once into this directory instead of on every start.
PYCACHE = Path(tempfile.gettempdir()) / "opsgenie-incident-bench-pycache"


def child_env(**extra: str) -> dict[str, str]:
    """Return the environment for a benchmark child process."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def median(values: list[float]) -> float:
    """Return the median (0.0 for no values)."""
    return statistics.median(values) if values else 0.0


def percentile(values: list[float], fraction: float) -> float:
    """Return the value below which ``fraction`` of the sorted values lie (nearest rank)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


@dataclass
class Row:
    """One line of the summary table; ``met`` is None for a figure without a target."""

    metric: str
    ours: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    met: bool | None = None


def emit(rows: list[Row]) -> None:
    """Hand the rows to ``run.py`` (a JSON file named by BENCH_RESULTS), else print them."""
    path = os.environ.get("BENCH_RESULTS")
    if path:
        Path(path).write_text(json.dumps([asdict(row) for row in rows]))
        return
    for row in rows:
        met = "" if row.met is None else ("yes" if row.met else "NO")
        print(f"  {row.metric}: {row.ours} (baseline {row.baseline}, ratio {row.ratio}) {row.target} {met}")


class ChildServer:
    """A server in a child process (its CPU is not the client's); prints its URL on its first line."""

    def __init__(self, args: list[str]) -> None:
        self.process = subprocess.Popen(
            [PYTHON, *args], stdout=subprocess.PIPE, env=child_env(), cwd=ROOT, text=True
        )
        assert self.process.stdout is not None
        self._stdout: IO[str] = self.process.stdout
        line = self._stdout.readline()
        if "http://" not in line:
            self.stop()
            raise RuntimeError(f"server did not start: {line!r}")
        self.url = line[line.index("http://") :].strip()

    def stop(self) -> None:
        """Stop the child and wait for it."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> ChildServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def emulator_process(processing_delay: float = 0.0) -> ChildServer:
    """Start the package's emulator as ``python -m`` in a child process on a free port."""
    return ChildServer(
        [
            "-m",
            "airflow_provider_opsgenie_incident.emulator",
            "--port",
            "0",
            "--processing-delay",
            str(processing_delay),
        ]
    )


EMULATOR_KEY = "emulator-key"


def quiet() -> None:
    """Silence our package's info lines (one per trigger or callback), which would drown the figures.

    Airflow's structured logging reads its per-logger levels from the environment when first
    configured, so this must run before Airflow is imported.
    """
    os.environ["AIRFLOW__LOGGING__NAMESPACE_LEVELS"] = "airflow_provider_opsgenie_incident=WARNING"
    logging.getLogger("airflow_provider_opsgenie_incident").setLevel(logging.WARNING)
