"""The asynchronous client, for triggers and ``async_notify``: ``httpx.AsyncClient``.

It shares everything with the sync client (catalogue, validation, response parsing, retry
policy, errors, the request wait's decisions) except :meth:`_send`, the one exchange.
``httpx`` is already loaded by Airflow's task SDK, so this adds no dependency and no import cost.
"""

from __future__ import annotations

import math
import os
import ssl
import time
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from airflow_provider_opsgenie_incident.client.errors import (
    OpsgenieIncidentError,
    TransportError,
    without_secret,
)
from airflow_provider_opsgenie_incident.client.flows import arun_flow
from airflow_provider_opsgenie_incident.client.methods import IncidentApiMethods
from airflow_provider_opsgenie_incident.client.protocol import (
    PreparedRequest,
    auth_headers,
    parse_response,
    prepare,
)
from airflow_provider_opsgenie_incident.client.retry import async_retrying, may_have_been_applied
from airflow_provider_opsgenie_incident.client.verification import PAUSES, verify
from airflow_provider_opsgenie_incident.client.waiting import wait_flow

if TYPE_CHECKING:
    from airflow_provider_opsgenie_incident.client.flows import Flow
    from airflow_provider_opsgenie_incident.client.settings import ClientSettings

T = TypeVar("T")

__all__ = ["AsyncOpsgenieIncidentClient"]


def _verify(bundle: str | bool) -> ssl.SSLContext | bool:
    """Turn a CA bundle path into an SSL context: httpx 0.28 deprecates ``verify=<path>``."""
    if isinstance(bundle, bool):
        return bundle
    if os.path.isdir(bundle):
        return ssl.create_default_context(capath=bundle)
    return ssl.create_default_context(cafile=bundle)


class AsyncOpsgenieIncidentClient(IncidentApiMethods[Awaitable[dict[str, Any]]]):
    """
    An asynchronous client of the Opsgenie Incident and Incident Timeline APIs.

    Use it as ``async with AsyncOpsgenieIncidentClient(settings) as client:`` or call
    :meth:`aclose` when done. Every endpoint method returns an awaitable of the parsed JSON.

    :param settings: base URL, key, timeouts, retry budget and proxy.
    """

    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings
        # Reads to verify an ambiguous write: their own retry budget plus the pauses between them.
        self._verify_budget = settings.retry.total_timeout + sum(PAUSES)
        self._client = httpx.AsyncClient(
            base_url=settings.base_url,
            headers=auth_headers(settings.api_key),
            timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            proxy=settings.resolved_proxy(),
            verify=_verify(settings.ca_bundle()),
            trust_env=False,
            follow_redirects=False,
        )
        self._retrying = {
            repeatable: async_retrying(settings.retry, idempotent=repeatable) for repeatable in (True, False)
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.settings.base_url!r})"

    async def __aenter__(self) -> AsyncOpsgenieIncidentClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._client.aclose()

    async def call(self, endpoint: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Call one catalogue endpoint by name with its Python-named arguments; the one way in."""
        with without_secret(self.settings.api_key):
            return await self._call(prepare(endpoint, arguments))

    async def _call(self, prepared: PreparedRequest) -> dict[str, Any]:
        # A copy per call: concurrent coroutines on one thread would otherwise share tenacity's state.
        started, policy = time.time(), self._retrying[prepared.repeatable].copy()
        try:
            return await policy(self._send, prepared)
        except OpsgenieIncidentError as error:
            if prepared.repeatable or not may_have_been_applied(error):
                raise
            found = await self.run_flow(
                verify(prepared, error, started), timeout=self.settings.retry.total_timeout
            )
            return found if found is not None else await policy(self._send, prepared)

    async def _send(self, prepared: PreparedRequest) -> dict[str, Any]:
        """Make one HTTP exchange; the only place this client touches the network."""
        try:
            response = await self._client.request(
                prepared.method, prepared.path, params=list(prepared.query), json=prepared.body
            )
        except httpx.TransportError as error:
            # A refused or timed-out connect provably sent nothing; anything later may have arrived.
            never_sent = isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError))
            raise TransportError(
                f"{prepared.method} {prepared.endpoint.name} failed: {type(error).__name__}",
                request_sent=not never_sent,
            ) from None
        return parse_response(response.status_code, response.headers, response.content)

    async def wait_for_request(self, request_id: str, *, timeout: float = 60.0) -> dict[str, Any]:
        """
        Wait until an asynchronous request is processed and return its status ``data``.

        :raises RequestFailedError: the request was processed with success false.
        :raises WaitTimeoutError: it was not processed within ``timeout`` seconds.
        """
        return await self.run_flow(wait_flow(request_id, timeout=timeout), timeout=math.inf)

    async def run_flow(self, flow: Flow[T], *, timeout: float = 60.0) -> T:
        """Run a flow of steps (:mod:`.flows`) with this client, within ``timeout`` seconds."""
        return await arun_flow(flow, self, timeout=timeout)
