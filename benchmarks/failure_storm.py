"""Failure storm: many failure callbacks at once for a few tasks, as when workers fail together.

``CALLBACKS`` threads, each with its own ``OpsgenieIncidentFailureNotifier`` (as separate workers
would have), wait on a barrier and then call it with a minimal task context, spread over ``TASKS``
distinct tasks. The emulator runs in this process so that its request log can be read; its
``processing_delay`` is 0.2 s, so every searcher misses the others' pending creates and the
lock-free convergence (keep the oldest, close the rest) has real work to do. The figures: open
incidents left (must be exactly one per task), incidents created in all, HTTP calls made, wall time.
The baseline is a notifier that creates one incident per callback: ``CALLBACKS`` open incidents.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from benchmarks.common import Row, emit, median, quiet

if TYPE_CHECKING:
    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator

CALLBACKS = int(os.environ.get("BENCH_STORM_CALLBACKS", "40"))
TASKS = int(os.environ.get("BENCH_STORM_TASKS", "4"))
PROCESSING_DELAY = 0.2
REPEATS = int(os.environ.get("BENCH_STORM_REPEATS", "3"))


def _context(task: int, callback: int) -> dict[str, Any]:
    ti = SimpleNamespace(
        dag_id="storm",
        task_id=f"extract_{task}",
        try_number=1 + callback // TASKS,
        map_index=-1,
        log_url=f"http://airflow.example/dags/storm/runs/r1/tasks/extract_{task}",
    )
    return {"ti": ti, "run_id": "scheduled__2026-01-01T00:00:00+00:00", "exception": RuntimeError("boom")}


@dataclass
class Storm:
    """What one storm left behind."""

    wall: float
    errors: list[BaseException]
    created: int
    open_by_task: Counter[str]
    calls: Counter[str]

    @property
    def converged(self) -> bool:
        """Whether exactly one incident per task is open and no callback failed."""
        return len(self.open_by_task) == TASKS and set(self.open_by_task.values()) == {1} and not self.errors


def storm(emulator: OpsgenieEmulator) -> Storm:
    """Fire the callbacks at once against a fresh emulator state; return what they did."""
    from airflow_provider_opsgenie_incident.notifications.incident import OpsgenieIncidentFailureNotifier

    emulator.reset()
    emulator.processing_delay = PROCESSING_DELAY
    notifiers = [OpsgenieIncidentFailureNotifier() for _ in range(CALLBACKS)]
    for notifier in notifiers:  # connection lookup and client set-up, as a worker has done before
        _ = notifier.hook.client
    emulator.clear_requests()
    barrier = threading.Barrier(CALLBACKS + 1)
    errors: list[BaseException] = []

    def callback(number: int) -> None:
        barrier.wait()
        try:
            notifiers[number](_context(number % TASKS, number))
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=callback, args=(number,)) for number in range(CALLBACKS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    emulator.wait_until_processed(timeout=30)
    for notifier in notifiers:
        notifier.hook.client.close()
    incidents = emulator.incidents()
    return Storm(
        wall=wall,
        errors=errors,
        created=len(incidents),
        open_by_task=Counter(
            incident["details"].get("task_id") for incident in incidents if incident["status"] == "open"
        ),
        calls=Counter(f"{request.method} {_endpoint(request.path)}" for request in emulator.requests),
    )


def main() -> None:
    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator

    print(f"failure storm: {CALLBACKS} concurrent failure callbacks over {TASKS} tasks, {REPEATS} storms")
    storms = []
    with OpsgenieEmulator() as emulator:
        os.environ["AIRFLOW_CONN_OPSGENIE_INCIDENT_DEFAULT"] = json.dumps(
            {"conn_type": "opsgenie_incident", "host": emulator.url, "password": emulator.api_key}
        )
        for _ in range(REPEATS):
            result = storm(emulator)
            storms.append(result)
            print(
                f"  wall {result.wall:.2f} s, created {result.created}, open {dict(result.open_by_task)},"
                f" HTTP calls {sum(result.calls.values())}, callbacks failed {len(result.errors)}"
                f" {[type(error).__name__ for error in result.errors][:3]}"
            )
    typical = sorted(storms, key=lambda result: sum(result.calls.values()))[len(storms) // 2]
    print("  HTTP calls of the median storm:")
    for call, count in typical.calls.most_common():
        print(f"    {count:5d}  {call}")
    calls = median([sum(result.calls.values()) for result in storms])
    open_counts = sorted({sum(result.open_by_task.values()) for result in storms})
    emit(
        [
            Row(
                f"failure storm {CALLBACKS} callbacks x {TASKS} tasks: open incidents left",
                "/".join(str(count) for count in open_counts),
                f"{CALLBACKS} one per callback",
                f"{open_counts[-1] / CALLBACKS:.2f}x",
                f"exactly {TASKS} (1 per task), no failed callback",
                all(result.converged for result in storms),
            ),
            Row(
                "failure storm: incidents created; HTTP calls; wall s (medians)",
                f"{median([result.created for result in storms]):.0f}; {calls:.0f}"
                f" ({calls / CALLBACKS:.1f}/callback); {median([result.wall for result in storms]):.2f}",
                f"{CALLBACKS}; {CALLBACKS}; - one create per callback",
            ),
        ]
    )


def _endpoint(path: str) -> str:
    """Name a request path by its shape, without ids."""
    parts = path.strip("/").split("/")
    if len(parts) >= 3 and parts[1] == "incidents" and parts[2] not in ("create", "requests"):
        parts[2] = "{id}"
    if len(parts) >= 4 and parts[2] == "requests":
        parts[3] = "{requestId}"
    return "/" + "/".join(parts)


if __name__ == "__main__":
    quiet()
    main()
