"""The scenarios of ``make e2e``, each checked against the emulator's state and Airflow's REST API."""

from __future__ import annotations

import json
import re
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from e2e.deployment import wait_for

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from e2e.deployment import Deployment

FINISHED = {"success", "failed"}
# What a task's log says when it defers, and each time a worker starts it (again when it resumes).
_DEFERRED = "Pausing task as DEFERRED"
_STARTED = "Worker startup parse complete"
_TRIGGER_STAMP = r'"timestamp":"([^"]+)","level":"\w+","event":"(?:trigger .* starting|Trigger fired event)'


class ScenarioTimeout(Exception):
    """A scenario ran past its time limit; raised in the driver's thread by SIGALRM."""


class Report:
    """What each scenario asserted and saw; the driver prints it and fails on any unmet check."""

    #: Seconds one scenario may take unless ``run`` is told otherwise: the slowest takes about 65.
    SCENARIO_TIMEOUT = 240.0

    def __init__(self) -> None:
        self.failures: list[str] = []

    def check(self, condition: bool, what: str, evidence: Any = "") -> None:
        mark = "ok  " if condition else "FAIL"
        print(f"    [{mark}] {what}" + (f": {evidence}" if evidence != "" else ""), flush=True)
        if not condition:
            self.failures.append(what)

    def run(self, name: str, scenario: Callable[[], None], timeout: float | None = None) -> None:
        """Run one scenario; past ``timeout`` seconds it is interrupted and fails, naming itself."""
        limit = self.SCENARIO_TIMEOUT if timeout is None else timeout
        print(f"\n== {name}", flush=True)
        started = time.monotonic()

        def overran(signum: int, frame: Any) -> None:
            raise ScenarioTimeout(f"scenario {name!r} did not finish within {limit:g} s")

        previous = signal.signal(signal.SIGALRM, overran)
        outer, _ = signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            scenario()
        except Exception as error:  # one broken scenario must not hide the others' results
            self.check(False, f"{name} ran to the end", f"{type(error).__name__}: {error}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            if outer:  # a timer set around this one (pytest-timeout's) keeps running
                signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 0.01))
        print(f"    ({time.monotonic() - started:.0f} s)", flush=True)


class Scenarios:
    """One deployment's scenarios; ``leg`` names the executor in run ids."""

    def __init__(self, deployment: Deployment, report: Report, leg: str) -> None:
        self.d = deployment
        self.report = report
        self.check = report.check
        self.leg = leg

    # -- Airflow helpers -------------------------------------------------------------------

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        run_id = f"e2e_{self.leg}_{uuid.uuid4().hex[:8]}"
        self.d.rest(
            "POST",
            f"/dags/{dag_id}/dagRuns",
            {"dag_run_id": run_id, "logical_date": None, "conf": conf or {}},
        )
        return run_id

    def cli_trigger(self, dag_id: str, conf: str | None = None) -> str:
        """Trigger the way a user first tries a DAG: ``airflow dags trigger`` with its default conf."""
        run_id = f"manual_{self.leg}_{uuid.uuid4().hex[:8]}"
        self.d.airflow("dags", "trigger", dag_id, "--run-id", run_id, *(["--conf", conf] if conf else []))
        return run_id

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.d.rest("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"])

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 240) -> str:
        def finished() -> str | None:
            self.d.check_alive()
            state = self.run_state(dag_id, run_id)
            return state if state in FINISHED else None

        return str(wait_for(f"{dag_id} {run_id} to finish", finished, timeout, interval=2))

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        answer = self.d.rest("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=100")
        return list(answer["task_instances"])

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        return {
            ti["task_id"] + (f"[{ti['map_index']}]" if ti["map_index"] >= 0 else ""): str(ti["state"])
            for ti in self.task_instances(dag_id, run_id)
        }

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return dict(self.d.rest("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"))

    def deferral(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        """Read the task's logs: did it defer, which triggerer jobs ran its trigger, for how long."""
        folder = self.d.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        task_log = "".join(path.read_text(errors="replace") for path in sorted(folder.glob("attempt=*.log")))
        trigger_logs = sorted(folder.glob("attempt=*.log.trigger.*.log"))
        stamps = [
            re.findall(
                _TRIGGER_STAMP,
                p.read_text(errors="replace"),
            )
            for p in trigger_logs
        ]
        flat = sorted(s for found in stamps for s in found)
        waited = _seconds_between(flat[0], flat[-1]) if len(flat) >= 2 else 0.0
        return {
            "deferred_in_worker": _DEFERRED in task_log,
            "triggerer_jobs": [p.name.rsplit(".", 2)[-2] for p in trigger_logs],
            "fired": any("Trigger fired event" in p.read_text(errors="replace") for p in trigger_logs),
            "resumed_in_worker": task_log.count(_STARTED) >= 2,
            "waited_in_triggerer_s": round(waited, 1),
        }

    # -- emulator helpers ------------------------------------------------------------------

    def incidents(self, where: Callable[[dict[str, Any]], bool] = lambda i: True) -> list[dict[str, Any]]:
        return [incident for incident in self.d.emulator_view("/incidents") if where(incident)]

    def notes(self, incident_id: str) -> list[dict[str, Any]]:
        return list(self.d.emulator_view(f"/notes/{incident_id}"))

    def entries(self, incident_id: str) -> list[dict[str, Any]]:
        """Return the incident's custom timeline entries (the notifiers'), oldest event first."""
        return [e for e in self.d.emulator_view(f"/timeline/{incident_id}") if e["group"] == "custom"]

    def entry_writes(self, since: int) -> list[dict[str, Any]]:
        """Return the timeline writes the emulator received since position ``since`` of its log."""
        requests = self.d.emulator_view(f"/requests?since={since}")["requests"]
        return [r for r in requests if r["method"] == "POST" and r["path"].endswith("/entries")]

    def close_all_open(self, where: Callable[[dict[str, Any]], bool]) -> None:
        for incident in self.incidents(lambda i: i["status"] == "open" and where(i)):
            self.d.opsgenie(
                "POST", f"/v1/incidents/{incident['id']}/close?identifierType=id", {"note": "e2e reset"}
            )
        wait_for(
            "open incidents closed",
            lambda: not self.incidents(lambda i: i["status"] == "open" and where(i)),
            10,
            0.2,
        )

    # -- scenarios -------------------------------------------------------------------------

    def examples(self) -> None:
        """Every example DAG, triggered by hand with its default conf, succeeds and does what it says."""
        dag = "example_opsgenie_incident_callbacks"
        names = (
            "example_opsgenie_incident_workflow",
            "example_opsgenie_incident_timeline",
            "example_opsgenie_incident_deadline",
            dag,
        )
        with ThreadPoolExecutor(len(names)) as pool:  # each CLI start-up costs seconds: trigger together
            runs = dict(zip(names, pool.map(self.cli_trigger, names), strict=True))
        first = runs.pop(dag)
        self.check(self.wait_run(dag, first) == "failed", "callbacks run 1 (default conf, fail=true) fails")
        mine = lambda i: any("example_opsgenie_incident_callbacks" in str(v) for v in i["details"].values())  # noqa: E731
        opened = wait_for("callbacks incident", lambda: self.incidents(mine), 30)
        second = self.cli_trigger(dag)
        self.check(self.wait_run(dag, second) == "failed", "callbacks run 2 fails again")
        wait_for("a second timeline entry", lambda: len(self.entries(opened[0]["id"])) >= 2, 30)
        third = self.cli_trigger(dag, '{"fail": false}')
        self.check(self.wait_run(dag, third) == "success", "callbacks run 3 (fail=false) succeeds")
        wait_for("resolution", lambda: self.incidents(lambda i: mine(i) and i["status"] == "resolved"), 30)
        found = self.incidents(mine)
        self.check(
            len(found) == 1
            and found[0]["status"] == "resolved"
            and len(self.notes(found[0]["id"])) == 1
            and len(self.entries(found[0]["id"])) == 3,
            "callbacks: one incident, two failures and the recovery on its timeline, resolved with its note",
            [
                (
                    i["tinyId"],
                    i["status"],
                    [n["note"].splitlines()[0] for n in self.notes(i["id"])],
                    [e["description"]["name"].splitlines()[0] for e in self.entries(i["id"])],
                )
                for i in found
            ],
        )
        for name, run_id in runs.items():
            state = self.wait_run(name, run_id)
            self.check(
                state == "success", f"{name} (airflow dags trigger) succeeds", self.task_states(name, run_id)
            )
        workflow = runs["example_opsgenie_incident_workflow"]
        self.workflow_run = workflow
        # The workflow resolves its incident before its deferrable sensor (so that a plain dag.test()
        # ends too): the sensor's first poke finds it resolved. e2e_deferral's sensor waits in the triggerer.
        story = self.deferral("example_opsgenie_incident_workflow", workflow, "wait_until_resolved")
        sensor = self.task_instance("example_opsgenie_incident_workflow", workflow, "wait_until_resolved")
        self.check(
            sensor.get("state") == "success" and not story["deferred_in_worker"],
            "workflow sensor found the incident resolved at its first poke, without deferring",
            {**story, "state": sensor.get("state")},
        )

    def deferral_with_triggerer_restart(self) -> None:
        """A deferrable create and a deferrable sensor park in the triggerer, survive its restart, resume."""
        dag = "e2e_deferral"
        self.d.set_processing_delay(35)
        try:
            run_id = self.trigger(dag)
            self.survive_restart(dag, run_id, "create_incident")
        finally:
            self.d.set_processing_delay(0.2)
        self.survive_restart(dag, run_id, "wait_until_resolved")
        created = self.task_instance(dag, run_id, "create_incident")
        self.check(created["state"] == "success", "create_incident resumed and succeeded", created["state"])
        [incident] = self.incidents(lambda i: i["message"] == f"e2e deferral {run_id}")
        self.d.opsgenie(
            "POST", f"/v1/incidents/{incident['id']}/resolve?identifierType=id", {"note": "fixed by hand"}
        )
        state = self.wait_run(dag, run_id, timeout=120)
        self.check(
            state == "success",
            "the run succeeds once a person resolves the incident",
            self.task_states(dag, run_id),
        )
        for task_id in ("create_incident", "wait_until_resolved"):
            story = self.deferral(dag, run_id, task_id)
            self.check(
                story["deferred_in_worker"] and story["fired"] and story["resumed_in_worker"],
                f"{task_id}: deferred in a worker, its trigger fired in the triggerer, resumed in a worker",
                story,
            )

    def survive_restart(self, dag: str, run_id: str, task_id: str) -> None:
        """Wait until the task is deferred, restart the triggerer, see the new triggerer take the trigger."""

        def deferred() -> dict[str, Any] | None:
            ti = self.task_instance(dag, run_id, task_id)
            return ti if ti["state"] == "deferred" and (ti.get("trigger") or {}).get("triggerer_id") else None

        before = wait_for(f"{task_id} deferred in a triggerer", deferred, 120)
        self.check(True, f"{task_id} reached deferred", _trigger_summary(before))
        self.restart_triggerer()
        old = before["trigger"]["triggerer_id"]

        def moved() -> dict[str, Any] | None:
            ti = deferred()
            return ti if ti and ti["trigger"]["triggerer_id"] != old else None

        after = wait_for(f"{task_id} taken over by the new triggerer", moved, 120)
        self.check(True, f"{task_id} still deferred, now in the restarted triggerer", _trigger_summary(after))

    def restart_triggerer(self) -> None:
        self.d.stop("triggerer")
        self.d.start_airflow("triggerer", "triggerer")
        print("    triggerer restarted", flush=True)

    def start_dag_callback_and_deadline(self) -> None:
        """Trigger both runs now; ``dag_callback_and_deadline`` checks them later (they overlap others)."""
        self.callback_run = self.trigger("e2e_dag_callback")
        self.deadline_run = self.trigger("e2e_deadline")

    def dag_callback_and_deadline(self) -> None:
        """A DAG-level failure callback (dag-processor) and a Deadline Alert (triggerer) each open one."""
        if not hasattr(self, "callback_run"):
            self.start_dag_callback_and_deadline()
        callback_run, deadline_run = self.callback_run, self.deadline_run
        self.check(self.wait_run("e2e_dag_callback", callback_run) == "failed", "e2e_dag_callback run fails")
        found = wait_for(
            "DAG-level incident",
            lambda: self.incidents(lambda i: i["message"] == "[Airflow] DAG e2e_dag_callback failed"),
            60,
        )
        self.check(
            len(found) == 1 and found[0]["details"].get("run_id") == callback_run,
            "the dag-processor's DAG-level callback opened one incident",
            _brief(found),
        )
        processor = (self.d.logs / "dag-processor.log").read_text(errors="replace")
        self.check(
            "e2e_dag_callback" in processor, "the callback ran in the dag-processor (its log names the DAG)"
        )
        overran = wait_for(
            "deadline incident",
            lambda: self.incidents(
                lambda i: i["message"] == "[Airflow] e2e_deadline overran its 5 s deadline"
            ),
            60,
        )
        self.check(
            len(overran) == 1 and overran[0]["details"].get("run_id") == deadline_run,
            "the Deadline Alert opened one incident from the triggerer",
            _brief(overran),
        )
        self.check(
            self.wait_run("e2e_deadline", deadline_run) == "success", "the overrunning run still succeeds"
        )
        for incident, title in (
            (found, "Failed: DAG e2e_dag_callback"),
            (overran, "Missed its deadline: DAG e2e_deadline"),
        ):
            if len(incident) != 1:
                continue
            entries = wait_for(
                f"{title!r} on the timeline", lambda i=incident[0]: self.entries(i["id"]), 30, 0.5
            )
            self.check(
                [e["description"]["name"].splitlines()[0] for e in entries] == [title]
                and _seconds_between(entries[0]["eventTime"], incident[0]["createdAt"]) >= 0,
                f"one timeline entry {title!r}, at the event's time (before the incident was opened)",
                [(e["eventTime"], e["description"]["name"].splitlines()[0]) for e in entries],
            )

    def story(self) -> None:
        """Fail, retry, fail, recover: the incident's timeline holds those four entries, in order, once."""
        dag = "e2e_story"
        mine = lambda i: i["details"].get("dag_id") == dag  # noqa: E731
        self.close_all_open(mine)
        before = {i["id"] for i in self.incidents(mine)}
        start = self.d.emulator_view("/requests?since=0")["next"]
        new = lambda: [i for i in self.incidents(mine) if i["id"] not in before]  # noqa: E731
        runs: list[str] = []
        # Each run starts once the previous run's last callback is seen: callbacks run after the state.
        for conf, state, seen in (
            ({"fail": True}, "failed", lambda: new() and len(self.entries(new()[0]["id"])) >= 1),
            ({"fail": True}, "failed", lambda: new() and len(self.entries(new()[0]["id"])) >= 3),
            ({"fail": False}, "success", lambda: new() and new()[0]["status"] == "resolved"),
        ):
            runs.append(self.trigger(dag, conf))
            self.check(self.wait_run(dag, runs[-1]) == state, f"story run {len(runs)} ends {state}")
            wait_for(f"story run {len(runs)}'s callbacks", seen, 60, 0.5)
        [incident] = new()
        entries = self.entries(incident["id"])
        titles = [e["description"]["name"].splitlines()[0] for e in entries]
        self.check(
            titles
            == [
                "Failed: e2e_story.load, try 2 of 2",
                "Retrying: e2e_story.load, try 1 of 2 failed",
                "Failed: e2e_story.load, try 2 of 2",
                "Recovered: e2e_story.load succeeded on try 1 of 2",
            ],
            "the timeline holds exactly fail, retry, fail, recover, in order",
            titles,
        )
        # A retried or successful try's end is reported as the task runner stamped it, the time its
        # entry carries; a failed try's only when its process exits, after its failure callback,
        # so a failure's entry lies within its try, before that report.
        windows = []
        for run_id, tries in zip(runs, ((2,), (1, 2), (1,)), strict=True):
            history = self.d.rest("GET", f"/dags/{dag}/dagRuns/{run_id}/taskInstances/load/tries")
            by_try = {t["try_number"]: (t["start_date"], t["end_date"]) for t in history["task_instances"]}
            windows += [by_try.get(number, (None, None)) for number in tries]
        at_end = [
            bool(start and end)
            and (
                abs(_seconds_between(e["eventTime"], end)) < 0.01
                if kind != "Failed"
                else _seconds_between(start, e["eventTime"]) >= 0
                and _seconds_between(e["eventTime"], end) >= 0
            )
            for e, kind, (start, end) in zip(
                entries, [t.split(":")[0] for t in titles], windows, strict=False
            )
        ]
        self.check(
            len(at_end) == 4 and all(at_end),
            "each entry is at its task's own end time (a failure's: within its try)",
            [(e["eventTime"], window) for e, window in zip(entries, windows, strict=False)],
        )
        writes = [
            (w["path"], json.dumps(w["body"], sort_keys=True))
            for w in self.entry_writes(start)
            if incident["id"] in w["path"]
        ]
        self.check(
            len(writes) == 4 and len(set(writes)) == 4,
            "the request log has no duplicate timeline write",
            len(writes),
        )
        self.check(incident["status"] == "resolved", "the recovery resolved the incident", incident["status"])

    def storm(self) -> None:
        """12 mapped instances failing at once: one open incident holding all 12 failures; pages counted."""
        dag = "e2e_storm"
        mine = lambda i: i["details"].get("dag_id") == dag  # noqa: E731
        self.close_all_open(mine)
        before = {i["id"] for i in self.incidents(mine)}
        start = self.d.emulator_view("/requests?since=0")["next"]
        run_id = self.trigger(dag)
        self.check(self.wait_run(dag, run_id) == "failed", "the storm run fails")
        states = self.task_states(dag, run_id)
        self.check(sorted(states.values()) == ["failed"] * 12, "12 mapped instances failed", states)
        time.sleep(5)  # let the notifiers' convergence (settle, close duplicates) finish
        new = [i for i in self.incidents(mine) if i["id"] not in before]
        open_ = [i for i in new if i["status"] == "open"]
        held: set[str] = set()
        entries: list[str] = []
        for incident in open_:
            entries += [e["description"]["name"] for e in self.entries(incident["id"])]
            texts = [incident["description"], *(n["note"] for n in self.notes(incident["id"])), *entries]
            held |= {m for text in texts for m in re.findall(r"Map index: (\d+)", text)}
        on_timeline = [m for text in entries for m in re.findall(r"Map index: (\d+)", text)]
        writes = [(w["path"], json.dumps(w["body"], sort_keys=True)) for w in self.entry_writes(start)]
        requests = self.d.emulator_view(f"/requests?since={start}")["requests"]
        creates = [
            r
            for r in requests
            if r["method"] == "POST" and r["path"] == "/v1/incidents/create" and r["fault"] is None
        ]
        paged_creates = [r for r in creates if (r["body"] or {}).get("responders")]
        responders = {
            r["path"] for r in requests if r["method"] == "POST" and r["path"].endswith("/responders")
        }
        paged_by_state = [i for i in new if i.get("responders")]
        print(
            f"    storm figures ({self.leg}): created={len(new)} open={len(open_)} "
            f"closed={sum(i['status'] == 'closed' for i in new)} pages={len(paged_by_state)} "
            f"(log: {len(paged_creates)} creates with responders + {len(responders)} add-responder targets) "
            f"http_calls={len(requests)} ({len(requests) / 12:.1f} per callback) failures_held={len(held)}",
            flush=True,
        )
        self.check(len(open_) == 1, "one open incident", _brief(open_))
        self.check(len(new) <= 2, "incidents created <= 2 (the others joined the first)", len(new))
        self.check(len(held) == 12, "the open incident holds all 12 failures", sorted(held, key=int))
        self.check(
            sorted(on_timeline, key=int) == [str(i) for i in range(12)],
            "one timeline entry per failure on the open incident, none doubled",
            sorted(on_timeline, key=int),
        )
        self.check(len(writes) == len(set(writes)), "no timeline entry written twice", len(writes))
        self.check(
            len(paged_by_state) == 1, "pages == 1 (incidents that ever had responders)", len(paged_by_state)
        )

    def writes(self, delay: float) -> None:
        """
        20 deferrable creates whose requests are processed ``delay`` s after acceptance: none marked failed.

        Processed within ``defer_after`` (2 s), a write costs no deferral. Processed later, every task
        defers and its trigger finds the request done moments later: the case that trips Airflow's race
        unless the task stays deferred long enough.
        """
        dag = "e2e_writes"
        self.d.set_processing_delay(delay)
        try:
            run_id = self.trigger(dag)
            state = self.wait_run(dag, run_id, timeout=180)
        finally:
            self.d.set_processing_delay(0.2)
        states = [ti["state"] for ti in self.task_instances(dag, run_id)]
        counts = {s: states.count(s) for s in set(states)}
        folder = self.d.home / "logs" / f"dag_id={dag}" / f"run_id={run_id}"
        logs = [path.read_text(errors="replace") for path in folder.rglob("attempt=*.log")]
        deferred = sum(log.count(_DEFERRED) for log in logs)
        resumed = sum(log.count(_STARTED) >= 2 for log in logs)
        expected = 0 if delay < 2 else 20
        self.check(
            state == "success" and counts == {"success": 20} and deferred == resumed == expected,
            f"20 deferrable writes, {expected} deferred and resumed, none failed",
            f"{counts}; deferred {deferred}, resumed in a worker {resumed}",
        )

    def extra_link_and_connection_test(self) -> None:
        """The extra link resolves through the REST API; the connection test passes and fails as it should."""
        dag, run_id = "example_opsgenie_incident_workflow", getattr(self, "workflow_run", None)
        if run_id:
            links = self.d.rest("GET", f"/dags/{dag}/dagRuns/{run_id}/taskInstances/create_incident/links")
            url = (links.get("extra_links") or {}).get("Opsgenie incident") or ""
            [incident] = self.incidents(lambda i: i["message"] == "Warehouse load is late")
            self.check(
                url.endswith(incident["id"]) and url.startswith(self.d.emulator_url),
                "extra link of create_incident points at the incident",
                links,
            )
        body = {
            "connection_id": "e2e_conn_test",
            "conn_type": "opsgenie_incident",
            "host": self.d.emulator_url,
        }
        right = self.d.rest("POST", "/connections/test", {**body, "password": self.d.api_key})
        self.check(right["status"] is True, "connection test with the right key passes", right["message"])
        wrong = self.d.rest("POST", "/connections/test", {**body, "password": "wrong-key"})
        self.check(wrong["status"] is False, "connection test with a wrong key fails", wrong["message"])
        self.check(self.d.api_key not in str(wrong) + str(right), "neither answer shows the key")


# The scheduler's line for the executor's report of a process that deferred its task.
_DEFERRED_REPORT = re.compile(
    r"^(\S+) .*TaskInstance Finished: .*?task_id=([^,]+), .*?ti_id=([0-9a-f-]+), .*state=deferred,"
)


def executor_report_lags(task_logs: Path, scheduler_logs: list[Path]) -> list[tuple[str, float]]:
    """
    Return, for each deferral, how long after it the scheduler read the executor's report of it.

    A deferral is a task log's "Pausing task as DEFERRED"; its report is the scheduler's "TaskInstance
    Finished ... state=deferred" line for the same task instance. A trigger that fired before that
    report was read could get its task marked failed (Airflow's "state mismatch"), so every lag must
    stay below the provider's minimum deferral.
    """
    deferrals: dict[str, list[str]] = {}
    for path in task_logs.rglob("attempt=*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if _DEFERRED in line:
                record = json.loads(line)
                deferrals.setdefault(record["ti_id"], []).append(record["timestamp"])
    lags = []
    for path in scheduler_logs:
        for line in path.read_text(errors="replace").splitlines():
            found = _DEFERRED_REPORT.match(line)
            if found and found[3] in deferrals:
                stamp, task_id, ti_id = found.groups()
                before = [d for d in deferrals[ti_id] if _seconds_between(d, stamp) >= 0]
                if before:
                    lags.append((task_id, round(_seconds_between(max(before), stamp), 2)))
    return sorted(lags, key=lambda lag: lag[1])


def _seconds_between(first: str, last: str) -> float:
    from datetime import datetime

    return (
        datetime.fromisoformat(last.replace("Z", "+00:00"))
        - datetime.fromisoformat(first.replace("Z", "+00:00"))
    ).total_seconds()


def _brief(incidents: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(i["tinyId"], i["status"], i["message"][:60]) for i in incidents]


def _trigger_summary(ti: dict[str, Any]) -> str:
    trigger = ti.get("trigger") or {}
    job = ti.get("triggerer_job") or {}
    classpath = str(trigger.get("classpath")).rsplit(".", 1)[-1]
    triggerer = trigger.get("triggerer_id")
    return f"state={ti['state']} trigger={classpath} triggerer_id={triggerer} job={job.get('id')}"
