"""The timeline entry of one callback's event, and the clients that write it (imported when a callback runs).

An entry reads at a glance from its first line (``Failed: etl.load, try 2 of 4``), then names the
error's first line, the run, the map index and the log; its last line is the event's marker, the
same for every delivery of the same event (:func:`~..client.story.marker`). It is stamped with the
event's own time (:attr:`.Run.event_time`), so the timeline keeps the order in which things
happened, however late a callback runs.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_opsgenie_incident._compat import redact_or_replace
from airflow_provider_opsgenie_incident.client.story import ARouted, Entry, Routed, marker, short_settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient
    from airflow_provider_opsgenie_incident.client.incidents import IncidentOutcome
    from airflow_provider_opsgenie_incident.client.sync import OpsgenieIncidentClient
    from airflow_provider_opsgenie_incident.notifications._run import Run

__all__ = ["Kind", "arouted", "entry", "log_entry", "routed"]

Kind = Literal["failure", "retry", "recovery"]


def _title(run: Run, kind: Kind) -> str:
    attempt = f", {run.attempt}" if run.attempt else ""
    if run.scope == "deadline":
        return f"Missed its deadline: {run.subject}"
    if kind == "retry":
        return f"Retrying: {run.subject}{attempt} failed"
    if kind == "recovery":
        return f"Recovered: {run.subject} succeeded" + (f" on {run.attempt}" if run.attempt else "")
    if run.question:
        return f"Awaits a decision: {run.subject}: {run.question}"
    return f"Failed: {run.subject}{attempt}"


def entry(run: Run, kind: Kind) -> Entry:
    """Return the timeline entry of ``run``'s event of ``kind``."""
    error = (run.error or "").strip().splitlines()
    lines = [_title(run, kind)]
    if kind != "recovery" and error:
        lines.append(f"Error: {error[0]}")
    lines += [
        f"{label}: {value}" for label, value in (("Run", run.run_id), ("Map index", run.map_index)) if value
    ]
    if run.log_url:
        lines.append(f"Log: {run.log_url}")
    event = "deadline" if run.scope == "deadline" else "question" if run.question else kind
    facts = (run.dag_id, run.run_id, run.task_id, run.map_index, run.try_number, event)
    # A deadline has no try: its time tells one missed deadline of a run from another.
    key = marker(*facts, run.event_time if run.scope == "deadline" else None)
    return Entry.of([redact_or_replace(line) for line in lines], key, run.event_time)


def log_entry(log: Any, run: Run, kind: Kind, outcome: IncidentOutcome) -> None:
    """Log what became of an entry that was not simply added: dropped (and where the event is), or found."""
    if outcome.timeline_error:
        where = {"created": "the incident's description", "resolved": "the resolving note"}
        log.warning(
            "Dropped the Opsgenie timeline entry of %s (%s) on incident %s: %s; the event is in %s",
            run.subject,
            kind,
            outcome.incident_id,
            outcome.timeline_error,
            where.get(outcome.action, "a note"),
        )
    elif outcome.timeline == "found":
        log.info("Opsgenie timeline entry of %s (%s) was written already", run.subject, kind)


def routed(client: OpsgenieIncidentClient) -> Routed:
    """Return ``client`` with its timeline calls on a client of their own, with a short budget."""
    from airflow_provider_opsgenie_incident.client.sync import OpsgenieIncidentClient

    return Routed(client, OpsgenieIncidentClient(short_settings(client.settings)))


@asynccontextmanager
async def arouted(client: AsyncOpsgenieIncidentClient) -> AsyncIterator[ARouted]:
    """Yield ``client`` with its timeline calls on a short budget; close what it opened."""
    from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient

    async with AsyncOpsgenieIncidentClient(short_settings(client.settings)) as timeline:
        yield ARouted(client, timeline)
