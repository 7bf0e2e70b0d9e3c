from __future__ import annotations

import http.client
import json
import threading
import time
from typing import TYPE_CHECKING

import pytest

from airflow_provider_opsgenie_incident.emulator import Fault, ManualClock

if TYPE_CHECKING:
    from collections.abc import Callable

CREATE = "/v1/incidents/create"
CONNECTION_DROPPED = (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine)


def _create_then_reset(emulator, client, held: Callable[[], object]) -> object:
    """Send a create from a thread, reset the emulator once ``held()``; return what the call gave."""
    outcome: list[object] = []

    def send() -> None:
        try:
            outcome.append(client.call("POST", CREATE, {"message": "m"}))
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=send)
    thread.start()
    while not held():
        time.sleep(0.005)
    started = time.perf_counter()
    emulator.reset()
    thread.join(timeout=2)
    assert time.perf_counter() - started < 1
    return outcome[0]


def test_status_fault_answers_without_applying(api, opsgenie_emulator):
    fault = opsgenie_emulator.add_fault(Fault("status", status=503, headers={"X-Custom": "yes"}))
    response = api.call("POST", CREATE, {"message": "m"})
    assert response.status == 503
    assert response.headers["x-custom"] == "yes"
    assert response.headers["content-type"] == "application/json"
    assert set(response.json) == {"message", "took", "requestId"}
    assert response.json["message"] == "Service Unavailable"
    assert opsgenie_emulator.incidents() == []
    assert opsgenie_emulator.requests[-1].fault == "status"
    assert fault.hits == 1
    assert api.call("POST", CREATE, {"message": "m"}).status == 202


def test_429_fault_gets_rate_limit_headers_unless_given(api, opsgenie_emulator):
    opsgenie_emulator.add_fault(Fault("status", status=429))
    opsgenie_emulator.add_fault(
        Fault("status", status=429, headers={"Retry-After": "2", "X-RateLimit-Reason": "ACCOUNT"})
    )
    first = api.call("GET", "/v1/incidents", query={"query": ""})
    assert first.status == 429
    assert first.headers["x-ratelimit-state"] == "THROTTLED"
    assert first.headers["x-ratelimit-reason"] == "INTEGRATION"
    assert first.headers["x-ratelimit-period-in-sec"] == "60"
    assert "retry-after" not in first.headers
    second = api.call("GET", "/v1/incidents", query={"query": ""})
    assert second.headers["retry-after"] == "2"
    assert second.headers["x-ratelimit-reason"] == "ACCOUNT"
    assert second.headers["x-ratelimit-state"] == "THROTTLED"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"message": "custom", "extra": 1}, b'{"message": "custom", "extra": 1}'),
        ("plain", b"plain"),
        (b"raw", b"raw"),
    ],
    ids=["json", "str", "bytes"],
)
def test_status_fault_custom_body(api, opsgenie_emulator, body, expected):
    opsgenie_emulator.add_fault(Fault("status", status=500, body=body))
    response = api.call("GET", "/v1/incidents", query={"query": ""})
    assert (response.status, response.raw) == (500, expected)


def test_reset_fault_drops_the_connection_without_applying(api, opsgenie_emulator, make_client):
    opsgenie_emulator.add_fault(Fault("reset", path="create"))
    with pytest.raises(CONNECTION_DROPPED):
        api.call("POST", CREATE, {"message": "m"})
    assert opsgenie_emulator.incidents() == []
    assert opsgenie_emulator.requests[-1].fault == "reset"
    assert make_client().call("POST", CREATE, {"message": "m"}).status == 202


def test_delay_fault_causes_a_read_timeout_then_is_served(opsgenie_emulator, make_client):
    opsgenie_emulator.add_fault(Fault("delay", seconds=0.3, times=2))
    slow = make_client()
    slow.conn.timeout = 0.1
    with pytest.raises(TimeoutError):
        slow.call("GET", "/v1/incidents", query={"query": ""})

    started = time.perf_counter()
    response = make_client().call("POST", CREATE, {"message": "m"})
    assert time.perf_counter() - started >= 0.3
    assert response.status == 202
    assert len(opsgenie_emulator.incidents()) == 1
    assert [r.fault for r in opsgenie_emulator.requests] == ["delay", "delay"]


def test_reset_during_a_delay_drops_the_request(opsgenie_emulator, make_client):
    opsgenie_emulator.add_fault(Fault("delay", seconds=5))
    outcome = _create_then_reset(opsgenie_emulator, make_client(), lambda: opsgenie_emulator.requests)
    assert isinstance(outcome, CONNECTION_DROPPED)
    assert opsgenie_emulator.incidents() == []


@pytest.mark.parametrize("delay", [0.0, 0.05], ids=["immediate", "delayed"])
def test_lost_response_applies_the_action(api, opsgenie_emulator, delay):
    opsgenie_emulator.processing_delay = delay
    opsgenie_emulator.add_fault(Fault("lost_response", method="POST"))
    with pytest.raises(CONNECTION_DROPPED):
        api.call("POST", CREATE, {"message": "applied anyway"})
    opsgenie_emulator.wait_until_processed()
    assert [incident["message"] for incident in opsgenie_emulator.incidents()] == ["applied anyway"]
    assert opsgenie_emulator.requests[-1].fault == "lost_response"


def test_malformed_fault_default_and_custom(api, opsgenie_emulator):
    opsgenie_emulator.add_fault(Fault("malformed", status=502))
    opsgenie_emulator.add_fault(
        Fault("malformed", status=200, body="{not json", headers={"Content-Type": "text/plain"})
    )
    first = api.call("POST", CREATE, {"message": "m"})
    assert first.status == 502
    assert first.raw == b"<html><body>502 Bad Gateway</body></html>"
    assert first.headers["content-type"].startswith("text/html")
    second = api.call("POST", CREATE, {"message": "m"})
    assert (second.status, second.raw, second.headers["content-type"]) == (200, b"{not json", "text/plain")
    with pytest.raises(json.JSONDecodeError):
        json.loads(second.raw)
    assert opsgenie_emulator.incidents() == []


@pytest.mark.parametrize(("times", "faulted"), [(1, 1), (2, 2), (None, 4)], ids=["once", "twice", "forever"])
def test_times(api, opsgenie_emulator, times, faulted):
    opsgenie_emulator.add_fault(Fault("status", status=500, times=times))
    statuses = [api.call("GET", "/v1/incidents", query={"query": ""}).status for _ in range(4)]
    assert statuses == [500] * faulted + [200] * (4 - faulted)


@pytest.mark.parametrize(
    ("filters", "hit"),
    [
        ({"method": "post"}, [False, True, True, False]),
        ({"path": r"/create$"}, [False, True, False, False]),
        ({"method": "GET", "path": r"/requests/"}, [False, False, False, True]),
        ({"path": r"^/v1/incidents/a/b/notes$"}, [False, False, True, False]),
        ({"method": "DELETE"}, [False, False, False, False]),
    ],
    ids=["method", "path", "request-status-endpoint", "decoded-path", "no-match"],
)
def test_method_and_path_filters(api, opsgenie_emulator, filters, hit):
    opsgenie_emulator.add_fault(Fault("status", times=None, **filters))
    responses = [
        api.call("GET", "/v1/incidents", query={"query": ""}),
        api.call("POST", CREATE, {"message": "m"}),
        api.call("POST", "/v1/incidents/a%2Fb/notes", {"note": "n"}),
        api.call("GET", "/v1/incidents/requests/some-id"),
    ]
    assert [response.status == 500 for response in responses] == hit


def test_faults_apply_in_order_and_before_auth(opsgenie_emulator, make_client):
    opsgenie_emulator.add_fault(Fault("status", status=502))
    opsgenie_emulator.add_fault(Fault("status", status=504))
    anonymous = make_client(key="")
    statuses = [anonymous.call("GET", "/v1/incidents", query={"query": ""}).status for _ in range(3)]
    assert statuses == [502, 504, 401]


def test_clear_faults_and_reset(api, opsgenie_emulator):
    opsgenie_emulator.add_fault(Fault("status", times=None))
    opsgenie_emulator.clear_faults()
    assert api.call("GET", "/v1/incidents", query={"query": ""}).status == 200
    opsgenie_emulator.add_fault(Fault("status", times=None))
    opsgenie_emulator.reset()
    assert api.call("GET", "/v1/incidents", query={"query": ""}).status == 200


@pytest.mark.parametrize(
    "kwargs",
    [{"kind": "explode"}, {"kind": "status", "times": 0}, {"kind": "delay", "seconds": -1}],
    ids=["kind", "times", "seconds"],
)
def test_invalid_faults(kwargs):
    kind = kwargs.pop("kind")
    with pytest.raises(ValueError, match="kind|times|seconds"):
        Fault(kind, **kwargs)


def test_rate_limit(api, opsgenie_emulator):
    opsgenie_emulator.rate_limit(2)
    responses = [api.call("GET", "/v1/incidents", query={"query": ""}) for _ in range(4)]
    assert [response.status for response in responses] == [200, 200, 429, 429]
    throttled = responses[2]
    assert throttled.headers["retry-after"] == "1"
    assert throttled.headers["x-ratelimit-state"] == "THROTTLED"
    assert throttled.headers["x-ratelimit-reason"] == "ACCOUNT"
    assert throttled.headers["x-ratelimit-period-in-sec"] == "1"
    assert set(throttled.json) == {"message", "took", "requestId"}
    assert [request.fault for request in opsgenie_emulator.requests] == [
        None,
        None,
        "rate_limit",
        "rate_limit",
    ]

    opsgenie_emulator.rate_limit(None)
    assert api.call("GET", "/v1/incidents", query={"query": ""}).status == 200


def test_rate_limit_window_reopens_after_a_second_of_its_clock(clocked_emulator, clocked_api, clock):
    clocked_emulator.rate_limit(1)

    def status() -> int:
        return clocked_api.call("GET", "/v1/incidents", query={"query": ""}).status

    assert [status(), status()] == [200, 429]
    clock.advance(0.999)
    assert status() == 429
    clock.advance(0.001)
    assert [status(), status()] == [200, 429]


def test_rate_limit_is_a_token_bucket_with_a_burst(clocked_emulator, clocked_api, clock):
    clocked_emulator.rate_limit(5, burst=10)

    def statuses(count: int) -> list[int]:
        return [clocked_api.call("GET", "/v1/incidents", query={"query": ""}).status for _ in range(count)]

    assert statuses(11) == [200] * 10 + [429]  # a full bucket lets a burst through
    clock.advance(0.2)  # one token back at 5 per second
    assert statuses(2) == [200, 429]
    clock.advance(10)  # refills up to the burst, never beyond
    assert statuses(11) == [200] * 10 + [429]
    throttled = [r for r in clocked_emulator.requests if r.fault == "rate_limit"]
    assert len(throttled) == 3  # a refused request takes no token


def test_rate_limit_answers_how_long_to_wait(clocked_emulator, clocked_api, clock):
    clocked_emulator.rate_limit(0.25, burst=1)
    assert clocked_api.call("GET", "/v1/incidents", query={"query": ""}).status == 200
    throttled = clocked_api.call("GET", "/v1/incidents", query={"query": ""})
    assert throttled.status == 429
    assert throttled.headers["retry-after"] == "4"  # whole seconds until a token is back
    assert throttled.headers["x-ratelimit-period-in-sec"] == "1"
    clock.advance(3)
    assert clocked_api.call("GET", "/v1/incidents", query={"query": ""}).headers["retry-after"] == "1"


def test_rate_limit_refuses_nonsense(opsgenie_emulator):
    with pytest.raises(ValueError, match="negative"):
        opsgenie_emulator.rate_limit(-1)
    with pytest.raises(ValueError, match="burst"):
        opsgenie_emulator.rate_limit(5, burst=-1)


def test_manual_clock():
    clock = ManualClock(5.0)
    assert clock() == 5.0
    clock.advance(0.25)
    assert clock() == 5.25
    assert repr(clock) == "ManualClock(5.25)"
    with pytest.raises(ValueError, match="back"):
        clock.advance(-1)


# -- faults after the write was applied -----------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_applied_status_applies_the_write_then_answers_the_error(api, opsgenie_emulator, status):
    fault = opsgenie_emulator.add_fault(Fault("applied_status", status=status, path="create"))
    response = api.call("POST", CREATE, {"message": "applied, then a gateway error"})
    assert response.status == status
    assert set(response.json) == {"message", "took", "requestId"}
    assert [incident["message"] for incident in opsgenie_emulator.incidents()] == [
        "applied, then a gateway error"
    ]
    assert opsgenie_emulator.requests[-1].fault == "applied_status"
    assert fault.hits == 1
    assert api.call("POST", CREATE, {"message": "second"}).status == 202


def test_applied_status_with_an_html_body_applies_a_timeline_entry(api, opsgenie_emulator):
    incident = api.create()
    entries = f"/v2/incident-timelines/{incident['id']}/entries"
    page = "<html><body>504 Gateway Time-out</body></html>"
    opsgenie_emulator.add_fault(
        Fault("applied_status", status=504, body=page, headers={"Content-Type": "text/html"}, path="entries$")
    )
    response = api.call("POST", entries, {"description": {"content": "deploy started"}})
    assert (response.status, response.raw, response.headers["content-type"]) == (
        504,
        page.encode(),
        "text/html",
    )
    custom = [entry for entry in opsgenie_emulator.timeline(incident["id"]) if entry["group"] == "custom"]
    assert [entry["description"]["name"] for entry in custom] == ["deploy started"]


def test_applied_status_does_not_apply_a_refused_write(api, opsgenie_emulator):
    opsgenie_emulator.add_fault(Fault("applied_status", status=504))
    assert api.call("POST", CREATE, {"message": ""}).status == 504
    assert opsgenie_emulator.incidents() == []


def test_applied_delay_applies_then_answers_late(opsgenie_emulator, make_client):
    opsgenie_emulator.add_fault(Fault("applied_delay", seconds=0.4, method="POST"))
    impatient = make_client()
    impatient.conn.timeout = 0.1
    started = time.perf_counter()
    with pytest.raises(TimeoutError):
        impatient.call("POST", CREATE, {"message": "applied before the timeout"})
    assert time.perf_counter() - started < 0.35
    assert [incident["message"] for incident in opsgenie_emulator.incidents()] == [
        "applied before the timeout"
    ]

    opsgenie_emulator.add_fault(Fault("applied_delay", seconds=0.2, method="POST"))
    started = time.perf_counter()
    response = make_client().call("POST", CREATE, {"message": "late but answered"})
    assert time.perf_counter() - started >= 0.2
    assert response.status == 202
    assert len(opsgenie_emulator.incidents()) == 2
    assert [r.fault for r in opsgenie_emulator.requests] == ["applied_delay", "applied_delay"]


def test_reset_during_an_applied_delay_drops_the_answer(opsgenie_emulator, make_client):
    opsgenie_emulator.add_fault(Fault("applied_delay", seconds=5))
    outcome = _create_then_reset(opsgenie_emulator, make_client(), opsgenie_emulator.incidents)
    assert isinstance(outcome, CONNECTION_DROPPED)


@pytest.mark.parametrize("kind", ["applied_status", "applied_delay", "lost_response"])
def test_the_rate_limit_comes_before_an_applying_fault(api, opsgenie_emulator, kind):
    opsgenie_emulator.rate_limit(0)
    opsgenie_emulator.add_fault(Fault(kind, status=504, method="POST"))
    response = api.call("POST", CREATE, {"message": "m"})
    assert response.status == 429
    assert opsgenie_emulator.incidents() == []
    assert opsgenie_emulator.requests[-1].fault == kind
