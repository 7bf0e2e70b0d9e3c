"""Helpers for the emulator tests: a small keep-alive client on ``http.client``.

The emulator fixtures themselves (``opsgenie_emulator`` and friends) come from the package's
``pytest11`` plugin.
"""

from __future__ import annotations

import http.client
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

import pytest

from airflow_provider_opsgenie_incident.emulator import ManualClock, OpsgenieEmulator

if TYPE_CHECKING:
    from collections.abc import Iterator


class Response:
    def __init__(self, status: int, headers: dict[str, str], raw: bytes) -> None:
        self.status = status
        self.headers = headers
        self.raw = raw

    @property
    def json(self) -> Any:
        return json.loads(self.raw)

    @property
    def data(self) -> Any:
        return self.json["data"]

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.raw[:300]!r}>"


class Client:
    """Talk to the emulator over one keep-alive connection."""

    def __init__(self, emulator: OpsgenieEmulator, key: str | None = None) -> None:
        self.emulator = emulator
        self.key = emulator.api_key if key is None else key
        parts = urlsplit(emulator.url)
        self.conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)

    def close(self) -> None:
        self.conn.close()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Response:
        sent = {"Authorization": f"GenieKey {self.key}"} if self.key else {}
        if body is not None:
            raw = json.dumps(body).encode()
        if raw is not None:
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        target = f"{path}?{urlencode(query)}" if query else path
        self.conn.request(method, target, body=raw, headers=sent)
        response = self.conn.getresponse()
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())

    def status_of(self, request_id: str) -> Response:
        return self.call("GET", f"/v1/incidents/requests/{request_id}")

    def write(self, method: str, path: str, body: Any = None, **kwargs: Any) -> dict[str, Any]:
        """Send an asynchronous write, assert 202, and return its processed request status."""
        response = self.call(method, path, body, **kwargs)
        assert response.status == 202, response
        assert response.json["result"] == "Request will be processed"
        self.emulator.wait_until_processed()
        status = self.status_of(response.json["requestId"])
        assert status.status == 200, status
        return dict(status.data)

    def create(self, message: str = "Disk is full", **fields: Any) -> dict[str, Any]:
        """Create an incident and return it as the API's get answers it."""
        result = self.write("POST", "/v1/incidents/create", {"message": message, **fields})
        assert result["success"] is True, result
        return dict(self.call("GET", f"/v1/incidents/{result['incidentId']}").data)

    def incident_path(self, identifier: str, suffix: str = "") -> str:
        return f"/v1/incidents/{quote(identifier, safe='')}{suffix}"


@pytest.fixture
def api(opsgenie_emulator: OpsgenieEmulator) -> Iterator[Client]:
    client = Client(opsgenie_emulator)
    yield client
    client.close()


@pytest.fixture
def make_client(opsgenie_emulator: OpsgenieEmulator) -> Iterator[Any]:
    """Return a factory of extra clients (``make_client(key="")`` sends no key); closes them after."""
    clients: list[Client] = []

    def make(key: str | None = None) -> Client:
        client = Client(opsgenie_emulator, key)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def clock() -> ManualClock:
    """Return a clock that moves only on ``advance()``."""
    return ManualClock()


@pytest.fixture
def clocked_emulator(clock: ManualClock) -> Iterator[OpsgenieEmulator]:
    """Serve an emulator of its own whose rate limit and search lag follow ``clock``."""
    with OpsgenieEmulator(clock=clock) as emulator:
        yield emulator


@pytest.fixture
def clocked_api(clocked_emulator: OpsgenieEmulator) -> Iterator[Client]:
    """Return a keep-alive client of ``clocked_emulator``."""
    client = Client(clocked_emulator)
    yield client
    client.close()
