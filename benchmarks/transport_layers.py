"""Which HTTP layer for a poll: CPU of one GET of an incident through each, in one run.

Not a part of ``run.py``: the figures behind the choice of the async transport. The emulator runs
in a child process; ``ROUNDS`` interleaved rounds of ``CALLS`` sequential GETs through
``httpx.AsyncClient`` and ``aiohttp.ClientSession`` used bare (with our headers),
``AsyncExchange`` (our bounded exchange on aiohttp alone) and ``AsyncOpsgenieIncidentClient.send``
(a trigger's poll: exchange, retry policy, response parsing); each reads the JSON body. Figures:
CPU per call and the median of the per-round ratios to httpx.

Two ways: back to back (warm caches, the figure a sequential benchmark gives), and spread out,
``SPREAD_GAP`` seconds apart (``SPREAD_ROUNDS`` rounds of ``SPREAD_CALLS``), as a triggerer's
polls come: there each call's CPU is counted from its start to its answer, wake-ups included.

    .venv/bin/python -m benchmarks.transport_layers
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import TYPE_CHECKING

from benchmarks.common import EMULATOR_KEY, emulator_process, median, quiet

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

ROUNDS = int(os.environ.get("BENCH_POLL_ROUNDS", "9"))
CALLS = int(os.environ.get("BENCH_POLL_CALLS", "300"))
SPREAD_ROUNDS = int(os.environ.get("BENCH_SPREAD_ROUNDS", "5"))
SPREAD_CALLS = int(os.environ.get("BENCH_SPREAD_CALLS", "40"))
SPREAD_GAP = 0.05


async def _layers(url: str, incident_id: str) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    import aiohttp
    import httpx

    from airflow_provider_opsgenie_incident.client import ClientSettings
    from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient
    from airflow_provider_opsgenie_incident.client.protocol import auth_headers, prepare

    headers = auth_headers(EMULATOR_KEY)
    path = f"/v1/incidents/{incident_id}"
    poll = prepare("get_incident", {"identifier": incident_id})
    async with (
        httpx.AsyncClient(base_url=url, headers=headers) as bare,
        aiohttp.ClientSession(url, headers=headers) as session,
        AsyncOpsgenieIncidentClient(ClientSettings(api_key=EMULATOR_KEY, base_url=url)) as ours,
    ):

        async def via_httpx() -> object:
            return (await bare.get(path)).json()

        async def via_aiohttp() -> object:
            async with session.get(path) as response:
                return json.loads(await response.read())

        async def via_exchange() -> object:
            return json.loads((await ours._exchange.request("GET", path))[2])

        async def via_client() -> object:
            return await ours.send(poll)

        layers: dict[str, Callable[[], Awaitable[object]]] = {
            "httpx.AsyncClient.get": via_httpx,
            "aiohttp.ClientSession.get": via_aiohttp,
            "AsyncExchange (on aiohttp)": via_exchange,
            "client.send (a poll)": via_client,
        }
        costs: dict[str, list[float]] = {name: [] for name in layers}
        spread: dict[str, list[float]] = {name: [] for name in layers}
        for number in range(ROUNDS + 1):
            for name, call in layers.items():
                cpu = time.process_time()
                for _ in range(CALLS):
                    await call()
                if number:  # the first round warms every layer up
                    costs[name].append((time.process_time() - cpu) / CALLS)
        for _ in range(SPREAD_ROUNDS):
            for name, call in layers.items():
                total = 0.0
                for _ in range(SPREAD_CALLS):
                    await asyncio.sleep(SPREAD_GAP)
                    cpu = time.process_time()
                    await call()
                    total += time.process_time() - cpu
                spread[name].append(total / SPREAD_CALLS)
    return costs, spread


def main() -> None:
    from airflow_provider_opsgenie_incident.client import ClientSettings
    from airflow_provider_opsgenie_incident.client.sync import OpsgenieIncidentClient

    with emulator_process(0.0) as emulator:
        with OpsgenieIncidentClient(ClientSettings(api_key=EMULATOR_KEY, base_url=emulator.url)) as client:
            accepted = client.create_incident(message="transport layers")
            incident_id = str(client.wait_for_request(accepted["requestId"])["incidentId"])
        costs, spread = asyncio.run(_layers(emulator.url, incident_id))
    for title, figures in (
        (f"back to back: {ROUNDS} interleaved rounds of {CALLS} calls", costs),
        (
            f"spread, {SPREAD_GAP:g} s apart: {SPREAD_ROUNDS} interleaved rounds of {SPREAD_CALLS} calls",
            spread,
        ),
    ):
        baseline = figures["httpx.AsyncClient.get"]
        print(f"one GET of an incident, {title}; medians")
        for name, values in figures.items():
            ratio = median([value / base for value, base in zip(values, baseline, strict=True)])
            print(f"  {name:30s} {median(values) * 1e6:6.0f} us CPU  {ratio:.2f}x")


if __name__ == "__main__":
    quiet()
    main()
