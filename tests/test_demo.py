"""``make demo`` tells its story and meets every expectation it checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(240)
def test_demo_runs_and_meets_its_expectations() -> None:
    # The demo sets up its own Airflow home; nothing of the test session's Airflow settings leaks in.
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=230,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "task failed -> incident #2 opened" in out
    assert "task failed -> no new incident; timeline entry on #2" in out
    assert "task succeeded -> incident #2 resolved" in out
    assert "Every expectation met" in out
    assert "Traceback" not in out
