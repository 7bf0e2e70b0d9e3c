"""The retry policy over real faults: what is retried, how long it waits, what finally surfaces."""

from __future__ import annotations

import socket
import time

import pytest
import tenacity

from airflow_provider_opsgenie_incident.client import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    OpsgenieIncidentError,
    RateLimitedError,
    RetrySettings,
    ServerError,
    TransportError,
)
from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient
from airflow_provider_opsgenie_incident.emulator import Fault

LIST = {"query": "status:open"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_429_waits_for_retry_after(client, emu):
    emu.add_fault(Fault("status", status=429, headers={"Retry-After": "1"}))
    started = time.monotonic()
    assert client.list_incidents(**LIST)["data"] == []
    elapsed = time.monotonic() - started
    first, second = emu.requests
    assert first.fault == "status"
    assert second.fault is None
    assert 0.95 <= elapsed < 3


def test_429_waits_for_the_rate_limit_period_without_retry_after(client, emu):
    emu.add_fault(Fault("status", status=429, headers={"X-RateLimit-Period-In-Sec": "0.5"}))
    started = time.monotonic()
    client.list_incidents(**LIST)
    elapsed = time.monotonic() - started
    assert len(emu.requests) == 2
    assert 0.45 <= elapsed < 2


def test_the_emulator_rate_limit_is_ridden_out(client, emu):
    emu.rate_limit(2)
    for _ in range(4):
        client.list_incidents(**LIST)
    assert [r.fault for r in emu.requests].count("rate_limit") >= 1
    assert sum(r.fault is None for r in emu.requests) == 4


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried_then_succeeds(status, client, emu):
    emu.add_fault(Fault("status", status=status, times=2))
    assert client.list_incidents(**LIST)["totalCount"] == 0
    assert [r.fault for r in emu.requests] == ["status", "status", None]


def test_5xx_on_create_is_sent_again_once_a_search_found_nothing(client, emu):
    emu.add_fault(Fault("status", status=503, times=1, path="/create$"))
    accepted = client.create_incident(message="m", tags=["t"])
    assert accepted["result"] == "Request will be processed"
    sent = [(r.method, r.path) for r in emu.requests]
    assert sent[0] == sent[-1] == ("POST", "/v1/incidents/create")
    assert {method for method, _ in sent[1:-1]} == {"GET"}  # the looks in between
    assert len(emu.incidents()) == 1


def test_exhausted_5xx_raises_server_error_with_status_and_request_id(make_client, emu):
    client = make_client(retry=RetrySettings(max_attempts=3, backoff_initial=0.01, backoff_max=0.02))
    emu.add_fault(Fault("status", status=503, times=None, body={"message": "down", "requestId": "req-503"}))
    with pytest.raises(ServerError) as caught:
        client.get_incident(identifier="x")
    assert not isinstance(caught.value, tenacity.RetryError)
    assert caught.value.status == 503
    assert caught.value.request_id == "req-503"
    assert str(caught.value) == "HTTP 503: down (requestId req-503)"
    assert len(emu.requests) == 3


def test_429_is_waited_out_for_the_time_budget_not_the_attempt_count(make_client, emu):
    client = make_client(retry=RetrySettings(total_timeout=1.0, max_attempts=2, backoff_initial=0.01))
    emu.add_fault(
        Fault(
            "status",
            status=429,
            times=None,
            headers={"Retry-After": "0.1"},
            body={"message": "slow down", "requestId": "req-429"},
        )
    )
    started = time.monotonic()
    with pytest.raises(RateLimitedError) as caught:
        client.list_incidents(**LIST)
    assert caught.value.status == 429
    assert caught.value.request_id == "req-429"
    assert caught.value.retry_after == pytest.approx(0.1)
    assert time.monotonic() - started < 2.0
    assert len(emu.requests) > 2  # more than max_attempts: a 429 is not counted as an error


def test_a_429_then_errors_stop_after_max_attempts_errors(make_client, emu):
    client = make_client(retry=RetrySettings(max_attempts=2, backoff_initial=0.01, backoff_max=0.02))
    emu.add_fault(Fault("status", status=429, times=2, headers={"Retry-After": "0"}))
    emu.add_fault(Fault("status", status=503, times=None))
    with pytest.raises(ServerError):
        client.list_incidents(**LIST)
    assert [r.fault for r in emu.requests] == ["status"] * 4  # two 429s waited out, then two errors


def test_total_time_budget_bounds_the_retries(make_client, emu):
    client = make_client(
        retry=RetrySettings(total_timeout=0.3, max_attempts=1000, backoff_initial=0.05, backoff_max=0.1)
    )
    emu.add_fault(Fault("status", status=500, times=None))
    started = time.monotonic()
    with pytest.raises(ServerError):
        client.list_incidents(**LIST)
    assert time.monotonic() - started < 2.0
    assert 2 <= len(emu.requests) < 20


def test_rate_limit_wait_beyond_the_budget_stops_at_once(make_client, emu):
    client = make_client(retry=RetrySettings(total_timeout=0.5, max_attempts=5, backoff_initial=0.01))
    emu.add_fault(Fault("status", status=429, times=None, headers={"Retry-After": "30"}))
    started = time.monotonic()
    with pytest.raises(RateLimitedError) as caught:
        client.list_incidents(**LIST)
    assert time.monotonic() - started < 5.0
    assert caught.value.retry_after == 30
    assert len(emu.requests) == 1


def test_reset_on_a_get_is_retried(client, emu):
    emu.add_fault(Fault("reset", method="GET"))
    assert client.list_incidents(**LIST)["data"] == []
    assert [r.fault for r in emu.requests] == ["reset", None]


def _creates(emu) -> int:
    return len([r for r in emu.requests if r.path == "/v1/incidents/create"])


def test_reset_on_create_is_sent_again_only_after_a_search_found_nothing(client, emu):
    emu.add_fault(Fault("reset", path="/create$"))
    accepted = client.create_incident(message="m")
    assert accepted["result"] == "Request will be processed"
    assert _creates(emu) == 2
    emu.wait_until_processed()
    assert len(emu.incidents()) == 1


def test_lost_response_on_create_is_found_applied_and_not_sent_again(client, emu):
    emu.add_fault(Fault("lost_response", path="/create$"))
    accepted = client.create_incident(message="m", tags=["t"])
    assert accepted["verified"] is True
    assert accepted["data"]["message"] == "m"
    assert _creates(emu) == 1
    assert len(emu.incidents()) == 1


def test_lost_response_on_an_idempotent_write_is_retried(client, emu, new_incident):
    incident_id = new_incident()
    emu.add_fault(Fault("lost_response", path="/resolve$"))
    client.resolve_incident(identifier=incident_id)
    assert [r.fault for r in emu.requests] == ["lost_response", None]


def test_connection_refused_on_create_is_retried_and_never_sent(make_client):
    client = make_client(
        base_url=f"http://127.0.0.1:{_closed_port()}",
        retry=RetrySettings(max_attempts=3, backoff_initial=0.1, backoff_max=0.2),
    )
    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        client.create_incident(message="m")
    elapsed = time.monotonic() - started
    assert caught.value.request_sent is False
    assert "create_incident" in str(caught.value)
    # Two backoffs of at least 0.05 s and 0.1 s: three attempts were made.
    assert elapsed >= 0.15


def test_read_timeout_on_create_waits_for_the_incident_instead_of_sending_again(make_client, emu):
    client = make_client(read_timeout=0.2)
    emu.add_fault(Fault("delay", seconds=1, path="/create$"))
    accepted = client.create_incident(message="m")
    assert accepted["verified"] is True
    assert _creates(emu) == 1
    assert len(emu.incidents()) == 1


def test_read_timeout_on_a_get_is_retried(make_client, emu):
    client = make_client(read_timeout=0.2)
    emu.add_fault(Fault("delay", seconds=2, method="GET"))
    assert client.list_incidents(**LIST)["data"] == []
    assert [r.fault for r in emu.requests] == ["delay", None]


def test_read_timeouts_exhaust_the_attempts(make_client, emu):
    client = make_client(read_timeout=0.1, retry=RetrySettings(max_attempts=2, backoff_initial=0.01))
    emu.add_fault(Fault("delay", seconds=2, times=None))
    with pytest.raises(TransportError) as caught:
        client.get_incident(identifier="x")
    assert "ReadTimeout" in str(caught.value)
    assert len(emu.requests) == 2


def test_malformed_502_is_retried(client, emu):
    emu.add_fault(Fault("malformed", status=502))
    assert client.list_incidents(**LIST)["data"] == []
    assert [r.fault for r in emu.requests] == ["malformed", None]


def test_malformed_502_exhausted_gives_a_readable_server_error(make_client, emu):
    client = make_client(retry=RetrySettings(max_attempts=2, backoff_initial=0.01))
    emu.add_fault(Fault("malformed", status=502, times=None))
    with pytest.raises(ServerError) as caught:
        client.list_incidents(**LIST)
    assert caught.value.status == 502
    assert caught.value.request_id is None
    assert caught.value.message == "502 Bad Gateway"  # the readable text of the HTML page
    assert str(caught.value) == "HTTP 502: 502 Bad Gateway"
    assert len(emu.requests) == 2


def test_empty_error_body_is_described(make_client, emu):
    client = make_client(retry=RetrySettings(max_attempts=1))
    emu.add_fault(Fault("malformed", status=500, body=b""))
    with pytest.raises(ServerError, match="no response body"):
        client.list_incidents(**LIST)


def test_malformed_200_is_a_server_error_and_not_retried(client, emu):
    emu.add_fault(Fault("malformed", status=200, body="not json at all"))
    with pytest.raises(ServerError) as caught:
        client.list_incidents(**LIST)
    assert caught.value.status == 200
    assert "not a JSON object" in str(caught.value)
    assert "not json at all" in str(caught.value)
    assert len(emu.requests) == 1


def test_json_array_200_is_a_server_error(client, emu):
    emu.add_fault(Fault("malformed", status=200, body="[1, 2]"))
    with pytest.raises(ServerError, match="not a JSON object"):
        client.list_incidents(**LIST)


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, InvalidRequestError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (409, OpsgenieIncidentError),
        (422, InvalidRequestError),
    ],
)
def test_other_4xx_are_not_retried(status, error_class, client, emu):
    emu.add_fault(Fault("status", status=status, times=None, body={"message": "no", "requestId": "r-1"}))
    with pytest.raises(error_class) as caught:
        client.list_incidents(**LIST)
    assert type(caught.value) is error_class
    assert caught.value.status == status
    assert caught.value.request_id == "r-1"
    assert caught.value.message == "no"
    assert len(emu.requests) == 1


def test_wrong_key_is_an_authentication_error(make_client, emu):
    client = make_client(api_key="wrong-key")
    with pytest.raises(AuthenticationError) as caught:
        client.list_incidents(**LIST)
    assert caught.value.status == 401
    assert caught.value.message == "Could not authenticate"
    assert caught.value.request_id
    assert len(emu.requests) == 1


def test_server_side_validation_is_an_invalid_request_error(client, emu):
    with pytest.raises(InvalidRequestError) as caught:
        client.list_incidents(query="status:open AND (")
    assert caught.value.status == 422
    assert caught.value.field is None
    assert len(emu.requests) == 1


# -- the async transport ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_async_429_waits_for_retry_after(settings, emu):
    emu.add_fault(Fault("status", status=429, headers={"Retry-After": "1"}))
    async with AsyncOpsgenieIncidentClient(settings) as client:
        started = time.monotonic()
        assert (await client.list_incidents(**LIST))["data"] == []
        assert time.monotonic() - started >= 0.95
    assert len(emu.requests) == 2


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["status", "malformed", "reset"])
async def test_async_retries_idempotent_calls(kind, settings, emu):
    emu.add_fault(Fault(kind, status=502, times=2))
    async with AsyncOpsgenieIncidentClient(settings) as client:
        assert (await client.list_incidents(**LIST))["totalCount"] == 0
    assert [r.fault for r in emu.requests] == [kind, kind, None]


@pytest.mark.asyncio
async def test_async_exhausted_5xx_raises_server_error(make_settings, emu):
    settings = make_settings(retry=RetrySettings(max_attempts=2, backoff_initial=0.01))
    emu.add_fault(Fault("status", status=500, times=None, body={"message": "boom", "requestId": "r-5"}))
    async with AsyncOpsgenieIncidentClient(settings) as client:
        with pytest.raises(ServerError) as caught:
            await client.get_incident(identifier="x")
    assert (caught.value.status, caught.value.request_id) == (500, "r-5")
    assert len(emu.requests) == 2


@pytest.mark.asyncio
async def test_async_reset_on_create_is_sent_again_after_a_search(settings, emu):
    emu.add_fault(Fault("reset", path="/create$"))
    async with AsyncOpsgenieIncidentClient(settings) as client:
        accepted = await client.create_incident(message="m")
    assert "requestId" in accepted
    assert _creates(emu) == 2


@pytest.mark.asyncio
async def test_async_connection_refused_is_never_sent(make_settings):
    settings = make_settings(
        base_url=f"http://127.0.0.1:{_closed_port()}",
        retry=RetrySettings(max_attempts=2, backoff_initial=0.01),
    )
    async with AsyncOpsgenieIncidentClient(settings) as client:
        with pytest.raises(TransportError) as caught:
            await client.create_incident(message="m")
    assert caught.value.request_sent is False


@pytest.mark.asyncio
async def test_async_read_timeout_on_create_finds_the_incident(make_settings, emu):
    settings = make_settings(read_timeout=0.2)
    emu.add_fault(Fault("delay", seconds=1, path="/create$"))
    async with AsyncOpsgenieIncidentClient(settings) as client:
        accepted = await client.create_incident(message="m")
    assert accepted["verified"] is True
    assert _creates(emu) == 1


@pytest.mark.asyncio
async def test_async_read_timeout_on_a_read_is_a_transport_error(make_settings, emu):
    settings = make_settings(read_timeout=0.2, retry=RetrySettings(max_attempts=1))
    emu.add_fault(Fault("delay", seconds=1, method="GET"))
    async with AsyncOpsgenieIncidentClient(settings) as client:
        with pytest.raises(TransportError) as caught:
            await client.list_incidents(query="status:open")
    assert caught.value.request_sent is True
    assert "ReadTimeout" in str(caught.value)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "error_class"), [(401, AuthenticationError), (404, NotFoundError), (422, InvalidRequestError)]
)
async def test_async_4xx_are_not_retried(status, error_class, settings, emu):
    emu.add_fault(Fault("status", status=status, times=None))
    async with AsyncOpsgenieIncidentClient(settings) as client:
        with pytest.raises(error_class):
            await client.list_incidents(**LIST)
    assert len(emu.requests) == 1


def _notes(client, incident_id: str) -> list[str]:
    return [note["note"] for note in client.iter_notes(incident_id)]


@pytest.mark.parametrize("kind", ["lost_response", "reset", "status"])
@pytest.mark.parametrize(
    ("endpoint", "suffix"),
    [
        ("add_note", "/notes$"),
        ("close_incident", "/close$"),
        ("resolve_incident", "/resolve$"),
        ("add_tags", "/tags$"),
        ("add_details", "/details$"),
    ],
)
def test_an_ambiguous_failure_of_a_write_with_a_note_never_doubles_the_note(
    endpoint, suffix, kind, client, emu, new_incident
):
    incident_id = new_incident()
    arguments = {"identifier": incident_id, "note": f"{endpoint} note"}
    arguments.update({"add_tags": {"tags": ["t"]}, "add_details": {"details": {"k": "v"}}}.get(endpoint, {}))
    emu.add_fault(Fault(kind, path=suffix, **({"status": 504} if kind == "status" else {})))
    response = getattr(client, endpoint)(**arguments)
    if "requestId" in response and not response.get("verified"):
        client.wait_for_request(response["requestId"], timeout=5)
    emu.wait_until_processed()
    assert _notes(client, incident_id).count(f"{endpoint} note") == 1
    # Found applied (lost answer) it is not sent again; found missing (reset, 504) it is sent once more.
    writes = [r for r in emu.requests if r.method != "GET"]
    assert len(writes) == (1 if kind == "lost_response" else 2)


@pytest.mark.parametrize("kind", ["lost_response", "reset"])
def test_an_ambiguous_timeline_entry_is_added_once(kind, client, emu, new_incident):
    incident_id = new_incident()
    emu.add_fault(Fault(kind, method="POST", path="/entries$"))
    client.add_timeline_entry(incident_id=incident_id, content="deployed")
    entries = client.iter_timeline_entries(incident_id, groups=["custom"])
    contents = [e["description"]["name"] for e in entries]
    assert contents == ["deployed"]


def test_a_delete_whose_answer_was_lost_finds_its_incident_gone(client, emu, new_incident):
    incident_id = new_incident()
    emu.add_fault(Fault("lost_response", method="DELETE"))
    assert client.delete_incident(identifier=incident_id)["verified"] is True
    assert emu.incident(incident_id) is None
    assert [r.method for r in emu.requests].count("DELETE") == 1


def test_a_timeline_delete_whose_answer_was_lost_is_a_success(client, emu, new_incident):
    incident_id = new_incident()
    entry = client.add_timeline_entry(incident_id=incident_id, content="x")["data"]
    emu.add_fault(Fault("lost_response", method="DELETE"))
    assert client.delete_timeline_entry(incident_id=incident_id, entry_id=entry["id"])["verified"] is True
    with pytest.raises(NotFoundError):
        client.get_timeline_entry(incident_id=incident_id, entry_id=entry["id"])


@pytest.mark.parametrize(("attempts", "expected"), [(1, 1), (2, 2)])
def test_the_first_attempt_outside_the_policy_is_one_of_max_attempts(attempts, expected, make_client, emu):
    client = make_client(retry=RetrySettings(max_attempts=attempts, backoff_initial=0.01))
    emu.add_fault(Fault("status", status=503, times=None))
    with pytest.raises(ServerError):
        client.get_incident(identifier="x")
    assert len(emu.requests) == expected


def test_the_time_budget_counts_from_the_first_attempt(make_client, emu):
    # Each attempt times out after 0.3 s. Counted from the first attempt's start, a third attempt
    # would start after ~0.6 s, past the 0.5 s budget; counted from the first failure, it would not.
    emu.add_fault(Fault("delay", seconds=2, times=None))
    client = make_client(
        read_timeout=0.3,
        retry=RetrySettings(total_timeout=0.5, max_attempts=10, backoff_initial=0.01, backoff_max=0.01),
    )
    with pytest.raises(TransportError, match="ReadTimeout"):
        client.get_incident(identifier="x")
    assert len(emu.requests) == 2
