"""Every Python and bash block of README.md and docs/*.md runs as written, against the emulator.

Each block runs in a child process of its own, in a fresh Airflow home (a migrated SQLite database,
an empty DAGs folder) with ``AIRFLOW_CONN_OPSGENIE_INCIDENT_DEFAULT`` pointing at an emulator of its
own, as a reader's shell would after the README's set-up:

- a Python block is saved in the DAGs folder and run with ``python``; a DAG block ends with
  ``dag.test()`` and must finish its run (a block that defines pytest tests runs under pytest);
- a DAG that waits for a person is answered, with its first option, through Airflow's REST API,
  as a person answers on the Required Actions page;
- a bash block runs with ``bash -e``; the docs' emulator address (``127.0.0.1:8025``) is the
  block's emulator, and a block that starts the emulator runs until it listens, then gets SIGTERM;
- the set-up commands (``make ...``, ``pip install ...``) are not run here: ``make test`` is this
  suite, and the package is installed already.

A block that needs a real Opsgenie account says so on the line above it ("Needs a real Opsgenie
account.") and is skipped for that reason only. On Airflow 3.2, whose ``dag.test()`` cannot run a
waiting Human-in-the-loop task in line (docs/approvals.md, "Testing it"), the blocks that wait for
a person are expected to fail, as those docs say. Every Python block also passes ruff's
undefined-name check (F821).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from airflow.utils.state import TaskInstanceState

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(?P<lang>python|bash)\n(?P<code>.*?)^```$", re.S | re.M)
MARKER = "Needs a real Opsgenie account."
DOCS_ADDRESS = "127.0.0.1:8025"
SETUP = re.compile(r"^(make \w+|pip install \S+)(\s+#.*)?$")
# A DAG of the docs whose run fails on purpose: its failure is what opens the incident.
FAILS_ON_PURPOSE = {"example_opsgenie_incident_callbacks"}
# Lines a block's output never shows when it did what the docs say.
FAILURE_SIGNS = (
    "Traceback (most recent call last)",
    "disabled in Airflow configuration",
    "query is required",
    "Could not authenticate",
)
BIN = Path(sys.executable).parent
# Airflow 3.3 parks a task waiting for a person in ``awaiting_input``; 3.2 defers it to a trigger that
# its dag.test() cannot run in line (docs/approvals.md#testing-it).
HITL_IN_DAG_TEST = hasattr(TaskInstanceState, "AWAITING_INPUT")
pytestmark = pytest.mark.timeout(420)


@dataclass(frozen=True)
class Block:
    document: str
    line: int
    lang: str
    code: str
    needs_account: bool

    @property
    def id(self) -> str:
        return f"{self.document}:{self.line}"

    @property
    def kind(self) -> str:
        if self.lang == "python":
            return "pytest" if re.search(r"^def test_", self.code, re.M) else "python"
        if self.code.startswith("python -m airflow_provider_opsgenie_incident.emulator"):
            return "server"
        if all(SETUP.match(line) for line in self.code.splitlines() if line.strip()):
            return "setup"
        return "shell"


def _previous_line(text: str, start: int) -> str:
    """The last line before ``start`` that is neither blank nor an HTML comment."""
    for line in reversed(text[:start].splitlines()):
        if line.strip() and not line.lstrip().startswith("<!--"):
            return line.strip()
    return ""


def _blocks() -> list[Block]:
    found = []
    for path in DOCUMENTS:
        text = path.read_text()
        for match in FENCE.finditer(text):
            found.append(
                Block(
                    document=path.relative_to(ROOT).as_posix(),
                    line=text.count("\n", 0, match.start()) + 1,
                    lang=match["lang"],
                    code=match["code"],
                    needs_account=_previous_line(text, match.start()) == MARKER,
                )
            )
    return found


BLOCKS = _blocks()
RUN = [block for block in BLOCKS if not block.needs_account and block.kind != "setup"]
RUNNABLE_HERE = [block for block in RUN if HITL_IN_DAG_TEST or "operators.hitl" not in block.code]
PYTHON = [block for block in BLOCKS if block.lang == "python"]

ANSWERER = """
import sys
import time

from airflow.api_fastapi.app import create_app
from fastapi.testclient import TestClient

with TestClient(create_app("core")) as client:
    deadline = time.monotonic() + float(sys.argv[1])
    while time.monotonic() < deadline:
        listing = client.get("/api/v2/dags/~/dagRuns/~/hitlDetails", params={"response_received": False})
        listing.raise_for_status()
        for detail in listing.json()["hitl_details"]:
            ti = detail["task_instance"]
            if ti["state"] != "awaiting_input":
                continue
            answer = detail["options"][0]
            path = (
                f"/api/v2/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}"
                f"/taskInstances/{ti['task_id']}/{ti['map_index']}/hitlDetails"
            )
            client.patch(path, json={"chosen_options": [answer]}).raise_for_status()
            print("ANSWERED", ti["task_id"], answer, flush=True)
        time.sleep(0.5)
"""


@dataclass
class Outcome:
    returncode: int | None = None
    output: str = ""
    requests: int = 0
    incidents: list[dict[str, Any]] = field(default_factory=list)
    extra: str = ""
    seconds: float = 0.0


def _wait(process: subprocess.Popen[str], limit: float) -> tuple[int | None, str]:
    try:
        output, _ = process.communicate(timeout=limit)
        return process.returncode, output
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        return None, output + f"\n(killed after {limit} s)"


def _run(block: Block, make_child: Callable[[Any], Any]) -> Outcome:
    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator

    with OpsgenieEmulator(processing_delay=0.2) as emulator:  # the CLI's default delay
        child = make_child(emulator)
        child.env["PATH"] = f"{BIN}{os.pathsep}{child.env.get('PATH', '')}"
        outcome = Outcome()
        answerer = None
        if block.kind == "python":
            path = child.write_dag(f"snippet_{block.line}.py", block.code)
            if "operators.hitl" in block.code:
                env = {
                    **child.env,
                    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                    "AIRFLOW__API_AUTH__JWT_SECRET": "docs-snippet-secret-" * 3,
                }
                answerer = child.start("-c", ANSWERER, "150", env=env)
            process = child.start(path)
        elif block.kind == "pytest":
            path = child.home / f"test_snippet_{block.line}.py"
            path.write_text(block.code)
            process = child.start("-m", "pytest", "-q", "-p", "no:cacheprovider", path)
        elif block.kind == "server":
            process = child.start("-c", _server(block.code))
        else:
            address = f"127.0.0.1:{emulator.port}"
            code = block.code.replace(DOCS_ADDRESS, address)
            process = subprocess.Popen(
                ["bash", "-e", "-o", "pipefail", "-c", code],
                env=child.env,
                cwd=child.home,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        started = time.monotonic()
        outcome.returncode, outcome.output = _wait(process, 150)
        outcome.seconds = time.monotonic() - started
        if answerer is not None:
            answerer.terminate()
            outcome.extra = _wait(answerer, 10)[1]
        outcome.requests = len(emulator.requests)
        outcome.incidents = emulator.incidents()
        return outcome


def _server(code: str) -> str:
    """A small driver: start the block's command with a free port, wait until it listens, SIGTERM it."""
    command = code.strip().replace("--port 8025", "--port 0").split()
    return f"""
import signal, subprocess, sys
command = {command!r}
command[0] = sys.executable
process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
line = process.stdout.readline()
print(line, end="", flush=True)
assert line.startswith("Opsgenie emulator listening on http://127.0.0.1:"), line
process.send_signal(signal.SIGTERM)
sys.exit(process.wait(timeout=10))
"""


@pytest.fixture(scope="module")
def outcomes(child_airflow: Callable[[Any], Any]) -> dict[str, Outcome]:
    """Run every block, four at a time; a block quoted in two places runs once."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        by_code = {block.code: pool.submit(_run, block, child_airflow) for block in reversed(RUNNABLE_HERE)}
        return {block.id: by_code[block.code].result() for block in RUNNABLE_HERE}


def test_the_docs_have_blocks_of_each_kind() -> None:
    kinds = {block.kind for block in BLOCKS}
    assert kinds == {"python", "pytest", "server", "shell", "setup"}
    assert sum(block.needs_account for block in BLOCKS) >= 2


def test_only_set_up_commands_are_not_run() -> None:
    # make test is this suite; make demo and make e2e have tests of their own; pip installs the package.
    setup = [line for block in BLOCKS if block.kind == "setup" for line in block.code.splitlines()]
    assert setup
    assert all(
        re.match(r"(make (demo|test)|pip install airflow-provider-opsgenie-incident)\b", s) for s in setup
    )


@pytest.mark.parametrize("block", PYTHON, ids=[block.id for block in PYTHON])
def test_every_python_block_names_what_it_uses(block: Block, tmp_path: Path) -> None:
    path = tmp_path / "block.py"
    path.write_text(block.code)
    checked = subprocess.run(
        [str(BIN / "ruff"), "check", "--no-cache", "--isolated", "--select", "F821", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout


@pytest.mark.parametrize("block", RUN, ids=[block.id for block in RUN])
def test_every_block_runs_as_written(block: Block, outcomes: dict[str, Outcome]) -> None:
    if block not in RUNNABLE_HERE:
        pytest.xfail("this Airflow's dag.test() cannot run a task that waits for a person in line")
    outcome = outcomes[block.id]
    assert outcome.returncode == 0, outcome.output[-4000:]
    if block.kind in ("pytest", "server", "shell"):
        for sign in FAILURE_SIGNS:
            assert sign not in outcome.output, outcome.output[-4000:]
    if block.kind == "pytest":
        assert re.search(r"\b\d+ passed\b", outcome.output), outcome.output[-2000:]
        assert " failed" not in outcome.output
    if "connections test" in block.code:
        assert "Connection success!" in outcome.output, outcome.output[-2000:]
    if "curl " in block.code:
        assert '"data": [' in outcome.output, outcome.output[-2000:]
    if "dag.test()" in block.code:
        finished = re.findall(r"DagRun Finished: dag_id=(\S+?), .*?state=(\w+)", outcome.output)
        assert finished, outcome.output[-4000:]
        [(dag_id, state)] = finished
        assert state == ("failed" if dag_id in FAILS_ON_PURPOSE else "success"), outcome.output[-4000:]
    if block.kind == "python" and ("dag.test()" in block.code or "OpsgenieIncidentHook()" in block.code):
        assert outcome.requests > 0  # it talked to its emulator
    if "operators.hitl" in block.code:
        assert "ANSWERED" in outcome.extra, outcome.extra[-2000:]


def test_a_block_marked_for_a_real_account_would_need_one() -> None:
    marked = [block for block in BLOCKS if block.needs_account]
    assert marked
    assert all("<api key>" in block.code for block in marked)


def test_the_dag_blocks_opened_incidents_on_their_emulators(outcomes: dict[str, Outcome]) -> None:
    opened = {name: len(outcome.incidents) for name, outcome in outcomes.items() if outcome.incidents}
    assert len(opened) >= 5, opened
