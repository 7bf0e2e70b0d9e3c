"""The timeline story's pure parts: markers, entries cut to fit, the read-back before a write, budgets."""

from __future__ import annotations

from typing import Any

from airflow_provider_opsgenie_incident.client.catalogue import DESCRIPTION_LIMIT
from airflow_provider_opsgenie_incident.client.flows import Call
from airflow_provider_opsgenie_incident.client.settings import ClientSettings
from airflow_provider_opsgenie_incident.client.story import (
    TIMELINE_LIMIT,
    Entry,
    marker,
    record,
    short_settings,
)

EVENT = "2025-01-01T10:05:00.000Z"


def test_a_marker_is_the_same_for_the_same_event_and_differs_for_any_other() -> None:
    facts = ("etl", "run-1", "load", None, "2", "failure")
    assert marker(*facts) == marker(*facts)
    assert marker(*facts).startswith("af-e:")
    assert len(marker(*facts)) == len("af-e:") + 16
    others = {marker(*facts[:i], "x", *facts[i + 1 :]) for i in range(len(facts))}
    assert marker(*facts) not in others
    assert len(others) == len(facts)


def test_a_long_entry_is_cut_to_the_limit_and_keeps_its_marker_last() -> None:
    entry = Entry.of(["Failed: etl.load", "Error: " + "x" * 20000], marker("e"), EVENT)
    assert len(entry.content) == DESCRIPTION_LIMIT
    assert entry.content.endswith(f"\nEvent: {entry.marker}")
    assert entry.content.startswith("Failed: etl.load\n")


def _entry(content: str, when: str) -> dict[str, Any]:
    return {"group": "custom", "eventTime": when, "description": {"name": content, "type": "plain_text"}}


def _steps(flow: Any, replies: list[Any]) -> tuple[list[Any], Any]:
    steps, reply = [], None
    try:
        for upcoming in [*replies, None]:
            steps.append(flow.send(reply))
            reply = upcoming
    except StopIteration as done:
        return steps, done.value
    raise AssertionError("the flow did not end")


def test_the_read_back_pages_until_an_entry_older_than_the_event_then_writes() -> None:
    entry = Entry.of(["Failed: etl.load"], marker("e"), EVENT)
    newer = {"data": {"entries": [_entry("later", "2025-01-01T10:09:00.000Z")], "nextOffset": "a"}}
    older = {"data": {"entries": [_entry("earlier", "2025-01-01T10:01:00.000Z")], "nextOffset": "b"}}
    steps, result = _steps(record("inc", entry), [newer, older, {"data": {}}])
    assert [step.endpoint for step in steps] == ["list_timeline_entries"] * 2 + ["add_timeline_entry"]
    assert steps[1].arguments["offset"] == "a"
    assert steps[2] == Call(
        "add_timeline_entry", {"incident_id": "inc", "content": entry.content, "time": EVENT}
    )
    assert result == "added"


def test_an_event_delivered_again_finds_its_marker_on_a_later_page() -> None:
    entry = Entry.of(["Failed: etl.load"], marker("e"), EVENT)
    newer = {"data": {"entries": [_entry("later", "2025-01-01T10:09:00.000Z")], "nextOffset": "a"}}
    ours = {"data": {"entries": [_entry(entry.content, EVENT)]}}
    steps, result = _steps(record("inc", entry), [newer, ours])
    assert [step.endpoint for step in steps] == ["list_timeline_entries"] * 2
    assert result == "found"


def test_an_incident_just_created_is_written_without_reading_back() -> None:
    entry = Entry.of(["Failed: etl.load"], marker("e"), None)
    steps, result = _steps(record("inc", entry, fresh=True), [{"data": {}}])
    assert steps == [Call("add_timeline_entry", {"incident_id": "inc", "content": entry.content})]
    assert result == "added"


def test_the_timeline_budget_is_short_whatever_the_connection_allows() -> None:
    settings = ClientSettings(api_key="k", base_url="https://api.opsgenie.com")
    short = short_settings(settings)
    assert short.attempt_deadline <= TIMELINE_LIMIT / 2.5
    assert short.read_timeout <= short.attempt_deadline
    assert short.retry.total_timeout + short.retry.verify_window <= TIMELINE_LIMIT
    assert (short.base_url, short.api_key) == (settings.base_url, settings.api_key)


def test_times_with_and_without_milliseconds_compare_as_instants() -> None:
    entry = Entry.of(["Failed: etl.load"], marker("e"), "2025-01-01T10:05:00.000Z")
    same = {"data": {"entries": [_entry("same instant", "2025-01-01T10:05:00Z")], "nextOffset": "a"}}
    older = {"data": {"entries": [_entry("earlier", "2025-01-01T10:04:59Z")], "nextOffset": "b"}}
    steps, result = _steps(record("inc", entry), [same, older, {"data": {}}])
    assert [step.endpoint for step in steps] == ["list_timeline_entries"] * 2 + ["add_timeline_entry"]
    assert result == "added"
