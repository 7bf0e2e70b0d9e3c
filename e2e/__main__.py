"""``make e2e``: run the provider in a real Airflow deployment on loopback and check what it does.

Leg 1 (LocalExecutor): the bundled emulator as its own process; a fresh AIRFLOW_HOME in ``.e2e/``
(SQLite); ``airflow db migrate``; api-server, scheduler, dag-processor and triggerer as separate
processes. Leg 2 (CeleryExecutor): the same deployment with the scheduler restarted on Celery, a
Redis started here and two Celery workers; it runs the deferral and storm scenarios again. Every
process is stopped by its PID (its process group) at the end, also on failure and on SIGTERM; what a
SIGKILLed run left behind is stopped by the next run, from the PID file in ``.e2e/``. Each scenario
has a time limit, past which it fails with its name instead of hanging. After both legs, the logs
show that the API key was written nowhere and that the scheduler read the executor's report of every
deferral before its task could resume. Exit status 1 if any check failed.
"""

from __future__ import annotations

import json
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid

from e2e.deployment import ROOT, Deployment, free_port, http, stop_leftovers, wait_for
from e2e.scenarios import Report, Scenarios, executor_report_lags

BASE = ROOT / ".e2e"
DAG_SOURCES = sorted((ROOT / "example_dags").glob("example_*.py")) + sorted(
    (ROOT / "e2e" / "dags").glob("e2e_*.py")
)


def phase(text: str, started: float) -> None:
    print(f"-- {text} ({time.monotonic() - started:.0f} s)", flush=True)


def start_deployment(d: Deployment, started: float) -> None:
    d.start(
        "emulator",
        [
            sys.executable,
            "-m",
            "e2e.emulator_service",
            "--port",
            str(d.emulator_port),
            "--control-port",
            str(d.control_port),
            "--api-key",
            d.api_key,
            "--processing-delay",
            "0.2",
        ],
    )
    d.airflow("db", "migrate", timeout=600)
    phase("airflow db migrate done", started)
    extra = json.dumps({"web_url": d.emulator_url})
    d.airflow(
        "connections",
        "add",
        "opsgenie_incident_default",
        "--conn-type",
        "opsgenie_incident",
        "--conn-host",
        d.emulator_url,
        "--conn-password",
        d.api_key,
        "--conn-extra",
        extra,
    )
    for name in ("api-server", "scheduler", "dag-processor", "triggerer"):
        d.start_airflow(name, name)
    wait_for("api-server health", lambda: http("GET", f"{d.api}/api/v2/monitor/health")[0] == 200, 180)
    wanted = {source.stem for source in DAG_SOURCES}

    def parsed() -> bool:
        d.check_alive()
        dags = {dag["dag_id"] for dag in d.rest("GET", "/dags?limit=100")["dags"]}
        return wanted <= dags

    wait_for("every DAG parsed", parsed, 240, 2)
    errors = d.rest("GET", "/importErrors")
    if errors["total_entries"]:
        raise RuntimeError(f"import errors: {errors}")
    phase("deployment up: api-server, scheduler, dag-processor, triggerer; every DAG parsed", started)


def redis_server() -> str | None:
    """Return the redis-server path, installing Debian's package when it is missing; None if impossible."""
    found = shutil.which("redis-server")
    if found:
        return found
    print("-- redis-server missing: apt-get install -y redis-server", flush=True)
    for command in (
        ["apt-get", "install", "-y", "redis-server"],
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "redis-server"],
    ):
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            print(f"   {' '.join(command)}: {error}", flush=True)
            return None
        if command[1] == "install" and done.returncode == 0:
            break
    return shutil.which("redis-server")


def celery_leg(d: Deployment, report: Report, started: float) -> None:
    try:
        import airflow.providers.celery  # noqa: F401
    except ImportError:
        print(
            "\n!! SKIPPED: Celery leg: apache-airflow-providers-celery is not installed (the test extra)",
            flush=True,
        )
        return
    redis = redis_server()
    if redis is None:
        print(
            "\n!! SKIPPED: Celery leg: redis-server is not installed and could not be installed", flush=True
        )
        return
    port = free_port()
    d.start("redis", [redis, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
    wait_for(
        "redis",
        lambda: (
            subprocess.run(
                [redis.replace("redis-server", "redis-cli"), "-p", str(port), "ping"],
                capture_output=True,
                check=False,
            ).returncode
            == 0
        ),
        30,
        0.5,
    )
    d.stop("scheduler")
    d.env.update(
        {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{port}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"redis://127.0.0.1:{port}/1",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "12",
        }
    )
    for worker in ("worker-1", "worker-2"):
        d.start_airflow(worker, "celery", "worker", "--celery-hostname", f"{worker}@e2e", "--skip-serve-logs")
    d.start_airflow("scheduler-celery", "scheduler")
    phase("Celery leg: redis, 2 workers, scheduler on CeleryExecutor", started)
    scenarios = Scenarios(d, report, "celery")
    report.run("celery: deferral with a triggerer restart", scenarios.deferral_with_triggerer_restart)
    report.run("celery: storm of 12 failures", scenarios.storm)
    report.run("celery: 20 deferrable writes processed after 0.2 s", lambda: scenarios.writes(0.2))
    report.run("celery: 20 deferrable writes processed after 3 s", lambda: scenarios.writes(3))
    ran = {
        w: (d.logs / f"{w}.log").read_text(errors="replace").count("e2e_") for w in ("worker-1", "worker-2")
    }
    report.check(all(ran.values()), "both Celery workers ran tasks (log lines naming the e2e DAGs)", ran)


def key_nowhere(d: Deployment, report: Report) -> None:
    needle = d.api_key.encode()
    holders = [
        str(path.relative_to(BASE))
        for folder in (d.home, d.logs)
        for path in folder.rglob("*")
        if path.is_file() and needle in path.read_bytes()
    ]
    logs = sum(1 for path in d.home.rglob("*.log") if path.is_file()) + sum(1 for _ in d.logs.glob("*.log"))
    report.check(
        not holders,
        f"the API key appears in no file under AIRFLOW_HOME or the process logs ({logs} log files)",
        holders,
    )


def deferrals_reported_in_time(d: Deployment, report: Report) -> None:
    """Every deferral of both legs reached the scheduler before its task could resume: no race."""
    floor = float(
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from airflow_provider_opsgenie_incident._tasks import min_deferral as m; print(m())",
            ],
            env=d.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.split()[-1]
    )
    scheduler_logs = sorted(d.logs.glob("scheduler*.log"))
    lags = executor_report_lags(d.home / "logs", scheduler_logs)
    seconds = [lag for _, lag in lags] or [0.0]
    mismatches = sum(
        path.read_text(errors="replace").count("but the task instance's state") for path in scheduler_logs
    )
    report.check(
        bool(lags) and max(seconds) < floor and mismatches == 0,
        "every deferral's executor report reached the scheduler before the task could resume",
        f"{len(lags)} deferrals, report read {statistics.median(seconds):.2f} s (median) and "
        f"{max(seconds):.2f} s (most) after the deferral, minimum deferral {floor:.0f} s; "
        f"'state mismatch' {mismatches}; slowest: {lags[-3:]}",
    )


def stop_on_sigterm(d: Deployment) -> None:
    """On SIGTERM (a CI timeout, ``kill``), stop every process of the deployment, then exit 143."""

    def stop(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("\n!! SIGTERM: stopping every process of the deployment", flush=True)
        d.stop_all()
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, stop)


def main() -> int:
    started = time.monotonic()
    left = stop_leftovers(BASE)
    if left:
        print(f"-- stopped what a previous run left running: {', '.join(left)}", flush=True)
    report = Report()
    d = Deployment(BASE, api_key=f"e2e-genie-{uuid.uuid4().hex}")
    stop_on_sigterm(d)
    d.prepare(DAG_SOURCES)
    print(
        f"make e2e: AIRFLOW_HOME {d.home.relative_to(ROOT)}, process logs {d.logs.relative_to(ROOT)}",
        flush=True,
    )
    try:
        start_deployment(d, started)
        local = Scenarios(d, report, "local")
        local.start_dag_callback_and_deadline()
        report.run("example DAGs triggered by hand", local.examples)
        report.run("DAG-level callback and Deadline Alert", local.dag_callback_and_deadline)
        report.run("deferral with a triggerer restart", local.deferral_with_triggerer_restart)
        report.run("storm of 12 failures", local.storm)
        report.run("one task's story: fail, retry, fail, recover", local.story, timeout=360)
        report.run("20 deferrable writes processed after 0.2 s", lambda: local.writes(0.2))
        report.run("20 deferrable writes processed after 3 s", lambda: local.writes(3))
        report.run("extra link and connection test", local.extra_link_and_connection_test)
        phase("LocalExecutor leg done", started)
        celery_leg(d, report, started)
    except Exception as error:
        report.check(False, "the deployment ran", f"{type(error).__name__}: {error}")
    finally:
        d.stop_all()
        phase("every process stopped", started)
    key_nowhere(d, report)
    deferrals_reported_in_time(d, report)
    elapsed = time.monotonic() - started
    if report.failures:
        print(f"\nmake e2e: {len(report.failures)} check(s) failed in {elapsed:.0f} s:", flush=True)
        for failure in report.failures:
            print(f"  - {failure}")
        return 1
    print(f"\nmake e2e: every check passed in {elapsed:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
