"""Client settings and secret hygiene: where the key may go (one header) and where it never goes."""

from __future__ import annotations

import json
import logging
import socket
import traceback

import pytest

from airflow_provider_opsgenie_incident.client import (
    ClientSettings,
    InvalidRequestError,
    OpsgenieIncidentError,
    RetrySettings,
)
from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient
from airflow_provider_opsgenie_incident.client.settings import (
    DEFAULT_BASE_URL,
    EU_BASE_URL,
    is_loopback,
    resolve_base_url,
)
from airflow_provider_opsgenie_incident.client.sync import OpsgenieIncidentClient
from airflow_provider_opsgenie_incident.emulator import Fault, OpsgenieEmulator

SECRET = "secret-key-123"


@pytest.mark.parametrize(
    ("host", "region", "expected"),
    [
        (None, None, DEFAULT_BASE_URL),
        ("", None, DEFAULT_BASE_URL),
        ("   ", None, DEFAULT_BASE_URL),
        ("", "us", DEFAULT_BASE_URL),
        ("", "eu", EU_BASE_URL),
        (None, "EU", EU_BASE_URL),
        ("api.eu.opsgenie.com", None, "https://api.eu.opsgenie.com"),
        ("api.opsgenie.com", "eu", "https://api.opsgenie.com"),
        ("https://api.opsgenie.com/", None, "https://api.opsgenie.com"),
        (" https://proxy.example.com/opsgenie/ ", None, "https://proxy.example.com/opsgenie"),
        ("http://127.0.0.1:8025", None, "http://127.0.0.1:8025"),
        ("http://127.9.8.7", None, "http://127.9.8.7"),
        ("http://localhost:8025", None, "http://localhost:8025"),
        ("http://LOCALHOST", None, "http://LOCALHOST"),
        ("http://[::1]:8025", None, "http://[::1]:8025"),
        ("127.0.0.1:8025", None, "https://127.0.0.1:8025"),
    ],
)
def test_resolve_base_url(host, region, expected):
    assert resolve_base_url(host, region=region) == expected


@pytest.mark.parametrize(
    "host",
    [
        "http://api.opsgenie.com",
        "http://10.0.0.5:8080",
        "http://192.168.1.1",
        "http://[2001:db8::1]",
        "http://localhost.evil.com",
    ],
)
def test_plain_http_to_another_machine_is_refused(host):
    with pytest.raises(InvalidRequestError) as caught:
        resolve_base_url(host)
    assert caught.value.field == "host"
    assert "host must use https" in str(caught.value)
    assert "loopback" in str(caught.value)
    with pytest.raises(InvalidRequestError):
        ClientSettings(api_key="k", base_url=host)


@pytest.mark.parametrize("host", ["ftp://files.example.com", "https://", "file:///etc/passwd"])
def test_non_http_urls_are_refused(host):
    with pytest.raises(InvalidRequestError, match="http\\(s\\) URL") as caught:
        resolve_base_url(host)
    assert caught.value.field == "host"


def test_unknown_region_is_refused():
    with pytest.raises(InvalidRequestError, match="region") as caught:
        resolve_base_url("", region="asia")
    assert caught.value.field == "region"


@pytest.mark.parametrize(
    ("hostname", "expected"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.1.1.1", True),
        ("::1", True),
        ("[::1]", True),
        ("10.0.0.1", False),
        ("example.com", False),
        ("", False),
        (None, False),
    ],
)
def test_is_loopback(hostname, expected):
    assert is_loopback(hostname) is expected


def test_client_settings_defaults_and_checks():
    settings = ClientSettings(api_key=SECRET)
    assert settings.base_url == DEFAULT_BASE_URL
    assert (settings.connect_timeout, settings.read_timeout) == (5.0, 15.0)
    assert settings.retry == RetrySettings()
    assert (
        ClientSettings(api_key="k", base_url="api.eu.opsgenie.com/").base_url == "https://api.eu.opsgenie.com"
    )
    with pytest.raises(InvalidRequestError) as caught:
        ClientSettings(api_key="")
    assert caught.value.field == "password"
    for timeouts in ({"connect_timeout": 0}, {"read_timeout": -1}):
        with pytest.raises(InvalidRequestError) as caught:
            ClientSettings(api_key="k", **timeouts)
        assert caught.value.field == "timeout"


def test_incident_url():
    settings = ClientSettings(api_key="k", web_url="https://acme.app.opsgenie.com/")
    assert settings.incident_url("abc-1") == "https://acme.app.opsgenie.com/incident/detail/abc-1"
    assert settings.incident_url("a/b") == "https://acme.app.opsgenie.com/incident/detail/a%2Fb"
    assert settings.incident_url("") is None
    assert ClientSettings(api_key="k").incident_url("abc-1") is None


# -- secret hygiene -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def secret_emulator():
    with OpsgenieEmulator(api_key=SECRET) as emulator:
        yield emulator


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _assert_secret_free(text: str) -> None:
    assert SECRET not in text


def _assert_error_secret_free(error: BaseException) -> None:
    for text in (
        str(error),
        repr(error),
        json.dumps(error.to_dict()),
        "".join(traceback.format_exception(error)),
    ):
        _assert_secret_free(text)


def test_the_key_travels_only_in_the_authorization_header(secret_emulator, caplog):
    secret_emulator.reset()
    caplog.set_level(logging.DEBUG)
    fast = RetrySettings(max_attempts=2, backoff_initial=0.01)
    settings = ClientSettings(api_key=SECRET, base_url=secret_emulator.url, retry=fast, read_timeout=0.3)
    errors: list[OpsgenieIncidentError] = []
    with OpsgenieIncidentClient(settings) as client:
        _assert_secret_free(repr(client))
        _assert_secret_free(repr(settings))
        accepted = client.create_incident(message="m")
        incident_id = client.wait_for_request(accepted["requestId"])["incidentId"]
        client.get_incident(identifier=incident_id)
        for fault in (
            Fault("status", status=500, times=None),
            Fault("reset", times=None),
            Fault("delay", seconds=1, times=None),
            Fault("malformed", status=502, times=None),
        ):
            secret_emulator.clear_faults()
            secret_emulator.add_fault(fault)
            with pytest.raises(OpsgenieIncidentError) as caught:
                client.get_incident(identifier=incident_id)
            errors.append(caught.value)
        secret_emulator.clear_faults()
    with OpsgenieIncidentClient(
        ClientSettings(api_key=SECRET, base_url=f"http://127.0.0.1:{_closed_port()}", retry=fast)
    ) as client:
        with pytest.raises(OpsgenieIncidentError) as caught:
            client.list_incidents(query="status:open")
        errors.append(caught.value)
    assert len(errors) == 5
    for error in errors:
        _assert_error_secret_free(error)
    assert caplog.records, "DEBUG logging should have recorded the HTTP exchanges"
    for record in caplog.records:
        _assert_secret_free(record.getMessage())
    # The key was sent, where it belongs.
    assert {r.headers["authorization"] for r in secret_emulator.requests} == {f"GenieKey {SECRET}"}


def test_a_wrong_key_is_not_echoed(opsgenie_emulator, caplog):
    caplog.set_level(logging.DEBUG)
    with OpsgenieIncidentClient(ClientSettings(api_key=SECRET, base_url=opsgenie_emulator.url)) as client:
        with pytest.raises(OpsgenieIncidentError) as caught:
            client.list_incidents(query="status:open")
    assert caught.value.status == 401
    _assert_error_secret_free(caught.value)
    for record in caplog.records:
        _assert_secret_free(record.getMessage())


@pytest.mark.asyncio
async def test_async_client_keeps_the_key_out_of_logs_and_errors(secret_emulator, caplog):
    secret_emulator.reset()
    caplog.set_level(logging.DEBUG)
    settings = ClientSettings(
        api_key=SECRET,
        base_url=secret_emulator.url,
        retry=RetrySettings(max_attempts=2, backoff_initial=0.01),
    )
    async with AsyncOpsgenieIncidentClient(settings) as client:
        _assert_secret_free(repr(client))
        await client.list_incidents(query="status:open")
        secret_emulator.add_fault(Fault("status", status=503, times=None))
        with pytest.raises(OpsgenieIncidentError) as caught:
            await client.list_incidents(query="status:open")
    secret_emulator.reset()
    _assert_error_secret_free(caught.value)
    for record in caplog.records:
        _assert_secret_free(record.getMessage())


def test_repr_hides_the_key_and_proxy_credentials():
    settings = ClientSettings(api_key=SECRET, proxy="http://user:proxy-password@proxy.local:3128")
    assert SECRET not in repr(settings)
    assert "proxy-password" not in repr(settings)
    assert settings.proxy == "http://user:proxy-password@proxy.local:3128"


@pytest.mark.parametrize(
    ("proxy", "refused"),
    [
        ("http://proxy.example.com:3128", True),
        ("http://10.0.0.8:3128", True),
        ("http://127.0.0.1:3128", False),
    ],
)
def test_plain_http_through_a_proxy_elsewhere_is_refused(proxy, refused):
    def build() -> ClientSettings:
        return ClientSettings(api_key="k", base_url="http://127.0.0.1:8025", proxy=proxy)

    if refused:
        with pytest.raises(InvalidRequestError) as caught:
            build()
        assert caught.value.field == "proxy"
    else:
        assert build().proxy == proxy
    assert ClientSettings(api_key="k", base_url="https://api.opsgenie.com", proxy=proxy).proxy == proxy
