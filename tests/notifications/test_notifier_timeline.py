"""The incident's timeline tells the story: one entry per event, at the event's time, exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from airflow.sdk import DAG

from airflow_provider_opsgenie_incident.client.story import MARKER_PREFIX
from airflow_provider_opsgenie_incident.emulator import Fault
from airflow_provider_opsgenie_incident.notifications.incident import (
    OpsgenieIncidentFailureNotifier,
    OpsgenieIncidentRecoveryNotifier,
    OpsgenieIncidentRetryNotifier,
    opsgenie_incident_callbacks,
    send_opsgenie_incident_retry_notification,
)

if TYPE_CHECKING:
    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator

ENTRIES = r"^/v2/incident-timelines/[^/]+/entries$"
TEAM = {"type": "team", "name": "NOC"}


@dataclass
class _TaskInstance:
    """The task-instance fields a callback reads (RuntimeTaskInstance has the same names)."""

    try_number: int
    max_tries: int
    end_date: datetime
    dag_id: str = "etl"
    task_id: str = "load"
    run_id: str = "manual__2025-01-01"
    map_index: int = -1

    @property
    def log_url(self) -> str:
        return f"http://airflow.local/dags/etl/runs/{self.run_id}/tasks/load?try_number={self.try_number}"


def at(minute: int) -> datetime:
    return datetime(2025, 1, 1, 10, minute, 0, 250000, tzinfo=UTC)


def context(
    try_number: int, max_tries: int, minute: int, error: BaseException | None = None
) -> dict[str, Any]:
    ti = _TaskInstance(try_number, max_tries, at(minute))
    found: dict[str, Any] = {"dag": DAG("etl", schedule=None), "ti": ti, "run_id": ti.run_id}
    return {**found, "exception": error} if error is not None else found


#: Fail (try 1, no retries left), then after a clear with one retry: retry, fail; after another
#: clear: success. Each event happened at its own minute, long before the callback runs.
STORY = [
    (OpsgenieIncidentFailureNotifier, context(1, 0, 1, ValueError("disk full\nTraceback ..."))),
    (OpsgenieIncidentRetryNotifier, context(2, 2, 5, ValueError("disk still full"))),
    (OpsgenieIncidentFailureNotifier, context(3, 2, 9, OSError("no space left"))),
    (OpsgenieIncidentRecoveryNotifier, context(4, 4, 20)),
]


def custom(emulator: OpsgenieEmulator, incident_id: str) -> list[dict[str, Any]]:
    return [entry for entry in emulator.timeline(incident_id) if entry["group"] == "custom"]


def lines(entry: dict[str, Any]) -> list[str]:
    return str(entry["description"]["name"]).splitlines()


def test_fail_retry_fail_recover_leaves_four_entries_in_order_at_the_tasks_times(
    opsgenie_incident_connection: OpsgenieEmulator,
) -> None:
    emulator = opsgenie_incident_connection
    for notifier, ctx in STORY:
        notifier(responders=[TEAM])(ctx) if notifier is OpsgenieIncidentFailureNotifier else notifier()(ctx)
    [incident] = emulator.incidents()
    assert incident["status"] == "resolved"
    entries = custom(emulator, incident["id"])
    assert [entry["eventTime"] for entry in entries] == [
        "2025-01-01T10:01:00.250Z",
        "2025-01-01T10:05:00.250Z",
        "2025-01-01T10:09:00.250Z",
        "2025-01-01T10:20:00.250Z",
    ]
    assert [lines(entry)[0] for entry in entries] == [
        "Failed: etl.load, try 1 of 1",
        "Retrying: etl.load, try 2 of 3 failed",
        "Failed: etl.load, try 3 of 3",
        "Recovered: etl.load succeeded on try 4 of 5",
    ]
    first = lines(entries[0])
    assert first[1] == "Error: ValueError: disk full"  # the exception's first line only
    assert "Log: http://airflow.local/dags/etl/runs/manual__2025-01-01/tasks/load?try_number=1" in first
    assert first[-1].startswith(f"Event: {MARKER_PREFIX}")
    assert len({lines(entry)[-1] for entry in entries}) == 4
    # Each failure is recorded once: the first in the description, the later ones as entries; the
    # only note is the resolving one.
    assert [note["note"].split(";")[0] for note in emulator.notes(incident["id"])] == [
        "etl.load succeeded in run manual__2025-01-01"
    ]
    assert emulator.paged_incidents() == [incident["id"]]


def test_a_failure_delivered_twice_appears_once(opsgenie_incident_connection: OpsgenieEmulator) -> None:
    emulator = opsgenie_incident_connection
    OpsgenieIncidentFailureNotifier()(context(1, 3, 1, ValueError("boom")))
    for _ in range(2):
        OpsgenieIncidentFailureNotifier()(context(2, 3, 2, ValueError("boom")))
    [incident] = emulator.incidents()
    assert [lines(entry)[0] for entry in custom(emulator, incident["id"])] == [
        "Failed: etl.load, try 1 of 4",
        "Failed: etl.load, try 2 of 4",
    ]
    assert emulator.notes(incident["id"]) == []
    # The first failure delivered again, after the second: found by its marker, not written again.
    OpsgenieIncidentFailureNotifier()(context(1, 3, 1, ValueError("boom")))
    assert len(custom(emulator, incident["id"])) == 2


def test_a_lost_answer_to_the_entry_leaves_one_entry(opsgenie_incident_connection: OpsgenieEmulator) -> None:
    emulator = opsgenie_incident_connection
    OpsgenieIncidentFailureNotifier()(context(1, 3, 1, ValueError("boom")))
    lost = emulator.add_fault(Fault("lost_response", method="POST", path=ENTRIES))
    OpsgenieIncidentFailureNotifier()(context(2, 3, 2, ValueError("boom")))
    [incident] = emulator.incidents()
    assert lost.hits == 1
    assert [lines(entry)[0] for entry in custom(emulator, incident["id"])][
        -1
    ] == "Failed: etl.load, try 2 of 4"
    assert len(custom(emulator, incident["id"])) == 2
    assert emulator.notes(incident["id"]) == []
    writes = [r for r in emulator.requests if r.method == "POST" and r.path.endswith("/entries")]
    assert len(writes) == 2  # the create's entry and the lost one; the verification found it applied


@pytest.mark.parametrize(
    "fault",
    [
        Fault("status", status=422, method="POST", path=ENTRIES),
        Fault("status", status=503, method="POST", path=ENTRIES, times=None),
    ],
    ids=["refused", "down"],
)
def test_a_refused_or_down_timeline_still_records_the_failure_in_a_note(
    opsgenie_incident_connection: OpsgenieEmulator, capsys: pytest.CaptureFixture[str], fault: Fault
) -> None:
    emulator = opsgenie_incident_connection
    OpsgenieIncidentFailureNotifier()(context(1, 3, 1, ValueError("boom")))
    emulator.add_fault(fault)
    OpsgenieIncidentFailureNotifier()(context(2, 3, 2, OSError("still broken")))
    [incident] = emulator.incidents()
    [note] = emulator.notes(incident["id"])
    assert note["note"].startswith("etl.load failed again.")
    assert "OSError: still broken" in note["note"]
    assert len(custom(emulator, incident["id"])) == 1
    output = capsys.readouterr().out
    assert "Dropped the Opsgenie timeline entry of etl.load (failure)" in output
    assert "the event is in a note" in output


def test_a_timeline_down_at_the_first_failure_still_opens_and_pages(
    opsgenie_incident_connection: OpsgenieEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator = opsgenie_incident_connection
    emulator.add_fault(Fault("status", status=503, method="POST", path=ENTRIES, times=None))
    OpsgenieIncidentFailureNotifier(responders=[TEAM])(context(1, 3, 1, ValueError("boom")))
    [incident] = emulator.incidents()
    assert incident["responders"] == [TEAM]
    assert emulator.paged_incidents() == [incident["id"]]
    assert "ValueError: boom" in incident["description"]
    assert custom(emulator, incident["id"]) == []
    assert "the event is in the incident's description" in capsys.readouterr().out


def test_timeline_false_writes_no_entry(opsgenie_incident_connection: OpsgenieEmulator) -> None:
    emulator = opsgenie_incident_connection
    callbacks = opsgenie_incident_callbacks(timeline=False, on_retry=True)
    callbacks["on_failure_callback"](context(1, 3, 1, ValueError("boom")))
    callbacks["on_retry_callback"](context(2, 3, 2, ValueError("boom")))
    callbacks["on_failure_callback"](context(3, 3, 3, ValueError("boom")))
    callbacks["on_success_callback"](context(4, 3, 4))
    [incident] = emulator.incidents()
    assert custom(emulator, incident["id"]) == []
    assert not [r for r in emulator.requests if "/incident-timelines/" in r.path]
    assert len(emulator.notes(incident["id"])) == 3  # the retry, the second failure, the recovery


def test_a_retry_with_nothing_open_makes_one_read(opsgenie_incident_connection: OpsgenieEmulator) -> None:
    OpsgenieIncidentRetryNotifier()(context(1, 3, 1, ValueError("flaky")))
    assert opsgenie_incident_connection.incidents() == []
    assert [r.method for r in opsgenie_incident_connection.requests] == ["GET"]


def test_retries_are_off_by_default_in_the_callbacks_helper() -> None:
    assert "on_retry_callback" not in opsgenie_incident_callbacks()
    callbacks = opsgenie_incident_callbacks(on_retry=True, fingerprint="fp", timeline=False, priority="P1")
    retry = callbacks["on_retry_callback"]
    assert isinstance(retry, OpsgenieIncidentRetryNotifier)
    assert (retry.fingerprint, retry.timeline) == ("fp", False)
    assert send_opsgenie_incident_retry_notification is OpsgenieIncidentRetryNotifier


def test_a_failure_on_an_open_incident_costs_one_timeline_read_and_one_write(
    opsgenie_incident_connection: OpsgenieEmulator,
) -> None:
    from airflow_provider_opsgenie_incident.client.sightings import reset_sightings

    emulator = opsgenie_incident_connection
    OpsgenieIncidentFailureNotifier()(context(1, 3, 1, ValueError("boom")))
    emulator.clear_requests()
    OpsgenieIncidentFailureNotifier()(context(2, 3, 2, ValueError("boom")))
    # The incident was just seen in this process: no search; no note, no request-status polls.
    assert [r.endpoint for r in emulator.requests] == ["list_timeline_entries", "add_timeline_entry"]
    reset_sightings()
    emulator.clear_requests()
    OpsgenieIncidentFailureNotifier()(context(3, 3, 3, ValueError("boom")))
    assert [r.endpoint for r in emulator.requests] == [
        "list_incidents",
        "list_timeline_entries",
        "add_timeline_entry",
    ]


STORY_DAG = """
from datetime import timedelta

from airflow.sdk import DAG, task

from airflow_provider_opsgenie_incident.notifications.incident import opsgenie_incident_callbacks

with DAG(
    dag_id="timeline_story_run",
    schedule=None,
    params={"fail": True},
    default_args={
        "retries": 1,
        "retry_delay": timedelta(seconds=0),
        **opsgenie_incident_callbacks(on_retry=True),
    },
) as dag:

    @task
    def load(params=None, ti=None):
        if params["fail"]:
            raise RuntimeError(f"try {ti.try_number} refused")

    load()
"""


def test_real_runs_tell_the_story_at_the_task_instances_end_times(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Any
) -> None:
    emulator = opsgenie_incident_connection
    failed = [run_dag(STORY_DAG), run_dag(STORY_DAG)]
    succeeded = run_dag(STORY_DAG, run_conf={"fail": False})
    assert [run.state for run in failed] == ["failed", "failed"]
    assert succeeded.state == "success"
    [incident] = emulator.incidents()
    entries = custom(emulator, incident["id"])
    assert [lines(entry)[0] for entry in entries] == [
        "Failed: timeline_story_run.load, try 2 of 2",  # run 1's retry came with nothing open
        "Retrying: timeline_story_run.load, try 1 of 2 failed",
        "Failed: timeline_story_run.load, try 2 of 2",
        "Recovered: timeline_story_run.load succeeded on try 1 of 2",
    ]
    assert lines(entries[1])[1] == "Error: RuntimeError: try 1 refused"
    from airflow.models.taskinstancehistory import TaskInstanceHistory
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(TaskInstanceHistory).filter(TaskInstanceHistory.dag_id == "timeline_story_run")
        tries = {(row.run_id, row.try_number): (row.start_date, row.end_date) for row in rows}
    for result in (*failed, succeeded):
        for ti in result.dag_run.get_task_instances():
            tries[(ti.run_id, ti.try_number)] = (ti.start_date, ti.end_date)
    windows = [
        tries[(failed[0].dag_run.run_id, 2)],
        tries[(failed[1].dag_run.run_id, 1)],
        tries[(failed[1].dag_run.run_id, 2)],
        tries[(succeeded.dag_run.run_id, 1)],
    ]
    # Each entry is stamped within its own try, at the moment the task runner saw it end (dag.test()
    # stores the try's end only after the callbacks; a real worker reports the runner's end, which
    # make e2e checks to the millisecond).
    stamps = [datetime.fromisoformat(entry["eventTime"].replace("Z", "+00:00")) for entry in entries]
    assert all(start <= stamp <= end for stamp, (start, end) in zip(stamps, windows, strict=True)), (
        stamps,
        windows,
    )
    assert stamps == sorted(stamps)


@pytest.mark.asyncio
async def test_async_notify_tells_the_story_and_falls_back_to_a_note(
    opsgenie_incident_connection: OpsgenieEmulator,
) -> None:
    emulator = opsgenie_incident_connection
    await OpsgenieIncidentFailureNotifier().async_notify(context(1, 3, 1, ValueError("boom")))
    await OpsgenieIncidentFailureNotifier().async_notify(context(1, 3, 1, ValueError("boom")))  # again
    emulator.add_fault(Fault("status", status=422, method="POST", path=ENTRIES))
    await OpsgenieIncidentFailureNotifier().async_notify(context(2, 3, 2, ValueError("boom")))
    await OpsgenieIncidentRecoveryNotifier().async_notify(context(3, 3, 3))
    [incident] = emulator.incidents()
    assert [lines(entry)[0] for entry in custom(emulator, incident["id"])] == [
        "Failed: etl.load, try 1 of 4",
        "Recovered: etl.load succeeded on try 3 of 4",
    ]
    assert [note["note"].splitlines()[0] for note in emulator.notes(incident["id"])] == [
        "etl.load failed again.",
        "etl.load succeeded in run manual__2025-01-01; resolved by Airflow.",
    ]
