"""Processes of a loopback Airflow deployment, each in its own process group, and thin HTTP clients.

Every process started here is remembered by PID and stopped by ``Deployment.stop_all`` (SIGTERM to
its group, SIGKILL after a grace), which the driver calls in a ``finally`` and on SIGTERM. The PIDs
are also written to ``<base>/pids.json``: a driver killed by SIGKILL cannot clean up, so the next
run calls :func:`stop_leftovers` first, which stops the processes that file names, those still
carrying that deployment's ``AIRFLOW_HOME``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SIMPLE_AUTH = "airflow.api_fastapi.auth.managers.simple"


def pid_file(base: Path) -> Path:
    """Return where a deployment under ``base`` records the process groups it started."""
    return base / "pids.json"


def _members(group: int, home: str) -> list[psutil.Process]:
    """Return the live processes of a process group that belong to the deployment in ``home``."""
    found = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == group and process.environ().get("AIRFLOW_HOME") == home:
                found.append(process)
        except (psutil.Error, ProcessLookupError, PermissionError):
            continue
    return found


def stop_leftovers(base: Path, grace: float = 10) -> list[str]:
    """
    Stop what a previous run under ``base`` left running, as its PID file records it.

    A PID the system has given to another process since is left alone: only processes in a
    recorded group whose environment names the recorded ``AIRFLOW_HOME`` are signalled.

    :return: the names of the processes that were still running.
    """
    path = pid_file(base)
    try:
        recorded = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    left = {name: _members(group, recorded["home"]) for name, group in recorded["groups"].items()}
    left = {name: members for name, members in left.items() if members}
    found = [process for members in left.values() for process in members]
    for sig in ("terminate", "kill"):
        for process in found:
            try:
                getattr(process, sig)()
            except psutil.NoSuchProcess:
                pass
        found = _wait_gone(found, grace if sig == "terminate" else 5)
        if not found:
            break
    path.unlink(missing_ok=True)
    return sorted(left)


def _wait_gone(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait until every process has exited; return those still running at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        running = [process for process in processes if _running(process)]
        if not running or time.monotonic() > deadline:
            return running
        time.sleep(0.1)


def _running(process: psutil.Process) -> bool:
    # An exited orphan stays a zombie until its new parent reaps it; it no longer runs.
    try:
        return bool(process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """Send one JSON request; return the status and the parsed body (text when not JSON)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode(errors="replace")


def wait_for(what: str, check: Any, timeout: float, interval: float = 1.0) -> Any:
    """Call ``check`` until it returns something truthy; raise ``TimeoutError`` naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except (OSError, urllib.error.URLError):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


class Deployment:
    """A fresh AIRFLOW_HOME, the environment every process shares, and the processes started in it."""

    def __init__(self, base: Path, api_key: str) -> None:
        self.base = base
        self.home = base / "home"
        self.logs = base / "process-logs"
        self.api_key = api_key
        self.api_port = free_port()
        self.emulator_port = free_port()
        self.control_port = free_port()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.env = self._environment()

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def emulator_url(self) -> str:
        return f"http://127.0.0.1:{self.emulator_port}"

    @property
    def control(self) -> str:
        return f"http://127.0.0.1:{self.control_port}"

    def _environment(self) -> dict[str, str]:
        from cryptography.fernet import Fernet

        env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
        settings = {
            "HOME": str(self.home),
            "CORE__DAGS_FOLDER": str(self.home / "dags"),
            "CORE__LOAD_EXAMPLES": "False",
            "CORE__EXECUTOR": "LocalExecutor",
            "CORE__PARALLELISM": "24",
            "CORE__MAX_ACTIVE_TASKS_PER_DAG": "24",
            "CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "CORE__AUTH_MANAGER": f"{SIMPLE_AUTH}.simple_auth_manager.SimpleAuthManager",
            "CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "CORE__EXECUTION_API_SERVER_URL": f"{self.api}/execution/",
            "CORE__TEST_CONNECTION": "Enabled",
            "DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home}/airflow.db",
            "DATABASE__SQL_ALCHEMY_CONNECT_ARGS": "e2e.sqlite.CONNECT_ARGS",
            "API__BASE_URL": self.api,
            "API__HOST": "127.0.0.1",
            "API__PORT": str(self.api_port),
            "API__WORKERS": "1",
            "API__SECRET_KEY": secrets.token_hex(16),
            "API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
            "DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            "TRIGGERER__JOB_HEARTBEAT_SEC": "2",
            # One api-server worker on SQLite and 2 cores serves every task at once: Airflow's advice for
            # a loaded api-server is a longer timeout than its 5 s (one run lost 3 tasks to a ReadTimeout).
            "WORKERS__EXECUTION_API_TIMEOUT": "30",
            "LOGGING__LOGGING_LEVEL": "INFO",
        }
        env.update({f"AIRFLOW__{key}" if key != "HOME" else "AIRFLOW_HOME": v for key, v in settings.items()})
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONPATH"] = str(ROOT)
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        return env

    def prepare(self, dag_sources: list[Path]) -> None:
        shutil.rmtree(self.base, ignore_errors=True)
        (self.home / "dags").mkdir(parents=True)
        self.logs.mkdir(parents=True)
        for source in dag_sources:
            shutil.copy(source, self.home / "dags" / source.name)

    # -- processes -------------------------------------------------------------------------

    def airflow(self, *args: str, timeout: float = 300, env: dict[str, str] | None = None) -> str:
        """Run one ``airflow`` command to completion; raise with its output if it fails."""
        result = subprocess.run(
            [str(VENV_BIN / "airflow"), *args],
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"airflow {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}"
            )
        return result.stdout

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            command,
            env=env or self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=self.base,
        )
        log.close()
        self._record_pids()

    def _record_pids(self) -> None:
        """Write the running groups to the PID file (atomically), or remove it when none is left."""
        path = pid_file(self.base)
        if not self.processes:
            path.unlink(missing_ok=True)
            return
        groups = {name: process.pid for name, process in self.processes.items()}
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps({"home": self.env["AIRFLOW_HOME"], "groups": groups}))
        partial.replace(path)

    def start_airflow(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        self.start(name, [str(VENV_BIN / "airflow"), *args], env=env)

    def stop(self, name: str, grace: float = 20) -> None:
        # Forgotten only once it is stopped, so a SIGTERM arriving meanwhile stops it too.
        process = self.processes.get(name)
        if process is None:
            return
        try:
            self._stop_group(process, grace)
        finally:
            self.processes.pop(name, None)
            self._record_pids()

    @staticmethod
    def _stop_group(process: subprocess.Popen[bytes], grace: float) -> None:
        if process.poll() is None:
            for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10)):
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    return
                try:
                    process.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        # The group may outlive its leader (forked task runners): end what is left of it.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop_all(self) -> None:
        for name in reversed(list(self.processes)):
            self.stop(name)

    def check_alive(self) -> None:
        dead = {name: p.returncode for name, p in self.processes.items() if p.poll() is not None}
        if dead:
            raise RuntimeError(f"processes exited early: {dead} (logs in {self.logs})")

    # -- HTTP ------------------------------------------------------------------------------

    def rest(self, method: str, path: str, body: Any = None) -> Any:
        status, payload = http(method, f"{self.api}/api/v2{path}", body)
        if status >= 300:
            raise RuntimeError(f"{method} /api/v2{path}: {status} {payload}")
        return payload

    def emulator_view(self, path: str) -> Any:
        status, payload = http("GET", f"{self.control}{path}")
        assert status == 200, (path, status, payload)
        return payload

    def set_processing_delay(self, seconds: float) -> None:
        http("POST", f"{self.control}/processing-delay", {"seconds": seconds})

    def opsgenie(self, method: str, path: str, body: Any = None) -> Any:
        """Act as a person in Opsgenie: one call to the emulator's API with the account's key."""
        status, payload = http(
            method, f"{self.emulator_url}{path}", body, {"Authorization": f"GenieKey {self.api_key}"}
        )
        assert status < 300, (method, path, status, payload)
        return payload
