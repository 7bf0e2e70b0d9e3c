"""100 failures at once under a 5 requests/s token bucket: every failure recorded, once, within budget.

The storm is the benchmark's (``benchmarks/throttled_storm.py``): 10 tasks x 10 mapped instances,
each a fresh failure notifier with default options in its own thread, against the package emulator.
Under the limit it runs in four forked worker processes (the harder case: each task's instances are
spread over two processes, so only some of them share a pacer and what they found); without a
limit, in one process, where the request count per failure is the design's target. The throttled
storm takes about a minute (230 to 320 requests at 5 per second), hence its own timeout.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_storms(*arguments: str, storms: int = 1) -> list[dict[str, Any]]:
    """Run ``storms`` storms of the benchmark in a fresh process tree; return their figures."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("AIRFLOW_CONN_OPSGENIE_INCIDENT_DEFAULT", None)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.throttled_storm", *arguments, "--storms", str(storms), "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [figures] = json.loads(done.stdout.strip().splitlines()[-1]).values()
    return [dict(storm) for storm in figures]


def run_storm(*arguments: str) -> dict[str, Any]:
    """Run one storm of the benchmark in a fresh process tree; return its figures."""
    [storm] = run_storms(*arguments)
    return storm


def _held(storm: dict[str, Any]) -> None:
    figures = {key: value for key, value in storm.items() if key != "requests_by_endpoint"}
    assert storm["recorded"] == 100, figures
    assert storm["recorded_twice"] == 0, figures
    assert storm["open_by_task"] == {f"extract_{task}": 1 for task in range(10)}, figures
    assert storm["errors"] == [], figures
    assert storm["slowest"] <= storm["budget"] + 1.0, figures


@pytest.mark.timeout(300)
def test_a_storm_under_the_rate_limit_loses_no_failure(record_property: Any) -> None:
    storm = run_storm("--mode", "processes", "--rate", "5")
    record_property("storm", storm)
    _held(storm)
    assert storm["throttled"] <= storm["requests"] / 3, storm


def test_a_storm_without_a_limit_takes_few_requests_per_failure(record_property: Any) -> None:
    # Three storms, each a fresh outage; the target (2.5 requests per failure) is for their median,
    # as the benchmark reports it: the tiny-id watch before a create reads a varying few more.
    storms = run_storms("--mode", "threads", "--rate", "0", storms=3)
    record_property("storms", storms)
    for storm in storms:
        _held(storm)
    assert statistics.median(storm["requests"] for storm in storms) <= 250, storms
