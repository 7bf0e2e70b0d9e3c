"""What every operator and sensor of this provider shares: the connection, its hook, the incident target.

Both parts are ``BaseOperator`` subclasses rather than plain mixins, so that Airflow's operator
metaclass sees their ``__init__``: a parameter it does not see is never filled from ``default_args``.
Operators and sensors combine them with their own bases, e.g.
``class Sensor(IncidentTargetTask, OpsgenieIncidentTask, BaseSensorOperator)``.

Only the standard library and ``airflow.sdk`` are imported here: the hook (and with it
``requests``) is loaded when a task first needs it, never while a DAG is parsed.
"""

from __future__ import annotations

import time
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_opsgenie_incident.connection import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_opsgenie_incident.client.types import IdentifierType
    from airflow_provider_opsgenie_incident.hooks.incident import OpsgenieIncidentHook

__all__ = [
    "DEFAULT_CONN_ID",
    "RESUME_MARGIN",
    "IncidentTargetTask",
    "OpsgenieIncidentTask",
    "earliest_trigger_end",
    "min_deferral",
    "request_result",
]

#: Seconds a deferred task of ours waits, beyond the worker's ``[workers] min_heartbeat_interval``,
#: before its trigger may fire. See :func:`min_deferral`.
RESUME_MARGIN = 5.0


def min_deferral() -> float:
    """
    Return how long a task of ours deferred now stays deferred at least, in seconds.

    Airflow 3.2 and 3.3 mark a task FAILED ("state mismatch") when it has already been queued again
    by the time the scheduler reads the executor's "success" for the process that deferred it
    (apache/airflow#66374, #71580, #72716). That report can come late: the worker's supervisor
    notices the deferring process's exit up to ``[workers] min_heartbeat_interval`` late (it sleeps
    that long once the task's sockets have closed), and the executor and the scheduler's loop add
    their own delay. So a trigger holds a result found sooner until this much time has passed:
    the heartbeat interval plus :data:`RESUME_MARGIN` (10 s with Airflow's defaults).
    """
    from airflow_provider_opsgenie_incident._compat import worker_heartbeat_interval

    return worker_heartbeat_interval() + RESUME_MARGIN


def earliest_trigger_end() -> float:
    """Return the ``not_before`` of a trigger deferred now, in seconds since the epoch."""
    return time.time() + min_deferral()


def request_result(request_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Summarise a processed asynchronous request for XCom."""
    return {
        "request_id": request_id,
        "incident_id": data.get("incidentId") or None,
        "action": data.get("action"),
        "status": data.get("status"),
    }


class OpsgenieIncidentTask(BaseOperator):
    """
    Hold the connection a task uses; its hook is built on first use, so constructing a task looks nothing up.

    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection (templated).
    """

    template_fields: Sequence[str] = ("opsgenie_incident_conn_id",)
    ui_color = "#e8f1fc"

    def __init__(self, *, opsgenie_incident_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.opsgenie_incident_conn_id = opsgenie_incident_conn_id

    @cached_property
    def hook(self) -> OpsgenieIncidentHook:
        """The hook of ``opsgenie_incident_conn_id`` (imported here, so parsing a DAG never loads it)."""
        from airflow_provider_opsgenie_incident.hooks.incident import OpsgenieIncidentHook

        return OpsgenieIncidentHook(self.opsgenie_incident_conn_id)


class IncidentTargetTask(BaseOperator):
    """
    Name the one incident a task acts on or waits for.

    :param identifier: the incident's id, or its tiny id with ``identifier_type="tiny"`` (templated).
    :param identifier_type: ``id`` (the default) or ``tiny`` (templated).
    """

    template_fields: Sequence[str] = ("identifier", "identifier_type")

    def __init__(
        self, *, identifier: str, identifier_type: IdentifierType | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.identifier = identifier
        self.identifier_type = identifier_type
