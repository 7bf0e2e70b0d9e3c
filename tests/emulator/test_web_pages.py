from __future__ import annotations

import http.client
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from airflow_provider_opsgenie_incident.emulator import Fault

HOSTILE = '<script>alert("x")</script><b>bold</b> & "quoted"'


class _Page(HTMLParser):
    """The elements and the visible text of an HTML page, as a browser's parser reads them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.classes: list[str] = []
        self.links: list[str] = []
        self.chunks: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attributes = dict(attrs)
        self.classes.extend((attributes.get("class") or "").split())
        if tag == "a":
            self.links.append(attributes["href"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if not self._in_style:
            self.chunks.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.chunks).split())


def _get(emulator, target: str) -> tuple[int, dict[str, str], str]:
    """GET a page with no key at all, as a browser would."""
    parts = urlsplit(emulator.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request("GET", target)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode()
    finally:
        conn.close()


def _parse(body: str) -> _Page:
    page = _Page()
    page.feed(body)
    return page


def _incident_with_history(api):
    incident = api.create(
        HOSTILE,
        description="line one\n<i>two</i>",
        tags=["db", "<em>tag</em>"],
        details={"host": "<db1>", "count": "3"},
        priority="P2",
        responders=[{"type": "team", "name": "NOC"}],
        note="first <u>note</u>",
    )
    path = api.incident_path(incident["id"])
    api.write("POST", f"{path}/notes", {"note": "second note"})
    entry = {"description": {"content": "custom <img src=x onerror=alert(1)>"}, "time": "2030-01-01T00:00Z"}
    assert api.call("POST", f"/v2/incident-timelines/{incident['id']}/entries", entry).status == 201
    api.write("POST", f"{path}/resolve", {"note": "fixed"})
    return incident


def test_links_web_is_a_page_that_needs_no_key(api, opsgenie_emulator):
    incident = _incident_with_history(api)
    target = urlsplit(incident["links"]["web"]).path
    status, headers, body = _get(opsgenie_emulator, target)
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src" not in headers["content-security-policy"]
    assert headers["content-security-policy"].startswith("default-src 'none'")
    page = _parse(body)
    assert page.text.startswith(f"#1: {HOSTILE} All incidents · Opsgenie emulator {HOSTILE} Status")
    for shown in (
        "Status resolved",
        "Priority P2",
        "Tiny id #1",
        "line one <i>two</i>",
        "db <em>tag</em>",
        "NOC (team)",
        "count 3 host <db1>",
        "first <u>note</u>",
        "second note",
        "fixed",
        "Incident created via API",
    ):
        assert shown in page.text, shown
    assert opsgenie_emulator.api_key not in body


def test_html_in_user_input_renders_as_text(api, opsgenie_emulator):
    incident = _incident_with_history(api)
    _, _, body = _get(opsgenie_emulator, f"/incident/detail/{incident['id']}")
    page = _parse(body)
    assert not {"script", "b", "i", "u", "em", "img"} & set(page.tags)
    assert "custom <img src=x onerror=alert(1)>" in page.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body


def test_notes_and_timeline_in_time_order_with_system_and_custom_told_apart(api, opsgenie_emulator):
    incident = _incident_with_history(api)
    _, _, body = _get(opsgenie_emulator, f"/incident/detail/{incident['id']}")
    text = _parse(body).text
    assert text.index("first <u>note</u>") < text.index("second note") < text.index("fixed")
    timeline = text[text.index("Timeline") : text.index("Activity log")]
    # The custom entry's time is in 2030, after the resolve: the page orders by event time.
    kinds = re.findall(r"(system|custom) (IncidentCreated|IncidentResolved|CustomUserEntry)", timeline)
    assert kinds == [
        ("system", "IncidentCreated"),
        ("system", "IncidentResolved"),
        ("custom", "CustomUserEntry"),
    ]
    classes = _parse(body).classes
    assert classes.count("entry-system") == 2
    assert classes.count("entry-custom") == 1


def test_hidden_entries_are_marked(api, opsgenie_emulator):
    incident = api.create("hide one")
    entries = f"/v2/incident-timelines/{incident['id']}/entries"
    entry = api.call("POST", entries, {"description": {"content": "secret-ish"}}).data
    assert api.call("GET", f"{entries}/{entry['id']}/hide").status == 200
    _, _, body = _get(opsgenie_emulator, f"/incident/detail/{incident['id']}")
    assert "custom, hidden CustomUserEntry secret-ish" in _parse(body).text


def test_the_tiny_id_finds_the_page_and_an_unknown_id_is_an_html_404(api, opsgenie_emulator):
    api.create("by tiny id")
    status, _, body = _get(opsgenie_emulator, "/incident/detail/1")
    assert status == 200
    assert "by tiny id" in _parse(body).text
    status, headers, body = _get(opsgenie_emulator, "/incident/detail/%3Cnope%3E")
    assert status == 404
    assert headers["content-type"].startswith("text/html")
    assert "No incident has the id or tiny id <nope>." in _parse(body).text
    assert "<nope>" not in body


def test_the_index_lists_incidents_newest_first_with_their_status(api, opsgenie_emulator):
    first = api.create("first <one>")
    second = api.create("second")
    api.write("POST", api.incident_path(first["id"], "/close"), {})
    status, _, body = _get(opsgenie_emulator, "/incident/list")
    assert status == 200
    page = _parse(body)
    assert "#2 second open P3" in page.text
    assert "#1 first <one> closed P3" in page.text
    assert page.text.index("#2 second") < page.text.index("#1 first")
    assert f"/incident/detail/{second['id']}" in page.links
    assert f"/incident/detail/{first['id']}" in page.links

    _, _, body = _get(opsgenie_emulator, "/incident/list?status=open")
    text = _parse(body).text
    assert "#2 second" in text
    assert "#1 first" not in text
    status, _, body = _get(opsgenie_emulator, "/incident/list?status=%3Cx%3E")
    assert status == 400
    assert "<x> is not one of open, resolved, closed." in _parse(body).text


def test_an_empty_index(opsgenie_emulator):
    status, _, body = _get(opsgenie_emulator, "/incident/list")
    assert status == 200
    assert "No incidents." in _parse(body).text


def test_pages_are_not_api_requests_and_take_no_faults(api, opsgenie_emulator):
    incident = api.create("quiet")
    opsgenie_emulator.clear_requests()
    opsgenie_emulator.add_fault(Fault("status", status=503))
    opsgenie_emulator.rate_limit(1)
    for _ in range(3):
        assert _get(opsgenie_emulator, f"/incident/detail/{incident['id']}")[0] == 200
        assert _get(opsgenie_emulator, "/incident/list")[0] == 200
    assert opsgenie_emulator.requests == []


@pytest.mark.parametrize(
    ("method", "target"),
    [
        pytest.param("POST", "/incident/list", id="post-index"),
        pytest.param("GET", "/incident/detail/", id="no-id"),
        pytest.param("GET", "/incident/detail/a/b", id="nested"),
        pytest.param("GET", "/incident", id="bare"),
    ],
)
def test_other_paths_stay_api_paths(opsgenie_emulator, method, target):
    parts = urlsplit(opsgenie_emulator.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request(method, target)
        response = conn.getresponse()
        assert response.status == 401
        assert response.getheader("Content-Type") == "application/json"
        response.read()
    finally:
        conn.close()
