"""The hook against the emulator: delegation, test_connection, the async client, secret hygiene."""

from __future__ import annotations

import json
import logging
import traceback
import uuid

import pytest

from airflow_provider_opsgenie_incident.client import (
    AuthenticationError,
    OpsgenieIncidentError,
    RequestFailedError,
    ServerError,
    TransportError,
    WaitTimeoutError,
)
from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient
from airflow_provider_opsgenie_incident.emulator import Fault, OpsgenieEmulator
from airflow_provider_opsgenie_incident.hooks.incident import OpsgenieIncidentHook


@pytest.fixture
def emu(opsgenie_incident_connection):
    """The emulator, with the default connection pointing at it."""
    return opsgenie_incident_connection


@pytest.fixture
def hook(emu):
    hook = OpsgenieIncidentHook(retry_timeout=5, max_attempts=3)
    yield hook
    if "client" in vars(hook):
        hook.client.close()


def _create(hook, emu, **fields) -> str:
    accepted = hook.create_incident(message="Disk is full", **fields)
    return hook.wait_for_request(accepted["requestId"], timeout=5)["incidentId"]


def test_endpoint_methods_and_wait_delegate_to_the_client(hook, emu):
    accepted = hook.create_incident(message="Disk is full", tags=["disk"], priority="P2")
    assert set(accepted) >= {"result", "requestId", "took"}
    data = hook.wait_for_request(accepted["requestId"], timeout=5)
    incident_id = data["incidentId"]
    assert emu.incident(incident_id)["priority"] == "P2"
    assert hook.get_incident(identifier=incident_id)["data"]["tags"] == ["disk"]
    hook.add_note(identifier=incident_id, note="looking")
    hook.resolve_incident(identifier=incident_id, note="fixed")
    assert emu.incident(incident_id)["status"] == "resolved"
    entry = hook.add_timeline_entry(incident_id=incident_id, content="deployed")["data"]
    assert hook.get_timeline_entry(incident_id=incident_id, entry_id=entry["id"])["data"]["id"] == entry["id"]
    methods = [(r.method, r.path) for r in emu.requests]
    assert ("POST", "/v1/incidents/create") in methods
    assert ("POST", f"/v1/incidents/{incident_id}/resolve") in methods
    assert ("POST", f"/v2/incident-timelines/{incident_id}/entries") in methods


def test_wait_for_request_errors_come_through(hook, emu):
    accepted = hook.close_incident(identifier="missing")
    with pytest.raises(RequestFailedError, match="Incident does not exist"):
        hook.wait_for_request(accepted["requestId"], timeout=5)
    with pytest.raises(WaitTimeoutError):
        hook.wait_for_request("unknown-request", timeout=0.2)


def test_iterators_delegate(hook, emu):
    incident_id = _create(hook, emu, note="first")
    hook.add_note(identifier=incident_id, note="second")
    hook.add_timeline_entry(incident_id=incident_id, content="entry")
    assert [i["id"] for i in hook.iter_incidents("status:open", order="asc")] == [incident_id]
    assert [n["note"] for n in hook.iter_notes(incident_id)] == ["second", "first"]
    assert [entry["log"] for entry in hook.iter_logs(incident_id)][-1] == "Incident created via API"
    assert [e["group"] for e in hook.iter_timeline_entries(incident_id)] == ["custom", "incident"]


def test_iterators_take_every_listing_argument_and_page(hook, emu):
    first = _create(hook, emu, note="first")
    second = _create(hook, emu)
    hook.add_note(identifier=first, note="second")
    hook.add_timeline_entry(incident_id=first, content="entry")
    tiny = emu.incident(first)["tinyId"]
    emu.clear_requests()

    incidents = hook.iter_incidents("status:open", sort="createdAt", order="desc", page_size=1)
    assert [i["id"] for i in incidents] == [second, first]
    pages = [r.query for r in emu.requests]
    assert [(q["limit"], q["sort"], q["order"]) for q in pages] == [("1", "createdAt", "desc")] * len(pages)
    assert [q["offset"] for q in pages][:2] == ["0", "1"]

    emu.clear_requests()
    notes = hook.iter_notes(tiny, identifier_type="tiny", order="asc", page_size=1)
    assert [n["note"] for n in notes] == ["first", "second"]
    assert {(r.query["identifierType"], r.query["limit"], r.query["order"]) for r in emu.requests} == {
        ("tiny", "1", "asc")
    }
    assert len(emu.requests) >= 2
    logs = list(hook.iter_logs(tiny, identifier_type="tiny", page_size=1))
    assert len(logs) >= 2

    emu.clear_requests()
    entries = hook.iter_timeline_entries(first, groups=["custom"], discard_hidden=True, page_size=1)
    assert [e["group"] for e in entries] == ["custom"]
    assert emu.requests[0].query["group"] == "custom"
    assert emu.requests[0].query["limit"] == "1"


def test_incident_url(hook, emu):
    incident_id = _create(hook, emu)
    incident = hook.get_incident(identifier=incident_id)["data"]
    assert hook.incident_url(incident) == incident["links"]["web"]
    assert hook.incident_url(incident) == f"{emu.url}/incident/detail/{incident_id}"
    # Without links.web, the connection's web_url builds the link.
    assert hook.incident_url({"id": "abc"}) == f"{emu.url}/incident/detail/abc"
    assert hook.incident_url(incident_id="a/b") == f"{emu.url}/incident/detail/a%2Fb"
    assert hook.incident_url({"id": "abc", "links": {"web": ""}}) == f"{emu.url}/incident/detail/abc"
    assert hook.incident_url() is None


def test_incident_url_without_web_url(emu, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_OG_NO_WEB",
        json.dumps({"conn_type": "opsgenie_incident", "host": emu.url, "password": emu.api_key}),
    )
    hook = OpsgenieIncidentHook("og_no_web")
    assert hook.incident_url(incident_id="abc") is None
    assert (
        hook.incident_url({"links": {"web": "https://x/incident/detail/1"}}) == "https://x/incident/detail/1"
    )
    assert emu.requests == []


@pytest.mark.asyncio
async def test_get_async_client(emu):
    hook = OpsgenieIncidentHook(max_attempts=2)
    client = await hook.get_async_client()
    try:
        assert isinstance(client, AsyncOpsgenieIncidentClient)
        assert client.settings.base_url == emu.url
        assert client.settings.retry.max_attempts == 2
        accepted = await client.create_incident(message="from the triggerer")
        data = await client.wait_for_request(accepted["requestId"], timeout=5)
        assert emu.incident(data["incidentId"])["message"] == "from the triggerer"
    finally:
        await client.aclose()
    second = await hook.get_async_client()
    assert second is not client
    await second.aclose()


# -- secret hygiene -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def secret_server():
    with OpsgenieEmulator(api_key="secret-key-123") as emulator:
        yield emulator


def test_the_key_never_reaches_logs_errors_or_reprs(secret_server, monkeypatch, caplog):
    secret_server.reset()
    key = "secret-key-123"
    connection = {"conn_type": "opsgenie_incident", "host": secret_server.url, "password": key}
    monkeypatch.setenv("AIRFLOW_CONN_OG_SECRET", json.dumps(connection))
    monkeypatch.setenv(
        "AIRFLOW_CONN_OG_SECRET_WRONG",
        json.dumps({**connection, "password": key + "-wrong"}),
    )
    caplog.set_level(logging.DEBUG)
    hook = OpsgenieIncidentHook("og_secret", retry_timeout=2, max_attempts=2)
    errors: list[OpsgenieIncidentError] = []
    try:
        incident_id = _create(hook, secret_server)
        hook.get_incident(identifier=incident_id)
        assert hook.test_connection()[0] is True
        for fault, error_class in (
            (Fault("status", status=500, times=None), ServerError),
            (Fault("reset", times=None), TransportError),
        ):
            secret_server.clear_faults()
            secret_server.add_fault(fault)
            with pytest.raises(error_class) as caught:
                hook.get_incident(identifier=incident_id)
            errors.append(caught.value)
        secret_server.clear_faults()
        with pytest.raises(AuthenticationError) as caught:
            OpsgenieIncidentHook("og_secret_wrong").list_incidents(query="status:open")
        errors.append(caught.value)
        texts = [repr(hook), repr(hook.settings), repr(hook.client), repr(hook.defaults), str(hook.settings)]
    finally:
        hook.client.close()
    for error in errors:
        texts += [
            str(error),
            repr(error),
            json.dumps(error.to_dict()),
            "".join(traceback.format_exception(error)),
        ]
    texts += [record.getMessage() for record in caplog.records]
    texts += [str(record.args) for record in caplog.records]
    assert caplog.records
    assert [text for text in texts if key in text] == []


def test_the_hook_registers_the_key_with_the_secret_masker(emu, monkeypatch):
    from airflow.sdk._shared.secrets_masker import redact

    key = f"masked-{uuid.uuid4().hex}"
    monkeypatch.setenv(
        "AIRFLOW_CONN_OG_MASKED",
        json.dumps({"conn_type": "opsgenie_incident", "host": emu.url, "password": key}),
    )
    hook = OpsgenieIncidentHook("og_masked")
    assert redact(f"key={key}") == f"key={key}"  # nothing registered before the first use
    _ = hook.connection
    assert redact(f"key={key}") == "key=***"


@pytest.mark.asyncio
async def test_the_async_path_registers_the_key_too(emu, monkeypatch):
    from airflow.sdk._shared.secrets_masker import redact

    key = f"masked-async-{uuid.uuid4().hex}"
    monkeypatch.setenv(
        "AIRFLOW_CONN_OG_MASKED_ASYNC",
        json.dumps({"conn_type": "opsgenie_incident", "host": emu.url, "password": key}),
    )
    client = await OpsgenieIncidentHook("og_masked_async").get_async_client()
    await client.aclose()
    assert redact(key) == "***"
