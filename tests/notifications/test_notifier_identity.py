"""Incident identity without Airflow: fingerprint tags, details fitting, the flows, many processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_opsgenie_incident.client import (
    ClientSettings,
    InvalidRequestError,
    OpsgenieIncidentClient,
)
from airflow_provider_opsgenie_incident.client.errors import NotFoundError
from airflow_provider_opsgenie_incident.client.fingerprint import fingerprint_tag, open_query
from airflow_provider_opsgenie_incident.client.flows import Call, Sleep, run_flow
from airflow_provider_opsgenie_incident.client.incidents import (
    CREATOR_PREFIX,
    WATCH_QUERY,
    WATCH_READS,
    WATCH_RECENT,
    WATCH_STEP,
    open_or_note,
    resolve_open,
)
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


def _incident(identifier: str, tiny: int, tag: str, *tags: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": identifier,
        "tinyId": str(tiny),
        "status": "open",
        "tags": [tag, *tags],
        "createdAt": f"2025-01-01T00:00:00.{tiny:03d}Z",
        "responders": [],
        **fields,
    }


NOC = {"type": "team", "name": "NOC"}


def _until_create(tag: str, **options: Any) -> tuple[Flow[Any], Call]:
    """Start a flow that finds nothing open; return it and its create step."""
    flow = open_or_note(tag, create={"message": "m", "responders": [NOC]}, note="facts", **options)
    steps = _drive(flow, [_page()])
    return flow, steps[-1]


def _nonce(create: Call) -> str:
    return next(t for t in create.arguments["tags"] if t.startswith(CREATOR_PREFIX))


def test_create_is_quiet_and_marked_for_its_creator() -> None:
    tag = fingerprint_tag("k")
    _, create = _until_create(tag)
    assert create.endpoint == "create_incident"
    assert create.arguments["responders"] is None
    assert create.arguments["notify_stakeholders"] is False
    assert create.arguments["tags"] == [tag, _nonce(create)]


_RECENT = Call(
    "list_incidents", {"query": WATCH_QUERY, "limit": WATCH_RECENT, "sort": "createdAt", "order": "desc"}
)
_GONE = NotFoundError("no such incident", status=404)


def _tiny(tiny: int) -> Call:
    return Call("get_incident", {"identifier": str(tiny), "identifier_type": "tiny"})


def test_a_waiting_creator_joins_the_incident_created_since_the_newest_search_shows() -> None:
    # Search shows #7 as the newest incident; #8 (another task's) and #9 (ours) are created after it.
    tag = fingerprint_tag("k")
    ours = _incident("first", 9, tag, responders=[NOC])
    other = _incident("other", 8, fingerprint_tag("other"))
    flow = open_or_note(tag, create={"message": "m"}, note="facts", stagger=0.5)
    replies = [_page(), _page(_incident("x", 7, "t")), None, {"data": other}, {"data": ours}]
    steps = _drive(flow, [*replies, {"requestId": "n"}, None, {}])
    assert steps[1:5] == [_RECENT, Sleep(WATCH_STEP), _tiny(8), _tiny(9)]
    assert steps[5] == Call("add_note", {"identifier": "first", "note": "facts"})
    assert steps[-1].action == "noted"
    assert not any(isinstance(step, Call) and step.endpoint == "create_incident" for step in steps)


def test_a_waiting_creator_joins_an_incident_search_shows_now_and_missed_a_moment_ago() -> None:
    tag = fingerprint_tag("k")
    flow = open_or_note(tag, create={"message": "m"}, note="facts", stagger=0.5)
    newest = [_incident("other", 3, "t"), _incident("first", 2, tag, responders=[NOC])]
    steps = _drive(flow, [_page(), _page(*newest), {"requestId": "n"}, None, {}])
    assert steps[2] == Call("add_note", {"identifier": "first", "note": "facts"})
    assert steps[-1].action == "noted"


def test_a_waiting_creator_that_sees_nothing_in_its_turn_creates() -> None:
    tag = fingerprint_tag("k")
    flow = open_or_note(tag, create={"message": "m"}, note="facts", stagger=0.4)
    steps = _drive(flow, [_page(), _page(), None, _GONE, None, _GONE])
    assert steps[1:6] == [_RECENT, Sleep(WATCH_STEP), _tiny(1), Sleep(0.4 - WATCH_STEP), _tiny(1)]
    assert steps[6].endpoint == "create_incident"


def test_a_turn_that_comes_sooner_while_watching_ends_the_watch() -> None:
    tag = fingerprint_tag("k")
    turns = iter([3.0, 3.0, 0.0])
    flow = open_or_note(tag, create={"message": "m"}, note="facts", stagger=lambda: next(turns))
    steps = _drive(flow, [_page(), _page(), None, _GONE])
    assert steps[1:4] == [_RECENT, Sleep(WATCH_STEP), _tiny(1)]
    assert steps[4].endpoint == "create_incident"


def test_a_watch_in_a_busy_account_gives_up_and_searches_after_the_turn() -> None:
    tag = fingerprint_tag("k")
    flow = open_or_note(tag, create={"message": "m"}, note="facts", stagger=0.5)
    others = [{"data": _incident(f"o{n}", n, "t")} for n in range(1, WATCH_READS + 1)]
    replies = [_page(), _page(), None, *others, None, _page(_incident("old", 1, tag)), {"requestId": "n"}]
    steps = _drive(flow, replies)
    assert steps[3 : 3 + WATCH_READS] == [_tiny(n) for n in range(1, WATCH_READS + 1)]
    assert steps[3 + WATCH_READS] == Sleep(0.5 - WATCH_STEP)
    assert steps[4 + WATCH_READS].endpoint == "list_incidents"
    assert steps[5 + WATCH_READS] == Call("add_note", {"identifier": "old", "note": "facts"})


def test_the_creator_of_the_oldest_routes_it_and_closes_nothing() -> None:
    tag = fingerprint_tag("k")
    flow, create = _until_create(tag)
    mine, newer = _incident("mine", 2, tag, _nonce(create)), _incident("new", 3, tag)
    # _drive answers the create with None (its answer is not needed), then the pause, then the search.
    steps = _drive(flow, [None, _page(newer, mine), {"requestId": "a"}])
    assert isinstance(steps[0], Sleep)
    assert steps[2] == Call("add_responder", {"identifier": "mine", "responders": [NOC]})
    assert steps[-1].action == "created"
    assert steps[-1].closed == ()


def test_a_creator_that_lost_closes_only_its_own_once_and_notes_the_kept_one() -> None:
    tag = fingerprint_tag("k")
    flow, create = _until_create(tag)
    older = _incident("old", 2, tag, responders=[NOC])
    mine = _incident("mine", 3, tag, _nonce(create))
    steps = _drive(flow, [None, _page(mine, older), {"requestId": "c"}, {"requestId": "n"}, None, {}])
    close, note = steps[2], steps[3]
    assert close == Call("close_incident", {"identifier": "mine", "note": close.arguments["note"]})
    assert "#2 (old)" in close.arguments["note"]
    assert note == Call("add_note", {"identifier": "old", "note": "facts"})
    assert steps[-1].action == "noted"
    assert steps[-1].closed == ("mine",)


def test_a_kept_incident_whose_creator_died_before_routing_is_routed_by_the_next() -> None:
    tag = fingerprint_tag("k")
    flow = open_or_note(tag, create={"message": "m", "responders": [NOC]}, note="facts")
    steps = _drive(flow, [_page(_incident("old", 2, tag)), {"requestId": "a"}, {"requestId": "n"}, None, {}])
    # Routed first, then the failure is recorded: nothing written before holds the page.
    assert steps[1] == Call("add_responder", {"identifier": "old", "responders": [NOC]})
    assert steps[2].endpoint == "add_note"
    assert steps[-1].incident_id == "old"


def test_a_refused_create_is_sent_again_with_what_cannot_be_refused_and_says_so() -> None:
    tag = fingerprint_tag("k")
    flow = open_or_note(
        tag,
        create={"message": "m", "description": "d", "service_id": "gone", "details": {"a": "b"}},
        note="n",
    )
    steps = _drive(flow, [_page(), InvalidRequestError("Service not found", status=422)])
    retry = steps[-1]
    assert set(retry.arguments) == {"message", "description", "tags", "notify_stakeholders"}
    mine = _incident("mine", 1, tag, _nonce(retry))
    steps = _drive(flow, [None, _page(mine), {"requestId": "n"}])
    note = steps[2]
    assert note.endpoint == "add_note"
    assert "details, service_id" in note.arguments["note"]
    assert "Service not found" in note.arguments["note"]
    assert steps[-1].dropped == ("details", "service_id", "Service not found")


def test_our_own_validation_error_is_not_taken_for_a_refusal() -> None:
    flow, _ = _until_create(fingerprint_tag("k"))
    with pytest.raises(InvalidRequestError):
        flow.throw(InvalidRequestError("message is required", field="message"))


def test_a_callback_finding_several_open_closes_the_abandoned_ones() -> None:
    tag = fingerprint_tag("k")
    older, left1, left2 = _incident("old", 2, tag), _incident("left1", 3, tag), _incident("left2", 4, tag)
    steps = _drive(
        open_or_note(tag, create={"message": "m"}, note="facts"),
        [_page(left2, older, left1), {"requestId": "c1"}, {"requestId": "c2"}, {"requestId": "n"}, None, {}],
    )
    assert [(s.endpoint, s.arguments["identifier"]) for s in steps[1:4]] == [
        ("close_incident", "left1"),
        ("close_incident", "left2"),
        ("add_note", "old"),
    ]
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

    url, key, number, step = sys.argv[1:]
    tag = fingerprint_tag("task\\x1fetl\\x1fload", "etl.load")
    client = OpsgenieIncidentClient(ClientSettings(api_key=key, base_url=url))
    print("ready", flush=True)
    sys.stdin.readline()
    create = {"message": "etl.load failed", "responders": [{"type": "team", "name": "NOC"}]}
    stagger = int(number) * float(step)  # as the notifier staggers mapped instances by map index
    flow = open_or_note(tag, create=create, note=f"failure {number}", stagger=stagger)
    print(run_flow(flow, client, timeout=30).action, flush=True)
    """
)


def _fail_together(emulator: OpsgenieEmulator, count: int, step: float) -> list[str]:
    """Run ``count`` processes that fail at the same moment; return what each flow did."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _PROCESS_SCRIPT, emulator.url, emulator.api_key, str(n), str(step)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(count)
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
    return actions


def test_many_processes_failing_at_once_leave_one_open_incident(opsgenie_emulator: OpsgenieEmulator) -> None:
    # Opsgenie applies a create some time after accepting it: searches meanwhile find nothing.
    opsgenie_emulator.processing_delay = 0.2
    actions = _fail_together(opsgenie_emulator, 20, step=0.0)
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
    # Each duplicate got exactly one closing note; only the kept incident ever had responders.
    for duplicate in (i for i in incidents if i is not kept):
        assert len(opsgenie_emulator.notes(duplicate["id"])) == 1
    assert [i["id"] for i in incidents if i["responders"]] == [kept["id"]]


def test_a_storm_of_twelve_mapped_failures_pages_once_with_few_incidents_and_calls(
    opsgenie_emulator: OpsgenieEmulator,
) -> None:
    opsgenie_emulator.processing_delay = 0.2
    _fail_together(opsgenie_emulator, 12, step=0.25)
    opsgenie_emulator.wait_until_processed()
    incidents = opsgenie_emulator.incidents()
    assert len([i for i in incidents if i["status"] == "open"]) == 1
    assert len([i for i in incidents if i["responders"]]) == 1  # paged once
    assert len(incidents) <= 3  # created: the target is at most 2 (median)
    assert len(opsgenie_emulator.requests) / 12 <= 8  # HTTP calls per callback


def test_twelve_processes_with_a_lagging_search_create_one_incident(
    opsgenie_emulator: OpsgenieEmulator,
) -> None:
    opsgenie_emulator.processing_delay = 0.2
    opsgenie_emulator.search_lag = 2.0  # search misses every create of the storm
    actions = _fail_together(opsgenie_emulator, 12, step=0.4)
    opsgenie_emulator.wait_until_processed()
    incidents = opsgenie_emulator.incidents()
    assert len([i for i in incidents if i["status"] == "open"]) == 1
    assert len([i for i in incidents if i["responders"]]) == 1
    assert len(incidents) <= 2  # the median is 1: map index 0 creates, the others join it
    assert actions.count("noted") >= 11 - len(incidents) + 1


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
