"""The hook turns an ``opsgenie_incident`` connection into client settings, lazily and once."""

from __future__ import annotations

import json
import socket
import threading
import time
from urllib.parse import quote

import pytest
from airflow.sdk.exceptions import AirflowNotFoundException

from airflow_provider_opsgenie_incident import connection as og_connection
from airflow_provider_opsgenie_incident.client import ClientSettings, InvalidRequestError, RetrySettings
from airflow_provider_opsgenie_incident.client.settings import DEFAULT_BASE_URL, EU_BASE_URL
from airflow_provider_opsgenie_incident.connection import EXTRAS, default
from airflow_provider_opsgenie_incident.emulator import Fault
from airflow_provider_opsgenie_incident.hooks.incident import IncidentDefaults, OpsgenieIncidentHook


@pytest.fixture
def set_connection(monkeypatch):
    """Return ``set_connection(conn_id, value)``: a JSON dict or a URI string in the environment."""

    def set_(conn_id: str, value: dict | str) -> OpsgenieIncidentHook:
        text = value if isinstance(value, str) else json.dumps(value)
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", text)
        return OpsgenieIncidentHook(conn_id)

    return set_


def test_class_attributes():
    assert OpsgenieIncidentHook.conn_type == og_connection.CONN_TYPE == "opsgenie_incident"
    assert OpsgenieIncidentHook.default_conn_name == og_connection.DEFAULT_CONN_ID
    assert OpsgenieIncidentHook.default_conn_name == "opsgenie_incident_default"
    assert OpsgenieIncidentHook.conn_name_attr == "opsgenie_incident_conn_id"
    assert OpsgenieIncidentHook.hook_name == "Opsgenie Incident"
    assert OpsgenieIncidentHook().opsgenie_incident_conn_id == "opsgenie_incident_default"


def test_no_lookup_until_first_use():
    hook = OpsgenieIncidentHook("og_hook_missing_conn", retry_timeout=3, max_attempts=2)
    assert repr(hook) == "OpsgenieIncidentHook(opsgenie_incident_conn_id='og_hook_missing_conn')"
    with pytest.raises(AirflowNotFoundException, match="og_hook_missing_conn"):
        _ = hook.settings


def test_json_connection_with_every_extra(set_connection):
    hook = set_connection(
        "og_hook_json",
        {
            "conn_type": "opsgenie_incident",
            "host": "https://api.eu.opsgenie.com/",
            "password": "json-key-1",
            "extra": {
                "web_url": "https://acme.app.eu.opsgenie.com",
                "connect_timeout": 2,
                "read_timeout": "7.5",
                "retry_timeout": 30,
                "max_attempts": "3",
                "proxy": "http://proxy.local:3128",
                "default_responders": [{"type": "team", "name": "NOC"}],
                "default_tags": ["airflow", "etl"],
                "default_priority": "P2",
                "default_service_id": "svc-9",
            },
        },
    )
    settings = hook.settings
    assert settings.api_key == "json-key-1"
    assert settings.base_url == "https://api.eu.opsgenie.com"
    assert (settings.connect_timeout, settings.read_timeout) == (2.0, 7.5)
    assert settings.retry == RetrySettings(total_timeout=30.0, max_attempts=3)
    assert settings.proxy == "http://proxy.local:3128"
    assert settings.web_url == "https://acme.app.eu.opsgenie.com"
    assert hook.defaults == IncidentDefaults(
        responders=[{"type": "team", "name": "NOC"}],
        tags=["airflow", "etl"],
        priority="P2",
        service_id="svc-9",
    )


def test_uri_connection_with_a_protocol_keeps_scheme_and_port(set_connection):
    web = quote("https://acme.app.opsgenie.com", safe="")
    hook = set_connection(
        "og_hook_uri",
        f"opsgenie-incident://http://:uri-key-1@127.0.0.1:8025?web_url={web}&max_attempts=2"
        "&default_responders=team%3ANOC%2C+user%3Ajane%40example.com&default_tags=a%2C+b",
    )
    assert hook.connection.conn_type == "opsgenie_incident"
    settings = hook.settings
    assert settings.base_url == "http://127.0.0.1:8025"
    assert settings.api_key == "uri-key-1"
    assert settings.retry.max_attempts == 2
    assert settings.web_url == "https://acme.app.opsgenie.com"
    assert hook.defaults.responders == [
        {"type": "team", "name": "NOC"},
        {"type": "user", "username": "jane@example.com"},
    ]
    assert hook.defaults.tags == ["a", "b"]


@pytest.mark.parametrize(
    ("uri", "base_url"),
    [
        ("opsgenie-incident://:k-12345@api.eu.opsgenie.com", EU_BASE_URL),
        ("opsgenie-incident://:k-12345@api.opsgenie.com:443", "https://api.opsgenie.com:443"),
        ("opsgenie-incident://:k-12345@127.0.0.1:8025", "https://127.0.0.1:8025"),
        # A URI's path is the connection's schema, which the hook does not read: use JSON for a base path.
        (
            "opsgenie-incident://https://:k-12345@proxy.example.com:8443/opsgenie",
            "https://proxy.example.com:8443",
        ),
        ("opsgenie-incident://:k-12345@?region=eu", EU_BASE_URL),
        ("opsgenie-incident://:k-12345@", DEFAULT_BASE_URL),
    ],
)
def test_uri_forms(uri, base_url, set_connection):
    assert set_connection("og_hook_uri_form", uri).settings.base_url == base_url


def test_uri_with_plain_http_to_another_host_is_refused(set_connection):
    hook = set_connection("og_hook_http", "opsgenie-incident://http://:k-12345@api.opsgenie.com")
    with pytest.raises(InvalidRequestError) as caught:
        _ = hook.settings
    assert caught.value.field == "host"
    assert "https" in str(caught.value)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("", DEFAULT_BASE_URL),
        (None, DEFAULT_BASE_URL),
        ("api.eu.opsgenie.com", EU_BASE_URL),
        ("http://localhost:9000", "http://localhost:9000"),
        ("http://[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_host_forms(host, expected, set_connection):
    assert (
        set_connection(
            "og_hook_host", {"conn_type": "opsgenie_incident", "host": host, "password": "k-12345"}
        ).settings.base_url
        == expected
    )


def test_port_field_joins_a_json_host(set_connection):
    hook = set_connection(
        "og_hook_port",
        {"conn_type": "opsgenie_incident", "host": "http://127.0.0.1", "port": 8025, "password": "k-12345"},
    )
    assert hook.settings.base_url == "http://127.0.0.1:8025"
    hook = set_connection(
        "og_hook_port2",
        {
            "conn_type": "opsgenie_incident",
            "host": "http://127.0.0.1:9000",
            "port": 8025,
            "password": "k-12345",
        },
    )
    assert hook.settings.base_url == "http://127.0.0.1:9000"


def test_region_extra(set_connection):
    hook = set_connection(
        "og_hook_region", {"conn_type": "opsgenie_incident", "password": "k-12345", "extra": {"region": "eu"}}
    )
    assert hook.settings.base_url == EU_BASE_URL


def test_prefixed_extras_from_the_connection_form(set_connection):
    hook = set_connection(
        "og_hook_prefixed",
        {
            "conn_type": "opsgenie_incident",
            "password": "k-12345",
            "extra": {
                "extra__opsgenie_incident__read_timeout": "9",
                "extra__opsgenie_incident__default_tags": "x,y",
                "default_priority": "",
                "extra__opsgenie_incident__default_priority": "P4",
            },
        },
    )
    assert hook.settings.read_timeout == 9.0
    assert hook.defaults.tags == ["x", "y"]
    assert hook.defaults.priority == "P4"


def test_constructor_overrides_the_retry_budget(set_connection, monkeypatch):
    conn = {
        "conn_type": "opsgenie_incident",
        "password": "k-12345",
        "extra": {"retry_timeout": 30, "max_attempts": 5},
    }
    monkeypatch.setenv("AIRFLOW_CONN_OG_HOOK_RETRY", json.dumps(conn))
    hook = OpsgenieIncidentHook("og_hook_retry", retry_timeout=0, max_attempts=1)
    assert hook.settings.retry == RetrySettings(total_timeout=0.0, max_attempts=1)
    assert OpsgenieIncidentHook("og_hook_retry").settings.retry == RetrySettings(
        total_timeout=30.0, max_attempts=5
    )


def test_an_empty_extra_takes_every_default_from_the_connection_module(set_connection):
    hook = set_connection("og_hook_plain", {"conn_type": "opsgenie_incident", "password": "k-12345"})
    settings = hook.settings
    assert hook.defaults == IncidentDefaults()
    assert hook.defaults.priority == default("default_priority") == "P3"
    assert hook.defaults.service_id is default("default_service_id") is None
    assert settings.retry == RetrySettings(total_timeout=60.0, max_attempts=6)
    assert (settings.retry.total_timeout, settings.retry.max_attempts) == (
        default("retry_timeout"),
        default("max_attempts"),
    )
    assert (settings.connect_timeout, settings.read_timeout) == (
        default("connect_timeout"),
        default("read_timeout"),
    )
    assert (settings.proxy, settings.web_url) == (default("proxy"), default("web_url"))
    assert default("region") == "us"
    assert settings.base_url == DEFAULT_BASE_URL


def test_the_client_layer_defaults_are_the_connection_defaults():
    settings = ClientSettings(api_key="k-12345")
    assert (settings.connect_timeout, settings.read_timeout) == (
        default("connect_timeout"),
        default("read_timeout"),
    )
    assert settings.retry == RetrySettings(
        total_timeout=default("retry_timeout"), max_attempts=default("max_attempts")
    )


def test_every_extra_is_read_by_the_hook(set_connection):
    values = {
        "region": "eu",
        "web_url": "https://acme.app.eu.opsgenie.com",
        "connect_timeout": 1.5,
        "read_timeout": 2.5,
        "retry_timeout": 3.5,
        "max_attempts": 4,
        "proxy": "http://proxy.local:3128",
        "default_responders": "team:NOC",
        "default_tags": "a",
        "default_priority": "P1",
        "default_service_id": "svc-2",
    }
    assert set(values) == set(EXTRAS)
    assert all(values[name] != extra.default for name, extra in EXTRAS.items())
    hook = set_connection(
        "og_hook_every", {"conn_type": "opsgenie_incident", "password": "k-12345", "extra": values}
    )
    settings, defaults = hook.settings, hook.defaults
    assert settings.base_url == EU_BASE_URL
    assert settings.web_url == values["web_url"]
    assert (settings.connect_timeout, settings.read_timeout) == (1.5, 2.5)
    assert settings.retry == RetrySettings(total_timeout=3.5, max_attempts=4)
    assert settings.proxy == values["proxy"]
    assert defaults == IncidentDefaults(
        responders=[{"type": "team", "name": "NOC"}], tags=["a"], priority="P1", service_id="svc-2"
    )


@pytest.mark.parametrize(
    ("extra", "field", "text"),
    [
        (
            {"connect_timeout": "fast"},
            "connect_timeout",
            "connection extra connect_timeout must be a number, got 'fast'",
        ),
        ({"retry_timeout": [1]}, "retry_timeout", "must be a number"),
        ({"max_attempts": "2.5"}, "max_attempts", "max_attempts must be a whole number, got '2.5'"),
        ({"read_timeout": 0}, "timeout", "timeouts must be positive"),
        ({"max_attempts": 0}, "max_attempts", "max_attempts must be at least 1"),
        ({"region": "mars"}, "region", "region must be 'us' or 'eu'"),
    ],
)
def test_bad_extras_give_a_clear_error(extra, field, text, set_connection):
    hook = set_connection(
        "og_hook_bad", {"conn_type": "opsgenie_incident", "password": "k-12345", "extra": extra}
    )
    with pytest.raises(ValueError, match=text) as caught:
        _ = hook.settings
    assert getattr(caught.value, "field", None) == field


@pytest.mark.parametrize("value", ["group:NOC", "team:", "NOC", "user"])
def test_bad_default_responders(value, set_connection):
    hook = set_connection(
        "og_hook_bad_responders",
        {"conn_type": "opsgenie_incident", "password": "k-12345", "extra": {"default_responders": value}},
    )
    with pytest.raises(InvalidRequestError, match="must look like team:NAME or user:NAME") as caught:
        _ = hook.defaults
    assert caught.value.field == "default_responders"


def test_missing_password_is_refused(set_connection):
    hook = set_connection("og_hook_no_key", {"conn_type": "opsgenie_incident", "host": "http://127.0.0.1:1"})
    with pytest.raises(InvalidRequestError, match="API key") as caught:
        _ = hook.client
    assert caught.value.field == "password"


def test_one_client_and_session_per_hook(set_connection):
    hook = set_connection(
        "og_hook_once",
        {"conn_type": "opsgenie_incident", "host": "http://127.0.0.1:1", "password": "k-12345"},
    )
    assert hook.client is hook.client
    assert hook.get_conn() is hook.client
    assert hook.settings is hook.settings
    assert hook.connection is hook.connection
    assert hook.client.settings is hook.settings
    assert hook.client._session is hook.get_conn()._session
    assert OpsgenieIncidentHook("og_hook_once").client is not hook.client


def test_defaults_from_connection_reads_any_connection(set_connection):
    hook = set_connection(
        "og_hook_static",
        {"conn_type": "opsgenie_incident", "password": "k-12345", "extra": {"default_service_id": "svc-1"}},
    )
    assert OpsgenieIncidentHook.defaults_from_connection(hook.connection).service_id == "svc-1"


@pytest.mark.parametrize(
    ("hook_kwargs", "extra"),
    [({"max_attempts": 0}, {}), ({}, {"max_attempts": 0})],
    ids=["argument", "extra"],
)
def test_zero_attempts_is_refused_not_ignored(monkeypatch, hook_kwargs, extra):
    monkeypatch.setenv(
        "AIRFLOW_CONN_OG_ZERO_ATTEMPTS",
        json.dumps({"conn_type": "opsgenie_incident", "password": "zero-attempts-key", "extra": extra}),
    )
    with pytest.raises(InvalidRequestError, match="max_attempts must be at least 1") as caught:
        _ = OpsgenieIncidentHook("og_zero_attempts", **hook_kwargs).settings
    assert caught.value.field == "max_attempts"


# -- test_connection: one attempt, short timeouts, the base URL and the cause in the answer ------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_test_connection_to_a_closed_port_answers_at_once(set_connection):
    port = _closed_port()
    # The connection's own retry budget (60 s, 6 attempts by default) does not apply to the test.
    hook = set_connection(
        "og_test_closed",
        {"conn_type": "opsgenie_incident", "host": f"http://127.0.0.1:{port}", "password": "closed-key-7"},
    )
    started = time.monotonic()
    ok, message = hook.test_connection()
    elapsed = time.monotonic() - started
    assert ok is False
    assert message == f"could not connect to http://127.0.0.1:{port}: connection refused"
    assert elapsed < 3.0


def test_test_connection_to_a_silent_server_names_the_read_timeout(set_connection):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections into its backlog, never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        hook = set_connection(
            "og_test_silent",
            {
                "conn_type": "opsgenie_incident",
                "host": url,
                "password": "silent-key-7",
                "extra": {"read_timeout": 0.3, "max_attempts": 6},
            },
        )
        started = time.monotonic()
        ok, message = hook.test_connection()
        elapsed = time.monotonic() - started
    assert ok is False
    assert message == f"could not connect to {url}: no answer within 0.3 s"
    assert elapsed < 2.0


def test_test_connection_with_the_right_key(opsgenie_incident_connection):
    emulator = opsgenie_incident_connection
    assert OpsgenieIncidentHook().test_connection() == (True, "Connection successfully tested")
    assert [(r.method, r.path) for r in emulator.requests] == [("GET", "/v1/incidents")]
    assert emulator.incidents() == []


def test_test_connection_with_a_wrong_key(opsgenie_incident_connection, set_connection):
    emulator = opsgenie_incident_connection
    hook = set_connection(
        "og_test_wrong_key",
        {"conn_type": "opsgenie_incident", "host": emulator.url, "password": "wrong-key-42"},
    )
    ok, message = hook.test_connection()
    assert ok is False
    assert message == f"401 from {emulator.url}: Could not authenticate"
    assert "wrong-key-42" not in message
    assert [r.method for r in emulator.requests] == ["GET"]


def test_test_connection_makes_one_attempt_on_a_server_error(opsgenie_incident_connection):
    emulator = opsgenie_incident_connection
    emulator.add_fault(Fault("status", status=503, times=None))
    ok, message = OpsgenieIncidentHook().test_connection()
    assert ok is False
    assert message.startswith(f"503 from {emulator.url}: ")
    assert len(emulator.requests) == 1


def test_test_connection_reports_an_invalid_connection_without_a_call(set_connection):
    hook = set_connection("og_test_invalid", "opsgenie-incident://http://:k-12345@api.opsgenie.com")
    ok, message = hook.test_connection()
    assert ok is False
    assert message.startswith("invalid connection: host must use https")


def test_test_connection_names_a_tls_failure(opsgenie_incident_connection, set_connection):
    # https to the emulator's plain-http port: the TLS handshake fails, and the answer says so.
    url = opsgenie_incident_connection.url.replace("http://", "https://")
    hook = set_connection(
        "og_test_tls", {"conn_type": "opsgenie_incident", "host": url, "password": "tls-key-7"}
    )
    ok, message = hook.test_connection()
    assert ok is False
    assert message == f"could not connect to {url}: TLS failed (WRONG_VERSION_NUMBER)"


def test_test_connection_names_a_dropped_connection(set_connection):
    with socket.socket() as dropper:
        dropper.bind(("127.0.0.1", 0))
        dropper.listen()
        url = f"http://127.0.0.1:{dropper.getsockname()[1]}"
        hook = set_connection(
            "og_test_drop", {"conn_type": "opsgenie_incident", "host": url, "password": "drop-key-7"}
        )

        def drop() -> None:
            accepted, _ = dropper.accept()
            accepted.recv(65536)
            accepted.close()

        thread = threading.Thread(target=drop, daemon=True)
        thread.start()
        ok, message = hook.test_connection()
        thread.join(timeout=5)
    assert ok is False
    assert message == f"could not connect to {url}: connection reset"
