"""Twelve worker processes fail one task at once: one open incident, one page, few creates and calls.

The storm is the benchmark's (``benchmarks/failure_storm.py``, scenario ``12x1``), run once here
and ten times there: twelve processes, forked as Airflow's executors fork workers, each fire the
failure notifier (with responders) for the same task at the same moment against an emulator whose
writes take 0.2 s to apply. The benchmark reports every figure as JSON; this test holds them to
the design's promises: no callback fails, exactly one incident stays open, responders are paged
for exactly one incident (closing a duplicate does not take its page back) and stakeholders
notified at most once, every duplicate is
closed with exactly one note naming the kept incident, at most ``CREATED_BOUND`` incidents are
created (the design's median target is 2; one storm may be unlucky) and at most
``CALLS_PER_CALLBACK`` HTTP calls are made per callback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CREATED_BOUND = 3
CALLS_PER_CALLBACK = 8.0


def run_storm() -> dict[str, Any]:
    """Run one 12x1 storm in a fresh process tree; return its figures."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("AIRFLOW_CONN_OPSGENIE_INCIDENT_DEFAULT", None)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.failure_storm", "--scenario", "12x1", "--storms", "1", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    print(done.stdout)
    [storm] = json.loads(done.stdout.strip().splitlines()[-1])["12x1"]
    return dict(storm)


@pytest.mark.timeout(300)
def test_twelve_processes_failing_one_task_page_once(record_property: Any) -> None:
    storm = run_storm()
    per_callback = storm["calls"] / storm["callbacks"]
    figures = (
        f"created {storm['created']}, open {storm['open_by_task']}, pages {storm['pages_by_task']},"
        f" stakeholder notifications {storm['stakeholder_notifications']},"
        f" HTTP calls per callback {per_callback:.1f} (most {storm['max_calls_per_callback']}),"
        f" calls {storm['calls_by_endpoint']}, duplicates not closed once {storm['badly_closed_duplicates']}"
    )
    record_property("storm", figures)
    assert storm["errors"] == [], figures
    assert storm["open_by_task"] == {"extract_0": 1}, figures
    assert storm["pages_by_task"] == {"extract_0": 1}, figures
    assert storm["stakeholder_notifications"] <= 1, figures
    assert storm["badly_closed_duplicates"] == [], figures
    assert storm["created"] <= CREATED_BOUND, figures
    assert per_callback <= CALLS_PER_CALLBACK, figures
