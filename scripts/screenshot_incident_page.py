"""Open an incident's page on the bundled emulator in headless Chromium: read it, and take a screenshot.

The page is the incident's ``links.web``, the address of a task's "Opsgenie incident" button and of
the notifiers' log lines. With no URL, the script starts an emulator and walks one incident through
what a failing task's notifiers do (opened with the failure's facts, a note for the next failure, a
custom timeline entry, resolved on recovery), then opens its page. Needs the system's Chromium and
chromedriver (Debian: ``apt-get install chromium chromium-driver``) and ``selenium``, as
``scripts/check_connection_form.py`` does; no browser is downloaded.

    .venv/bin/python scripts/screenshot_incident_page.py [--output docs/images/incident-page.png] [URL]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_connection_form import _start_browser, browser_available  # noqa: E402

__all__ = ["PageView", "browser_available", "read_page"]

#: Read the page in one go: its visible text, its sections, and what the HTML made of the input.
_READ_PAGE = """
const rows = (title) => {
    const heading = [...document.querySelectorAll('h2')].find(h => h.textContent.startsWith(title));
    const table = heading && heading.nextElementSibling;
    if (!table || table.tagName !== 'TABLE') return [];
    return [...table.querySelectorAll('tbody tr')].map(tr => ({
        cells: [...tr.children].map(td => td.innerText),
        classes: tr.className,
    }));
};
return {
    title: document.title,
    heading: document.querySelector('h1').innerText,
    text: document.body.innerText,
    notes: rows('Notes'),
    timeline: rows('Timeline'),
    elements: [...document.body.querySelectorAll('*')].map(e => e.tagName.toLowerCase()),
    scripts: document.scripts.length,
};
"""


@dataclass
class PageView:
    """What a browser shows of an incident's page."""

    url: str
    title: str = ""
    heading: str = ""
    text: str = ""
    notes: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    elements: list[str] = field(default_factory=list)
    scripts: int = 0


def read_page(url: str, screenshot: Path | None = None) -> PageView:
    """Open ``url`` in headless Chromium, read it, and save a screenshot of the whole page if asked."""
    driver = _start_browser()
    try:
        driver.set_window_size(1100, 500)  # the page's own height is measured below
        driver.get(url)
        seen = driver.execute_script(_READ_PAGE)
        if screenshot is not None:
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(1100, min(int(height) + 140, 2400))
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(screenshot))
    finally:
        driver.quit()
    return PageView(url=url, **seen)


def _demo_incident(emulator: Any) -> str:
    """Walk one incident through a failing task's story on ``emulator``; return its page's address."""
    from airflow_provider_opsgenie_incident.client.fingerprint import run_fingerprint
    from airflow_provider_opsgenie_incident.hooks.incident import OpsgenieIncidentHook

    os.environ["AIRFLOW_CONN_OPSGENIE_INCIDENT_DEFAULT"] = json.dumps(
        {
            "conn_type": "opsgenie_incident",
            "host": emulator.url,
            "password": emulator.api_key,
            "extra": {"web_url": emulator.url},
        }
    )
    hook = OpsgenieIncidentHook()
    accepted = hook.create_incident(
        message="[Airflow] example_opsgenie_incident_callbacks.load_warehouse failed",
        description="RuntimeError: the warehouse refused the nightly load <load id=42>",
        priority="P3",
        tags=["airflow", "example", run_fingerprint("example_opsgenie_incident_callbacks", "load_warehouse")],
        details={
            "dag_id": "example_opsgenie_incident_callbacks",
            "task_id": "load_warehouse",
            "try_number": "1",
        },
        responders=[{"type": "team", "name": "data-platform"}],
    )
    incident_id = str(hook.wait_for_request(accepted["requestId"])["incidentId"])
    time.sleep(0.01)  # distinct times on the page
    hook.wait_for_request(
        hook.add_note(
            identifier=incident_id,
            note="example_opsgenie_incident_callbacks.load_warehouse failed again. RuntimeError: ...",
        )["requestId"]
    )
    hook.add_timeline_entry(incident_id=incident_id, content="Export restarted by the on-call")
    hook.wait_for_request(
        hook.resolve_incident(
            identifier=incident_id, note="example_opsgenie_incident_callbacks.load_warehouse succeeded"
        )["requestId"]
    )
    return f"{emulator.url}/incident/detail/{incident_id}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="an incident page to open; default: a demo incident")
    parser.add_argument("--output", type=Path, default=Path("docs/images/incident-page.png"))
    arguments = parser.parse_args(argv)
    reason = browser_available()
    if reason:
        print(f"cannot take the screenshot: {reason}", file=sys.stderr)
        return 2
    if arguments.url:
        view = read_page(arguments.url, arguments.output)
    else:
        from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator

        with OpsgenieEmulator() as emulator:
            view = read_page(_demo_incident(emulator), arguments.output)
    print(f"{view.heading}: {len(view.notes)} notes, {len(view.timeline)} timeline entries")
    print(f"screenshot: {arguments.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
