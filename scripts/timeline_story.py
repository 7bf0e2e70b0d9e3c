"""What a responder sees after fail, retry, fail, recover: a real rendering from the emulator.

Starts the bundled emulator, runs the notifiers of ``opsgenie_incident_callbacks(on_retry=True)``
for one task (``retries=1``) over three runs, as Airflow calls them, then fetches the incident, its
notes and its timeline through the client (real HTTP) and prints them as Markdown tables. The
runs are compressed into seconds; each event is stamped with its task's end time.

- run 1: try 1 fails (a retry, with nothing open yet), try 2 fails (the incident opens);
- run 2: try 1 fails (a retry), try 2 fails;
- run 3: try 1 succeeds (the incident is resolved).

It prints the rendering between two ``timeline-story`` markers (the notifiers' log lines come
before it); ``docs/callbacks.md`` holds it between the same markers, and
``tests/test_timeline_story.py`` checks that the two are equal, with the times normalised.
Run: ``.venv/bin/python scripts/timeline_story.py``.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

#: The marker around the rendering in docs/callbacks.md.
BEGIN, END = "<!-- timeline-story:begin -->", "<!-- timeline-story:end -->"
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")
#: Seconds between a task's end and its callback, and between one event and the next.
CALLBACK_LAG, STEP = 0.2, 0.6


@dataclass
class _TaskInstance:
    """What a callback reads of the task instance (RuntimeTaskInstance has the same names)."""

    run_id: str
    try_number: int
    end_date: datetime
    max_tries: int = 1
    dag_id: str = "billing"
    task_id: str = "load_invoices"
    map_index: int = -1

    @property
    def log_url(self) -> str:
        run = self.run_id.replace("+", "%2B")
        return f"https://airflow.example.com/dags/billing/runs/{run}/tasks/load_invoices?try_number={self.try_number}"


def _run_id(day: int) -> str:
    return f"scheduled__2025-06-0{day}T02:00:00+00:00"


#: (callback, run day, try, the task's error or None when it succeeded)
EVENTS: list[tuple[str, int, int, str | None]] = [
    ("on_retry_callback", 1, 1, "ConnectionError: warehouse.example.com:5432 refused the connection"),
    ("on_failure_callback", 1, 2, "ConnectionError: warehouse.example.com:5432 refused the connection"),
    ("on_retry_callback", 2, 1, "TimeoutError: COPY invoices took more than 600 s\n  (in load_invoices)"),
    ("on_failure_callback", 2, 2, "TimeoutError: COPY invoices took more than 600 s"),
    ("on_success_callback", 3, 1, None),
]


def tell(callbacks: dict[str, Any]) -> None:
    """Call the callbacks in order, each a moment after its task ended."""
    for name, day, try_number, error in EVENTS:
        ti = _TaskInstance(_run_id(day), try_number, datetime.now(UTC))
        time.sleep(CALLBACK_LAG)
        context: dict[str, Any] = {"ti": ti, "run_id": ti.run_id}
        if error is not None:
            kind, _, text = error.partition(": ")
            context["exception"] = type(kind, (Exception,), {})(text)
        callbacks[name](context)
        time.sleep(STEP)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", "<br>")


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    return "\n".join([*lines, *("| " + " | ".join(_cell(value) for value in row) + " |" for row in rows)])


def render(client: Any) -> str:
    """Fetch the incident, its notes and its timeline through ``client``; return them as Markdown."""
    [incident] = client.list_incidents(query="status:resolved OR status:open")["data"]
    identifier = incident["id"]
    notes = client.list_notes(identifier=identifier, order="asc", limit=100)["data"]
    timeline = client.list_timeline_entries(incident_id=identifier, order="asc", limit=20)["data"]["entries"]
    responders = ", ".join(
        f"{r['type']} {r.get('name', r.get('id'))}" for r in incident.get("responders") or []
    )
    description = client.get_incident(identifier=identifier)["data"].get("description", "")
    parts = [
        "**The incident**",
        "",
        table(
            ["#", "status", "message", "responders", "description"],
            [[incident["tinyId"], incident["status"], incident["message"], responders, description]],
        ),
        "",
        "**Its notes**",
        "",
        table(["time", "note"], [[note["createdAt"], note["note"]] for note in notes]),
        "",
        "**Its timeline** (oldest first; `custom` entries are the notifiers', `incident` ones Opsgenie's)",
        "",
        table(
            ["event time", "group", "entry"],
            [
                [
                    entry["eventTime"],
                    entry["group"],
                    (entry.get("description") or entry.get("title") or {}).get(
                        "name", (entry.get("title") or {}).get("content", "")
                    ),
                ]
                for entry in timeline
            ],
        ),
    ]
    return "\n".join(parts)


def normalise(text: str) -> str:
    """Replace every time by a placeholder: they differ from one run to the next."""
    return _TIME.sub("<time>", text)


def main() -> str:
    """Run the story against a fresh emulator; return the rendering."""
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="timeline-story-airflow-home-"))
    from airflow_provider_opsgenie_incident.client import ClientSettings, OpsgenieIncidentClient
    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator
    from airflow_provider_opsgenie_incident.notifications.incident import opsgenie_incident_callbacks

    with OpsgenieEmulator(processing_delay=0.1) as emulator:
        os.environ["AIRFLOW_CONN_OPSGENIE_INCIDENT_DEFAULT"] = json.dumps(
            {"conn_type": "opsgenie_incident", "host": emulator.url, "password": emulator.api_key}
        )
        callbacks = opsgenie_incident_callbacks(
            on_retry=True, priority="P2", responders=[{"type": "team", "name": "billing-oncall"}]
        )
        tell(callbacks)
        emulator.wait_until_processed()
        with OpsgenieIncidentClient(
            ClientSettings(api_key=emulator.api_key, base_url=emulator.url)
        ) as client:
            return render(client)


if __name__ == "__main__":
    rendering = main()
    print(f"{BEGIN}\n{rendering}\n{END}")
