"""The approval example waits for a person, and the answer resolves or escalates its incident.

``dag.test()`` keeps a run alive while a Human-in-the-loop task waits for input; the answer comes
the way a person's does: through the Required Actions endpoints of Airflow's REST API, here served
in-process by the real API application on the same metadata database.

Where Airflow's own behaviour differs, the tests say so: on 3.3 the waiting task is in
``awaiting_input`` and the scheduler's sweep applies ``response_timeout``; on 3.2 the task defers
to ``HITLTrigger``, which ``dag.test()`` runs in-line and which applies the timeout itself.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from airflow.utils.state import TaskInstanceState

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator

ROOT = Path(__file__).resolve().parent.parent
DAG_ID = "example_opsgenie_incident_approval"
EXAMPLE = (ROOT / "example_dags" / f"{DAG_ID}.py").read_text()
DOCS = (ROOT / "docs" / "approvals.md").read_text()
# The approvals page's notifier example, run here as it is printed there.
NOTIFIER_EXAMPLE = re.search(
    r"<!-- run by tests/test_example_approval.py -->\n```python\n(.*?)```", DOCS, re.S
)


# Airflow 3.3 parks a waiting task in ``awaiting_input``. Airflow 3.2 defers it to HITLTrigger, and
# dag.test() runs that trigger in-line with the task instance ``queued`` (``deferred`` in a deployment).
AWAITS_INPUT = hasattr(TaskInstanceState, "AWAITING_INPUT")
WAITING_STATE = "awaiting_input" if AWAITS_INPUT else "queued"


def _answer_the_triggers_hitl_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Let HITLTrigger read and write its request under Airflow 3.2's ``dag.test()``.

    3.2's ``dag.test()`` runs the trigger in-line, behind an in-process task supervisor that has no
    answer for the trigger's two requests (only the triggerer's supervisor does), so the trigger
    gets None and fails with AttributeError. This answers them as the triggerer does, through the
    same Execution API client. 3.3 needs no trigger for the wait, and nothing is changed there.
    """
    if AWAITS_INPUT:
        return
    from airflow.jobs.triggerer_job_runner import HITLDetailResponseResult
    from airflow.sdk.execution_time.comms import GetHITLDetailResponse, UpdateHITLDetail
    from airflow.sdk.execution_time.supervisor import InProcessTestSupervisor

    handle = InProcessTestSupervisor._handle_request

    def with_hitl_requests(self: Any, msg: Any, log: Any, req_id: int) -> None:
        if isinstance(msg, GetHITLDetailResponse):
            response = self.client.hitl.get_detail_response(ti_id=msg.ti_id)
        elif isinstance(msg, UpdateHITLDetail):
            response = self.client.hitl.update_response(
                ti_id=msg.ti_id, chosen_options=msg.chosen_options, params_input=msg.params_input
            )
        else:
            handle(self, msg, log, req_id)
            return
        self.send_msg(HITLDetailResponseResult.from_api_response(response=response), request_id=req_id)

    monkeypatch.setattr(InProcessTestSupervisor, "_handle_request", with_hitl_requests)


class Waiting(threading.Thread):
    """Wait until a task asks for input, then answer it: as a person does, or as the scheduler's sweep."""

    def __init__(self, client: Any, dag_id: str, task_id: str, answer: str | None) -> None:
        super().__init__(daemon=True)
        self.client, self.dag_id, self.task_id, self.answer = client, dag_id, task_id, answer
        self.request: dict[str, Any] | None = None
        self.response: dict[str, Any] | None = None
        self.seen_while_waiting: Callable[[], Any] = lambda: None
        self.seen: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._answer_when_asked()
        except BaseException as error:  # surfaced by the test, not lost in the thread
            self.error = error

    def _answer_when_asked(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            listing = self.client.get(
                f"/api/v2/dags/{self.dag_id}/dagRuns/~/hitlDetails",
                params={"task_id": self.task_id, "response_received": False},
            )
            listing.raise_for_status()
            waiting = [
                detail
                for detail in listing.json()["hitl_details"]
                if detail["task_instance"]["state"] == WAITING_STATE
            ]
            if waiting:
                self.request = waiting[0]
                self.seen = self.seen_while_waiting()
                self._respond(self.request["task_instance"])
                return
            time.sleep(0.2)
        raise TimeoutError(f"{self.dag_id}.{self.task_id} never asked for input")

    def _respond(self, ti: dict[str, Any]) -> None:
        if self.answer is None:
            self._sweep_after_the_timeout()
            return
        answered = self.client.patch(
            f"/api/v2/dags/{self.dag_id}/dagRuns/{ti['dag_run_id']}"
            f"/taskInstances/{self.task_id}/{ti['map_index']}/hitlDetails",
            json={"chosen_options": [self.answer]},
        )
        answered.raise_for_status()
        self.response = answered.json()

    def _sweep_after_the_timeout(self) -> None:
        if not AWAITS_INPUT:
            return  # Airflow 3.2: HITLTrigger applies response_timeout itself, no sweep exists
        from airflow.jobs.job import Job
        from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
        from airflow.utils.session import create_session

        time.sleep(1.5)  # past the test DAG's one-second response_timeout
        with create_session() as session:
            SchedulerJobRunner(job=Job()).check_awaiting_input_timeouts(session=session)


@pytest.fixture(scope="module")
def api_client(airflow_db: Any) -> Iterator[Any]:
    """Airflow's REST API, in-process, every caller an admin (the simple auth manager's dev mode)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "True")
        patch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "a-test-secret-" * 5)
        from airflow.api_fastapi.app import create_app
        from fastapi.testclient import TestClient

        with TestClient(create_app("core")) as client:
            yield client


@pytest.fixture
def run_waiting(
    api_client: Any, run_dag: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[Any, Waiting]]:
    """Run a DAG with ``dag.test()`` while ``task_id`` gets ``answer`` (None: nobody answers in time)."""
    _answer_the_triggers_hitl_requests(monkeypatch)

    def run(source: str, dag_id: str, task_id: str, answer: str | None, **seen: Any) -> tuple[Any, Waiting]:
        waiting = Waiting(api_client, dag_id, task_id, answer)
        waiting.seen_while_waiting = seen.get("seen_while_waiting", waiting.seen_while_waiting)
        waiting.start()
        result = run_dag(source, dag_id=dag_id)
        waiting.join(timeout=5)
        if waiting.error:
            raise waiting.error
        return result, waiting

    return run


ESCALATED = {
    "page_on_call": "success",
    "decide": "success",
    "resolve_incident": "skipped",
    "raise_priority": "success",
    "add_team_leads": "success",
}


def test_the_page_goes_out_when_the_wait_starts_and_resolve_resolves(
    opsgenie_incident_connection: OpsgenieEmulator, run_waiting: Callable[..., Any]
) -> None:
    emulator = opsgenie_incident_connection
    result, waiting = run_waiting(
        EXAMPLE, DAG_ID, "decide", "Resolve", seen_while_waiting=lambda: emulator.incidents()
    )

    assert result.task_states == {
        "page_on_call": "success",
        "decide": "success",
        "resolve_incident": "success",
        "raise_priority": "skipped",
        "add_team_leads": "skipped",
    }
    # While the person was being asked, the incident was open and routed to the on-call team,
    # and the question they saw carried its address.
    [paged] = waiting.seen
    assert (paged["status"], paged["priority"]) == ("open", "P3")
    assert paged["responders"] == [{"type": "team", "name": "payments"}]
    assert waiting.request["subject"] == "3 refunds do not match the ledger"
    assert waiting.request["body"] == f"Opsgenie incident: {result.xcom('page_on_call', 'url')}"
    assert paged["id"] in waiting.request["body"]
    assert waiting.response["chosen_options"] == ["Resolve"]

    [incident] = emulator.incidents()
    assert incident["status"] == "resolved"
    notes = [note["note"] for note in emulator.notes(incident["id"])]
    assert notes == ["The on-call answered Resolve in Airflow: the mismatches are expected."]


def test_escalate_raises_the_priority_and_adds_the_leads(
    opsgenie_incident_connection: OpsgenieEmulator, run_waiting: Callable[..., Any]
) -> None:
    emulator = opsgenie_incident_connection
    result, _ = run_waiting(EXAMPLE, DAG_ID, "decide", "Escalate")

    assert result.task_states == ESCALATED
    [incident] = emulator.incidents()
    assert (incident["status"], incident["priority"]) == ("open", "P1")
    assert {"type": "team", "name": "payments-leads"} in incident["responders"]
    [note] = emulator.notes(incident["id"])
    assert note["note"].startswith("Escalated from Airflow")


def test_no_answer_in_time_escalates(
    opsgenie_incident_connection: OpsgenieEmulator, run_waiting: Callable[..., Any]
) -> None:
    # The scheduler's sweep answers with the defaults once response_timeout has passed.
    assert EXAMPLE.count("response_timeout=timedelta(minutes=30)") == 1
    quick = EXAMPLE.replace("response_timeout=timedelta(minutes=30)", "response_timeout=timedelta(seconds=1)")
    result, _ = run_waiting(quick, DAG_ID, "decide", None)

    assert result.task_states == ESCALATED
    [incident] = opsgenie_incident_connection.incidents()
    assert incident["priority"] == "P1"


@pytest.mark.parametrize(("answer", "migrate"), [("Approve", "success"), ("Reject", "skipped")])
def test_a_notifier_pages_as_the_wait_starts_and_any_answer_resolves(
    opsgenie_incident_connection: OpsgenieEmulator,
    run_waiting: Callable[..., Any],
    answer: str,
    migrate: str,
) -> None:
    emulator = opsgenie_incident_connection
    assert NOTIFIER_EXAMPLE, "docs/approvals.md lost its notifier example"
    result, waiting = run_waiting(
        NOTIFIER_EXAMPLE.group(1),
        "approve_schema_migration",
        "approve_migration",
        answer,
        seen_while_waiting=lambda: emulator.incidents(),
    )

    assert result.task_states == {"approve_migration": "success", "migrate": migrate}
    [paged] = waiting.seen
    assert paged["status"] == "open"
    assert paged["message"] == (
        "[Airflow] approve_schema_migration.approve_migration awaits a decision: "
        "Apply the schema migration to production?"
    )
    assert paged["description"].startswith(
        "approve_schema_migration.approve_migration awaits a decision: "
        "Apply the schema migration to production?.\nRun: "
    )
    assert "failed" not in paged["message"] + paged["description"]
    [incident] = emulator.incidents()
    assert incident["status"] == "resolved"
    [note] = emulator.notes(incident["id"])
    assert note["note"].startswith("approve_schema_migration.approve_migration succeeded in run ")


UNANSWERED = """
from datetime import timedelta

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import DAG

from airflow_provider_opsgenie_incident.notifications.incident import OpsgenieIncidentFailureNotifier

with DAG(dag_id="unanswered_question", schedule=None) as dag:
    HITLOperator(
        task_id="ask",
        subject="Which replica should become primary?",
        options=["replica-a", "replica-b"],
        notifiers=[OpsgenieIncidentFailureNotifier()],
        on_failure_callback=OpsgenieIncidentFailureNotifier(),
        response_timeout=timedelta(seconds=1),
        retries=0,
    )
"""


def test_a_wait_that_times_out_without_defaults_is_a_failure_noted_on_the_page(
    opsgenie_incident_connection: OpsgenieEmulator, run_waiting: Callable[..., Any]
) -> None:
    emulator = opsgenie_incident_connection
    result, _ = run_waiting(UNANSWERED, "unanswered_question", "ask", None)

    assert result.task_states == {"ask": "failed"}
    [incident] = emulator.incidents()
    assert incident["message"] == (
        "[Airflow] unanswered_question.ask awaits a decision: Which replica should become primary?"
    )
    # The page's timeline says the wait began, then that it failed, each once; no note.
    assert emulator.notes(incident["id"]) == []
    entries = [e["description"]["name"] for e in emulator.timeline(incident["id"]) if e["group"] == "custom"]
    assert [entry.splitlines()[0] for entry in entries] == [
        "Awaits a decision: unanswered_question.ask: Which replica should become primary?",
        "Failed: unanswered_question.ask, try 1 of 1",
    ]
    assert entries[1].splitlines()[1].startswith("Error: HITLTimeoutError")
