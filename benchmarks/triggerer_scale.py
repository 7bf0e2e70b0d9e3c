"""Triggerer scale: a thousand of our triggers waiting in one event loop, and the CPU of one poll.

Two package emulators run in child processes (their CPU is not counted): one holds ``TRIGGERS``
open incidents, the other applies writes after ``REQUEST_DELAY`` seconds. This process runs the
triggers the way the triggerer does, each consumed by its own task, plus a ticker that sleeps
100 ms and records how late it wakes (event-loop lag). Every CPU figure is this process's
``process_time``; every share is the difference from the idle loop (the ticker alone) measured in
the same run, and every figure is a median over windows or rounds, as the machine is noisy.

- **poll**: ``ROUNDS`` interleaved rounds of ``CALLS`` sequential calls each: a bare
  ``httpx.AsyncClient.get`` of an incident (warm, the key in its headers), the same through a
  bare ``aiohttp.ClientSession.get``, and our status trigger's poll, ``get_incident`` through the
  shared client. Figures: CPU per call and the median of the per-round ratios to bare httpx.
- **status triggers**: idle windows, then ``TRIGGERS`` status triggers (default poll interval,
  60 s) started in one loop iteration (a triggerer restart), ``RAMP`` seconds of start-up, then
  ``WINDOWS`` windows of ``WINDOW`` seconds, then idle windows again. Figures: the share of a core
  above the idle loop, the polls made (the shared client's exchanges) and the CPU per poll above
  the idle loop, which is also given as a ratio to the bare httpx GET; loop lag; failed sensors.
- **request triggers**: ``REQUEST_ROUNDS`` rounds of ``TRIGGERS`` creates, then as many request
  triggers started at once, until every one has its event. Figures: the share of a core above
  the idle loop over the wait, its length, the polls and the CPU per poll.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from benchmarks.common import EMULATOR_KEY, Row, emit, emulator_process, median, percentile, quiet

if TYPE_CHECKING:
    from airflow.triggers.base import BaseTrigger

TRIGGERS = int(os.environ.get("BENCH_TRIGGERS", "1000"))
WINDOWS = int(os.environ.get("BENCH_TRIGGER_WINDOWS", "6"))
WINDOW = float(os.environ.get("BENCH_TRIGGER_WINDOW_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_POLL_ROUNDS", "9"))
CALLS = int(os.environ.get("BENCH_POLL_CALLS", "300"))
REQUEST_ROUNDS = int(os.environ.get("BENCH_REQUEST_ROUNDS", "3"))
REQUEST_DELAY = 5.0
RAMP = 10.0
IDLE_WINDOWS = 3
IDLE_WINDOW = 5.0
TICK = 0.1
CPU_SHARE_LIMIT = 0.025
POLL_RATIO_LIMIT = 0.7
SLOW_CONN = "opsgenie_incident_slow"


@dataclass
class Loop:
    """The ticker's lags and the events of the triggers of one event loop."""

    lags: list[float] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def lag(self) -> str:
        """The lag's p50 / p99 / max in milliseconds."""
        lags = self.lags or [0.0]
        return (
            f"{percentile(lags, 0.5) * 1e3:.1f} / {percentile(lags, 0.99) * 1e3:.1f} / {max(lags) * 1e3:.0f}"
        )


async def _ticker(loop_state: Loop) -> None:
    loop = asyncio.get_running_loop()
    while not loop_state.stop.is_set():
        asked = loop.time()
        await asyncio.sleep(TICK)
        loop_state.lags.append(loop.time() - asked - TICK)


async def _consume(trigger: BaseTrigger, events: list[dict[str, Any]]) -> None:
    async for event in trigger.run():
        events.append(event.payload)


async def _share(seconds: float) -> float:
    """Return this process's CPU share of one core over the next ``seconds``."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    await asyncio.sleep(seconds)
    return (time.process_time() - cpu0) / (time.perf_counter() - wall0)


def _exchanges() -> int:
    """Return the exchanges made so far by the shared clients of this event loop."""
    from airflow_provider_opsgenie_incident.triggers import incident

    leases = incident._LEASES.get(asyncio.get_running_loop(), {})
    return sum(lease.client._exchange.exchanges for lease in leases.values())


@dataclass
class StatusRun:
    """What the status-trigger scenario measured."""

    idle: list[float] = field(default_factory=list)
    shares: list[float] = field(default_factory=list)
    polls: list[int] = field(default_factory=list)
    per_poll: list[float] = field(default_factory=list)
    startup_cpu: float = 0.0
    loop: Loop = field(default_factory=Loop)


async def _status_run(ids: list[str]) -> StatusRun:
    from airflow_provider_opsgenie_incident.triggers.incident import OpsgenieIncidentStatusTrigger

    run = StatusRun()
    ticker = asyncio.create_task(_ticker(run.loop))
    run.idle += [await _share(IDLE_WINDOW) for _ in range(IDLE_WINDOWS)]
    cpu0 = time.process_time()
    tasks = [
        asyncio.create_task(_consume(OpsgenieIncidentStatusTrigger(identifier=i), run.loop.events))
        for i in ids
    ]
    await asyncio.sleep(RAMP)
    run.startup_cpu = time.process_time() - cpu0
    lags_from = len(run.loop.lags)
    for _ in range(WINDOWS):
        before = _exchanges()
        wall0, cpu0 = time.perf_counter(), time.process_time()
        await asyncio.sleep(WINDOW)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        run.shares.append(cpu / wall)
        run.polls.append(_exchanges() - before)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    run.loop.lags = run.loop.lags[lags_from:]
    run.idle += [await _share(IDLE_WINDOW) for _ in range(IDLE_WINDOWS)]
    idle = median(run.idle)
    run.per_poll = [
        (share - idle) * WINDOW / max(polls, 1) for share, polls in zip(run.shares, run.polls, strict=True)
    ]
    run.loop.stop.set()
    await ticker
    return run


@dataclass
class RequestRound:
    """One round of request triggers: CPU share, wall time of the wait, polls, CPU per poll."""

    share: float
    seconds: float
    polls: int
    per_poll: float
    failed: int


async def _request_round(request_ids: list[str], idle: float) -> RequestRound:
    from airflow_provider_opsgenie_incident.triggers.incident import OpsgenieIncidentRequestTrigger

    events: list[dict[str, Any]] = []
    deadline = time.time() + 120
    wall0, cpu0 = time.perf_counter(), time.process_time()
    triggers = [
        OpsgenieIncidentRequestTrigger(request_id=r, opsgenie_incident_conn_id=SLOW_CONN, deadline=deadline)
        for r in request_ids
    ]
    # The exchanges are counted by a lease taken before the triggers' and given back after them.
    from airflow_provider_opsgenie_incident.triggers.incident import _shared_client

    async with _shared_client(SLOW_CONN) as lease:
        before = lease.client._exchange.exchanges
        await asyncio.gather(*(_consume(trigger, events) for trigger in triggers))
        polls = lease.client._exchange.exchanges - before
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    failed = sum(event["status"] != "success" for event in events)
    return RequestRound(cpu / wall - idle, wall, polls, (cpu - idle * wall) / max(polls, 1), failed)


async def _poll_rounds(base_url: str, ids: list[str]) -> tuple[list[float], list[float], list[float]]:
    """Return the CPU per call of a bare httpx GET, a bare aiohttp GET and our poll, per round."""
    import aiohttp
    import httpx

    from airflow_provider_opsgenie_incident.client.protocol import auth_headers
    from airflow_provider_opsgenie_incident.triggers.incident import _shared_client

    bare_costs: list[float] = []
    aiohttp_costs: list[float] = []
    our_costs: list[float] = []
    async with (
        httpx.AsyncClient(base_url=base_url, headers=auth_headers(EMULATOR_KEY)) as bare,
        aiohttp.ClientSession(base_url, headers=auth_headers(EMULATOR_KEY)) as session,
        _shared_client("opsgenie_incident_default") as lease,
    ):
        client = lease.client
        for number in range(ROUNDS + 1):
            cpu0 = time.process_time()
            for index in range(CALLS):
                (await bare.get(f"/v1/incidents/{ids[index % len(ids)]}")).raise_for_status()
            cpu1 = time.process_time()
            for index in range(CALLS):
                async with session.get(f"/v1/incidents/{ids[index % len(ids)]}") as response:
                    response.raise_for_status()
                    await response.read()
            cpu2 = time.process_time()
            for index in range(CALLS):
                await client.get_incident(identifier=ids[index % len(ids)])
            cpu3 = time.process_time()
            if number:  # the first round warms them all up
                bare_costs.append((cpu1 - cpu0) / CALLS)
                aiohttp_costs.append((cpu2 - cpu1) / CALLS)
                our_costs.append((cpu3 - cpu2) / CALLS)
    return bare_costs, aiohttp_costs, our_costs


def _create(count: int, conn_id: str) -> list[str]:
    """Create ``count`` incidents; return the requests' ids."""
    from airflow_provider_opsgenie_incident.hooks.incident import OpsgenieIncidentHook

    hook = OpsgenieIncidentHook(conn_id)
    request_ids = [hook.create_incident(message=f"triggerer scale {n}")["requestId"] for n in range(count)]
    hook.client.close()
    return request_ids


def _open_incidents() -> list[str]:
    from airflow_provider_opsgenie_incident.hooks.incident import OpsgenieIncidentHook

    _create(TRIGGERS, "opsgenie_incident_default")
    hook = OpsgenieIncidentHook()
    ids = [incident["id"] for incident in hook.iter_incidents("status:open")]
    hook.client.close()
    assert len(ids) == TRIGGERS, len(ids)
    return ids


def _connection(url: str) -> str:
    return json.dumps({"conn_type": "opsgenie_incident", "host": url, "password": EMULATOR_KEY})


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f}"


def main() -> None:
    from airflow_provider_opsgenie_incident.triggers.incident import OpsgenieIncidentStatusTrigger

    interval = OpsgenieIncidentStatusTrigger(identifier="x").poll_interval
    with emulator_process(0.0) as emulator, emulator_process(REQUEST_DELAY) as slow:
        os.environ["AIRFLOW_CONN_OPSGENIE_INCIDENT_DEFAULT"] = _connection(emulator.url)
        os.environ[f"AIRFLOW_CONN_{SLOW_CONN.upper()}"] = _connection(slow.url)
        ids = _open_incidents()
        bare_costs, aiohttp_costs, our_costs = asyncio.run(_poll_rounds(emulator.url, ids))
        status = asyncio.run(_status_run(ids))
        idle = median(status.idle)
        rounds = [
            asyncio.run(_request_round(_create(TRIGGERS, SLOW_CONN), idle)) for _ in range(REQUEST_ROUNDS)
        ]

    bare, ours, bare_aiohttp = median(bare_costs), median(our_costs), median(aiohttp_costs)
    call_ratio = median([o / b for o, b in zip(our_costs, bare_costs, strict=True)])
    aiohttp_ratio = median([a / b for a, b in zip(aiohttp_costs, bare_costs, strict=True)])
    share = median(status.shares) - idle
    per_poll = median(status.per_poll)
    poll_ratio = per_poll / bare
    failed = len(status.loop.events)
    print(f"triggerer scale: {TRIGGERS} triggers; {ROUNDS} poll rounds of {CALLS} calls; medians")
    print(
        f"  one call, CPU us: bare httpx.AsyncClient.get {_us(bare)};"
        f" bare aiohttp.ClientSession.get {_us(bare_aiohttp)} ({aiohttp_ratio:.2f}x);"
        f" our poll {_us(ours)} ({call_ratio:.2f}x)"
    )
    print(
        f"  idle loop: {idle:.2%} of a core ({len(status.idle)} windows of {IDLE_WINDOW:g} s,"
        f" {', '.join(f'{s:.2%}' for s in status.idle)})"
    )
    print(
        f"  {TRIGGERS} status triggers, poll interval {interval:g} s, started at once:"
        f" {status.startup_cpu:.2f} s CPU in the first {RAMP:g} s; then {WINDOWS} windows of {WINDOW:g} s:"
    )
    print(f"    share of a core: {', '.join(f'{s:.2%}' for s in status.shares)}; above idle {share:.2%}")
    print(f"    polls: {', '.join(str(p) for p in status.polls)}")
    print(
        f"    CPU per poll above idle, us: {', '.join(_us(p) for p in status.per_poll)};"
        f" median {_us(per_poll)} = {poll_ratio:.2f}x a bare httpx GET"
    )
    print(f"    loop lag ms p50/p99/max {status.loop.lag()}; failed sensors {failed}")
    if status.loop.events:
        kinds = Counter((event.get("error") or {}).get("message", "?") for event in status.loop.events)
        print(f"    error events: {dict(kinds)}")
    print(
        f"  {TRIGGERS} request triggers, server delay {REQUEST_DELAY:g} s, started at once,"
        f" {REQUEST_ROUNDS} rounds:"
    )
    for number, one in enumerate(rounds, 1):
        print(
            f"    round {number}: {one.share:.2%} of a core above idle over {one.seconds:.1f} s;"
            f" {one.polls} polls, {_us(one.per_poll)} us CPU each; failed {one.failed}"
        )
    request_share = median([one.share for one in rounds])
    request_poll = median([one.per_poll for one in rounds])
    request_failed = sum(one.failed for one in rounds)
    emit(
        [
            Row(
                "triggerer, one poll: CPU us per call (sequential, warm)",
                _us(ours),
                f"{_us(bare)} bare httpx.AsyncClient.get",
                f"{call_ratio:.2f}x",
                f"<= {POLL_RATIO_LIMIT:g}x",
                call_ratio <= POLL_RATIO_LIMIT,
            ),
            Row(
                "triggerer, bare aiohttp.ClientSession.get: CPU us per call (sequential, warm)",
                _us(bare_aiohttp),
                f"{_us(bare)} bare httpx.AsyncClient.get",
                f"{aiohttp_ratio:.2f}x",
            ),
            Row(
                f"triggerer, {TRIGGERS} status triggers at {interval:g} s: CPU per poll above idle, us",
                f"{_us(per_poll)} ({median(status.polls):.0f} polls per {WINDOW:g} s window)",
                f"{_us(bare)} bare httpx.AsyncClient.get",
                f"{poll_ratio:.2f}x",
                f"<= {POLL_RATIO_LIMIT:g}x",
                poll_ratio <= POLL_RATIO_LIMIT,
            ),
            Row(
                f"triggerer, {TRIGGERS} status triggers at {interval:g} s: share of one core above idle;"
                " failed sensors",
                f"{share:.2%}; {failed} failed",
                f"{idle:.2%} idle loop",
                "",
                f"<= {CPU_SHARE_LIMIT:.1%}, none failed",
                share <= CPU_SHARE_LIMIT and not failed,
            ),
            Row(
                f"triggerer, {TRIGGERS} status triggers: loop lag p50 / p99 / max ms",
                status.loop.lag(),
            ),
            Row(
                f"triggerer, {TRIGGERS} request triggers, server delay {REQUEST_DELAY:g} s: share of one core"
                " above idle; wait s; CPU us per poll; failed",
                f"{request_share:.1%}; {median([one.seconds for one in rounds]):.1f};"
                f" {_us(request_poll)}; {request_failed} failed",
                f"{idle:.2%} idle loop",
                f"{request_poll / bare:.2f}x per poll",
            ),
        ]
    )


if __name__ == "__main__":
    quiet()
    main()
