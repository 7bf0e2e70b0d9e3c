"""The retry classifier, the server-guided wait and the request wait's decisions: pure, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from tenacity import RetryCallState, Retrying

from airflow_provider_opsgenie_incident.client import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    OpsgenieIncidentError,
    RateLimitedError,
    RequestFailedError,
    RetrySettings,
    ServerError,
    TransportError,
    WaitTimeoutError,
)
from airflow_provider_opsgenie_incident.client.protocol import server_wait_hint
from airflow_provider_opsgenie_incident.client.retry import ServerGuidedWait, should_retry
from airflow_provider_opsgenie_incident.client.waiting import RequestWait


@pytest.mark.parametrize(
    ("error", "idempotent", "expected"),
    [
        (RateLimitedError("slow"), True, True),
        (RateLimitedError("slow"), False, True),
        (ServerError("x", status=500), False, False),
        (ServerError("x", status=502), True, True),
        (ServerError("x", status=503), True, True),
        (ServerError("x", status=504), True, True),
        (ServerError("x", status=501), True, False),
        (ServerError("not json", status=200), True, False),
        (ServerError("x", status=None), True, False),
        (TransportError("reset", request_sent=True), True, True),
        (TransportError("reset", request_sent=True), False, False),
        (TransportError("refused", request_sent=False), False, True),
        (AuthenticationError("x", status=401), True, False),
        (NotFoundError("x", status=404), True, False),
        (InvalidRequestError("x", status=422), True, False),
        (OpsgenieIncidentError("x", status=409), True, False),
        (RequestFailedError("x"), True, False),
        (WaitTimeoutError("x"), True, False),
        (ValueError("x"), True, False),
        (KeyboardInterrupt(), True, False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_should_retry(error, idempotent, expected):
    assert should_retry(error, idempotent=idempotent) is expected


def _http_date(delta: float) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=delta), usegmt=True)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"Retry-After": "-4"}, 0.0),
        ({"Retry-After": "0"}, 0.0),
        ({"X-RateLimit-Period-In-Sec": "60"}, 60.0),
        ({"X-RateLimit-Period-In-Sec": "-1"}, 0.0),
        ({"Retry-After": "2", "X-RateLimit-Period-In-Sec": "60"}, 2.0),
        ({"Retry-After": "soon", "X-RateLimit-Period-In-Sec": "5"}, 5.0),
        ({"Retry-After": "soon"}, None),
        ({"X-RateLimit-Period-In-Sec": "a minute"}, None),
        ({"Retry-After": ""}, None),
        ({}, None),
        ({"Retry-After": _http_date(-30)}, 0.0),
    ],
    ids=[
        "seconds",
        "fraction",
        "negative",
        "zero",
        "period",
        "negative-period",
        "retry-after-wins",
        "garbage-falls-back",
        "garbage",
        "garbage-period",
        "empty",
        "none",
        "past-date",
    ],
)
def test_server_wait_hint(headers, expected):
    assert server_wait_hint(headers) == expected


def test_server_wait_hint_reads_an_http_date():
    assert 8.0 <= server_wait_hint({"Retry-After": _http_date(10)}) <= 10.0


def _state(error: BaseException, attempt: int) -> RetryCallState:
    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.set_exception((type(error), error, None))
    return state


def test_server_guided_wait_honours_the_servers_hint():
    wait = ServerGuidedWait(RetrySettings())
    assert wait(_state(RateLimitedError("slow", retry_after=2.5), 1)) == 2.5
    assert wait(_state(RateLimitedError("slow", retry_after=0), 3)) == 0.0


@pytest.mark.parametrize(
    ("attempt", "low", "high"), [(1, 0.05, 0.1), (2, 0.1, 0.2), (3, 0.2, 0.4), (10, 0.5, 1.0)]
)
def test_server_guided_wait_backs_off_with_jitter_up_to_the_cap(attempt, low, high):
    wait = ServerGuidedWait(RetrySettings(backoff_initial=0.1, backoff_max=1.0))
    samples = [wait(_state(ServerError("x", status=503), attempt)) for _ in range(50)]
    assert all(low <= sample <= high for sample in samples)
    assert len(set(samples)) > 1  # jittered
    # A 429 without a hint backs off the same way.
    assert low <= wait(_state(RateLimitedError("slow"), attempt)) <= high


def test_server_guided_wait_without_an_outcome_backs_off():
    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    assert 0.25 <= ServerGuidedWait(RetrySettings(backoff_initial=0.5))(state) <= 0.5


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"total_timeout": -1}, "retry_timeout"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"backoff_initial": -0.1}, "backoff_initial"),
    ],
    ids=["total_timeout", "max_attempts", "backoff_initial"],
)
def test_retry_settings_refuse_nonsense(kwargs, field):
    with pytest.raises(InvalidRequestError, match=f"{field} must be at least") as caught:
        RetrySettings(**kwargs)
    assert caught.value.field == field


# -- RequestWait ------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_request_wait_intervals_grow_with_the_time_waited():
    clock = FakeClock()
    wait = RequestWait("req-1", timeout=60, min_interval=0.05, max_interval=2.0, clock=clock)
    assert wait.next_interval() == 0.05
    clock.now += 0.2
    assert wait.next_interval() == 0.05
    clock.now += 0.8  # one second waited: a tenth of it
    assert wait.next_interval() == pytest.approx(0.1)
    clock.now += 9  # ten seconds
    assert wait.next_interval() == pytest.approx(1.0)
    clock.now += 30
    assert wait.next_interval() == 2.0


def test_request_wait_never_sleeps_past_the_timeout_and_then_gives_up():
    clock = FakeClock()
    wait = RequestWait("req-1", timeout=5, clock=clock)
    clock.now += 4.99
    assert wait.next_interval() == pytest.approx(0.01)
    wait.outcome(None)
    wait.outcome(None)
    clock.now += 0.01
    with pytest.raises(WaitTimeoutError) as caught:
        wait.next_interval()
    assert caught.value.request_id == "req-1"
    assert isinstance(caught.value, TimeoutError)
    assert str(caught.value) == "request req-1 was not processed within 5 s (2 polls) (requestId req-1)"


def test_request_wait_outcomes():
    wait = RequestWait("req-1", clock=FakeClock())
    assert wait.outcome(None) is None
    assert wait.outcome({"data": None}) is None
    assert wait.outcome({"data": "processing"}) is None
    data = {"success": True, "isSuccess": True, "action": "Create", "incidentId": "i-1"}
    assert wait.outcome({"data": data, "took": 0.1}) == data
    assert wait.outcome({"data": {"isSuccess": True}}) == {"isSuccess": True}
    assert wait.polls == 5


@pytest.mark.parametrize(
    "data",
    [
        {
            "success": False,
            "isSuccess": False,
            "status": "Incident does not exist",
            "action": "Resolve",
            "incidentId": "",
        },
        {"isSuccess": False, "status": "Incident does not exist", "action": "Resolve"},
        {"success": False, "status": "Incident does not exist", "action": "Resolve"},
        {"success": False, "isSuccess": True, "status": "Incident does not exist", "action": "Resolve"},
    ],
    ids=["both", "isSuccess", "success", "disagreeing"],
)
def test_request_wait_raises_on_a_failed_request(data):
    wait = RequestWait("req-9", clock=FakeClock())
    with pytest.raises(RequestFailedError) as caught:
        wait.outcome({"data": data})
    error = caught.value
    assert (error.message, error.request_id, error.action, error.incident_id) == (
        "Incident does not exist",
        "req-9",
        "Resolve",
        None,
    )


def test_request_failed_without_status_text():
    with pytest.raises(RequestFailedError, match="request failed") as caught:
        RequestWait("r", clock=FakeClock()).outcome({"data": {"success": False, "incidentId": "i-2"}})
    assert caught.value.incident_id == "i-2"
