"""Run every benchmark part (or those named on the command line) and print one summary table.

``make bench`` runs ``python benchmarks/run.py``. Each part runs in its own process, as
``python -m benchmarks.<part>``, prints its detail as it goes and hands its summary rows back
through a JSON file; a part that crashes is reported as such and the others still run. The exit
status is 1 only when a part could not run: an unmet target is a result, shown in the table.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = [
    "import_cost",
    "per_call",
    "wait_latency",
    "triggerer_scale",
    "failure_storm",
    "throttled_storm",
    "storm_creators",
]
PART_TIMEOUT = 300.0
#: Parts that take longer: storm_creators runs 80 storms of two codes, some waiting out a 2 s search lag.
PART_TIMEOUTS = {"storm_creators": 1200.0}
COLUMNS = ["metric", "ours", "baseline", "ratio", "target", "met"]


def _airflow_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("apache-airflow")
    except PackageNotFoundError:
        return "not installed"


def _run_part(name: str, env: dict[str, str]) -> list[dict[str, object]] | None:
    """Run one part; return its summary rows, or None when it crashed or timed out."""
    with tempfile.TemporaryDirectory() as folder:
        results = Path(folder) / "rows.json"
        try:
            done = subprocess.run(
                [sys.executable, "-m", f"benchmarks.{name}"],
                cwd=ROOT,
                env={**env, "BENCH_RESULTS": str(results)},
                timeout=PART_TIMEOUTS.get(name, PART_TIMEOUT),
                check=False,
            )
        except subprocess.TimeoutExpired:
            limit = PART_TIMEOUTS.get(name, PART_TIMEOUT)
            return [{"metric": f"{name}: timed out after {limit:g} s", "ours": "", "met": False}]
        if done.returncode != 0 or not results.exists():
            return [
                {"metric": f"{name}: failed (exit {done.returncode}), see above", "ours": "", "met": False}
            ]
        rows: list[dict[str, object]] = json.loads(results.read_text())
        return rows


def _cell(row: dict[str, object], column: str) -> str:
    value = row.get(column)
    if column == "met":
        return "" if value is None else ("yes" if value else "**NO**")
    return str(value or "").replace("|", "/")


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    from benchmarks.common import child_env

    parts = argv or PARTS
    unknown = [name for name in parts if name not in PARTS]
    if unknown:
        print(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    env = child_env()
    print(
        f"benchmarks {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; Python {platform.python_version()};"
        f" Airflow {_airflow_version()}; {os.cpu_count()} cores; parts: {', '.join(parts)}",
        flush=True,
    )
    rows: list[dict[str, object]] = []
    crashed = []
    for name in parts:
        print(f"\n== {name} ==", flush=True)
        part_started = time.perf_counter()
        part_rows = _run_part(name, env)
        if part_rows is None:
            crashed.append(name)
            part_rows = [{"metric": f"{name}: did not finish, see its output above", "met": False}]
        rows += part_rows
        print(f"   ({time.perf_counter() - part_started:.0f} s)", flush=True)
    print(f"\n== summary ({time.perf_counter() - started:.0f} s in all) ==\n")
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for row in rows:
        print("| " + " | ".join(_cell(row, column) for column in COLUMNS) + " |")
    # An unmet target is a result, printed above; only a part that could not run fails the command.
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
