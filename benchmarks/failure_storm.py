"""Failure storm: many failure callbacks at once, from separate worker processes, as in a real deployment.

``WORKERS`` long-lived child processes stand for Airflow workers. For each storm the parent resets
the emulator (which runs in the parent, so that its state, request log and pages can be read),
hands every child its callbacks, and once all are ready releases them together: each callback is
a fresh ``OpsgenieIncidentFailureNotifier`` with responders, called with a minimal task context,
in its own thread. The emulator's ``processing_delay`` is 0.2 s, so searches miss each other's
pending creates and the lock-free convergence has real work to do.

Two scenarios, ``REPEATS`` storms each (medians reported):

- ``12x1``: 12 mapped instances of one task fail at once, one per process.
- ``40x4``: 40 failures over 4 tasks, spread over the processes.

Figures per storm: open incidents per task (must be 1), pages per task (incidents that ever had
responders: must be 1, as closing a duplicate does not take its page back), incidents created,
HTTP calls per callback (the mean, and the most made on one callback's connection), wall time,
failed callbacks, and the duplicates not closed with exactly one note naming the kept incident.

``python -m benchmarks.failure_storm [--scenario 12x1] [--storms N] [--json]``: ``--json`` prints one
JSON document with every storm's figures as the last line (the storm test reads it).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from benchmarks.common import Row, emit, median, quiet

if TYPE_CHECKING:
    from collections.abc import Callable
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator

SCENARIOS = {"12x1": (12, 1), "40x4": (40, 4)}
NOTIFIER_MODULE = "airflow_provider_opsgenie_incident.notifications.incident"
CONNECTION_ENV = "AIRFLOW_CONN_OPSGENIE_INCIDENT_DEFAULT"
WORKERS = int(os.environ.get("BENCH_STORM_WORKERS", "12"))
REPEATS = int(os.environ.get("BENCH_STORM_REPEATS", "10"))
PROCESSING_DELAY = float(os.environ.get("BENCH_STORM_PROCESSING_DELAY", "0.2"))
#: ``0``: the notifiers record later failures as notes, without timeline entries (to compare).
TIMELINE = os.environ.get("BENCH_STORM_TIMELINE", "1") != "0"
RESPONDERS = [{"type": "team", "name": "storm-responders"}]
DAG_ID = "storm"
RUN_ID = "scheduled__2026-01-01T00:00:00+00:00"
#: Targets of the design: per task, one open incident and one page in every storm; medians of
#: at most 2 incidents created for 12 failures of one task and at most 8 HTTP calls per callback.
CREATED_TARGET = 2
CALLS_TARGET = 8.0


def plan(callbacks: int, tasks: int) -> list[dict[str, Any]]:
    """Describe ``callbacks`` failures over ``tasks`` tasks (mapped instances of each task)."""
    return [
        {"task_id": f"extract_{number % tasks}", "map_index": number // tasks, "try_number": 1}
        for number in range(callbacks)
    ]


# -- the child side: one Airflow worker ----------------------------------------------------


def _context(callback: dict[str, Any]) -> dict[str, Any]:
    ti = SimpleNamespace(
        dag_id=DAG_ID,
        task_id=callback["task_id"],
        try_number=callback["try_number"],
        map_index=callback["map_index"],
        log_url=f"http://airflow.example/dags/{DAG_ID}/runs/r1/tasks/{callback['task_id']}",
    )
    return {"ti": ti, "run_id": RUN_ID, "exception": RuntimeError("boom")}


def worker(orders: Connection) -> None:
    """Serve the parent's orders: ``prepare`` callbacks, then ``go`` to run them at once; ``None`` ends."""
    from airflow_provider_opsgenie_incident.client.pacer import reset_pacers
    from airflow_provider_opsgenie_incident.client.sightings import reset_sightings
    from airflow_provider_opsgenie_incident.notifications.incident import OpsgenieIncidentFailureNotifier

    quiet()
    prepared: list[tuple[Any, dict[str, Any]]] = []
    while (order := orders.recv()) is not None:
        if order["do"] == "prepare":
            # A fresh outage against a reset emulator: forget the last storm's incidents and pacing.
            reset_pacers()
            reset_sightings()
            prepared = [
                (
                    OpsgenieIncidentFailureNotifier(responders=RESPONDERS, timeline=TIMELINE),
                    _context(callback),
                )
                for callback in order["callbacks"]
            ]
            for notifier, _ in prepared:  # the connection lookup and client set-up a worker has made
                _ = notifier._api
            orders.send({"prepared": len(prepared)})
        elif order["do"] == "go":
            orders.send({"errors": _call_at_once(prepared)})
            for notifier, _ in prepared:
                notifier.hook.client.close()


def _call_at_once(prepared: list[tuple[Any, dict[str, Any]]]) -> list[str]:
    """Call every notifier with its context, each in its own thread; return the errors raised."""
    errors: list[str] = []

    def call(notifier: Any, context: dict[str, Any]) -> None:
        try:
            notifier(context)
        except Exception as error:
            errors.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=call, args=item) for item in prepared]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


# -- the parent side ----------------------------------------------------------------------------


class Workers:
    """The child processes, started once and reused by every storm.

    They are forked from a fork server that has imported the notifier (Celery's prefork pool and
    the LocalExecutor also fork workers that have Airflow loaded), so twelve of them start in
    about the time of one import instead of twelve.

    :param target: what each child runs with its end of the order pipe (default: :func:`worker`).
    """

    def __init__(
        self, count: int, emulator: OpsgenieEmulator, target: Callable[[Connection], None] | None = None
    ) -> None:
        connection = {"conn_type": "opsgenie_incident", "host": emulator.url, "password": emulator.api_key}
        os.environ[CONNECTION_ENV] = json.dumps(connection)  # the fork server starts with this environment
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__, NOTIFIER_MODULE, "requests"])
        self.pipes: list[Connection] = []
        self.processes: list[BaseProcess] = []
        for _ in range(count):
            ours, theirs = context.Pipe()
            process = context.Process(target=target or worker, args=(theirs,), daemon=True)
            process.start()
            theirs.close()
            self.pipes.append(ours)
            self.processes.append(process)

    def run(
        self, callbacks: list[dict[str, Any]], release: Callable[[], None]
    ) -> tuple[list[str], float, list[dict[str, Any]]]:
        """Prepare the callbacks round-robin, call ``release()``, run them at once.

        Return the errors, the wall time, and every worker's whole answer.
        """
        shares = [callbacks[index :: len(self.pipes)] for index in range(len(self.pipes))]
        busy = [(pipe, share) for pipe, share in zip(self.pipes, shares, strict=True) if share]
        for pipe, share in busy:
            pipe.send({"do": "prepare", "callbacks": share})
        for pipe, _ in busy:
            pipe.recv()
        release()
        started = time.perf_counter()
        for pipe, _ in busy:
            pipe.send({"do": "go"})
        answers = [pipe.recv() for pipe, _ in busy]
        errors = [error for answer in answers for error in answer["errors"]]
        return errors, time.perf_counter() - started, answers

    def close(self) -> None:
        """End the children and wait for them."""
        for pipe in self.pipes:
            pipe.send(None)
            pipe.close()
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()


@dataclass
class Storm:
    """What one storm left behind."""

    callbacks: int
    tasks: int
    wall: float
    errors: list[str]
    created: int
    created_by_task: dict[str, int]
    open_by_task: dict[str, int]
    pages_by_task: dict[str, int]
    stakeholder_notifications: int
    calls: int
    calls_by_endpoint: dict[str, int]
    max_calls_per_callback: int
    badly_closed_duplicates: list[str] = field(default_factory=list)

    @property
    def calls_per_callback(self) -> float:
        """HTTP calls made, per callback."""
        return self.calls / self.callbacks

    @property
    def converged(self) -> bool:
        """One open incident and one page per task, no failed callback, every duplicate closed once."""
        expected = {f"extract_{task}": 1 for task in range(self.tasks)}
        return (
            self.open_by_task == expected
            and self.pages_by_task == expected
            and self.stakeholder_notifications <= self.tasks
            and not self.errors
            and not self.badly_closed_duplicates
        )


def _badly_closed(emulator: OpsgenieEmulator, incidents: list[dict[str, Any]]) -> list[str]:
    """Name the duplicates not closed, or not carrying exactly one note naming the kept incident."""
    bad = []
    by_task: dict[str, list[dict[str, Any]]] = {}
    for incident in incidents:
        by_task.setdefault(incident["details"].get("task_id", ""), []).append(incident)
    for group in by_task.values():
        kept = [incident for incident in group if incident["status"] == "open"]
        if len(kept) != 1:
            continue  # counted as open incidents
        for duplicate in group:
            if duplicate is kept[0]:
                continue
            naming = [note for note in emulator.notes(duplicate["id"]) if kept[0]["id"] in note["note"]]
            if duplicate["status"] != "closed" or len(naming) != 1:
                bad.append(
                    f"#{duplicate['tinyId']} {duplicate['status']}, {len(naming)} notes naming the kept one"
                )
    return bad


def storm(emulator: OpsgenieEmulator, workers: Workers, callbacks: int, tasks: int) -> Storm:
    """Run one storm against a fresh emulator state; return what it did."""
    emulator.reset()
    emulator.processing_delay = PROCESSING_DELAY
    errors, wall, _ = workers.run(plan(callbacks, tasks), release=emulator.clear_requests)
    emulator.wait_until_processed(timeout=30)
    incidents = emulator.incidents()
    task_of = {incident["id"]: incident["details"].get("task_id") for incident in incidents}
    requests = emulator.requests
    return Storm(
        callbacks=callbacks,
        tasks=tasks,
        wall=wall,
        errors=errors,
        created=len(incidents),
        created_by_task=dict(Counter(task_of.values())),
        open_by_task=dict(Counter(task_of[i["id"]] for i in incidents if i["status"] == "open")),
        pages_by_task=dict(Counter(task_of.get(incident_id) for incident_id in emulator.paged_incidents())),
        stakeholder_notifications=sum(page.notify_stakeholders for page in emulator.pages()),
        calls=len(requests),
        calls_by_endpoint=dict(Counter(str(request.endpoint) for request in requests).most_common()),
        max_calls_per_callback=max(Counter(request.connection for request in requests).values(), default=0),
        badly_closed_duplicates=_badly_closed(emulator, incidents),
    )


def _describe(result: Storm) -> str:
    text = (
        f"wall {result.wall:.2f} s, created {result.created}, open {result.open_by_task},"
        f" pages {result.pages_by_task}, HTTP calls {result.calls}"
        f" ({result.calls_per_callback:.1f}/callback, most {result.max_calls_per_callback}),"
        f" failed callbacks {len(result.errors)} {result.errors[:2]}"
    )
    if result.badly_closed_duplicates:
        text += f", duplicates not closed once: {result.badly_closed_duplicates}"
    return text


def _span(values: list[int]) -> str:
    """Show the lowest and highest of some counts: ``1`` or ``1..3``."""
    low, high = min(values, default=0), max(values, default=0)
    return str(low) if low == high else f"{low}..{high}"


def _report(name: str, storms: list[Storm]) -> list[Row]:
    callbacks, tasks = SCENARIOS[name]
    created = median([result.created for result in storms])
    pages = median([sum(result.pages_by_task.values()) for result in storms])
    per_callback = median([result.calls_per_callback for result in storms])
    most = median([result.max_calls_per_callback for result in storms])
    wall = median([result.wall for result in storms])
    opens = _span([count for result in storms for count in result.open_by_task.values()])
    paged = _span([count for result in storms for count in result.pages_by_task.values()])
    label = (
        f"failure storm {callbacks} callbacks x {tasks} task{'s' if tasks > 1 else ''}, {len(storms)} storms"
    )
    created_target = CREATED_TARGET if tasks == 1 else None
    return [
        Row(
            f"{label}: open incidents per task; pages per task (lowest..highest)",
            f"{opens}; {paged}",
            f"{callbacks // tasks}; {callbacks // tasks} one incident per callback",
            "",
            "1; 1 in every storm, no failed callback, each duplicate closed with one note",
            all(result.converged for result in storms),
        ),
        Row(
            f"{label}: incidents created; pages; HTTP calls per callback (mean, most on one); wall s"
            " (medians)",
            f"{created:.0f}; {pages:.0f}; {per_callback:.1f} ({most:.0f}); {wall:.2f}",
            f"{callbacks}; {callbacks}; 1 one paged create per callback",
            "",
            (f"created <= {created_target}; " if created_target else "")
            + f"pages {tasks}; <= {CALLS_TARGET:g} calls/callback",
            (created_target is None or created <= created_target)
            and pages == tasks
            and per_callback <= CALLS_TARGET,
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    """Run the scenarios and report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.failure_storm")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), action="append")
    parser.add_argument("--storms", type=int, default=REPEATS)
    parser.add_argument("--json", action="store_true", help="print every storm's figures as JSON at the end")
    args = parser.parse_args(argv)
    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator

    scenarios = args.scenario or list(SCENARIOS)
    results: dict[str, list[Storm]] = {}
    with OpsgenieEmulator() as emulator:
        workers = Workers(WORKERS, emulator)
        try:
            for name in scenarios:
                callbacks, tasks = SCENARIOS[name]
                print(
                    f"failure storm {name}: {callbacks} callbacks over {tasks} task(s), {WORKERS} processes"
                )
                results[name] = []
                for _ in range(args.storms):
                    result = storm(emulator, workers, callbacks, tasks)
                    results[name].append(result)
                    print(f"  {_describe(result)}")
                typical = sorted(results[name], key=lambda result: result.calls)[len(results[name]) // 2]
                print("  HTTP calls of the median storm, by endpoint:")
                for endpoint, count in typical.calls_by_endpoint.items():
                    print(f"    {count:5d}  {endpoint}")
        finally:
            workers.close()
    emit([row for name, storms in results.items() for row in _report(name, storms)])
    if args.json:
        print(json.dumps({name: [asdict(result) for result in storms] for name, storms in results.items()}))


if __name__ == "__main__":
    quiet()
    main()
