"""The Airflow hook: an ``opsgenie_incident`` connection becomes a client of both Opsgenie APIs."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from airflow_provider_opsgenie_incident.client.errors import (
    InvalidRequestError,
    OpsgenieIncidentError,
    TransportError,
)
from airflow_provider_opsgenie_incident.client.paging import SyncMethods
from airflow_provider_opsgenie_incident.client.retry import RetrySettings
from airflow_provider_opsgenie_incident.client.settings import ClientSettings, resolve_base_url
from airflow_provider_opsgenie_incident.connection import (
    CONN_ID_PARAM,
    CONN_TYPE,
    DEFAULT_CONN_ID,
    EXTRAS,
    HOOK_NAME,
    default,
    extra_value,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow.sdk import Connection

    from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient
    from airflow_provider_opsgenie_incident.client.sync import OpsgenieIncidentClient
    from airflow_provider_opsgenie_incident.client.types import Responder

__all__ = ["IncidentDefaults", "OpsgenieIncidentHook"]

#: test_connection's (connect, read) timeouts at most, in seconds: the form waits for its answer.
_TEST_TIMEOUTS = (3.0, 5.0)


@dataclass(frozen=True)
class IncidentDefaults:
    """Defaults for new incidents, from the connection's extra (``default_*`` fields)."""

    responders: list[Responder] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    priority: str | None = default("default_priority")
    service_id: str | None = default("default_service_id")


def _host_with_port(host: str | None, port: int | None) -> str | None:
    """Put the connection's port into its host: a URI connection keeps them apart."""
    if not host or not port:
        return host
    scheme, separator, rest = host.rpartition("://")
    netloc, slash, path = rest.partition("/")
    if ":" not in netloc.rsplit("]", 1)[-1]:
        netloc = f"{netloc}:{port}"
    return f"{scheme}{separator}{netloc}{slash}{path}"


def _value(extra: Mapping[str, Any], name: str) -> Any:
    """Read one extra as its declared type (:data:`EXTRAS`), or its default when it is not set."""
    spec = EXTRAS[name]
    value = extra_value(extra, name)
    if value is None:
        return spec.default
    if spec.type == "string":
        return str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidRequestError(
            f"connection extra {name} must be a number, got {value!r}", field=name
        ) from None
    if spec.type == "integer":
        if not number.is_integer():
            raise InvalidRequestError(
                f"connection extra {name} must be a whole number, got {value!r}", field=name
            )
        return int(number)
    return number


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


def _transport_cause(error: TransportError, settings: ClientSettings) -> str:
    """Name why no answer came, from the exceptions the transport failure was raised over."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error.__cause__, error.__context__]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        name = type(current).__name__
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, socket.gaierror):
            return "host name not found"
        if isinstance(current, ssl.SSLError):
            return f"TLS failed ({current.reason or name})"
        if name.startswith("ConnectTimeout"):
            return f"no connection within {settings.connect_timeout:g} s"
        if name.startswith("ReadTimeout"):
            return f"no answer within {settings.read_timeout:g} s"
        if isinstance(current, ConnectionResetError):
            return "connection reset"
        pending += [current.__cause__, current.__context__, getattr(current, "reason", None)]
        pending += [arg for arg in current.args if isinstance(arg, BaseException)]
    return error.message


def _mask_key(connection: Connection) -> None:
    """Register the key with Airflow's secret masker, whatever the connection's source."""
    from airflow_provider_opsgenie_incident._compat import mask_secret

    if connection.password:
        mask_secret(connection.password)


class OpsgenieIncidentHook(BaseHook, SyncMethods):
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
    - **extra**: the fields of :data:`~airflow_provider_opsgenie_incident.connection.EXTRAS`, with
      their defaults: ``region``, ``web_url`` (the account's web address, for links), timeouts,
      the retry budget, ``proxy``, and defaults for the notifiers' incidents (``default_responders``
      as a list of responder objects or ``"team:NOC, user:jane@example.com"``, ``default_tags``,
      ``default_priority``, ``default_service_id``).

    :param opsgenie_incident_conn_id: the connection id.
    :param retry_timeout: overrides the connection's total retry budget, in seconds.
    :param max_attempts: overrides the connection's number of attempts per call.

    .. seealso:: https://docs.opsgenie.com/docs/incident-api
    """

    conn_name_attr = CONN_ID_PARAM
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = HOOK_NAME

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
            total_timeout=_value(extra, "retry_timeout")
            if self.retry_timeout is None
            else self.retry_timeout,
            max_attempts=_value(extra, "max_attempts") if self.max_attempts is None else self.max_attempts,
        )
        return ClientSettings(
            api_key=connection.password or "",
            base_url=resolve_base_url(
                _host_with_port(connection.host, connection.port), region=_value(extra, "region")
            ),
            connect_timeout=_value(extra, "connect_timeout"),
            read_timeout=_value(extra, "read_timeout"),
            retry=retry,
            proxy=_value(extra, "proxy"),
            web_url=_value(extra, "web_url"),
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
            responders=_responders(extra_value(extra, "default_responders")),
            tags=_string_list(extra_value(extra, "default_tags")),
            priority=_value(extra, "default_priority"),
            service_id=_value(extra, "default_service_id"),
        )

    def call(self, endpoint: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """
        Call one catalogue endpoint by name with its Python-named arguments; the one way in.

        The typed methods, the iterators (``iter_incidents``, ``iter_notes``, ``iter_logs``,
        ``iter_timeline_entries``) and :meth:`wait_for_request` all go through it.
        """
        return self.client.call(endpoint, arguments)

    def incident_url(
        self, incident: Mapping[str, Any] | None = None, incident_id: str | None = None
    ) -> str | None:
        """Return an incident's web page by the one rule, :func:`.client.settings.incident_url`."""
        return self.settings.incident_url(incident_id or "", incident=incident)

    def test_connection(self) -> tuple[bool, str]:
        """
        Make one cheap authenticated read (a one-item incident list); never writes.

        One attempt with short timeouts, so the form's Test button answers within seconds; a failure
        names the base URL (never the key) and its cause.
        """
        from airflow_provider_opsgenie_incident.client.sync import OpsgenieIncidentClient

        try:
            settings = self.settings
        except OpsgenieIncidentError as error:
            return False, f"invalid connection: {error}"
        once = replace(
            settings,
            connect_timeout=min(settings.connect_timeout, _TEST_TIMEOUTS[0]),
            read_timeout=min(settings.read_timeout, _TEST_TIMEOUTS[1]),
            retry=RetrySettings(total_timeout=0.0, max_attempts=1),
        )
        try:
            with OpsgenieIncidentClient(once) as client:
                client.list_incidents(query="status:open", limit=1)
        except TransportError as error:
            return False, f"could not connect to {once.base_url}: {_transport_cause(error, once)}"
        except OpsgenieIncidentError as error:
            status = f"{error.status} from" if error.status is not None else "failed at"
            return False, f"{status} {once.base_url}: {error.message}"
        return True, "Connection successfully tested"
