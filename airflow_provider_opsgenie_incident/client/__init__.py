"""The Opsgenie Incident client layer: no Airflow imports anywhere below this package.

Everything but the errors is loaded on first access, so importing the errors or the catalogue (as
operator modules do while a DAG file is parsed) loads no transport, no retry machinery and no
``requests``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
)

if TYPE_CHECKING:
    from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient
    from airflow_provider_opsgenie_incident.client.retry import RetrySettings
    from airflow_provider_opsgenie_incident.client.settings import ClientSettings
    from airflow_provider_opsgenie_incident.client.sync import OpsgenieIncidentClient

__all__ = [
    "AsyncOpsgenieIncidentClient",
    "AuthenticationError",
    "ClientSettings",
    "InvalidRequestError",
    "NotFoundError",
    "OpsgenieIncidentClient",
    "OpsgenieIncidentError",
    "RateLimitedError",
    "RequestFailedError",
    "RetrySettings",
    "ServerError",
    "TransportError",
    "WaitTimeoutError",
]

_LAZY = {
    "ClientSettings": "airflow_provider_opsgenie_incident.client.settings",
    "RetrySettings": "airflow_provider_opsgenie_incident.client.retry",
    "OpsgenieIncidentClient": "airflow_provider_opsgenie_incident.client.sync",
    "AsyncOpsgenieIncidentClient": "airflow_provider_opsgenie_incident.client.asynchronous",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
