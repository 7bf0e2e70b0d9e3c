"""
``make demo``: the provider end to end, against the bundled Opsgenie emulator, with a real Airflow.

It sets up a throw-away Airflow home in ``.demo/`` (SQLite, DAGs folder ``example_dags/``), starts
the emulator (writes are applied 0.2 s after they are accepted, as Opsgenie does asynchronously),
then tells what happens: a hook walks one incident through its life; the callbacks example DAG
fails twice and recovers; the workflow example DAG runs an incident from creation to closing.
It ends with the emulator's view, the address of each incident's page on the emulator, and exits
non-zero if any expectation is not met. With ``--serve`` the emulator keeps serving afterwards
(until Ctrl-C), so those pages can be opened in a browser; ``--port`` fixes its port.

    .venv/bin/python scripts/demo.py [--serve] [--port 8025]      (make demo DEMO_ARGS=--serve)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / ".demo"
HOME = DEMO / "airflow-home"
LOG = DEMO / "airflow.log"
CALLBACKS_DAG = "example_opsgenie_incident_callbacks"
WORKFLOW_DAG = "example_opsgenie_incident_workflow"

failures: list[str] = []


def say(text: str = "") -> None:
    print(text, flush=True)


def expect(condition: bool, what: str) -> None:
    """Record an expectation; the demo exits 1 if any is not met."""
    if not condition:
        failures.append(what)
        say(f"   !! expected: {what}")


def prepare_environment() -> None:
    """Point Airflow at a fresh home in .demo/ before anything imports it; keep its logs quiet."""
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir(parents=True)
    os.environ.update(
        {
            "AIRFLOW_HOME": str(HOME),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME}/airflow.db",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
            "AIRFLOW__API__BASE_URL": "http://localhost:8080",
        }
    )
    warnings.simplefilter("ignore")


@contextlib.contextmanager
def airflow_output_to_log() -> Iterator[None]:
    """Send everything written to stdout and stderr (Airflow's task logs, tracebacks) to .demo/airflow.log."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with LOG.open("a") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def quietly(action: Callable[[], Any]) -> Any:
    with airflow_output_to_log():
        return action()


def hook_lifecycle(emulator: Any) -> None:
    from airflow_provider_opsgenie_incident.hooks.incident import OpsgenieIncidentHook

    say("1. The hook walks one incident through its life")
    hook = OpsgenieIncidentHook()
    accepted = hook.create_incident(
        message="Checkout latency above 2 s", description="p99 at 2.4 s since 09:12.", priority="P2"
    )
    say(f"   create_incident      accepted (202), request {accepted['requestId']}")
    incident_id = hook.wait_for_request(accepted["requestId"])["incidentId"]
    tiny = hook.get_incident(identifier=incident_id)["data"]["tinyId"]
    say(f"   wait_for_request     processed: incident #{tiny} ({incident_id}) exists")
    steps: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("add_note", lambda: hook.add_note(identifier=incident_id, note="Rolling back release 4.2.")),
        ("add_tags", lambda: hook.add_tags(identifier=incident_id, tags=["checkout", "latency"])),
        (
            "resolve_incident",
            lambda: hook.resolve_incident(identifier=incident_id, note="p99 back to 300 ms."),
        ),
        ("close_incident", lambda: hook.close_incident(identifier=incident_id, note="Review on Friday.")),
    ]
    for name, call in steps[:2]:
        data = hook.wait_for_request(call()["requestId"])
        say(f"   {name:<20} processed: {data.get('status')}")
    entry = hook.add_timeline_entry(incident_id=incident_id, content="Rollback of release 4.2 finished.")
    say(f"   add_timeline_entry   entry {entry['data']['id']} on the timeline (synchronous API)")
    for name, call in steps[2:]:
        data = hook.wait_for_request(call()["requestId"])
        status = hook.get_incident(identifier=incident_id)["data"]["status"]
        say(f"   {name:<20} processed: {data.get('status')}; the incident is {status}")
    expect(emulator.incident(incident_id)["status"] == "closed", f"incident #{tiny} closed by the hook")
    say()


def run_dag(dag: Any, **conf: Any) -> Any:
    return quietly(lambda: dag.test(run_conf=conf or None))


def callbacks_story(emulator: Any, dags: dict[str, Any]) -> None:
    say(f"2. Failure callbacks on default_args: {CALLBACKS_DAG}")
    dag = dags[CALLBACKS_DAG]
    known = {incident["id"] for incident in emulator.incidents()}

    def mine() -> list[dict[str, Any]]:
        return [incident for incident in emulator.incidents() if incident["id"] not in known]

    run = run_dag(dag)
    incidents = mine()
    expect(str(run.state) == "failed" and len(incidents) == 1, "the first failure opens one incident")
    if not incidents:
        return
    incident = incidents[0]
    say(f"   run 1, fail=true:  task failed -> incident #{incident['tinyId']} opened")
    say(f'                      "{incident["message"]}"')
    say(f"                      tags: {', '.join(incident['tags'])}")
    run = run_dag(dag)
    entries = [e for e in emulator.timeline(incident["id"]) if e["group"] == "custom"]
    expect(
        len(mine()) == 1 and len(entries) == 2 and not emulator.notes(incident["id"]),
        "the second failure adds a timeline entry and opens nothing",
    )
    say(f"   run 2, fail=true:  task failed -> no new incident; timeline entry on #{incident['tinyId']}:")
    say(f'                      "{entries[-1]["description"]["name"].splitlines()[0]}"')
    run = run_dag(dag, fail=False)
    status = emulator.incident(incident["id"])["status"]
    expect(str(run.state) == "success" and status == "resolved", "the success resolves the incident")
    last_note = emulator.notes(incident["id"])[-1]["note"]
    say(f'   run 3, fail=false: task succeeded -> incident #{incident["tinyId"]} {status}: "{last_note}"')
    say()


def workflow_story(emulator: Any, dags: dict[str, Any]) -> None:
    say(f"3. An incident as a workflow: {WORKFLOW_DAG}")
    known = {incident["id"] for incident in emulator.incidents()}
    # The resolve runs before the deferrable sensor, which finds it done: a plain dag.test() ends.
    run = run_dag(dags[WORKFLOW_DAG])
    tasks = sorted(run.get_task_instances(), key=lambda ti: ti.end_date or ti.start_date)
    for ti in tasks:
        say(f"   {ti.task_id:<22} {ti.state}")
    incidents = [incident for incident in emulator.incidents() if incident["id"] not in known]
    expect(str(run.state) == "success", "the workflow DAG succeeds")
    expect(len(incidents) == 1 and incidents[0]["status"] == "closed", "the workflow's incident ends closed")
    say()


def emulator_view(emulator: Any) -> None:
    say("4. What the emulator holds")
    say(f"   {'#':>2}  {'status':<8} {'pri':<3} {'notes':>5}  {'message':<58} tags")
    for incident in emulator.incidents():
        message = incident["message"] if len(incident["message"]) <= 58 else incident["message"][:57] + "…"
        say(
            f"   {incident['tinyId']:>2}  {incident['status']:<8} {incident['priority']:<3} "
            f"{len(emulator.notes(incident['id'])):>5}  {message:<58} {', '.join(incident['tags'])}"
        )
    for incident in emulator.incidents():
        say(f"   timeline of #{incident['tinyId']} ({incident['id']}):")
        for entry in emulator.timeline(incident["id"]):
            text = (entry.get("title") or entry.get("description") or {}).get("content") or (
                entry.get("description") or {}
            ).get("name")
            say(f"      {entry['eventTime']}  {entry['type']:<18} {text}")
    say()
    say("5. The incidents' pages on the emulator (what a responder sees; no key needed)")
    say(f"   all incidents: {emulator.url}/incident/list")
    for incident in emulator.incidents():
        say(f"   #{incident['tinyId']:<3} {incident['links']['web']}")
    say()


def serve(emulator: Any) -> None:
    """Keep the emulator serving until Ctrl-C or SIGTERM."""
    import signal
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    say(f"Serving the emulator at {emulator.url} until Ctrl-C; open {emulator.url}/incident/list")
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The provider end to end against the bundled emulator.")
    parser.add_argument("--serve", action="store_true", help="keep the emulator serving afterwards")
    parser.add_argument("--port", type=int, default=0, help="the emulator's port (default: a free one)")
    arguments = parser.parse_args(argv)
    started = time.monotonic()
    prepare_environment()
    DEMO.mkdir(exist_ok=True)
    LOG.write_text("")
    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator

    emulator = OpsgenieEmulator(port=arguments.port, processing_delay=0.2).start()
    connection = {"conn_type": "opsgenie_incident", "host": emulator.url, "password": emulator.api_key}
    connection["extra"] = json.dumps({"web_url": emulator.url})
    os.environ["AIRFLOW_CONN_OPSGENIE_INCIDENT_DEFAULT"] = json.dumps(connection)
    say("Opsgenie Incident provider demo")
    say(f"   Airflow home {HOME.relative_to(ROOT)} (SQLite), DAGs from example_dags/, Airflow logs in")
    say(f"   {LOG.relative_to(ROOT)}; emulator at {emulator.url}, applying writes 0.2 s after accepting them")
    say()
    try:
        from airflow.utils import db

        quietly(db.initdb)
        hook_lifecycle(emulator)
        from airflow.dag_processing.dagbag import DagBag

        bag = quietly(lambda: DagBag(str(ROOT / "example_dags")))
        expect(not bag.import_errors, f"example DAGs import cleanly: {bag.import_errors}")
        callbacks_story(emulator, bag.dags)
        workflow_story(emulator, bag.dags)
        emulator_view(emulator)
        elapsed = time.monotonic() - started
        if failures:
            say(f"{len(failures)} expectation(s) not met ({elapsed:.1f} s): " + "; ".join(failures))
        else:
            say(f"Every expectation met in {elapsed:.1f} s.")
        if arguments.serve:
            serve(emulator)
    finally:
        emulator.stop()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
