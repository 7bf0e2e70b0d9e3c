"""The failure and recovery notifiers against the emulator: dedup, notes, resolve, contexts, async."""

from __future__ import annotations

import inspect
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from airflow.sdk import DAG

from airflow_provider_opsgenie_incident.emulator import Fault
from airflow_provider_opsgenie_incident.notifications.incident import (
    OpsgenieIncidentFailureNotifier,
    OpsgenieIncidentRecoveryNotifier,
    opsgenie_incident_callbacks,
    send_opsgenie_incident_failure_notification,
    send_opsgenie_incident_recovery_notification,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator

NOC = {"type": "team", "name": "NOC"}


@dataclass
class _TaskInstance:
    """The task-instance fields a callback context offers (RuntimeTaskInstance has the same names)."""

    dag_id: str
    task_id: str
    run_id: str = "manual__2025-01-01"
    try_number: int = 1
    map_index: int = -1

    @property
    def log_url(self) -> str:
        return f"http://airflow.local/dags/{self.dag_id}/runs/{self.run_id}/tasks/{self.task_id}"


def task_context(dag_id: str = "etl", task_id: str = "load", **extra: Any) -> dict[str, Any]:
    ti = _TaskInstance(dag_id, task_id)
    context = {"dag": DAG(dag_id, schedule=None), "ti": ti, "run_id": ti.run_id}
    return {"exception": ValueError("disk full"), **context, **extra}


def open_incidents(emulator: OpsgenieEmulator) -> list[dict[str, Any]]:
    return [incident for incident in emulator.incidents() if incident["status"] == "open"]


def test_failure_opens_one_incident_with_the_run_facts(
    opsgenie_incident_connection: OpsgenieEmulator,
) -> None:
    OpsgenieIncidentFailureNotifier()(task_context())
    [incident] = opsgenie_incident_connection.incidents()
    assert incident["message"] == "[Airflow] etl.load failed"
    assert incident["tags"][0].startswith("af:etl.load:")
    assert "ValueError: disk full" in incident["description"]
    assert "Try: 1" in incident["description"]
    assert incident["details"] == {
        "dag_id": "etl",
        "task_id": "load",
        "run_id": "manual__2025-01-01",
        "try_number": "1",
        "log_url": "http://airflow.local/dags/etl/runs/manual__2025-01-01/tasks/load",
    }


def test_second_failure_adds_a_note_instead_of_an_incident(
    opsgenie_incident_connection: OpsgenieEmulator,
) -> None:
    OpsgenieIncidentFailureNotifier(timeline=False)(task_context())
    OpsgenieIncidentFailureNotifier(timeline=False)(task_context(exception=RuntimeError("still full")))
    [incident] = opsgenie_incident_connection.incidents()
    [note] = opsgenie_incident_connection.notes(incident["id"])
    assert note["note"].startswith("etl.load failed again.")
    assert "RuntimeError: still full" in note["note"]


def fail_at_once(emulator: OpsgenieEmulator, count: int, map_indexes: Sequence[int] | None = None) -> None:
    """Run ``count`` failure callbacks of one task from threads released together; none may fail."""
    emulator.processing_delay = 0.2  # creates become visible late, as in Opsgenie: every search misses
    notifiers = [OpsgenieIncidentFailureNotifier(responders=[NOC]) for _ in range(count)]
    # Distinct tries: distinct failures (the same try twice is one failure delivered twice).
    contexts = [task_context(ti=_TaskInstance("etl", "load", try_number=index + 1)) for index in range(count)]
    for context, map_index in zip(contexts, map_indexes or [], strict=False):
        context["ti"].map_index = map_index
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def fail(index: int) -> None:
        start.wait()
        try:
            notifiers[index](contexts[index])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=fail, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    emulator.wait_until_processed()


def test_failures_at_once_from_threads_leave_one_open_incident(
    opsgenie_incident_connection: OpsgenieEmulator,
) -> None:
    emulator = opsgenie_incident_connection
    fail_at_once(emulator, 20)
    incidents = emulator.incidents()
    [kept] = open_incidents(emulator)
    assert kept == min(incidents, key=lambda i: (i["createdAt"], int(i["tinyId"])))
    duplicates = [i for i in incidents if i["id"] != kept["id"]]
    assert all(i["status"] == "closed" for i in duplicates)
    for duplicate in duplicates:
        assert any(f"#{kept['tinyId']} ({kept['id']})" in n["note"] for n in emulator.notes(duplicate["id"]))
    # Every failure is recorded once on the kept incident: as its timeline entry, not as a note.
    assert emulator.notes(kept["id"]) == []
    entries = [e for e in emulator.timeline(kept["id"]) if e["group"] == "custom"]
    tries = sorted(int(e["description"]["name"].split("try ")[1].split()[0]) for e in entries)
    assert tries == list(range(1, 21))


def test_failures_at_once_stay_within_an_http_call_budget(
    opsgenie_incident_connection: OpsgenieEmulator,
) -> None:
    emulator = opsgenie_incident_connection
    fail_at_once(emulator, 20)
    created = len(emulator.incidents())
    calls = Counter(r.path.rsplit("/", 1)[-1] for r in emulator.requests if r.method == "POST")
    polls = sum(r.path.startswith("/v1/incidents/requests/") for r in emulator.requests)
    # A losing creator closes its own incident; the kept one's creator closes the newer ones it sees,
    # so each duplicate is closed once or twice, and the kept one never.
    assert created - 1 <= calls["close"] <= 2 * (created - 1)
    assert calls["notes"] == 0
    assert calls["entries"] == 20
    assert calls["create"] == created <= 20
    # Per callback: at most 2 searches, 1 create, 1 close and 1 note (the kept one's creator: up to 19
    # closes, counted above); and at most 2 waits (the create
    # and the note, never a close), each polling at most every 0.05 s: about 5 polls for the 0.2 s
    # of processing, 10 leaves room for a loaded machine. Closing every duplicate seen and waiting
    # for each, as each creator once did, made ~19 closes and ~40 polls per callback here.
    assert polls <= 20 * 2 * 10
    assert len(emulator.requests) <= 20 * (5 + 2 * 10) + 19


def _converged(emulator: OpsgenieEmulator, failures: int) -> list[dict[str, Any]]:
    """Check one open incident holding every failure, paged once; return every incident created."""
    incidents = emulator.incidents()
    [kept] = open_incidents(emulator)
    assert emulator.paged_incidents() == [kept["id"]]
    # Each failure is recorded once, as its timeline entry (the first one's with the create).
    assert emulator.notes(kept["id"]) == []
    assert len([e for e in emulator.timeline(kept["id"]) if e["group"] == "custom"]) == failures
    return incidents


@pytest.mark.parametrize(
    ("map_indexes", "most"),
    [
        pytest.param(range(12), 1, id="all-fail"),
        pytest.param(range(5, 12), 1, id="lowest-indexes-never-fail"),
        pytest.param([3, 9], 1, id="two-of-many"),
    ],
)
@pytest.mark.parametrize("lag", [0.0, 2.0], ids=["search-in-step", "search-2s-behind"])
def test_mapped_failures_with_a_lagging_search_create_one_incident(
    opsgenie_incident_connection: OpsgenieEmulator, map_indexes: Sequence[int], most: int, lag: float
) -> None:
    # Search shows an incident ``lag`` s after it is created: the watch by tiny id sees it sooner.
    emulator = opsgenie_incident_connection
    emulator.search_lag = lag
    fail_at_once(emulator, len(map_indexes), map_indexes)
    assert len(_converged(emulator, len(map_indexes))) <= most


def test_unmapped_failures_with_a_lagging_search_converge_with_few_incidents(
    opsgenie_incident_connection: OpsgenieEmulator,
) -> None:
    emulator = opsgenie_incident_connection
    emulator.search_lag = 2.0
    fail_at_once(emulator, 12)
    incidents = _converged(emulator, 12)
    # Each draws its moment in the first second; those within one processing delay of the first create
    # too (about 5 of 12 here; all 12 could, before the watch).
    assert len(incidents) <= 8


def test_lost_create_answer_leaves_one_incident(opsgenie_incident_connection: OpsgenieEmulator) -> None:
    emulator = opsgenie_incident_connection
    emulator.add_fault(Fault("lost_response", method="POST", path=r"^/v1/incidents/create$"))
    OpsgenieIncidentFailureNotifier()(task_context())
    assert len(emulator.incidents()) == 1
    assert [r.fault for r in emulator.requests if r.path == "/v1/incidents/create"] == ["lost_response"]


def test_recovery_resolves_every_open_incident_of_the_fingerprint(
    opsgenie_incident_connection: OpsgenieEmulator,
) -> None:
    emulator = opsgenie_incident_connection
    hook_notifier = OpsgenieIncidentFailureNotifier()
    hook_notifier(task_context())
    tag = emulator.incidents()[0]["tags"][0]
    # A second open incident with the same fingerprint (left by a crash), and one of another task.
    hook = hook_notifier.hook
    hook.wait_for_request(hook.create_incident(message="stray", tags=[tag])["requestId"])
    OpsgenieIncidentFailureNotifier()(task_context(task_id="other"))

    OpsgenieIncidentRecoveryNotifier()(task_context())

    statuses = {i["message"]: i["status"] for i in emulator.incidents()}
    assert statuses == {
        "[Airflow] etl.load failed": "resolved",
        "stray": "resolved",
        "[Airflow] etl.other failed": "open",
    }
    for incident in emulator.incidents()[:2]:
        assert emulator.notes(incident["id"])[-1]["note"].startswith("etl.load succeeded in run manual__")


def test_recovery_with_nothing_open_makes_no_write(opsgenie_incident_connection: OpsgenieEmulator) -> None:
    OpsgenieIncidentRecoveryNotifier()(task_context())
    assert [r.method for r in opsgenie_incident_connection.requests] == ["GET"]


def test_different_tasks_get_different_incidents(opsgenie_incident_connection: OpsgenieEmulator) -> None:
    for task_id in ("extract", "load"):
        OpsgenieIncidentFailureNotifier()(task_context(task_id=task_id))
    assert len(open_incidents(opsgenie_incident_connection)) == 2


def test_very_long_names_still_open_the_incident(opsgenie_incident_connection: OpsgenieEmulator) -> None:
    dag_id, task_id = "d" * 200, "t" * 200
    context = task_context(dag_id, task_id, exception=ValueError("x" * 30000))
    OpsgenieIncidentFailureNotifier(details={"payload": "p" * 9000})(context)
    [incident] = opsgenie_incident_connection.incidents()
    assert len(incident["message"]) == 130
    assert incident["message"].endswith("…")
    assert len(incident["tags"][0]) <= 50
    assert len(incident["description"]) <= 15000
    assert sum(len(k) + len(v) for k, v in incident["details"].items()) <= 8000
    OpsgenieIncidentRecoveryNotifier()(context)
    assert opsgenie_incident_connection.incidents()[0]["status"] == "resolved"


@pytest.mark.parametrize(
    "context",
    [
        pytest.param({"run_id": "scheduled__1", "reason": "task_failure"}, id="dag-callback-no-ti"),
        pytest.param({"reason": "task_failure"}, id="no-run-id-no-dag-run"),
        pytest.param(
            {"ti": _TaskInstance("etl", "load"), "run_id": "scheduled__1", "reason": "task_failure"},
            id="dag-callback-with-last-ti",
        ),
    ],
)
def test_dag_processor_contexts_open_a_dag_incident(
    opsgenie_incident_connection: OpsgenieEmulator, context: dict[str, Any]
) -> None:
    OpsgenieIncidentFailureNotifier()({"dag": DAG("etl", schedule=None), **context})
    [incident] = opsgenie_incident_connection.incidents()
    assert incident["message"] == "[Airflow] DAG etl failed"
    assert incident["details"]["dag_id"] == "etl"
    assert "task_id" not in incident["details"]
    OpsgenieIncidentRecoveryNotifier()({"dag": DAG("etl", schedule=None), "reason": "success"})
    assert opsgenie_incident_connection.incidents()[0]["status"] == "resolved"


def test_templates_and_connection_defaults(
    opsgenie_incident_connection: OpsgenieEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = {
        "conn_type": "opsgenie_incident",
        "host": opsgenie_incident_connection.url,
        "password": opsgenie_incident_connection.api_key,
        "extra": {
            "default_priority": "P2",
            "default_responders": "team:NOC",
            "default_tags": "airflow, prod",
            "default_service_id": "svc-1",
        },
    }
    monkeypatch.setenv("AIRFLOW_CONN_OPSGENIE_INCIDENT_DEFAULT", json.dumps(connection))
    notifier = OpsgenieIncidentFailureNotifier(
        message="{{ ti.task_id }} broke in {{ dag.dag_id }}",
        details={"owner": "{{ dag.dag_id }}-team"},
        fingerprint="{{ dag.dag_id }}-pipeline",
    )
    notifier(task_context())
    opsgenie_incident_connection.wait_until_processed()
    [incident] = opsgenie_incident_connection.incidents()
    assert incident["message"] == "load broke in etl"
    assert incident["priority"] == "P2"
    assert incident["responders"] == [{"type": "team", "name": "NOC"}]
    # Then the creator's one-off marker, by which it found its incident without waiting.
    assert incident["tags"][1:3] == ["airflow", "prod"]
    assert incident["tags"][3].startswith("af-c:")
    assert incident["tags"][0].startswith("af:etl-pipeline:")
    assert incident["details"]["owner"] == "etl-team"
    assert incident["serviceId"] == "svc-1"


def test_down_opsgenie_fails_within_the_timeout_without_the_key(
    opsgenie_incident_connection: OpsgenieEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    opsgenie_incident_connection.add_fault(Fault("status", status=503, times=None))
    started = time.monotonic()
    OpsgenieIncidentFailureNotifier(timeout=1.0)(task_context())  # never raises into Airflow's callbacks
    assert time.monotonic() - started < 5
    output = capsys.readouterr()
    logged = output.out + output.err
    [line] = [line for line in logged.splitlines() if "not recorded" in line]
    assert "error" in line.lower()
    assert "Opsgenie incident open for etl.load (try 1, fingerprint af:etl.load:" in line
    assert "ServerError" in line
    assert "of its 1 s budget" in line
    assert opsgenie_incident_connection.api_key not in logged


def test_a_throttled_notifier_names_the_failure_it_could_not_record(
    opsgenie_incident_connection: OpsgenieEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    opsgenie_incident_connection.rate_limit(0)
    started = time.monotonic()
    OpsgenieIncidentFailureNotifier(timeout=2.0)(task_context())
    assert time.monotonic() - started < 2.5  # never past its own budget
    logged = "".join(capsys.readouterr())
    [line] = [line for line in logged.splitlines() if "not recorded" in line]
    context = task_context()
    assert f"{type(context['exception']).__name__}: {context['exception']}".splitlines()[0] in line
    assert "throttled (HTTP 429) after " in line
    assert "of its 2 s budget" in line
    assert f"log {context['ti'].log_url}" in line
    assert "RateLimitedError" in line
    assert opsgenie_incident_connection.incidents() == []


@pytest.mark.asyncio
async def test_async_notify_as_the_triggerer_awaits_it(
    opsgenie_incident_connection: OpsgenieEmulator,
) -> None:
    # The triggerer builds the notifier with the context as a keyword and awaits it.
    dag_run = {"dag_id": "etl", "dag_run_id": "scheduled__1", "logical_date": "2025-01-01T00:00:00Z"}
    context = {"dag_run": dag_run, "deadline": {"id": "d-1", "deadline_time": "2025-01-01T01:00:00Z"}}
    await OpsgenieIncidentFailureNotifier(message="{{ dag_run.dag_id }} is late", context=context)
    await OpsgenieIncidentFailureNotifier(context=context)
    [incident] = opsgenie_incident_connection.incidents()
    assert incident["message"] == "etl is late"
    assert "deadline, 2025-01-01T01:00:00Z" in incident["description"]
    assert incident["details"]["run_id"] == "scheduled__1"
    # The same missed deadline delivered twice: one timeline entry, no note.
    assert opsgenie_incident_connection.notes(incident["id"]) == []
    await OpsgenieIncidentRecoveryNotifier(context={"dag_run": dag_run, "reason": "success"})
    assert opsgenie_incident_connection.incidents()[0]["status"] == "resolved"
    entries = [e for e in opsgenie_incident_connection.timeline(incident["id"]) if e["group"] == "custom"]
    assert [e["description"]["name"].splitlines()[0] for e in entries] == [
        "Missed its deadline: DAG etl",
        "Recovered: DAG etl succeeded",
    ]
    assert entries[0]["eventTime"] == "2025-01-01T01:00:00.000Z"


@pytest.mark.asyncio
async def test_async_lost_create_answer_leaves_one_incident(
    opsgenie_incident_connection: OpsgenieEmulator,
) -> None:
    opsgenie_incident_connection.add_fault(Fault("lost_response", method="POST", path=r"/incidents/create$"))
    await OpsgenieIncidentFailureNotifier().async_notify(task_context())
    assert len(opsgenie_incident_connection.incidents()) == 1


def test_callbacks_helper_shares_the_identity() -> None:
    callbacks = opsgenie_incident_callbacks(
        opsgenie_incident_conn_id="ops", fingerprint="fp", timeout=5, priority="P1", recovery_note="ok"
    )
    failure, recovery = callbacks["on_failure_callback"], callbacks["on_success_callback"]
    assert isinstance(failure, OpsgenieIncidentFailureNotifier)
    assert isinstance(recovery, OpsgenieIncidentRecoveryNotifier)
    assert failure.priority == "P1"
    for name, value in (("opsgenie_incident_conn_id", "ops"), ("fingerprint", "fp"), ("timeout", 5)):
        assert getattr(failure, name) == getattr(recovery, name) == value
    assert recovery.note == "ok"
    assert send_opsgenie_incident_failure_notification is OpsgenieIncidentFailureNotifier
    assert send_opsgenie_incident_recovery_notification is OpsgenieIncidentRecoveryNotifier


@pytest.mark.parametrize(
    ("cls", "field"),
    [
        pytest.param(cls, field, id=f"{cls.__name__}.{field}")
        for cls in (OpsgenieIncidentFailureNotifier, OpsgenieIncidentRecoveryNotifier)
        for field in cls.template_fields
    ],
)
def test_template_fields_are_attributes_documented_as_templated(cls: type, field: str) -> None:
    assert hasattr(cls(), field)
    doc = inspect.getdoc(cls) or ""
    param = doc.split(f":param {field}:", 1)[1].split(":param", 1)[0]
    assert "(templated)" in param


def test_a_refused_create_still_records_the_failure(opsgenie_incident_connection: OpsgenieEmulator) -> None:
    emulator = opsgenie_incident_connection
    refusal = {"message": "Service with id [svc-retired] not found"}
    emulator.add_fault(Fault("status", status=422, times=1, path="/create$", body=refusal))
    OpsgenieIncidentFailureNotifier(service_id="svc-retired", priority="P1")(task_context())
    emulator.wait_until_processed()
    [incident] = open_incidents(emulator)
    assert incident["message"] == "[Airflow] etl.load failed"
    assert "serviceId" not in incident or not incident["serviceId"]
    [note] = [n["note"] for n in emulator.notes(incident["id"])]
    assert "service_id" in note
    assert "details" in note
    assert "svc-retired] not found" in note


def test_a_responder_with_an_int_id_is_refused_before_io_and_the_incident_says_why(
    opsgenie_incident_connection: OpsgenieEmulator,
) -> None:
    emulator = opsgenie_incident_connection
    OpsgenieIncidentFailureNotifier(responders=[{"type": "team", "name": "x", "id": 5}])(task_context())
    [incident] = emulator.incidents()
    assert not [r for r in emulator.requests if r.path.endswith("/responders")]
    [note] = emulator.notes(incident["id"])
    assert note["note"].startswith("Could not add the responders:")
    assert "responder[0].id" in note["note"]
