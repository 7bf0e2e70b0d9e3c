"""A throttled notifier in the triggerer (``async_notify``) never raises and never overruns its budget."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from airflow_provider_opsgenie_incident.notifications.incident import OpsgenieIncidentFailureNotifier

if TYPE_CHECKING:
    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator


@pytest.mark.asyncio
async def test_a_throttled_deadline_callback_logs_what_it_could_not_record(
    opsgenie_incident_connection: OpsgenieEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    opsgenie_incident_connection.rate_limit(0)
    dag_run = {"dag_id": "etl", "dag_run_id": "scheduled__1"}
    context = {"dag_run": dag_run, "deadline": {"id": "d-1", "deadline_time": "2025-01-01T01:00:00Z"}}
    started = time.monotonic()
    await OpsgenieIncidentFailureNotifier(timeout=2.0, context=context)
    assert time.monotonic() - started < 2.5  # never past its own budget
    logged = "".join(capsys.readouterr())
    [line] = [line for line in logged.splitlines() if "not recorded" in line]
    assert "Opsgenie incident open for DAG etl" in line
    assert "still running at its deadline, 2025-01-01T01:00:00Z" in line
    assert "throttled (HTTP 429) after" in line
    assert "of its 2 s budget" in line
    assert opsgenie_incident_connection.api_key not in logged
    assert opsgenie_incident_connection.incidents() == []
