"""The emulator's web pages: what a responder logged in to Opsgenie would see.

``GET /incident/detail/{id}`` (the incidents' ``links.web``; the tiny id works too) shows one
incident: message, status, priority, description, tags, responders, details, notes, the timeline
in time order (the incident's own events told apart from custom entries) and the activity log.
``GET /incident/list`` lists every incident, newest first, with its status; ``?status=open`` (or
``resolved``, ``closed``) keeps one status. Both are server-rendered HTML with a little CSS and no
script; every value passes through :func:`html.escape`, since an incident's message, notes and
details are user input. They need no API key, show none, are not recorded among the API requests
and take no faults: they stand for the Opsgenie web UI, not its REST API.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

if TYPE_CHECKING:
    from collections.abc import Iterable

    from airflow_provider_opsgenie_incident.emulator.state import EmulatorState

__all__ = ["LIST_PATH", "WebPage", "render"]

LIST_PATH = "/incident/list"
_DETAIL_PREFIX = "/incident/detail/"
_STATUSES = ("open", "resolved", "closed")
# No script may run and nothing may load from elsewhere: the pages show user input.
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #172b4d; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; word-break: break-word; }
h2 { font-size: 1.1rem; margin-top: 1.75rem; border-bottom: 1px solid #dfe1e6; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #ebecf0; vertical-align: top; }
th { color: #5e6c84; font-weight: 600; }
td:first-child { white-space: nowrap; }
.status { padding: .1rem .5rem; border-radius: .75rem; font-size: .85rem; font-weight: 600; }
.status-open { background: #ffebe6; color: #bf2600; }
.status-resolved { background: #e3fcef; color: #006644; }
.status-closed { background: #ebecf0; color: #42526e; }
.tag { background: #deebff; color: #0747a6; padding: .1rem .4rem; margin-right: .25rem; }
.entry-system td:first-child { border-left: 4px solid #6554c0; }
.entry-custom td:first-child { border-left: 4px solid #00b8d9; }
.hidden { color: #97a0af; }
.meta, .empty { color: #5e6c84; }
pre { white-space: pre-wrap; word-break: break-word; margin: 0; font-family: inherit; }
"""


@dataclass(frozen=True)
class WebPage:
    """An HTML answer: status, UTF-8 body and headers."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=lambda: dict(_HEADERS))


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _document(title: str, body: str) -> bytes:
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>"
        f'<body><p class="meta"><a href="{LIST_PATH}">All incidents</a> · Opsgenie emulator</p>'
        f"{body}</body></html>\n"
    )
    return page.encode("utf-8")


def _status(status: str) -> str:
    return f'<span class="status status-{_e(status)}">{_e(status)}</span>'


def _detail_href(incident: dict[str, Any]) -> str:
    return _DETAIL_PREFIX + quote(str(incident["id"]), safe="")


def _rows(rows: Iterable[tuple[str, str]]) -> str:
    return "".join(f"<tr><th>{_e(name)}</th><td>{value}</td></tr>" for name, value in rows)


def _responder(responder: dict[str, Any]) -> str:
    who = responder.get("name") or responder.get("username") or responder.get("id") or ""
    return f"{_e(who)} ({_e(responder.get('type', ''))})"


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return f"<pre>{_e(text)}</pre>"


def _section(title: str, headings: tuple[str, ...], rows: list[str], empty: str) -> str:
    if not rows:
        return f'<h2>{_e(title)}</h2><p class="empty">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(heading)}</th>" for heading in headings)
    return f"<h2>{_e(title)}</h2><table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _timeline_row(entry: dict[str, Any]) -> str:
    system = entry.get("group") != "custom"
    text = (entry.get("title") if system else entry.get("description")) or {}
    content = text.get("content") if system else text.get("name")
    kind = "system" if system else "custom"
    hidden = entry.get("hidden", False)
    label = f"{kind}, hidden" if hidden else kind
    css = f"entry-{kind}" + (" hidden" if hidden else "")
    return (
        f'<tr class="{css}"><td>{_e(entry.get("eventTime", ""))}</td><td>{_e(label)}</td>'
        f"<td>{_e(entry.get('type', ''))}</td><td><pre>{_e(content or '')}</pre></td></tr>"
    )


def _detail(state: EmulatorState, identifier: str) -> WebPage:
    incident = state.get(identifier, "id") or state.get(identifier, "tiny")
    if incident is None:
        body = f"<h1>Incident not found</h1><p>No incident has the id or tiny id {_e(identifier)}.</p>"
        return WebPage(404, _document("Incident not found", body))
    incident_id = incident["id"]
    tags = "".join(f'<span class="tag">{_e(tag)}</span>' for tag in incident.get("tags", []))
    responders = ", ".join(_responder(r) for r in incident.get("responders", []))
    summary = _rows(
        [
            ("Status", _status(incident["status"])),
            ("Priority", _e(incident.get("priority", ""))),
            ("Tiny id", f"#{_e(incident['tinyId'])}"),
            ("Id", _e(incident_id)),
            ("Created", _e(incident.get("createdAt", ""))),
            ("Updated", _e(incident.get("updatedAt", ""))),
            ("Description", _value(incident.get("description", ""))),
            ("Tags", tags or '<span class="empty">none</span>'),
            ("Responders", responders or '<span class="empty">none</span>'),
        ]
    )
    details = [
        f"<tr><td>{_e(key)}</td><td>{_value(value)}</td></tr>"
        for key, value in sorted(incident.get("details", {}).items())
    ]
    notes = [
        f"<tr><td>{_e(n['createdAt'])}</td><td>{_e(n['owner'])}</td><td>{_value(n['note'])}</td></tr>"
        for n in state.items("notes", incident_id) or []
    ]
    timeline = [_timeline_row(entry) for entry in state.timeline.entries(incident_id)]
    logs = [
        f"<tr><td>{_e(entry['createdAt'])}</td><td>{_value(entry['log'])}</td></tr>"
        for entry in state.items("logs", incident_id) or []
    ]
    body = (
        f"<h1>{_e(incident['message'])}</h1>"
        f"<table>{summary}</table>"
        + _section("Details", ("Key", "Value"), details, "No details.")
        + _section("Notes", ("Time", "Owner", "Note"), notes, "No notes.")
        + _section("Timeline", ("Time", "Kind", "Type", "Entry"), timeline, "No timeline entries.")
        + _section("Activity log", ("Time", "Log"), logs, "No log entries.")
    )
    return WebPage(200, _document(f"#{incident['tinyId']}: {incident['message']}", body))


def _index(state: EmulatorState, status: str | None) -> WebPage:
    incidents = [i for i in reversed(state.incidents()) if status is None or i["status"] == status]
    links = [f'<a href="{LIST_PATH}">all</a>']
    links += [f'<a href="{LIST_PATH}?status={name}">{name}</a>' for name in _STATUSES]
    filters = " · ".join(links)
    rows = [
        f'<tr><td>#{_e(i["tinyId"])}</td><td><a href="{_e(_detail_href(i))}">{_e(i["message"])}</a></td>'
        f"<td>{_status(i['status'])}</td><td>{_e(i.get('priority', ''))}</td>"
        f"<td>{_e(i['createdAt'])}</td></tr>"
        for i in incidents
    ]
    heading = "Incidents" if status is None else f"Incidents: {status}"
    table = _section(heading, ("Tiny id", "Message", "Status", "Priority", "Created"), rows, "No incidents.")
    return WebPage(200, _document("Incidents", f"<h1>Incidents</h1><p>{filters}</p>{table}"))


def render(state: EmulatorState, raw_path: str, query: dict[str, str]) -> WebPage | None:
    """Return the web page at ``raw_path`` (undecoded), or ``None`` when it is not a web page."""
    if raw_path == LIST_PATH:
        status = query.get("status") or None
        if status is not None and status not in _STATUSES:
            body = f"<h1>Unknown status</h1><p>{_e(status)} is not one of {', '.join(_STATUSES)}.</p>"
            return WebPage(400, _document("Unknown status", body))
        return _index(state, status)
    if raw_path.startswith(_DETAIL_PREFIX):
        identifier = unquote(raw_path[len(_DETAIL_PREFIX) :])
        if identifier and "/" not in raw_path[len(_DETAIL_PREFIX) :]:
            return _detail(state, identifier)
    return None
