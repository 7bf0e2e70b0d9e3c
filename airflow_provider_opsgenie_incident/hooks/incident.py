"""The Airflow hook: an ``opsgenie_incident`` connection becomes a client of both Opsgenie APIs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from airflow_provider_opsgenie_incident.client.errors import InvalidRequestError, OpsgenieIncidentError
from airflow_provider_opsgenie_incident.client.methods import IncidentApiMethods
from airflow_provider_opsgenie_incident.client.retry import RetrySettings
from airflow_provider_opsgenie_incident.client.settings import ClientSettings, resolve_base_url

if TYPE_CHECKING:
    from collections.abc import Iterator

    from airflow.sdk import Connection

    from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient
    from airflow_provider_opsgenie_incident.client.sync import OpsgenieIncidentClient
    from airflow_provider_opsgenie_incident.client.types import Order, Responder

__all__ = ["IncidentDefaults", "OpsgenieIncidentHook"]


@dataclass(frozen=True)
class IncidentDefaults:
    """Defaults for new incidents, from the connection's extra (``default_*`` fields)."""

    responders: list[Responder] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    priority: str | None = None
    service_id: str | None = None


def _extra_value(extra: Mapping[str, Any], name: str) -> Any:
    # Airflow's connection form may store a custom field with the historical prefix.
    value = extra.get(name)
    if value in (None, ""):
        value = extra.get(f"extra__opsgenie_incident__{name}")
    return None if value == "" else value


def _host_with_port(host: str | None, port: int | None) -> str | None:
    """Put the connection's port into its host: a URI connection keeps them apart."""
    if not host or not port:
        return host
    scheme, separator, rest = host.rpartition("://")
    netloc, slash, path = rest.partition("/")
    if ":" not in netloc.rsplit("]", 1)[-1]:
        netloc = f"{netloc}:{port}"
    return f"{scheme}{separator}{netloc}{slash}{path}"


def _number(extra: Mapping[str, Any], name: str, default: float) -> float:
    value = _extra_value(extra, name)
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidRequestError(
            f"connection extra {name} must be a number, got {value!r}", field=name
        ) from None


def _string_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return [str(item) for item in value]


def _responders(value: Any) -> list[Responder]:
    """Read responders given as a list of dicts or as ``"team:NOC, user:jane@example.com"``."""
    if value is None or isinstance(value, list):
        return list(value or [])
    responders: list[Responder] = []
    for item in _string_list(value):
        kind, _, name = item.partition(":")
        if kind not in ("team", "user") or not name:
            raise InvalidRequestError(
                f"connection extra default_responders item {item!r} must look like team:NAME or user:NAME",
                field="default_responders",
            )
        responders.append(
            {"type": "team", "name": name} if kind == "team" else {"type": "user", "username": name}
        )
    return responders


def _mask_key(connection: Connection) -> None:
    """Register the key with Airflow's secret masker, whatever the connection's source."""
    from airflow_provider_opsgenie_incident._compat import mask_secret

    if connection.password:
        mask_secret(connection.password)


class OpsgenieIncidentHook(BaseHook, IncidentApiMethods[dict[str, Any]]):
    """
    Interact with the Opsgenie Incident API (v1) and Incident Timeline API (v2).

    Every endpoint is a keyword-only method (``create_incident``, ``resolve_incident``,
    ``add_timeline_entry``...) that validates its arguments before any I/O and returns the parsed
    JSON. Incident writes are asynchronous: they return a ``requestId`` to pass to
    :meth:`wait_for_request`.

    The connection (type ``opsgenie_incident``):

    - **password**: the API key of an Opsgenie API integration. It is masked in logs and never
      appears in an exception, a ``repr`` or an XCom.
    - **host**: the API base URL. Empty means ``https://api.opsgenie.com`` (extra ``region: eu``
      gives ``https://api.eu.opsgenie.com``); a host without a scheme is https; plain ``http://``
      is refused except to a loopback address (the emulator).
    - **extra**: ``web_url`` (the account's web address, for links), ``connect_timeout`` (5 s),
      ``read_timeout`` (15 s), ``retry_timeout`` (total retry budget, 60 s), ``max_attempts`` (6),
      ``proxy``, and defaults for the notifiers: ``default_responders`` (a list of responder
      objects, or ``"team:NOC, user:jane@example.com"``), ``default_tags``,
      ``default_priority``, ``default_service_id``.

    :param opsgenie_incident_conn_id: the connection id.
    :param retry_timeout: overrides the connection's total retry budget, in seconds.
    :param max_attempts: overrides the connection's number of attempts per call.

    .. seealso:: https://docs.opsgenie.com/docs/incident-api
    """

    conn_name_attr = "opsgenie_incident_conn_id"
    default_conn_name = "opsgenie_incident_default"
    conn_type = "opsgenie_incident"
    hook_name = "Opsgenie Incident"

    def __init__(
        self,
        opsgenie_incident_conn_id: str = default_conn_name,
        *,
        retry_timeout: float | None = None,
        max_attempts: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.opsgenie_incident_conn_id = opsgenie_incident_conn_id
        self.retry_timeout = retry_timeout
        self.max_attempts = max_attempts

    def __repr__(self) -> str:
        return f"{type(self).__name__}(opsgenie_incident_conn_id={self.opsgenie_incident_conn_id!r})"

    def settings_from_connection(self, connection: Connection) -> ClientSettings:
        """Turn an Airflow connection into client settings."""
        extra = connection.extra_dejson
        retry = RetrySettings(
            total_timeout=self.retry_timeout
            if self.retry_timeout is not None
            else _number(extra, "retry_timeout", 60.0),
            max_attempts=self.max_attempts
            if self.max_attempts is not None
            else int(_number(extra, "max_attempts", 6)),
        )
        return ClientSettings(
            api_key=connection.password or "",
            base_url=resolve_base_url(
                _host_with_port(connection.host, connection.port), region=_extra_value(extra, "region")
            ),
            connect_timeout=_number(extra, "connect_timeout", 5.0),
            read_timeout=_number(extra, "read_timeout", 15.0),
            retry=retry,
            proxy=_extra_value(extra, "proxy"),
            web_url=_extra_value(extra, "web_url"),
        )

    @cached_property
    def connection(self) -> Connection:
        """The Airflow connection, looked up once, on first use; its key is registered for masking."""
        connection = self.get_connection(self.opsgenie_incident_conn_id)
        _mask_key(connection)
        return connection

    @cached_property
    def settings(self) -> ClientSettings:
        """The client settings built from the connection."""
        return self.settings_from_connection(self.connection)

    @cached_property
    def client(self) -> OpsgenieIncidentClient:
        """The synchronous client: one HTTP session for every call of this hook."""
        from airflow_provider_opsgenie_incident.client.sync import OpsgenieIncidentClient

        return OpsgenieIncidentClient(self.settings)

    def get_conn(self) -> OpsgenieIncidentClient:
        """Return the synchronous client."""
        return self.client

    async def aget_incident_connection(self) -> Connection:
        """Look the connection up asynchronously (triggerer); its key is registered for masking."""
        connection = await self.aget_connection(self.opsgenie_incident_conn_id)
        _mask_key(connection)
        return connection

    async def get_async_client(self, connection: Connection | None = None) -> AsyncOpsgenieIncidentClient:
        """
        Build an async client; the caller closes it.

        :param connection: a connection the caller already looked up; else it is read asynchronously.
        """
        from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient

        connection = connection or await self.aget_incident_connection()
        return AsyncOpsgenieIncidentClient(self.settings_from_connection(connection))

    @cached_property
    def defaults(self) -> IncidentDefaults:
        """Defaults for new incidents from the connection extra."""
        return self.defaults_from_connection(self.connection)

    @staticmethod
    def defaults_from_connection(connection: Connection) -> IncidentDefaults:
        """Read the defaults for new incidents from a connection's extra (for an async caller's lookup)."""
        extra = connection.extra_dejson
        return IncidentDefaults(
            responders=_responders(_extra_value(extra, "default_responders")),
            tags=_string_list(_extra_value(extra, "default_tags")),
            priority=_extra_value(extra, "default_priority"),
            service_id=_extra_value(extra, "default_service_id"),
        )

    def call(self, endpoint: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Call one catalogue endpoint by name with its Python-named arguments; the one way in."""
        return self.client.call(endpoint, arguments)

    def wait_for_request(self, request_id: str, *, timeout: float = 60.0) -> dict[str, Any]:
        """
        Wait until an asynchronous request is processed and return its status ``data``.

        :raises RequestFailedError: processed with success false; the message is the server's status.
        :raises WaitTimeoutError: not processed within ``timeout`` seconds.
        """
        return self.client.wait_for_request(request_id, timeout=timeout)

    def iter_incidents(self, query: str, *, order: Order | None = None) -> Iterator[dict[str, Any]]:
        """Yield every incident matching a search query."""
        return self.client.iter_incidents(query, order=order)

    def iter_notes(self, identifier: str) -> Iterator[dict[str, Any]]:
        """Yield every note of an incident."""
        return self.client.iter_notes(identifier)

    def iter_logs(self, identifier: str) -> Iterator[dict[str, Any]]:
        """Yield every activity log entry of an incident."""
        return self.client.iter_logs(identifier)

    def iter_timeline_entries(self, incident_id: str) -> Iterator[dict[str, Any]]:
        """Yield every timeline entry of an incident."""
        return self.client.iter_timeline_entries(incident_id)

    def incident_url(
        self, incident: Mapping[str, Any] | None = None, incident_id: str | None = None
    ) -> str | None:
        """Return an incident's web page: its ``links.web``, else one built from the extra ``web_url``."""
        links = (incident or {}).get("links") or {}
        if isinstance(links, Mapping) and links.get("web"):
            return str(links["web"])
        return self.settings.incident_url(incident_id or str((incident or {}).get("id") or ""))

    def test_connection(self) -> tuple[bool, str]:
        """Make one cheap authenticated read (a one-item incident list); never writes."""
        try:
            self.client.list_incidents(query="status:open", limit=1)
        except OpsgenieIncidentError as error:
            return False, str(error)
        return True, "Connection successfully tested"
