"""``make demo`` tells its story and meets every expectation it checks."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
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
    assert "wait_until_resolved    success" in out  # the real sensor, not marked done
    pages = re.findall(r"^   #\d+\s+(http://127\.0\.0\.1:\d+/incident/detail/\S+)$", out, re.M)
    assert len(pages) >= 3, out
    assert re.search(r"all incidents: http://127\.0\.0\.1:\d+/incident/list$", out, re.M)


@pytest.mark.timeout(240)
def test_demo_serves_the_pages_it_printed_until_sigterm() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    demo = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), "--serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        pages = []
        assert demo.stdout is not None
        for line in demo.stdout:
            pages += re.findall(r"^   #\d+\s+(http://\S+/incident/detail/\S+)$", line)
            if line.startswith("Serving the emulator"):
                break
        assert pages
        for page in pages:
            with urllib.request.urlopen(page, timeout=10) as answer:  # no key: a browser's request
                assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
                assert b"<h2>Timeline</h2>" in answer.read()
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=30) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
