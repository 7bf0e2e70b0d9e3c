"""DAG-parse cost: what importing our operators, sensors, notifiers and links adds to ``import airflow.sdk``.

Each variant is a fresh ``python -c`` process; the variants take turns in shuffled order for
``ROUNDS`` rounds, and the figure is the median over rounds of (variant - baseline) whole-process
wall time, each pair measured in the same round. The child also reports the in-process time of its
extra imports (after ``airflow.sdk``), a steadier figure of the same cost. A census run per variant
counts the modules added and names the new top-level packages that are not in the standard
library (third-party ones ``airflow.sdk`` does not already load).

Children use a private bytecode cache (see ``common.PYCACHE``), as a deployed DAG processor reads
compiled bytecode; the first round warms it and is not counted.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

from benchmarks.common import PYTHON, ROOT, Row, child_env, emit, median

ROUNDS = int(os.environ.get("BENCH_IMPORT_ROUNDS", "16"))
PACKAGE = "airflow_provider_opsgenie_incident"
# The modules a DAG file imports from us; the brief of the benchmark names these.
EXPECTED = [
    f"{PACKAGE}.operators.incident",
    f"{PACKAGE}.operators.timeline",
    f"{PACKAGE}.sensors.incident",
    f"{PACKAGE}.notifications.incident",
    f"{PACKAGE}.links",
]
OFFICIAL_OPERATOR = "airflow.providers.opsgenie.operators.opsgenie"
OFFICIAL_NOTIFIER = "airflow.providers.opsgenie.notifications.opsgenie"
ADDED_LIMIT_MS = 10.0

_CHILD = """
import sys, time
import airflow.sdk
started = time.perf_counter()
for name in {modules!r}:
    __import__(name)
elapsed = time.perf_counter() - started
if {census!r}:
    import json
    print(json.dumps(sorted(sys.modules)))
else:
    print(elapsed)
"""


def our_modules() -> tuple[list[str], list[str]]:
    """Return our DAG-facing modules that exist (the expected ones plus any other public operator,
    sensor or notifier module) and the expected ones that are missing."""
    found: list[str] = []
    for sub in ("operators", "sensors", "notifications"):
        folder = ROOT / PACKAGE / sub
        for path in sorted(folder.glob("*.py")) if folder.is_dir() else []:
            if not path.name.startswith("_"):
                found.append(f"{PACKAGE}.{sub}.{path.stem}")
    if (ROOT / PACKAGE / "links.py").exists():
        found.append(f"{PACKAGE}.links")
    missing = [name for name in EXPECTED if name not in found]
    return found, missing


@dataclass
class Sample:
    """One child process: wall and CPU (user + system) seconds, and what it printed last."""

    wall: float
    cpu: float
    output: str
    stderr: str


def _run(modules: list[str], *, census: bool = False, flags: tuple[str, ...] = ()) -> Sample:
    code = _CHILD.format(modules=modules, census=census)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [PYTHON, *flags, "-c", code], capture_output=True, text=True, env=child_env(), cwd=ROOT, check=False
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"importing {modules} failed:\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Sample(wall, cpu, done.stdout.strip().splitlines()[-1], done.stderr)


def _third_party(added: set[str], baseline: set[str]) -> list[str]:
    """Name the top-level packages of ``added`` modules that are neither stdlib nor in ``baseline``."""
    known = {name.split(".")[0] for name in baseline}
    tops = {name.split(".")[0] for name in added} - known
    return sorted(
        top
        for top in tops
        if top not in sys.stdlib_module_names and top not in (PACKAGE, "airflow") and not top.startswith("_")
    )


def _slowest_imports(modules: list[str], count: int = 8) -> list[tuple[str, float, float]]:
    """Return ``(module, self ms, cumulative ms)`` of the slowest imports after ``airflow.sdk``."""
    lines = _run(modules, flags=("-X", "importtime")).stderr.splitlines()
    marker = next(i for i, line in enumerate(lines) if line.rstrip().endswith("| airflow.sdk"))
    timings = []
    for line in lines[marker + 1 :]:
        if not line.startswith("import time:"):
            continue
        own, total, name = line.removeprefix("import time:").split("|")
        timings.append((name.strip(), int(own) / 1e3, int(total) / 1e3))
    return sorted(timings, key=lambda item: -item[1])[:count]


@dataclass
class Added:
    """What one variant adds to the baseline: per-round differences, in milliseconds."""

    wall: list[float]
    cpu: list[float]
    in_process: list[float]
    modules: int
    third_party: list[str]


def _ms(values: list[float], sign: str = "+") -> str:
    """Format the median and the interquartile range, which shows how far noise reaches."""
    low, _, high = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else (values * 3)
    return f"{median(values):{sign}.1f} [{low:{sign}.0f}..{high:{sign}.0f}]"


def main() -> None:
    ours, missing = our_modules()
    variants = {
        "baseline": [],
        "ours": ours,
        "official operator": [OFFICIAL_OPERATOR],
        "official notifier": [OFFICIAL_NOTIFIER],
    }
    variants = {
        name: modules
        for name, modules in variants.items()
        if all(importlib.util.find_spec(module.rpartition(".")[0] or module) for module in modules)
    }
    for modules in variants.values():  # warm the bytecode cache; not counted
        _run(modules)
    samples: dict[str, list[Sample]] = {name: [] for name in variants}
    order = list(variants)
    shuffle = random.Random(11).shuffle
    for _ in range(ROUNDS):
        shuffle(order)
        for name in order:
            samples[name].append(_run(variants[name]))
    base = samples["baseline"]
    baseline_modules = set(json.loads(_run([], census=True).output))
    print(f"DAG-parse cost: {ROUNDS} interleaved rounds of fresh processes; median [interquartile range]")
    print(
        f"  baseline `import airflow.sdk`: {median([s.wall for s in base]) * 1e3:.0f} ms wall,"
        f" {median([s.cpu for s in base]) * 1e3:.0f} ms CPU, {len(baseline_modules)} modules"
    )
    print(f"  ours: {', '.join(name.removeprefix(PACKAGE + '.') for name in ours)}")
    if missing:
        print(f"  missing (not written yet): {', '.join(missing)}")
    print(
        f"  {'variant':18} {'+wall ms':>16} {'+CPU ms':>16} {'in-process ms':>16} {'+modules':>9}"
        "  new third-party"
    )
    added: dict[str, Added] = {}
    for name, modules in variants.items():
        if name == "baseline":
            continue
        mine = samples[name]
        loaded = set(json.loads(_run(modules, census=True).output)) - baseline_modules
        figures = added[name] = Added(
            wall=[(a.wall - b.wall) * 1e3 for a, b in zip(mine, base, strict=True)],
            cpu=[(a.cpu - b.cpu) * 1e3 for a, b in zip(mine, base, strict=True)],
            in_process=[float(a.output) * 1e3 for a in mine],
            modules=len(loaded),
            third_party=_third_party(loaded, baseline_modules),
        )
        print(
            f"  {name:18} {_ms(figures.wall):>16} {_ms(figures.cpu):>16} {_ms(figures.in_process, ''):>16}"
            f" {figures.modules:9d}  {', '.join(figures.third_party) or 'none'}"
        )
    if ours:
        print("  slowest of our imports (-X importtime, one run; self ms / cumulative ms):")
        for module, own, total in _slowest_imports(ours):
            print(f"    {module:60} {own:6.2f} {total:7.2f}")
    emit(_rows(added, missing))


def _rows(added: dict[str, Added], missing: list[str]) -> list[Row]:
    rows: list[Row] = []
    official = added.get("official operator")
    mine = added.get("ours")
    if mine:
        for label, attr in (("wall", "wall"), ("CPU", "cpu")):
            ours_ms, theirs = getattr(mine, attr), getattr(official, attr) if official else None
            # Starting and stopping a 1,350-module interpreter varies by tens of ms on a busy machine:
            # when the spread of the differences is wider than the target, the median cannot judge it.
            low, _, high = statistics.quantiles(ours_ms, n=4, method="inclusive")
            judged = high - low <= 2 * ADDED_LIMIT_MS
            both_positive = theirs and median(theirs) > 0 and median(ours_ms) > 0
            rows.append(
                Row(
                    f"DAG parse: ms added to import airflow.sdk, whole process ({label}) [IQR]",
                    _ms(ours_ms),
                    f"{_ms(theirs)} official operator" if theirs else "",
                    f"{median(ours_ms) / median(theirs):.2f}x" if both_positive and theirs else "",
                    f"< {ADDED_LIMIT_MS:g} ms" if judged else "(IQR wider than the target: not judged)",
                    median(ours_ms) < ADDED_LIMIT_MS if judged else None,
                )
            )
        theirs_in = median(official.in_process) if official else None
        rows.append(
            Row(
                "DAG parse: ms of our imports after airflow.sdk, in process [IQR]",
                _ms(mine.in_process, ""),
                f"{_ms(official.in_process, '')} official operator" if official else "",
                f"{median(mine.in_process) / theirs_in:.2f}x" if theirs_in else "",
                f"< {ADDED_LIMIT_MS:g} ms",
                median(mine.in_process) < ADDED_LIMIT_MS,
            )
        )
        rows.append(
            Row(
                "DAG parse: modules added; new third-party packages",
                f"{mine.modules}; {', '.join(mine.third_party) or 'none'}",
                f"{official.modules}; {', '.join(official.third_party) or 'none'} official operator"
                if official
                else "",
                "",
                "no new third-party",
                not mine.third_party,
            )
        )
    notifier = added.get("official notifier")
    if notifier:
        rows.append(
            Row(
                "DAG parse: official notifier: +wall; +CPU; in process ms; modules added",
                "",
                f"{median(notifier.wall):+.1f}; {median(notifier.cpu):+.1f};"
                f" {median(notifier.in_process):.1f}; {notifier.modules}"
                f" ({', '.join(notifier.third_party) or 'none'})",
            )
        )
    if missing:
        rows.append(Row("DAG parse: expected modules not written yet", ", ".join(missing)))
    return rows


if __name__ == "__main__":
    main()
