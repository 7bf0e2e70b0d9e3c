"""Transport properties: URL-encoded identifiers, keep-alive, explicit timeouts, proxies."""

from __future__ import annotations

import contextlib
import socket
import time
from urllib.parse import quote

import pytest

from airflow_provider_opsgenie_incident.client import (
    ClientSettings,
    InvalidRequestError,
    NotFoundError,
    OpsgenieIncidentError,
    RequestFailedError,
    RetrySettings,
    TransportError,
)
from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient
from airflow_provider_opsgenie_incident.client.sync import OpsgenieIncidentClient

HOSTILE = ["../alerts", "a/b?x=1", "%2F", "ünï/..", "x#y", "../../v2/incident-timelines", "a b&c=d"]


@pytest.mark.parametrize("identifier", HOSTILE)
def test_hostile_identifiers_stay_one_path_segment(identifier, client, emu):
    with pytest.raises(NotFoundError) as caught:
        client.get_incident(identifier=identifier)
    assert caught.value.message == f"No incident exists with id [{identifier}]"
    (sent,) = emu.requests
    assert sent.raw_path == "/v1/incidents/" + quote(identifier, safe="")
    assert sent.path == f"/v1/incidents/{identifier}"
    assert sent.query == {}


@pytest.mark.parametrize("identifier", HOSTILE)
def test_hostile_identifiers_reach_the_intended_write(identifier, client, emu):
    accepted = client.resolve_incident(identifier=identifier, note="n")
    assert emu.requests[-1].raw_path == f"/v1/incidents/{quote(identifier, safe='')}/resolve"
    with pytest.raises(RequestFailedError, match="Incident does not exist"):
        client.wait_for_request(accepted["requestId"], timeout=2)
    assert all(r.path.startswith("/v1/incidents/") for r in emu.requests)


@pytest.mark.parametrize("identifier", HOSTILE)
def test_hostile_timeline_identifiers(identifier, client, emu):
    with pytest.raises(NotFoundError):
        client.hide_timeline_entry(incident_id=identifier, entry_id=identifier)
    encoded = quote(identifier, safe="")
    assert emu.requests[-1].raw_path == f"/v2/incident-timelines/{encoded}/entries/{encoded}/hide"


@pytest.mark.parametrize("identifier", [".", ".."])
@pytest.mark.parametrize("endpoint", ["get_incident", "list_notes", "remove_tags"])
def test_dot_segments_are_refused_before_any_io(identifier, endpoint, client, emu):
    # HTTP clients remove "." and ".." path segments (RFC 3986, 5.2.4), so they cannot be sent as ids.
    kwargs = {"identifier": identifier}
    if endpoint == "remove_tags":
        kwargs["tags"] = ["t"]
    with pytest.raises(InvalidRequestError) as caught:
        getattr(client, endpoint)(**kwargs)
    assert caught.value.field == "identifier"
    assert emu.requests == []


def test_dot_segment_entry_ids_are_refused(client, emu):
    with pytest.raises(InvalidRequestError) as caught:
        client.get_timeline_entry(incident_id="i", entry_id=".")
    assert caught.value.field == "timelineEntryId"
    assert emu.requests == []


@pytest.mark.asyncio
@pytest.mark.parametrize("identifier", HOSTILE[:4])
async def test_async_hostile_identifiers_stay_one_path_segment(identifier, settings, emu):
    async with AsyncOpsgenieIncidentClient(settings) as client:
        with pytest.raises(NotFoundError):
            await client.list_notes(identifier=identifier)
    assert emu.requests[-1].raw_path == f"/v1/incidents/{quote(identifier, safe='')}/notes"


def _connections(emu) -> int:
    """Count the connections the emulator served: each keep-alive connection has its own client port."""
    return len({request.connection for request in emu.requests})


def test_calls_reuse_one_keep_alive_connection(client, emu, new_incident):
    incident_id = new_incident()
    for _ in range(5):
        client.get_incident(identifier=incident_id)
        client.add_note(identifier=incident_id, note="n")
    assert len(emu.requests) == 10
    assert _connections(emu) == 1
    assert {r.headers.get("connection") for r in emu.requests} == {"keep-alive"}


def test_a_reset_connection_is_replaced_once(client, emu):
    from airflow_provider_opsgenie_incident.emulator import Fault

    client.list_incidents(query="status:open")
    emu.add_fault(Fault("reset", method="GET"))
    for _ in range(3):
        client.list_incidents(query="status:open")
    # The reset request is retried on a new connection, which the later calls keep using.
    assert len(emu.requests) == 5
    assert _connections(emu) == 2


@contextlib.contextmanager
def _unaccepting_server():
    """A loopback port whose accept queue is full, so a new connect hangs until its timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    try:
        yield port
    finally:
        for sock in (*fillers, server):
            sock.close()


def test_connect_timeout_is_applied_and_retried_even_for_create(make_client):
    with _unaccepting_server() as port:
        client = make_client(
            base_url=f"http://127.0.0.1:{port}",
            connect_timeout=0.2,
            read_timeout=30,
            retry=RetrySettings(max_attempts=2, backoff_initial=0.01),
        )
        started = time.monotonic()
        with pytest.raises(TransportError) as caught:
            client.create_incident(message="m")
        elapsed = time.monotonic() - started
    assert "ConnectTimeout" in str(caught.value)
    assert caught.value.request_sent is False
    assert 0.35 <= elapsed < 2


@pytest.mark.asyncio
async def test_async_connect_timeout(make_settings):
    with _unaccepting_server() as port:
        settings = make_settings(
            base_url=f"http://127.0.0.1:{port}", connect_timeout=0.2, retry=RetrySettings(max_attempts=1)
        )
        async with AsyncOpsgenieIncidentClient(settings) as client:
            started = time.monotonic()
            with pytest.raises(TransportError) as caught:
                await client.create_incident(message="m")
            assert time.monotonic() - started < 1.5
    assert caught.value.request_sent is False


def test_redirects_are_not_followed(client, emu):
    from airflow_provider_opsgenie_incident.emulator import Fault

    emu.add_fault(
        Fault(
            "status", status=302, headers={"Location": "http://example.com/steal"}, body={"message": "moved"}
        )
    )
    with pytest.raises(OpsgenieIncidentError) as caught:
        client.list_incidents(query="status:open")
    assert type(caught.value) is OpsgenieIncidentError
    assert caught.value.status == 302
    assert caught.value.message == "moved"
    assert len(emu.requests) == 1


def test_context_manager_closes_the_session(settings, emu):
    with OpsgenieIncidentClient(settings) as client:
        client.list_incidents(query="status:open")
    # Closed, the session opens a new connection for the next call instead of reusing the old one.
    client.list_incidents(query="status:open")
    assert _connections(emu) == 2


def test_repr_shows_only_the_base_url(settings):
    client = OpsgenieIncidentClient(settings)
    assert repr(client) == f"OpsgenieIncidentClient(base_url={settings.base_url!r})"
    assert (
        repr(AsyncOpsgenieIncidentClient(settings))
        == f"AsyncOpsgenieIncidentClient(base_url={settings.base_url!r})"
    )
    client.close()


def test_proxy_is_resolved_once_from_settings_or_environment(monkeypatch):
    settings = ClientSettings(
        api_key="k", base_url="https://api.opsgenie.com", proxy="http://proxy.local:3128"
    )
    assert settings.resolved_proxy() == "http://proxy.local:3128"
    client = OpsgenieIncidentClient(settings)
    assert client._session.proxies == {"http": "http://proxy.local:3128", "https": "http://proxy.local:3128"}
    assert client._session.trust_env is False
    client.close()

    monkeypatch.setenv("HTTPS_PROXY", "http://env-proxy:8080")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("https_proxy", raising=False)
    assert ClientSettings(api_key="k").resolved_proxy() == "http://env-proxy:8080"
    assert ClientSettings(api_key="k", base_url="http://127.0.0.1:1").resolved_proxy() is None
    monkeypatch.setenv("NO_PROXY", "api.opsgenie.com")
    assert ClientSettings(api_key="k").resolved_proxy() is None


def test_ca_bundle_follows_the_environment(monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    assert ClientSettings.ca_bundle() is True
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    assert ClientSettings.ca_bundle() == "/etc/ssl/certs/ca-certificates.crt"


@pytest.mark.parametrize(
    "bundle",
    ["/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs", None],
    ids=["file", "directory", "default"],
)
def test_async_client_takes_the_ca_bundle_without_deprecated_arguments(
    bundle, settings, monkeypatch, recwarn
):
    import os

    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    if bundle is not None:
        if not os.path.exists(bundle):
            pytest.skip(f"{bundle} is not on this machine")
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
    AsyncOpsgenieIncidentClient(settings)
    assert [str(w.message) for w in recwarn if issubclass(w.category, DeprecationWarning)] == []
