"""The synchronous client: one reused ``requests.Session``, the shared catalogue and retry policy.

``requests`` is imported when a client is built, not when this package is imported, so DAG files
that only name our operators never load it.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from airflow_provider_opsgenie_incident.client.errors import NotFoundError, TransportError
from airflow_provider_opsgenie_incident.client.methods import IncidentApiMethods
from airflow_provider_opsgenie_incident.client.protocol import (
    PreparedRequest,
    auth_headers,
    parse_response,
    prepare,
)
from airflow_provider_opsgenie_incident.client.retry import retrying
from airflow_provider_opsgenie_incident.client.waiting import RequestWait

if TYPE_CHECKING:
    from collections.abc import Iterator

    import requests

    from airflow_provider_opsgenie_incident.client.settings import ClientSettings
    from airflow_provider_opsgenie_incident.client.types import IdentifierType, Order

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


class OpsgenieIncidentClient(IncidentApiMethods[dict[str, Any]]):
    """
    A synchronous client of the Opsgenie Incident and Incident Timeline APIs.

    Every public endpoint method validates its arguments against the catalogue before any I/O,
    makes one HTTP call through :meth:`_send` under the retry policy, and returns the parsed JSON
    with unknown fields kept.

    :param settings: base URL, key, timeouts, retry budget and proxy.
    """

    def __init__(self, settings: ClientSettings) -> None:
        import requests

        self.settings = settings
        self._session: requests.Session = requests.Session()
        # The environment is read once here; trust_env=False stops requests re-reading proxy and
        # netrc settings on every call, which otherwise costs more than the HTTP exchange itself.
        self._session.trust_env = False
        self._session.headers.update(auth_headers(settings.api_key))
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
        self._retrying = {
            idempotent: retrying(settings.retry, idempotent=idempotent) for idempotent in (True, False)
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

    def call(self, endpoint: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Call one catalogue endpoint by name with its Python-named arguments; the one way in."""
        prepared = prepare(endpoint, arguments)
        return self._retrying[prepared.endpoint.idempotent](self._send, prepared)

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
        return parse_response(response.status_code, response.headers, content)

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

    def wait_for_request(self, request_id: str, *, timeout: float = 60.0) -> dict[str, Any]:
        """
        Wait until an asynchronous request is processed and return its status ``data``.

        :raises RequestFailedError: the request was processed with success false.
        :raises WaitTimeoutError: it was not processed within ``timeout`` seconds.
        """
        wait = RequestWait(request_id, timeout=timeout)
        while True:
            try:
                response: dict[str, Any] | None = self.get_request_status(request_id=request_id)
            except NotFoundError:
                response = None
            data = wait.outcome(response)
            if data is not None:
                return data
            time.sleep(wait.next_interval())

    def iter_incidents(
        self, query: str, *, sort: str | None = None, order: Order | None = None, page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Yield every incident matching ``query``, page after page."""
        offset = 0
        while True:
            page = self.list_incidents(query=query, offset=offset, limit=page_size, sort=sort, order=order)
            items = page.get("data") or []
            yield from items
            if not items or not (page.get("paging") or {}).get("next"):
                return
            offset += len(items)

    def _iter_by_offset(
        self, endpoint: str, identifier: str, identifier_type: IdentifierType | None, order: Order | None
    ) -> Iterator[dict[str, Any]]:
        offset: str | None = None
        while True:
            page = self.call(
                endpoint,
                {
                    "identifier": identifier,
                    "identifier_type": identifier_type,
                    "offset": offset,
                    "direction": "next" if offset else None,
                    "limit": 100,
                    "order": order,
                },
            )
            yield from page.get("data") or []
            next_url = (page.get("paging") or {}).get("next")
            offsets = parse_qs(urlsplit(next_url).query).get("offset") if next_url else None
            if not offsets or offsets[0] == offset:
                return
            offset = offsets[0]

    def iter_notes(
        self, identifier: str, *, identifier_type: IdentifierType | None = None, order: Order | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield every note of an incident."""
        return self._iter_by_offset("list_notes", identifier, identifier_type, order)

    def iter_logs(
        self, identifier: str, *, identifier_type: IdentifierType | None = None, order: Order | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield every activity log entry of an incident."""
        return self._iter_by_offset("list_logs", identifier, identifier_type, order)

    def iter_timeline_entries(
        self, incident_id: str, *, discard_hidden: bool | None = None, order: Order | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield every timeline entry of an incident, following ``nextOffset``."""
        offset: str | None = None
        while True:
            page = self.list_timeline_entries(
                incident_id=incident_id, discard_hidden=discard_hidden, offset=offset, order=order, limit=20
            )
            data = page.get("data") or {}
            yield from data.get("entries") or []
            next_offset = data.get("nextOffset")
            if not next_offset or next_offset == offset:
                return
            offset = next_offset
