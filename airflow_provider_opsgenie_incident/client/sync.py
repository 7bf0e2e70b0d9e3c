"""The synchronous client: one reused ``requests.Session``, the shared catalogue and retry policy.

``requests`` is imported when a client is built, not when this package is imported, so DAG files
that only name our operators never load it.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from airflow_provider_opsgenie_incident.client import protocol
from airflow_provider_opsgenie_incident.client.errors import (
    OpsgenieIncidentError,
    TransportError,
    remove_secret,
)
from airflow_provider_opsgenie_incident.client.pacer import pacer_for
from airflow_provider_opsgenie_incident.client.paging import SyncMethods
from airflow_provider_opsgenie_incident.client.retry import (
    after_first_attempt,
    may_have_been_applied,
    retrying,
)
from airflow_provider_opsgenie_incident.client.verification import verify

if TYPE_CHECKING:
    from collections.abc import Mapping

    import requests

    from airflow_provider_opsgenie_incident.client.protocol import PreparedRequest
    from airflow_provider_opsgenie_incident.client.settings import ClientSettings

__all__ = ["OpsgenieIncidentClient"]

log = logging.getLogger(__name__)


def _urllib3_error() -> type[Exception]:
    """Return urllib3's base error: reading the body happens outside requests' own wrapping."""
    from urllib3.exceptions import HTTPError

    return HTTPError


def _never_sent(error: BaseException) -> bool:
    """Tell whether a requests failure happened before any byte of the request left (safe to repeat)."""
    import requests
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    if isinstance(error, (requests.exceptions.ConnectTimeout, requests.exceptions.ProxyError)):
        return True
    # requests wraps urllib3's MaxRetryError, whose reason tells whether a connection was ever made.
    cause = error.args[0] if error.args else None
    reason = getattr(cause, "reason", cause)
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


class OpsgenieIncidentClient(SyncMethods):
    """
    A synchronous client of the Opsgenie Incident and Incident Timeline APIs.

    Every public endpoint method validates its arguments against the catalogue before any I/O,
    makes one HTTP call through :meth:`_send` under the retry policy, and returns the parsed JSON
    with unknown fields kept. The iterators and :meth:`wait_for_request` come from
    :class:`~.paging.SyncMethods`, over :meth:`call`.

    :param settings: base URL, key, timeouts, retry budget and proxy.
    """

    def __init__(self, settings: ClientSettings) -> None:
        import requests

        self.settings = settings
        # Reads to verify an ambiguous write: their own retry budget plus the pauses between them.
        self._verify_budget = settings.retry.total_timeout + settings.retry.verify_window
        self._session: requests.Session = requests.Session()
        # The environment is read once here; trust_env=False stops requests re-reading proxy and
        # netrc settings on every call, which otherwise costs more than the HTTP exchange itself.
        self._session.trust_env = False
        self._session.headers.update(protocol.auth_headers(settings.api_key))
        proxy = settings.resolved_proxy()
        if proxy:
            self._session.proxies = {"http": proxy, "https": proxy}
        self._verify = settings.ca_bundle()
        self._session.verify = self._verify
        # Session.request re-merges the session's headers, cookies, proxies and hooks into every call,
        # which costs more CPU than the exchange itself (measured in benchmarks/per_call.py). They are
        # merged once here instead, and each call goes straight to the adapter serving the base URL
        # (the adapter's connection pool, TLS and proxy handling stay requests'). The API
        # authenticates by header and needs no cookies.
        self._headers = dict(self._session.headers)
        self._json_headers = {**self._headers, "Content-Type": "application/json"}
        self._proxies = dict(self._session.proxies)
        self._base_url = settings.base_url
        self._adapter = self._session.get_adapter(settings.base_url)
        self._timeout = (settings.connect_timeout, settings.read_timeout)
        # The account's pacer, shared in this process, decides when each exchange may go out.
        pacer = pacer_for(settings.base_url, settings.api_key)
        self._send = pacer.wrap(self._send, settings.retry.total_timeout)  # type: ignore[method-assign,assignment]
        self._retrying = {
            repeatable: retrying(settings.retry, idempotent=repeatable, pacer=pacer)
            for repeatable in (True, False)
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.settings.base_url!r})"

    def __enter__(self) -> OpsgenieIncidentClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def call(self, endpoint: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Call one catalogue endpoint by name with its Python-named arguments; the one way in."""
        try:
            return self._call(protocol.prepare(endpoint, arguments))
        except OpsgenieIncidentError as error:
            remove_secret(error, self.settings.api_key)
            raise

    def _call(self, prepared: PreparedRequest) -> dict[str, Any]:
        started, started_at = time.monotonic(), time.time()
        try:
            return self._send(prepared)
        except OpsgenieIncidentError as error:
            replay = [error]

        def attempt(prepared: PreparedRequest) -> dict[str, Any]:
            if replay:
                raise replay.pop()
            return self._send(prepared)

        policy = self._retrying[prepared.repeatable]
        try:
            return after_first_attempt(policy, started)(attempt, prepared)
        except OpsgenieIncidentError as error:
            if prepared.repeatable or not may_have_been_applied(error):
                raise
            found = self.run_flow(
                verify(prepared, error, started_at, self.settings.retry.verify_window),
                timeout=self._verify_budget,
            )
            return found if found is not None else policy(self._send, prepared)

    def _send(self, prepared: PreparedRequest) -> dict[str, Any]:
        """Make one HTTP exchange; the only place this client touches the network."""
        import requests

        try:
            response = self._adapter.send(
                self._wire_request(prepared),
                timeout=self._timeout,
                verify=self._verify,
                proxies=self._proxies,
            )
            # Read the body through urllib3 directly: fully read, the connection goes back to the pool.
            content = response.raw.read(decode_content=True)
        except (requests.RequestException, _urllib3_error()) as error:
            raise TransportError(
                f"{prepared.method} {prepared.endpoint.name} failed: {type(error).__name__}",
                request_sent=not _never_sent(error),
            ) from None
        return protocol.parse_response(response.status_code, response.headers, content)

    def _wire_request(self, prepared: PreparedRequest) -> requests.PreparedRequest:
        """
        Build requests' prepared request from ours, which is already validated and encoded.

        ``requests.PreparedRequest.prepare`` would re-parse and re-quote the URL, rebuild the headers
        and compute cookie headers on every call; the path is URL-encoded by the catalogue already,
        so only the query and the JSON body are left to encode.
        """
        import requests

        request = requests.PreparedRequest()
        request.method = prepared.method
        url = self._base_url + prepared.path
        request.url = f"{url}?{urlencode(prepared.query, quote_via=quote)}" if prepared.query else url
        request.hooks = {"response": []}
        if prepared.body is None:
            request.headers = self._headers  # type: ignore[assignment]
            request.body = None
        else:
            body = json.dumps(prepared.body, ensure_ascii=False).encode()
            request.headers = {  # type: ignore[assignment]
                **self._json_headers,
                "Content-Length": str(len(body)),
            }
            request.body = body
        return request
