"""Concurrent creators: incidents created and time to the first page, against a lagging search.

A storm is many failure callbacks of the same task(s) released at once. Each configuration is one
scenario (``12x1``: 12 mapped instances of one task; ``40x4``: 40 failures over 4 tasks), one
search lag (``0.2`` and ``2`` s: the search finds an incident that long after it was applied) and
one way to run the callbacks (``threads``: one worker process, a thread per callback;
``processes``: 12 worker processes, forked from a fork server as executors fork workers). Writes
are applied 0.2 s after they are accepted, as in ``failure_storm``.

Two codes run the same storms, interleaved, each in its own driver process against the same
emulator (which runs here, so its pages and incidents can be read): ``today``, the package as of
``BENCH_STORM_BASELINE`` (a commit, extracted with ``git archive``), and ``ours``, the working
tree. Figures per storm: incidents created, pages per task (incidents that ever had responders;
must be 1), open incidents per task (must be 1), failed callbacks, and the time from the release
to each task's first page (the emulator records when a responder was added). Reported as medians
over ``BENCH_STORM_CREATOR_REPEATS`` storms per configuration and code.

Two more scenarios run only when named: ``8x1-late`` (map indexes 4-11 fail, 0-3 succeed: the
instances that would create first never fail) and ``12x1-unmapped`` (12 failures of a task that is
not mapped, as 12 runs of one DAG failing together would be).

``python -m benchmarks.storm_creators [--scenario 12x1] [--lag 2] [--mode threads] [--storms N]
[--tree NAME=DIR]``: ``--tree`` runs the package found in DIR as one more code.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any

from benchmarks.common import ROOT, Row, child_env, emit, median, quiet

SCENARIOS = {"12x1": (12, 1), "40x4": (40, 4)}
#: Beyond the targets: map indexes 0-3 succeed (the would-be leaders never fail); an unmapped task.
EXTRA_SCENARIOS = {"8x1-late": (8, 1), "12x1-unmapped": (12, 1)}
LAGS = (0.2, 2.0)
MODES = {"threads": 1, "processes": 12}
BASELINE = os.environ.get("BENCH_STORM_BASELINE", "4122d20")
REPEATS = int(os.environ.get("BENCH_STORM_CREATOR_REPEATS", "5"))
PROCESSING_DELAY = 0.2
#: Targets (medians): incidents created per scenario and lag; first page at most this much later.
CREATED_TARGETS = {("12x1", 0.2): 1, ("12x1", 2.0): 2, ("40x4", 0.2): 6, ("40x4", 2.0): 6}
PAGE_DELAY_TARGET = 3.0


# -- the driver side: one executor's workers, running one code -----------------------------------


def drive(mode: str, code: str) -> None:
    """Serve the parent's storms over stdin/stdout with the package found in ``code``."""
    sys.path.insert(0, code)
    from airflow_provider_opsgenie_incident.notifications import incident
    from benchmarks.failure_storm import Workers

    assert Path(incident.__file__).is_relative_to(code), incident.__file__

    quiet()
    emulator = SimpleNamespace(url=os.environ["STORM_URL"], api_key=os.environ["STORM_KEY"])
    workers = Workers(MODES[mode], emulator)  # type: ignore[arg-type]
    out = sys.stdout
    try:
        for line in sys.stdin:
            order = json.loads(line)

            def release() -> None:
                _say(out, {"ready": True})
                sys.stdin.readline()  # the parent's "go", once the emulator is clear

            errors, wall = workers.run(order["callbacks"], release)[:2]
            _say(out, {"errors": errors, "wall": wall})
    finally:
        workers.close()


def _say(out: IO[str], message: dict[str, Any]) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


# -- the parent side -------------------------------------------------------------------------


class Driver:
    """A driver process running one code in one mode."""

    def __init__(self, mode: str, code: Path, emulator: Any) -> None:
        # The fork server of Python 3.11 does not take over the driver's sys.path but starts with the
        # working directory first, then PYTHONPATH: both name the code.
        path = os.pathsep.join(dict.fromkeys([str(code), str(ROOT)]))
        env = child_env(STORM_URL=emulator.url, STORM_KEY=emulator.api_key, PYTHONPATH=path)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.storm_creators", "--drive", mode, "--code", str(code)],
            cwd=code,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def storm(self, callbacks: list[dict[str, Any]], release: Any) -> tuple[list[str], float]:
        """Run one storm: prepare, ``release()`` (returns the start time), go; return errors, start."""
        assert self.process.stdin
        assert self.process.stdout
        self.process.stdin.write(json.dumps({"callbacks": callbacks}) + "\n")
        self.process.stdin.flush()
        json.loads(self.process.stdout.readline())  # ready
        started = release()
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        done = json.loads(self.process.stdout.readline())
        return list(done["errors"]), started

    def close(self) -> None:
        """End the driver and its workers."""
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait(timeout=60)


@dataclass
class Storm:
    """What one storm left behind."""

    code: str
    created: int
    open_by_task: dict[str, int]
    pages_by_task: dict[str, int]
    first_page: dict[str, float]
    errors: list[str]

    def converged(self, tasks: int) -> bool:
        """One open incident and one page per task, no failed callback."""
        expected = {f"extract_{task}": 1 for task in range(tasks)}
        return self.open_by_task == expected and self.pages_by_task == expected and not self.errors


def _plan(scenario: str, callbacks: int, tasks: int) -> list[dict[str, Any]]:
    """Describe the failures of ``scenario``."""
    from benchmarks.failure_storm import plan

    failures = plan(callbacks, tasks)
    if scenario == "8x1-late":
        return [{**failure, "map_index": failure["map_index"] + 4} for failure in failures]
    if scenario == "12x1-unmapped":
        return [{**failure, "map_index": -1} for failure in failures]
    return failures


def storm(emulator: Any, driver: Driver, code: str, scenario: str, lag: float) -> Storm:
    """Run one storm against a fresh emulator state; return what it did."""
    from airflow_provider_opsgenie_incident.emulator.clock import parse_time

    callbacks, tasks = {**SCENARIOS, **EXTRA_SCENARIOS}[scenario]

    emulator.reset()
    emulator.processing_delay = PROCESSING_DELAY
    emulator.search_lag = lag

    def release() -> float:
        emulator.clear_requests()
        return time.time()

    errors, started = driver.storm(_plan(scenario, callbacks, tasks), release)
    emulator.wait_until_processed(timeout=30)
    time.sleep(0.3)
    emulator.wait_until_processed(timeout=30)
    incidents = emulator.incidents()
    task_of = {incident["id"]: incident["details"].get("task_id") for incident in incidents}
    first_page: dict[str, float] = {}
    for page in emulator.pages():
        task = task_of.get(page.incident_id)
        if page.responders and task not in first_page:
            first_page[str(task)] = parse_time(page.at) / 1000 - started
    return Storm(
        code=code,
        created=len(incidents),
        open_by_task=dict(Counter(task_of[i["id"]] for i in incidents if i["status"] == "open")),
        pages_by_task=dict(Counter(task_of.get(incident_id) for incident_id in emulator.paged_incidents())),
        first_page=first_page,
        errors=errors,
    )


def _baseline_tree(folder: Path) -> Path:
    """Extract the package as of ``BASELINE`` into ``folder``; return the folder."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", BASELINE, "airflow_provider_opsgenie_incident"],
        check=True,
        capture_output=True,
    ).stdout
    with tempfile.TemporaryFile() as handle:
        handle.write(archive)
        handle.seek(0)
        with tarfile.open(fileobj=handle) as tar:
            tar.extractall(folder, filter="data")
    return folder


def _figures(storms: list[Storm]) -> tuple[float, float, float]:
    """Return the medians of incidents created, first page (each task's, s) and the last task's first page."""
    created = median([float(s.created) for s in storms])
    pages = [value for s in storms for value in s.first_page.values()]
    last = [max(s.first_page.values(), default=float("nan")) for s in storms]
    return created, median(pages), median(last)


def _report(results: dict[tuple[str, float, str], dict[str, list[Storm]]]) -> list[Row]:
    rows = []
    for (scenario, lag, mode), by_code in results.items():
        if scenario not in SCENARIOS:
            continue
        tasks = SCENARIOS[scenario][1]
        today, ours = by_code["today"], by_code["ours"]
        t_created, t_page, t_last = _figures(today)
        o_created, o_page, o_last = _figures(ours)
        target = CREATED_TARGETS[(scenario, lag)]
        converged = all(s.converged(tasks) for s in ours)
        rows.append(
            Row(
                f"storm {scenario} search lag {lag:g} s, {mode}, {len(ours)} storms: incidents created;"
                " first page s (median over tasks; last task); converged (1 open, 1 page per task)",
                f"{o_created:.0f}; {o_page:.2f} ({o_last:.2f}); {'yes' if converged else 'NO'}",
                f"{t_created:.0f}; {t_page:.2f} ({t_last:.2f}) today ({BASELINE})",
                f"{o_created / t_created:.2f}x" if t_created else "",
                f"created <= {target}; first page <= today + {PAGE_DELAY_TARGET:g} s; converged",
                o_created <= target and o_last <= t_last + PAGE_DELAY_TARGET and converged,
            )
        )
    return rows


def _describe(result: Storm) -> str:
    pages = ", ".join(f"{value:.2f}" for _, value in sorted(result.first_page.items()))
    return (
        f"{result.code:7s} created {result.created:2d}, open {sorted(result.open_by_task.values())},"
        f" pages {sorted(result.pages_by_task.values())}, first page s [{pages}],"
        f" failed {len(result.errors)} {result.errors[:1]}"
    )


def main(argv: list[str] | None = None) -> None:
    """Run the configurations and report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.storm_creators")
    parser.add_argument("--scenario", choices=sorted({**SCENARIOS, **EXTRA_SCENARIOS}), action="append")
    parser.add_argument("--lag", type=float, choices=LAGS, action="append")
    parser.add_argument("--mode", choices=sorted(MODES), action="append")
    parser.add_argument("--storms", type=int, default=REPEATS)
    parser.add_argument("--code", action="append", help="only these codes: today, ours (and --tree names)")
    parser.add_argument("--tree", action="append", default=[], help="NAME=DIR: also run the package in DIR")
    parser.add_argument("--drive", choices=sorted(MODES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.drive:
        drive(args.drive, args.code[0])
        return
    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator

    extra = dict(tree.split("=", 1) for tree in args.tree)
    codes = args.code or ["today", "ours", *extra]
    results: dict[tuple[str, float, str], dict[str, list[Storm]]] = {}
    with tempfile.TemporaryDirectory() as folder, OpsgenieEmulator() as emulator:
        trees = {"today": _baseline_tree(Path(folder)), "ours": ROOT}
        trees.update((name, Path(tree)) for name, tree in extra.items())
        for mode in args.mode or list(MODES):
            drivers = {code: Driver(mode, trees[code], emulator) for code in codes}
            try:
                for scenario in args.scenario or list(SCENARIOS):
                    callbacks, tasks = {**SCENARIOS, **EXTRA_SCENARIOS}[scenario]
                    for lag in args.lag or LAGS:
                        print(f"storm {scenario}, search lag {lag:g} s, {mode}", flush=True)
                        by_code: dict[str, list[Storm]] = {code: [] for code in codes}
                        for _ in range(args.storms):
                            for code in random.sample(codes, len(codes)):
                                result = storm(emulator, drivers[code], code, scenario, lag)
                                by_code[code].append(result)
                                print(f"  {_describe(result)}", flush=True)
                        for code, storms in by_code.items():
                            created, page, last = _figures(storms)
                            print(f"  {code}: created {created:.0f}, first page {page:.2f}, last {last:.2f}")
                        results[(scenario, lag, mode)] = by_code
            finally:
                for driver in drivers.values():
                    driver.close()
    if {"today", "ours"} <= set(codes):
        emit(_report(results))


if __name__ == "__main__":
    quiet()
    main()
