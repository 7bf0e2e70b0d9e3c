"""The asynchronous client, for triggers and ``async_notify``.

It shares everything with the sync client (catalogue, validation, response parsing, retry
policy, errors, the request wait's decisions) except :meth:`_send`, the one exchange, which goes
through :class:`~airflow_provider_opsgenie_incident.client.async_http.AsyncHttp11Pool`: a small
HTTP/1.1 keep-alive client on asyncio. A poll through ``httpx.AsyncClient`` cost about twice the
CPU of the rest of a waiting sensor (URL parsing, header and cookie merging, anyio, h11); see
``benchmarks/README.md``. httpx still decides the TLS context (its CA bundle and rules), so an
https connection verifies exactly as it did through httpx.
"""

from __future__ import annotations

import json
import logging
import math
import os
import ssl
import time
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlencode

from airflow_provider_opsgenie_incident.client.async_http import AsyncHttp11Pool
from airflow_provider_opsgenie_incident.client.errors import (
    OpsgenieIncidentError,
    TransportError,
    remove_secret,
)
from airflow_provider_opsgenie_incident.client.flows import arun_flow
from airflow_provider_opsgenie_incident.client.http11 import ExchangeError
from airflow_provider_opsgenie_incident.client.methods import IncidentApiMethods
from airflow_provider_opsgenie_incident.client.pacer import pacer_for
from airflow_provider_opsgenie_incident.client.protocol import (
    PreparedRequest,
    auth_headers,
    parse_response,
    prepare,
)
from airflow_provider_opsgenie_incident.client.retry import (
    after_first_attempt,
    async_retrying,
    may_have_been_applied,
)
from airflow_provider_opsgenie_incident.client.verification import verify
from airflow_provider_opsgenie_incident.client.waiting import wait_flow

if TYPE_CHECKING:
    from airflow_provider_opsgenie_incident.client.flows import Flow
    from airflow_provider_opsgenie_incident.client.settings import ClientSettings

T = TypeVar("T")

__all__ = ["AsyncOpsgenieIncidentClient"]

log = logging.getLogger(__name__)

#: Exchanges in flight per client at most; more wait for a free connection.
MAX_CONNECTIONS = 20


def _ssl_context(bundle: str | bool) -> ssl.SSLContext:
    """
    Build the TLS context httpx would build from ``verify=bundle`` with ``trust_env=False``.

    A CA bundle path (file or directory) is loaded into a default context; True is httpx's default
    (the ``certifi`` bundle). Only HTTP/1.1 is offered in ALPN, as httpx does without HTTP/2.
    """
    import httpx

    if isinstance(bundle, str):
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(capath=bundle)
            if os.path.isdir(bundle)
            else ssl.create_default_context(cafile=bundle)
        )
    else:
        verify = bundle
    context = httpx.create_ssl_context(verify=verify, trust_env=False)
    context.set_alpn_protocols(["http/1.1"])
    return context


class AsyncOpsgenieIncidentClient(IncidentApiMethods[Awaitable[dict[str, Any]]]):
    """
    An asynchronous client of the Opsgenie Incident and Incident Timeline APIs.

    Use it as ``async with AsyncOpsgenieIncidentClient(settings) as client:`` or call
    :meth:`aclose` when done. Every endpoint method returns an awaitable of the parsed JSON. It
    belongs to the event loop it first runs on; at most ``max_connections`` exchanges are in
    flight at once, the others wait their turn (a retry's backoff holds no connection).

    :param settings: base URL, key, timeouts, retry budget and proxy.
    :param max_connections: exchanges in flight at most.
    :raises InvalidRequestError: the proxy is not an ``http://`` URL, or the key holds a line break.
    """

    def __init__(self, settings: ClientSettings, *, max_connections: int = MAX_CONNECTIONS) -> None:
        self.settings = settings
        # Reads to verify an ambiguous write: their own retry budget plus the pauses between them.
        self._verify_budget = settings.retry.total_timeout + settings.retry.verify_window
        https = settings.base_url.startswith("https:")
        self._http = AsyncHttp11Pool(
            settings.base_url,
            headers=auth_headers(settings.api_key),
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            ssl_context=_ssl_context(settings.ca_bundle()) if https else None,
            proxy=settings.resolved_proxy(),
            max_connections=max_connections,
        )
        # The account's pacer, shared in this process, decides when each exchange may go out.
        pacer = pacer_for(settings.base_url, settings.api_key)
        self._send = pacer.awrap(self._send, settings.retry.total_timeout)  # type: ignore[method-assign,assignment]
        self._retrying = {
            repeatable: async_retrying(settings.retry, idempotent=repeatable, pacer=pacer)
            for repeatable in (True, False)
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.settings.base_url!r})"

    async def __aenter__(self) -> AsyncOpsgenieIncidentClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._http.is_closed

    async def call(self, endpoint: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Call one catalogue endpoint by name with its Python-named arguments; the one way in."""
        try:
            return await self._call(prepare(endpoint, arguments))
        except OpsgenieIncidentError as error:
            remove_secret(error, self.settings.api_key)
            raise

    async def send(self, prepared: PreparedRequest) -> dict[str, Any]:
        """
        Send a request built once by :func:`~airflow_provider_opsgenie_incident.client.protocol.prepare`.

        For a call repeated unchanged, such as a trigger's poll; retried and verified like :meth:`call`.
        """
        try:
            return await self._call(prepared)
        except OpsgenieIncidentError as error:
            remove_secret(error, self.settings.api_key)
            raise

    async def _call(self, prepared: PreparedRequest) -> dict[str, Any]:
        started, started_at = time.monotonic(), time.time()
        try:
            return await self._send(prepared)
        except OpsgenieIncidentError as error:
            replay = [error]

        async def attempt(prepared: PreparedRequest) -> dict[str, Any]:
            if replay:
                raise replay.pop()
            return await self._send(prepared)

        policy = self._retrying[prepared.repeatable]
        try:
            return await after_first_attempt(policy, started)(attempt, prepared)
        except OpsgenieIncidentError as error:
            if prepared.repeatable or not may_have_been_applied(error):
                raise
            found = await self.run_flow(
                verify(prepared, error, started_at, self.settings.retry.verify_window),
                timeout=self._verify_budget,
            )
            return found if found is not None else await policy.copy()(self._send, prepared)

    async def _send(self, prepared: PreparedRequest) -> dict[str, Any]:
        """Make one HTTP exchange; the only place this client touches the network."""
        target = (
            f"{prepared.path}?{urlencode(prepared.query, quote_via=quote)}"
            if prepared.query
            else prepared.path
        )
        body = None if prepared.body is None else json.dumps(prepared.body, ensure_ascii=False).encode()
        try:
            status, headers, content = await self._http.request(
                prepared.method, target, body, "application/json"
            )
        except ExchangeError as error:
            raise TransportError(
                f"{prepared.method} {prepared.endpoint.name} failed: {error}", request_sent=error.request_sent
            ) from None
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s: HTTP %s", prepared.method, prepared.path, status)
        return parse_response(status, headers, content)

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
