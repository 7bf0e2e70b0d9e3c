"""Our sensors under a real ``dag.test()`` in a child process: none outlives its timeout or a SIGTERM.

``dag.test()`` runs every task in its own process, and a deferred task's trigger in line. Each
scenario is a DAG file run as ``python dag.py`` in a fresh Airflow home against the emulator; the
scenarios run side by side, and the tests read what each one did.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

DAG_FILE = """
import json

from airflow.sdk import DAG

from airflow_provider_opsgenie_incident.operators.incident import OpsgenieCreateIncidentOperator
from airflow_provider_opsgenie_incident.sensors.incident import (
    OpsgenieIncidentRequestSensor,
    OpsgenieIncidentStatusSensor,
)

with DAG(dag_id="sensor_under_dag_test", schedule=None) as dag:
    create = OpsgenieCreateIncidentOperator(task_id="create", message="never resolved")
    wait = {sensor}
    create >> wait

if __name__ == "__main__":
    run = dag.test()
    states = {{ti.task_id: str(ti.state) for ti in run.get_task_instances()}}
    print("STATES " + json.dumps(states), flush=True)
"""

STATUS = (
    'OpsgenieIncidentStatusSensor(task_id="wait", identifier=create.output["incident_id"], '
    "target_statuses=['resolved'], poke_interval=1, {options})"
)
REQUEST = 'OpsgenieIncidentRequestSensor(task_id="wait", request_id="never-sent", poke_interval=1, {options})'

# What the child prints once the sensor waits: the trigger in line, or a poke that found it open.
IN_LINE = "[DAG TEST] running trigger in line"
POKING = "is open"


@dataclass
class Scenario:
    sensor: str
    options: str
    sigterm_after: str | None  # a log line: SIGTERM once it appears; None lets it run
    output: list[str] = field(default_factory=list)
    returncode: int | None = None
    signalled_at: float | None = None
    ended_at: float | None = None

    @property
    def text(self) -> str:
        return "".join(self.output)

    def states(self) -> dict[str, str] | None:
        for line in self.output:
            if line.startswith("STATES "):
                return dict(json.loads(line[len("STATES ") :]))
        return None


SCENARIOS = {
    "deferred-status-sigterm": Scenario(STATUS, "deferrable=True, timeout=600", IN_LINE),
    "deferred-request-sigterm": Scenario(REQUEST, "deferrable=True, timeout=600", IN_LINE),
    "poking-status-sigterm": Scenario(STATUS, "timeout=600", POKING),
    "deferred-status-timeout": Scenario(STATUS, "deferrable=True, timeout=2", None),
}
LIMIT = 90.0  # within pytest-timeout's 120 s for the first test, which sets this up


def _drive(process: Any, scenario: Scenario) -> None:
    for line in process.stdout:
        scenario.output.append(line)
        if scenario.sigterm_after and scenario.signalled_at is None and scenario.sigterm_after in line:
            time.sleep(1.0)  # well inside the wait, not at its first step
            scenario.signalled_at = time.monotonic()
            process.send_signal(signal.SIGTERM)
    scenario.returncode = process.wait()
    scenario.ended_at = time.monotonic()


@pytest.fixture(scope="module")
def ran(child_airflow: Callable[[Any], Any]) -> Iterator[dict[str, Scenario]]:
    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator

    processes, threads = [], []
    with OpsgenieEmulator() as emulator:
        started = time.monotonic()
        for scenario in SCENARIOS.values():
            child = child_airflow(emulator)
            sensor = scenario.sensor.format(options=scenario.options)
            dag = child.write_dag("sensor_dag.py", DAG_FILE.format(sensor=sensor))
            process = child.start(dag)
            processes.append(process)
            thread = threading.Thread(target=_drive, args=(process, scenario), daemon=True)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join(timeout=max(1.0, LIMIT - (time.monotonic() - started)))
        for process in processes:
            if process.poll() is None:
                process.kill()
        yield SCENARIOS


@pytest.mark.parametrize("name", ["deferred-status-sigterm", "deferred-request-sigterm"])
def test_sigterm_ends_dag_test_while_a_deferred_sensor_waits_in_line(
    ran: dict[str, Scenario], name: str
) -> None:
    scenario = ran[name]
    assert scenario.returncode is not None, f"still running after {LIMIT} s:\n{scenario.text[-3000:]}"
    assert scenario.signalled_at is not None, scenario.text[-3000:]
    assert scenario.ended_at is not None
    assert scenario.ended_at - scenario.signalled_at < 15
    assert scenario.returncode != 0
    assert "AirflowTaskTerminated: wait received SIGTERM" in scenario.text
    assert scenario.states() is None  # dag.test() itself ended: no run summary printed


def test_sigterm_fails_a_poking_sensor_and_the_run_ends(ran: dict[str, Scenario]) -> None:
    scenario = ran["poking-status-sigterm"]
    assert scenario.returncode == 0, scenario.text[-3000:]
    assert scenario.signalled_at is not None
    assert scenario.ended_at is not None
    assert scenario.ended_at - scenario.signalled_at < 15
    assert "AirflowTaskTerminated: wait received SIGTERM" in scenario.text
    assert scenario.states() == {"create": "success", "wait": "failed"}


def test_a_deferred_sensor_in_line_keeps_its_timeout(ran: dict[str, Scenario]) -> None:
    scenario = ran["deferred-status-timeout"]
    assert scenario.returncode == 0, scenario.text[-3000:]
    assert IN_LINE in scenario.text
    assert "AirflowSensorTimeout" in scenario.text
    assert "still open, not resolved, at the deadline" in scenario.text
    assert scenario.states() == {"create": "success", "wait": "failed"}
