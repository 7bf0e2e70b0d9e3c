"""The ``make e2e`` driver cleans up after itself: on SIGTERM, after a SIGKILL, and past a scenario's limit.

It also reads, from Airflow's own log lines, how late the executor's report of each deferral came.

Real process groups are started the way the driver starts Airflow's (``Deployment.start``): a
leader that forks a child into its group, as the scheduler forks task runners.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from e2e.deployment import Deployment, pid_file, stop_leftovers
from e2e.scenarios import Report, executor_report_lags

ROOT = Path(__file__).resolve().parent.parent
# A leader that forks a child into its own process group, then both wait to be stopped.
FAMILY = [sys.executable, "-c", "import subprocess, time; subprocess.Popen(['sleep', '99']); time.sleep(99)"]


def _group(leader: int, timeout: float = 10) -> list[psutil.Process]:
    """Return the leader and its child once both run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        members = [p for p in psutil.process_iter() if _pgid(p.pid) == leader]
        if len(members) == 2:
            return members
        time.sleep(0.05)
    raise AssertionError(f"process group {leader} did not reach two members")


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _gone(processes: list[psutil.Process]) -> bool:
    for process in processes:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            continue
    return True


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    d = Deployment(tmp_path / "e2e", api_key="e2e-genie-test")
    d.prepare([])
    return d


def test_the_pid_file_follows_the_processes_and_goes_when_all_are_stopped(deployment: Deployment) -> None:
    deployment.start("first", FAMILY)
    deployment.start("second", FAMILY)
    recorded = json.loads(pid_file(deployment.base).read_text())
    assert recorded == {
        "home": str(deployment.home),
        "groups": {name: p.pid for name, p in deployment.processes.items()},
    }
    members = _group(deployment.processes["first"].pid)
    deployment.stop("first")
    assert _gone(members)
    assert list(json.loads(pid_file(deployment.base).read_text())["groups"]) == ["second"]
    deployment.stop_all()
    assert not pid_file(deployment.base).exists()


def test_the_next_run_stops_what_a_killed_run_left(deployment: Deployment) -> None:
    # As after a SIGKILL of the driver: processes running, the PID file naming them, no cleanup ran.
    deployment.start("scheduler", FAMILY)
    deployment.start("triggerer", FAMILY)
    members = [p for process in deployment.processes.values() for p in _group(process.pid)]

    assert stop_leftovers(deployment.base) == ["scheduler", "triggerer"]
    assert _gone(members)
    assert not pid_file(deployment.base).exists()
    assert stop_leftovers(deployment.base) == []
    for process in deployment.processes.values():
        process.wait(timeout=5)


def test_a_recorded_pid_now_used_by_another_deployment_is_left_alone(tmp_path: Path) -> None:
    other = subprocess.Popen(
        FAMILY, env={**os.environ, "AIRFLOW_HOME": str(tmp_path / "other")}, start_new_session=True
    )
    try:
        members = _group(other.pid)
        base = tmp_path / "e2e"
        base.mkdir()
        recorded = {"home": str(base / "home"), "groups": {"scheduler": other.pid}}
        pid_file(base).write_text(json.dumps(recorded))

        assert stop_leftovers(base, grace=1) == []
        assert all(process.is_running() for process in members)
    finally:
        os.killpg(other.pid, signal.SIGKILL)
        other.wait(timeout=5)


def test_sigterm_stops_every_process_then_exits_143(tmp_path: Path) -> None:
    driver = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from e2e.__main__ import stop_on_sigterm
        from e2e.deployment import Deployment

        d = Deployment(Path({str(tmp_path / "e2e")!r}), api_key="e2e-genie-test")
        d.prepare([])
        stop_on_sigterm(d)
        d.start("scheduler", {FAMILY!r})
        print(d.processes["scheduler"].pid, flush=True)
        time.sleep(120)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", driver], cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert process.stdout
        members = _group(int(process.stdout.readline()))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 143
        assert _gone(members)
        assert not pid_file(tmp_path / "e2e").exists()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_a_scenario_past_its_limit_fails_naming_itself(capsys: pytest.CaptureFixture[str]) -> None:
    report = Report()
    handler = signal.getsignal(signal.SIGALRM)
    outer, _ = signal.getitimer(signal.ITIMER_REAL)
    started = time.monotonic()
    report.run("hangs", lambda: time.sleep(30), timeout=0.5)
    report.run("quick", lambda: report.check(True, "runs after the one that hung"))

    assert time.monotonic() - started < 5
    assert report.failures == ["hangs ran to the end"]
    assert "ScenarioTimeout: scenario 'hangs' did not finish within 0.5 s" in capsys.readouterr().out
    # Whatever timer was set around the scenarios (pytest-timeout's, here) is back and still running.
    assert signal.getsignal(signal.SIGALRM) is handler
    assert bool(signal.getitimer(signal.ITIMER_REAL)[0]) is bool(outer)


# One deferral as Airflow 3.3 logs it: the task's JSON line, then the scheduler's line for the
# executor's report of the process that deferred (shortened; the fields the driver reads are intact).
TASK_LINE = (
    '{"timestamp":"2026-12-02T13:27:32.486559Z","level":"info","event":"Pausing task as DEFERRED. ",'
    '"dag_id":"example","task_id":"wait_until_resolved","run_id":"manual_1","map_index":-1,'
    '"ti_id":"01a236f0-4b7c-77ab-8074-9ebd6579cca2","try_number":1,"logger":"task"}'
)
SCHEDULER_LINE = (
    "{stamp} [info     ] TaskInstance Finished: dag_id=example, task_id=wait_until_resolved, "
    "run_id=manual_1, map_index=-1, ti_id=01a236f0-4b7c-77ab-8074-9ebd6579cca2, "
    "run_start_date=2026-12-02 13:27:31.699590+00:00, run_end_date=None, run_duration=None, "
    "state={state}, executor=LocalExecutor(parallelism=24), executor_state=success, try_number=1"
)


def test_each_deferral_is_paired_with_the_executor_report_of_its_process(tmp_path: Path) -> None:
    task_log = tmp_path / "logs" / "dag_id=example" / "run_id=manual_1" / "task_id=wait_until_resolved"
    task_log.mkdir(parents=True)
    (task_log / "attempt=1.log").write_text(f'{{"timestamp":"x","event":"start"}}\n{TASK_LINE}\n')
    scheduler = tmp_path / "scheduler.log"
    scheduler.write_text(
        "\n".join(
            [
                SCHEDULER_LINE.format(stamp="2026-12-02T13:27:31.000000Z", state="queued"),  # not a report
                SCHEDULER_LINE.format(stamp="2026-12-02T13:27:37.665047Z", state="deferred"),
                SCHEDULER_LINE.format(
                    stamp="2026-12-02T13:27:52.000000Z", state="success"
                ),  # the resumed run
            ]
        )
    )

    assert executor_report_lags(tmp_path / "logs", [scheduler]) == [("wait_until_resolved", 5.18)]
