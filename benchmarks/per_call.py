"""Per-call cost: create-incident calls over loopback, ours against the official provider and floors.

A minimal threaded ``http.server`` in a child process answers every request 202 with a small JSON
body (keep-alive, Nagle off), so its CPU is not counted and its latency is as low as the standard
library allows. Each client makes ``CALLS`` create calls per round; the clients take turns in
shuffled order each round, and every figure is the median over the rounds:

- ``http.client``: one persistent connection, hand-written request: the floor.
- ``requests.Session``: default settings (``trust_env`` on), ``session.post(json=...)``.
- official hook: ``OpsgenieAlertHook.create_alert`` (opsgenie-sdk on urllib3, tenacity per call).
- ``opsgenie_sdk``: ``IncidentApi.create_incident`` directly.
- ours: ``OpsgenieIncidentHook.create_incident`` (validation, retry policy, ``requests.Session``).

Calls per second are wall-clock; CPU per call is this process's ``process_time`` (client side only).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from benchmarks.common import ChildServer, Row, emit, median

if TYPE_CHECKING:
    from collections.abc import Callable

ROUNDS = int(os.environ.get("BENCH_PER_CALL_ROUNDS", "25"))
CALLS = int(os.environ.get("BENCH_PER_CALL_CALLS", "150"))
KEY = "bench-key"
MESSAGE = "Task example.extract failed"


def _raw_client(url: str) -> Callable[[], Any]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
    headers = {
        "Authorization": f"GenieKey {KEY}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }

    def call() -> Any:
        connection.request("POST", "/v1/incidents/create", json.dumps({"message": MESSAGE}), headers)
        response = connection.getresponse()
        return json.loads(response.read())

    return call


def _requests_client(url: str) -> Callable[[], Any]:
    import requests

    session = requests.Session()
    headers = {"Authorization": f"GenieKey {KEY}"}
    target = url + "/v1/incidents/create"

    def call() -> Any:
        return session.post(target, json={"message": MESSAGE}, headers=headers, timeout=(5, 15)).json()

    return call


def _official_hook(url: str) -> Callable[[], Any]:
    from airflow.providers.opsgenie.hooks.opsgenie import OpsgenieAlertHook

    hook = OpsgenieAlertHook("opsgenie_default")
    # The hook sets configuration.host to the connection's host verbatim and posts to {host}/v2/alerts.
    assert hook.get_conn().api_client.configuration.host == url

    def call() -> Any:
        return hook.create_alert({"message": MESSAGE})

    return call


def _sdk_incident_api(url: str) -> Callable[[], Any]:
    import opsgenie_sdk

    configuration = opsgenie_sdk.Configuration()
    configuration.api_key["Authorization"] = KEY
    configuration.host = url
    api = opsgenie_sdk.IncidentApi(opsgenie_sdk.ApiClient(configuration))

    def call() -> Any:
        return api.create_incident(opsgenie_sdk.CreateIncidentPayload(message=MESSAGE))

    return call


def _our_hook(url: str) -> Callable[[], Any]:
    from airflow_provider_opsgenie_incident.hooks.incident import OpsgenieIncidentHook

    hook = OpsgenieIncidentHook()

    def call() -> Any:
        return hook.create_incident(message=MESSAGE)

    return call


CLIENTS: dict[str, Callable[[str], Callable[[], Any]]] = {
    "http.client (floor)": _raw_client,
    "requests.Session default": _requests_client,
    "official OpsgenieAlertHook": _official_hook,
    "opsgenie_sdk IncidentApi": _sdk_incident_api,
    "ours OpsgenieIncidentHook": _our_hook,
}
OFFICIAL = "official OpsgenieAlertHook"
OURS = "ours OpsgenieIncidentHook"
FLOOR = "http.client (floor)"


@dataclass
class Figures:
    """One client's per-round figures."""

    rates: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)

    def ratio_to(self, other: Figures) -> tuple[float, float]:
        """Return the median per-round ratios (calls/s, CPU) to another client measured in the same rounds."""
        return (
            median([mine / theirs for mine, theirs in zip(self.rates, other.rates, strict=True)]),
            median([mine / theirs for mine, theirs in zip(self.cpu_us, other.cpu_us, strict=True)]),
        )


def measure(url: str) -> dict[str, Figures]:
    """Run the interleaved rounds; return each client's per-round calls/s and CPU microseconds per call."""
    os.environ["AIRFLOW_CONN_OPSGENIE_DEFAULT"] = json.dumps(
        {"conn_type": "opsgenie", "host": url, "password": KEY}
    )
    os.environ["AIRFLOW_CONN_OPSGENIE_INCIDENT_DEFAULT"] = json.dumps(
        {"conn_type": "opsgenie_incident", "host": url, "password": KEY}
    )
    calls = {name: build(url) for name, build in CLIENTS.items()}
    for call in calls.values():
        for _ in range(50):
            call()
    figures = {name: Figures() for name in calls}
    order = list(calls)
    shuffle = random.Random(7).shuffle
    for _ in range(ROUNDS):
        shuffle(order)
        for name in order:
            call = calls[name]
            wall0, cpu0 = time.perf_counter(), time.process_time()
            for _ in range(CALLS):
                call()
            wall, spent = time.perf_counter() - wall0, time.process_time() - cpu0
            figures[name].rates.append(CALLS / wall)
            figures[name].cpu_us.append(spent / CALLS * 1e6)
    return figures


def main() -> None:
    with ChildServer(["-m", "benchmarks.fast_server"]) as server:
        figures = measure(server.url)
    official = figures[OFFICIAL]
    print(f"per-call cost: {ROUNDS} interleaved rounds of {CALLS} create calls per client; medians")
    print("  (ratios: median of per-round ratios to the official hook measured in the same round)")
    print(f"  {'client':28} {'calls/s':>8} {'CPU us/call':>12} {'calls/s ratio':>14} {'CPU ratio':>10}")
    for name, mine in figures.items():
        rate_ratio, cpu_ratio = mine.ratio_to(official)
        print(
            f"  {name:28} {median(mine.rates):8.0f} {median(mine.cpu_us):12.0f}"
            f" {rate_ratio:13.2f}x {cpu_ratio:9.2f}x"
        )
    ours = figures[OURS]
    rate_ratio, cpu_ratio = ours.ratio_to(official)
    floor = figures[FLOOR]
    emit(
        [
            Row(
                "hook create call: calls/s (wall)",
                f"{median(ours.rates):.0f}",
                f"{median(official.rates):.0f} official hook",
                f"{rate_ratio:.2f}x",
                ">= 1.00x",
                rate_ratio >= 1.0,
            ),
            Row(
                "hook create call: CPU us/call",
                f"{median(ours.cpu_us):.0f}",
                f"{median(official.cpu_us):.0f} official hook",
                f"{cpu_ratio:.2f}x",
                "<= 1.00x",
                cpu_ratio <= 1.0,
            ),
            Row(
                "floor (http.client): calls/s; CPU us/call",
                f"{median(floor.rates):.0f}; {median(floor.cpu_us):.0f}",
                f"{median(official.rates):.0f}; {median(official.cpu_us):.0f} official hook",
                f"{floor.ratio_to(official)[0]:.2f}x; {floor.ratio_to(official)[1]:.2f}x",
            ),
        ]
    )


if __name__ == "__main__":
    main()
