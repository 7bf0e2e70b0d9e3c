"""Waiting for a request: time from a create call to a known incident id, minus the server's delay.

The package emulator runs in a child process with ``processing_delay`` 0.2, 1 and 5 s; each run
is ``hook.create_incident`` then ``hook.wait_for_request`` until the request status names the
incident. The overhead is the elapsed time minus the delay (it includes the create call and the
poll that sees the result); the figure is its median over the runs (fewer runs for longer delays,
to stay within the time budget).
"""

from __future__ import annotations

import json
import os
import time

from benchmarks.common import EMULATOR_KEY, Row, emit, emulator_process, median

# (delay in seconds, runs)
PLAN = [(0.2, 7), (1.0, 5), (5.0, 3)]


def target(delay: float) -> float:
    """Return the overhead allowed for a delay: 10 % of it plus 0.1 s."""
    return 0.1 * delay + 0.1


def measure(delay: float, runs: int) -> list[float]:
    """Return the overhead of each run, in seconds, against an emulator with this delay."""
    from airflow_provider_opsgenie_incident.hooks.incident import OpsgenieIncidentHook

    with emulator_process(delay) as emulator:
        os.environ["AIRFLOW_CONN_OPSGENIE_INCIDENT_DEFAULT"] = json.dumps(
            {"conn_type": "opsgenie_incident", "host": emulator.url, "password": EMULATOR_KEY}
        )
        hook = OpsgenieIncidentHook()
        hook.list_incidents(query="status:open", limit=1)  # connect and import outside the timing
        overheads = []
        for run in range(runs):
            started = time.perf_counter()
            accepted = hook.create_incident(message=f"wait latency run {run}")
            data = hook.wait_for_request(accepted["requestId"], timeout=delay + 30)
            elapsed = time.perf_counter() - started
            assert data.get("incidentId"), data
            overheads.append(elapsed - delay)
        hook.client.close()
    return overheads


def main() -> None:
    print("waiting for a request: create + wait_for_request until the incident id is known")
    print(f"  {'delay s':>8} {'runs':>5} {'median overhead s':>18} {'max s':>7} {'allowed s':>10}")
    rows = []
    for delay, runs in PLAN:
        overheads = measure(delay, runs)
        middle = median(overheads)
        allowed = target(delay)
        print(f"  {delay:8.1f} {runs:5d} {middle:18.3f} {max(overheads):7.3f} {allowed:10.3f}")
        rows.append(
            Row(
                f"wait for request, delay {delay:g} s: overhead s",
                f"{middle:.3f}",
                f"{delay:g} s server delay",
                f"{(delay + middle) / delay:.2f}x",
                f"<= {allowed:.2f} s",
                middle <= allowed,
            )
        )
    emit(rows)


if __name__ == "__main__":
    main()
