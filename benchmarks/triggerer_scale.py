"""Triggerer scale: a thousand of our status triggers waiting in one event loop.

The package emulator runs in a child process and holds ``TRIGGERS`` open incidents. This process
runs one ``OpsgenieIncidentStatusTrigger`` per incident (default poll interval) the way the
triggerer does, each consumed by its own task, plus a ticker that sleeps 100 ms and records how
late it wakes (event-loop lag). Two scenarios, each a ``WINDOW``-second window that includes the
second poll of every trigger:

- **all at once**: every trigger starts in the same loop iteration, as after a triggerer restart;
- **ramped**: the triggers start over the first ``RAMP`` seconds, as sensors defer one by one.

Figures: this process's CPU share of one core (``process_time / wall``) over the window and
after the first ``RAMP`` seconds, the CPU spent in those first seconds, the lag percentiles, and
the triggers that ended early (each an error event: a failed sensor). The baseline is the same
loop with the ticker alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from benchmarks.common import EMULATOR_KEY, Row, emit, emulator_process, percentile, quiet

if TYPE_CHECKING:
    from airflow_provider_opsgenie_incident.triggers.incident import OpsgenieIncidentStatusTrigger

TRIGGERS = int(os.environ.get("BENCH_TRIGGERS", "1000"))
WINDOW = float(os.environ.get("BENCH_TRIGGER_SECONDS", "75"))
RAMP = 10.0
IDLE_WINDOW = 10.0
TICK = 0.1
CPU_SHARE_LIMIT = 0.05


@dataclass
class Window:
    """What one window measured."""

    cpu_share: float = 0.0
    steady_share: float = 0.0
    startup_cpu: float = 0.0
    lags: list[float] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def lag(self) -> str:
        """The lag's p50 / p99 / max in milliseconds."""
        p50, p99, worst = (percentile(self.lags, 0.5), percentile(self.lags, 0.99), max(self.lags))
        return f"{p50 * 1e3:.1f} / {p99 * 1e3:.1f} / {worst * 1e3:.0f}"


async def _ticker(lags: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        asked = loop.time()
        await asyncio.sleep(TICK)
        lags.append(loop.time() - asked - TICK)


async def _consume(trigger: OpsgenieIncidentStatusTrigger, events: list[dict[str, Any]]) -> None:
    async for event in trigger.run():
        events.append(event.payload)


async def _window(ids: list[str], seconds: float, ramp: float) -> Window:
    """Run one trigger per id for ``seconds``, starting them over ``ramp`` seconds (0: all at once)."""
    from airflow_provider_opsgenie_incident.triggers.incident import OpsgenieIncidentStatusTrigger

    result = Window()
    stop = asyncio.Event()
    ticker = asyncio.create_task(_ticker(result.lags, stop))
    wall0, cpu0 = time.perf_counter(), time.process_time()
    tasks = []
    batches = max(1, round(ramp / TICK))
    for batch in range(batches):
        for incident_id in ids[batch::batches]:
            trigger = OpsgenieIncidentStatusTrigger(identifier=incident_id)
            tasks.append(asyncio.create_task(_consume(trigger, result.events)))
        if batches > 1:
            await asyncio.sleep(TICK)
    await asyncio.sleep(max(RAMP - (time.perf_counter() - wall0), 0.0))
    wall_mark, cpu_mark = time.perf_counter(), time.process_time()
    await asyncio.sleep(max(seconds - (wall_mark - wall0), 0.0))
    wall1, cpu1 = time.perf_counter(), time.process_time()
    stop.set()
    await ticker
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    result.cpu_share = (cpu1 - cpu0) / (wall1 - wall0)
    result.steady_share = (cpu1 - cpu_mark) / (wall1 - wall_mark)
    result.startup_cpu = cpu_mark - cpu0
    return result


def _open_incidents(count: int) -> list[str]:
    from airflow_provider_opsgenie_incident.hooks.incident import OpsgenieIncidentHook

    hook = OpsgenieIncidentHook()
    for number in range(count):
        hook.create_incident(message=f"triggerer scale {number}")
    ids = [incident["id"] for incident in hook.iter_incidents("status:open")]
    hook.client.close()
    return ids


def _rows(name: str, window: Window, idle: Window) -> list[Row]:
    failed = len(window.events)
    return [
        Row(
            f"triggerer, {TRIGGERS} status triggers {name}: CPU share of one core; failed sensors",
            f"{window.cpu_share:.2%} ({window.steady_share:.2%} after {RAMP:g} s); {failed} failed",
            f"{idle.cpu_share:.2%} idle loop",
            "",
            f"< {CPU_SHARE_LIMIT:.0%}, none failed",
            window.cpu_share < CPU_SHARE_LIMIT and not failed,
        ),
        Row(
            f"triggerer, {TRIGGERS} status triggers {name}: loop lag p50 / p99 / max ms",
            window.lag,
            f"{idle.lag} idle loop",
        ),
    ]


def main() -> None:
    from airflow_provider_opsgenie_incident.triggers.incident import OpsgenieIncidentStatusTrigger

    interval = OpsgenieIncidentStatusTrigger(identifier="x").poll_interval
    with emulator_process(0.0) as emulator:
        os.environ["AIRFLOW_CONN_OPSGENIE_INCIDENT_DEFAULT"] = json.dumps(
            {"conn_type": "opsgenie_incident", "host": emulator.url, "password": EMULATOR_KEY}
        )
        ids = _open_incidents(TRIGGERS)
        assert len(ids) == TRIGGERS, len(ids)
        idle = asyncio.run(_window([], IDLE_WINDOW, 0.0))
        scenarios = {
            "all at once": asyncio.run(_window(ids, WINDOW, 0.0)),
            f"ramped over {RAMP:g} s": asyncio.run(_window(ids, WINDOW, RAMP)),
        }
    print(f"triggerer scale: {TRIGGERS} status triggers, poll interval {interval:g} s, {WINDOW:g} s windows")
    print(
        f"  idle loop (ticker only, {IDLE_WINDOW:g} s): CPU {idle.cpu_share:.2%},"
        f" lag ms p50/p99/max {idle.lag}"
    )
    rows = []
    for name, window in scenarios.items():
        print(
            f"  {name}: CPU {window.cpu_share:.2%} of a core over the window, {window.steady_share:.2%}"
            f" after the first {RAMP:g} s ({window.startup_cpu:.2f} s CPU in them);"
            f" lag ms p50/p99/max {window.lag}; failed sensors {len(window.events)}"
        )
        if window.events:
            kinds = Counter((event.get("error") or {}).get("message", "?") for event in window.events)
            print(f"    error events: {dict(kinds)}")
        rows += _rows(name, window, idle)
    emit(rows)


if __name__ == "__main__":
    quiet()
    main()
