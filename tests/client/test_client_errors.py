"""The error hierarchy: types, text, and the dict / pickle round-trips triggers and executors need."""

from __future__ import annotations

import json
import pickle

import pytest

from airflow_provider_opsgenie_incident.client import errors
from airflow_provider_opsgenie_incident.client.errors import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    OpsgenieIncidentError,
    RateLimitedError,
    RequestFailedError,
    ServerError,
    TransportError,
    WaitTimeoutError,
    error_for_status,
    error_from_dict,
)

EXAMPLES = [
    OpsgenieIncidentError("odd", status=409, request_id="r-0"),
    AuthenticationError("Could not authenticate", status=401, request_id="r-1"),
    NotFoundError("No incident exists with id [x]", status=404, request_id="r-2"),
    RateLimitedError("slow down", status=429, request_id="r-3", retry_after=1.5),
    InvalidRequestError("message is too long", field="message", limit=130, size=131),
    InvalidRequestError("bad query", status=422, request_id="r-4"),
    ServerError("<html>502</html>", status=502),
    TransportError("POST create_incident failed: ReadTimeout", request_sent=True),
    TransportError("POST create_incident failed: ConnectionError", request_sent=False),
    RequestFailedError("Incident does not exist", request_id="r-5", action="Resolve", incident_id="i-1"),
    WaitTimeoutError("request r-6 was not processed within 1 s (3 polls)", request_id="r-6"),
]
IDS = [f"{type(e).__name__}-{i}" for i, e in enumerate(EXAMPLES)]


def test_every_class_has_an_example():
    assert {type(e) for e in EXAMPLES} == {
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, OpsgenieIncidentError)
    }


@pytest.mark.parametrize("error", EXAMPLES, ids=IDS)
def test_to_dict_round_trips_through_json(error):
    data = error.to_dict()
    assert data["error_class"] == type(error).__name__
    restored = error_from_dict(json.loads(json.dumps(data)))
    assert type(restored) is type(error)
    assert vars(restored) == vars(error)
    assert str(restored) == str(error)


@pytest.mark.parametrize("error", EXAMPLES, ids=IDS)
def test_pickle_round_trips(error):
    restored = pickle.loads(pickle.dumps(error))
    assert type(restored) is type(error)
    assert vars(restored) == vars(error)
    assert restored.args == error.args


def test_fields_in_to_dict():
    assert RateLimitedError("slow", request_id="r", retry_after=2.0).to_dict() == {
        "error_class": "RateLimitedError",
        "message": "slow",
        "status": 429,
        "request_id": "r",
        "retry_after": 2.0,
    }
    assert InvalidRequestError("m", field="tags", limit=20, size=21).to_dict() == {
        "error_class": "InvalidRequestError",
        "message": "m",
        "status": None,
        "request_id": None,
        "field": "tags",
        "limit": 20,
        "size": 21,
    }
    assert TransportError("t", request_sent=False).to_dict()["request_sent"] is False
    assert RequestFailedError("f", action="Close", incident_id="i").to_dict()["action"] == "Close"


def test_error_from_dict_falls_back_to_the_base_class():
    restored = error_from_dict({"error_class": "SomethingElse", "message": "m", "status": 500})
    assert type(restored) is OpsgenieIncidentError
    assert restored.status == 500
    assert error_from_dict({}).message == "unknown error"


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (NotFoundError("No incident", status=404, request_id="x"), "HTTP 404: No incident (requestId x)"),
        (ServerError("boom", status=500), "HTTP 500: boom"),
        (
            TransportError("GET get_incident failed: ConnectionError"),
            "GET get_incident failed: ConnectionError",
        ),
        (
            RequestFailedError("Incident does not exist", request_id="r"),
            "Incident does not exist (requestId r)",
        ),
    ],
)
def test_str(error, text):
    assert str(error) == text


def test_repr_names_the_fields():
    assert repr(NotFoundError("gone", status=404, request_id="x")) == (
        "NotFoundError(message='gone', status=404, request_id='x')"
    )


def test_dual_inheritance():
    assert issubclass(InvalidRequestError, ValueError)
    assert issubclass(WaitTimeoutError, TimeoutError)
    assert not issubclass(ServerError, ValueError)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, InvalidRequestError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (409, OpsgenieIncidentError),
        (422, InvalidRequestError),
        (429, RateLimitedError),
        (500, ServerError),
        (501, ServerError),
        (599, ServerError),
    ],
)
def test_error_for_status(status, cls):
    error = error_for_status(status, "m", request_id="r", retry_after=1.0)
    assert type(error) is cls
    assert (error.status, error.request_id, error.message) == (status, "r", "m")
    if cls is RateLimitedError:
        assert error.retry_after == 1.0


def test_an_html_or_huge_error_body_becomes_a_short_message():
    from airflow_provider_opsgenie_incident.client.protocol import parse_response

    page = (
        b"<html><head><title>414 Request-URI Too Large</title></head><body>"
        + b"x" * 100_000
        + b"</body></html>"
    )
    with pytest.raises(OpsgenieIncidentError) as caught:
        parse_response(414, {}, page)
    assert caught.value.status == 414
    assert caught.value.message == "414 Request-URI Too Large"
    with pytest.raises(ServerError) as caught:
        parse_response(500, {}, json.dumps({"message": "m" * 100_000}).encode())
    assert len(caught.value.message) <= 300


@pytest.mark.parametrize("endpoint", ["list_incidents", "create_incident"])
def test_a_server_error_echoing_the_key_never_shows_it(endpoint, client, emu):
    from airflow_provider_opsgenie_incident.emulator import Fault

    body = {"message": f"bad key GenieKey {emu.api_key} for {emu.api_key[:3]}"}
    emu.add_fault(Fault("status", status=422, body=body))
    arguments = {"query": "status:open"} if endpoint == "list_incidents" else {"message": "m"}
    with pytest.raises(OpsgenieIncidentError) as caught:
        client.call(endpoint, arguments)
    for text in (str(caught.value), repr(caught.value), caught.value.message, *map(str, caught.value.args)):
        assert emu.api_key not in text
    assert "***" in caught.value.message
