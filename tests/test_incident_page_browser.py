"""In a real browser, the extra link of a failed task opens the emulator's page of its incident.

A real ``dag.test()`` against the emulator: a workflow writes an incident (HTML in its message and
notes), closes it, and its status sensor then fails (closed is a failure status); the failure
notifier on every task opens an incident for that failure. Headless Chromium opens the address
the failed sensor stored for its "Opsgenie incident" link, and the address the notifier logged,
and reads what a person sees there.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_opsgenie_incident.links import INCIDENT_URL_XCOM_KEY

if TYPE_CHECKING:
    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "screenshot_incident_page.py"


def _load_script() -> Any:
    spec = importlib.util.spec_from_file_location("screenshot_incident_page", SCRIPT)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


screenshot_incident_page = _load_script()
_MISSING = screenshot_incident_page.browser_available()

MESSAGE = "Load <script>alert('message')</script> & <b>bold</b> failed"
NOTE = "Paged by <img src=x onerror=alert('note')>"
DAG = f"""
from airflow.sdk import DAG, chain

from airflow_provider_opsgenie_incident.notifications.incident import opsgenie_incident_callbacks
from airflow_provider_opsgenie_incident.operators.incident import (
    OpsgenieAddIncidentNoteOperator,
    OpsgenieCloseIncidentOperator,
    OpsgenieCreateIncidentOperator,
)
from airflow_provider_opsgenie_incident.operators.timeline import OpsgenieAddTimelineEntryOperator
from airflow_provider_opsgenie_incident.sensors.incident import OpsgenieIncidentStatusSensor

with DAG(
    "incident_page_in_a_browser",
    schedule=None,
    default_args={{"retries": 0, **opsgenie_incident_callbacks(priority="P2")}},
) as dag:
    create = OpsgenieCreateIncidentOperator(task_id="create", message={MESSAGE!r}, note={NOTE!r})
    incident_id = create.output["incident_id"]
    note = OpsgenieAddIncidentNoteOperator(task_id="note", identifier=incident_id, note="Second <i>note</i>")
    entry = OpsgenieAddTimelineEntryOperator(
        task_id="entry", incident_id=incident_id, content="Export <u>restarted</u>"
    )
    close = OpsgenieCloseIncidentOperator(task_id="close", identifier=incident_id)
    wait = OpsgenieIncidentStatusSensor(
        task_id="wait_until_resolved",
        identifier=incident_id,
        target_statuses=["resolved"],
        failure_statuses=["closed"],
        poke_interval=1,
        timeout=30,
    )
    chain(create, note, entry, close, wait)
"""
MARKUP = {"script", "b", "i", "u", "img"}


@pytest.mark.skipif(_MISSING is not None, reason=f"no browser for the page check: {_MISSING}")
@pytest.mark.timeout(240)
def test_the_failed_tasks_link_opens_its_incident_with_notes_and_timeline(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Any, tmp_path: Path
) -> None:
    emulator = opsgenie_incident_connection
    result = run_dag(DAG)
    assert result.task_states["wait_until_resolved"] == "failed", result.task_states
    link = result.xcom("wait_until_resolved", INCIDENT_URL_XCOM_KEY)
    watched = emulator.incident(result.xcom("create", "incident_id"))
    assert watched is not None
    assert link == watched["links"]["web"]  # the link, the API's links.web: one address

    page = screenshot_incident_page.read_page(link, tmp_path / "incident.png")

    assert page.heading == MESSAGE  # HTML in the message shows as the text it is
    assert page.title == f"#{watched['tinyId']}: {MESSAGE}"
    assert "Status\tclosed" in page.text
    assert [row["cells"][2] for row in page.notes] == [NOTE, "Second <i>note</i>"]
    kinds = [(row["cells"][1], row["cells"][2]) for row in page.timeline]
    assert kinds == [
        ("system", "IncidentCreated"),
        ("custom", "CustomUserEntry"),
        ("system", "IncidentClosed"),
    ]
    assert page.timeline[1]["cells"][3] == "Export <u>restarted</u>"
    assert page.timeline[1]["classes"] == "entry-custom"
    assert page.scripts == 0
    assert not MARKUP & set(page.elements)
    assert emulator.api_key not in page.text
    assert (tmp_path / "incident.png").stat().st_size > 10_000

    # The failure notifier opened an incident for the failed sensor; its logged address is its page.
    [failure] = [i for i in emulator.incidents() if i["message"].endswith("wait_until_resolved failed")]
    failure_page = screenshot_incident_page.read_page(failure["links"]["web"])
    assert failure_page.heading == "[Airflow] incident_page_in_a_browser.wait_until_resolved failed"
    assert "Status\topen" in failure_page.text
    assert "Priority\tP2" in failure_page.text
    assert re.search(r"AirflowFailException: incident \S+ is closed", failure_page.text)
    assert any(kind == ("system", "IncidentCreated") for kind in _kinds(failure_page))


def _kinds(page: Any) -> list[tuple[str, str]]:
    return [(row["cells"][1], row["cells"][2]) for row in page.timeline]
