"""Incident identity without Airflow: fingerprint tags, details fitting, the flows, many processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_opsgenie_incident.client import ClientSettings, OpsgenieIncidentClient, TransportError
from airflow_provider_opsgenie_incident.client.fingerprint import fingerprint_tag, open_query
from airflow_provider_opsgenie_incident.client.flows import Call, Sleep, Wait, run_flow
from airflow_provider_opsgenie_incident.client.incidents import open_or_note, resolve_open
from airflow_provider_opsgenie_incident.client.validation import fit
from airflow_provider_opsgenie_incident.emulator import Fault

if TYPE_CHECKING:
    from airflow_provider_opsgenie_incident.client.flows import Flow
    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator


@pytest.mark.parametrize(
    ("key", "label", "expected_start"),
    [
        pytest.param("task\x1fetl\x1fload", "etl.load", "af:etl.load:", id="task"),
        pytest.param("billing nightly", None, "af:billing_nightly:", id="spaces-replaced"),
        pytest.param('a,"b"\\c', None, "af:a_b_c:", id="commas-quotes-replaced"),
        pytest.param("d" * 200, None, "af:" + "d" * 36 + ":", id="long-label-cut"),
        pytest.param("k", ("a" * 40, "load"), "af:" + "a" * 31 + ".load:", id="long-dag-keeps-task"),
        pytest.param("k", ("a" * 90, "b" * 90), "af:" + "a" * 17 + "." + "b" * 17 + ":", id="both-cut"),
    ],
)
def test_fingerprint_tag_is_readable_short_and_safe(
    key: str, label: str | tuple[str, str] | None, expected_start: str
) -> None:
    tag = fingerprint_tag(key, label)
    assert tag.startswith(expected_start)
    assert len(tag) <= 50
    assert len(tag.rsplit(":", 1)[1]) == 10
    assert not set(tag) & set(',"\\ ')


def test_fingerprint_tag_is_stable_across_processes() -> None:
    # A fixed value: another interpreter (PYTHONHASHSEED differs) must derive the same tag.
    code = "from airflow_provider_opsgenie_incident.client.fingerprint import fingerprint_tag as f;"
    code += "print(f('task\\x1fetl\\x1fload', 'etl.load'))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == fingerprint_tag("task\x1fetl\x1fload", "etl.load")


def test_fingerprint_tags_differ_where_only_the_cut_part_differs() -> None:
    prefix = "x" * 100
    assert fingerprint_tag(prefix + "a") != fingerprint_tag(prefix + "b")


@pytest.mark.parametrize(
    ("details", "kept_whole"),
    [
        pytest.param({"a": "1", "b": "2"}, {"a": "1", "b": "2"}, id="small-unchanged"),
        pytest.param({"short": "s", "exception": "e" * 20000}, {"short": "s"}, id="one-long-value"),
        pytest.param({"x": "x" * 5000, "y": "y" * 5000, "z": "z"}, {"z": "z"}, id="two-long-values"),
    ],
)
def test_fit_cuts_details_to_the_total_limit(details: dict[str, str], kept_whole: dict[str, str]) -> None:
    fitted = fit("create_incident", {"details": details})["details"]
    assert sum(len(k) + len(v) for k, v in fitted.items()) <= 8000
    assert set(fitted) == set(details)
    assert kept_whole.items() <= fitted.items()
    for key, value in fitted.items():
        if value != details[key]:
            assert value.endswith("…")


def _drive(flow: Flow[Any], replies: list[Any]) -> list[Any]:
    """Feed scripted replies (or errors to throw) to a flow; return the steps it asked for."""
    steps = [next(flow)]
    for reply in replies:
        try:
            step = flow.throw(reply) if isinstance(reply, BaseException) else flow.send(reply)
        except StopIteration as stop:
            steps.append(stop.value)
            return steps
        steps.append(step)
    return steps


def _page(*incidents: dict[str, Any]) -> dict[str, Any]:
    return {"data": list(incidents), "paging": {}}


def test_ambiguous_create_failure_searches_before_creating_again() -> None:
    tag = fingerprint_tag("k")
    lost = TransportError("reset", request_sent=True)
    found = {"id": "i-1", "tinyId": "1", "status": "open", "tags": [tag], "createdAt": "2025-01-01T00:00:00Z"}
    steps = _drive(
        open_or_note(tag, create={"message": "m"}, note="n"),
        [_page(), lost, _page(), None, _page(found), _page(found)],
    )
    kinds = [type(step).__name__ for step in steps[:-1]]
    assert kinds == ["Call", "Call", "Call", "Sleep", "Call", "Call"]
    assert [s.endpoint for s in steps[:-1] if isinstance(s, Call)] == [
        "list_incidents",
        "create_incident",
        "list_incidents",
        "list_incidents",
        "list_incidents",
    ]
    assert isinstance(steps[3], Sleep)
    assert steps[-1].action == "created"
    assert steps[-1].incident_id == "i-1"


def test_create_that_was_never_sent_is_not_searched_for() -> None:
    tag = fingerprint_tag("k")
    flow = open_or_note(tag, create={"message": "m"}, note="n")
    steps = _drive(flow, [_page()])
    assert steps[-1].endpoint == "create_incident"
    assert set(steps[-1].arguments["tags"]) == {tag}
    with pytest.raises(TransportError):
        flow.throw(TransportError("refused", request_sent=False))


def _incident(identifier: str, tiny: int, tag: str) -> dict[str, Any]:
    return {
        "id": identifier,
        "tinyId": str(tiny),
        "status": "open",
        "tags": [tag],
        "createdAt": f"2025-01-01T00:00:00.{tiny:03d}Z",
    }


def test_creator_that_lost_the_race_closes_only_its_own_and_notes_the_oldest() -> None:
    tag = fingerprint_tag("k")
    older, mine, newer = _incident("old", 2, tag), _incident("mine", 3, tag), _incident("new", 4, tag)
    steps = _drive(
        open_or_note(tag, create={"message": "m"}, note="facts"),
        [_page(), {"requestId": "r1"}, {"incidentId": "mine"}, _page(newer, mine, older), {"requestId": "r2"}]
        + [{"requestId": "r3"}, {}],
    )
    close = steps[4]
    assert close == Call("close_incident", {"identifier": "mine", "note": close.arguments["note"]})
    assert "#2 (old)" in close.arguments["note"]
    # The close is not waited for; the note, this failure's record on the survivor, is.
    assert steps[5] == Call("add_note", {"identifier": "old", "note": "facts"})
    assert steps[6] == Wait("r3")
    assert steps[-1].action == "noted"
    assert steps[-1].incident_id == "old"
    assert steps[-1].closed == ("mine",)


def test_creator_of_the_oldest_closes_the_newer_ones_it_sees_without_waiting() -> None:
    tag = fingerprint_tag("k")
    mine, newer = _incident("mine", 2, tag), _incident("new", 3, tag)
    steps = _drive(
        open_or_note(tag, create={"message": "m"}, note="facts"),
        [_page(), {"requestId": "r1"}, {"incidentId": "mine"}, _page(newer, mine), {"requestId": "c1"}],
    )
    assert [s.endpoint for s in steps[:-1] if isinstance(s, Call)] == [
        "list_incidents",
        "create_incident",
        "list_incidents",
        "close_incident",
    ]
    assert steps[4].arguments["identifier"] == "new"
    assert not any(isinstance(s, Wait) and s.request_id == "c1" for s in steps)
    assert steps[-1].action == "created"
    assert steps[-1].incident_id == "mine"
    assert steps[-1].closed == ("new",)


def test_creator_whose_incident_is_already_closed_only_notes_the_oldest() -> None:
    tag = fingerprint_tag("k")
    steps = _drive(
        open_or_note(tag, create={"message": "m"}, note="facts"),
        [_page(), {"requestId": "r1"}, {"incidentId": "mine"}, _page(_incident("old", 2, tag)), {}],
    )
    assert steps[4] == Call("add_note", {"identifier": "old", "note": "facts"})
    assert steps[-1].action == "noted"
    assert steps[-1].closed == ()


def test_callback_finding_several_open_closes_the_newer_ones() -> None:
    tag = fingerprint_tag("k")
    older, left1, left2 = _incident("old", 2, tag), _incident("left1", 3, tag), _incident("left2", 4, tag)
    steps = _drive(
        open_or_note(tag, create={"message": "m"}, note="facts"),
        [_page(left2, older, left1), {"requestId": "c1"}, {"requestId": "c2"}, {"requestId": "n"}, {}],
    )
    assert [(s.endpoint, s.arguments["identifier"]) for s in steps[1:4]] == [
        ("close_incident", "left1"),
        ("close_incident", "left2"),
        ("add_note", "old"),
    ]
    assert steps[4] == Wait("n")
    assert steps[-1].action == "noted"
    assert steps[-1].closed == ("left1", "left2")


def test_resolve_with_nothing_open_only_reads() -> None:
    steps = _drive(resolve_open(fingerprint_tag("k"), note="ok"), [_page()])
    assert steps[0].endpoint == "list_incidents"
    assert steps[0].arguments["query"] == open_query(fingerprint_tag("k"))
    assert steps[-1].action == "nothing"


_PROCESS_SCRIPT = textwrap.dedent(
    """
    import sys
    from airflow_provider_opsgenie_incident.client import ClientSettings, OpsgenieIncidentClient
    from airflow_provider_opsgenie_incident.client.fingerprint import fingerprint_tag
    from airflow_provider_opsgenie_incident.client.flows import run_flow
    from airflow_provider_opsgenie_incident.client.incidents import open_or_note

    url, key, number = sys.argv[1:]
    tag = fingerprint_tag("task\\x1fetl\\x1fload", "etl.load")
    client = OpsgenieIncidentClient(ClientSettings(api_key=key, base_url=url))
    print("ready", flush=True)
    sys.stdin.readline()
    flow = open_or_note(tag, create={"message": "etl.load failed"}, note=f"failure {number}")
    print(run_flow(flow, client, timeout=30).action, flush=True)
    """
)


def test_many_processes_failing_at_once_leave_one_open_incident(opsgenie_emulator: OpsgenieEmulator) -> None:
    # Opsgenie applies a create some time after accepting it: searches meanwhile find nothing.
    opsgenie_emulator.processing_delay = 0.2
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _PROCESS_SCRIPT, opsgenie_emulator.url, opsgenie_emulator.api_key, str(n)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(20)
    ]
    for process in processes:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
    for process in processes:  # all start together, as Celery workers of one failing task would
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    actions = [process.communicate(timeout=60)[0].strip() for process in processes]
    assert all(process.returncode == 0 for process in processes)
    opsgenie_emulator.wait_until_processed()
    incidents = opsgenie_emulator.incidents()
    open_ones = [i for i in incidents if i["status"] == "open"]
    assert len(open_ones) == 1
    kept = open_ones[0]
    assert all(i["status"] == "closed" for i in incidents if i is not kept)
    for duplicate in (i for i in incidents if i is not kept):
        assert any(kept["id"] in note["note"] for note in opsgenie_emulator.notes(duplicate["id"]))
    # Every failure is on the kept incident: as its creation, or as a note.
    assert actions.count("created") == 1
    assert len(opsgenie_emulator.notes(kept["id"])) == 19


def test_lost_create_answer_with_client_leaves_one_incident(opsgenie_emulator: OpsgenieEmulator) -> None:
    opsgenie_emulator.add_fault(Fault("lost_response", method="POST", path=r"^/v1/incidents/create$"))
    client = OpsgenieIncidentClient(
        ClientSettings(api_key=opsgenie_emulator.api_key, base_url=opsgenie_emulator.url)
    )
    tag = fingerprint_tag("lost")
    outcome = run_flow(open_or_note(tag, create={"message": "m"}, note="n"), client, timeout=10)
    assert outcome.action == "created"
    assert [i["id"] for i in opsgenie_emulator.incidents()] == [outcome.incident_id]
    creates = [r for r in opsgenie_emulator.requests if r.path == "/v1/incidents/create"]
    assert len(creates) == 1
