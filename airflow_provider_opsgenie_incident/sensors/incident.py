"""Sensors that wait for an asynchronous request to be processed or for an incident to reach a status.

Both work in ``poke`` and ``reschedule`` mode in the worker, or with ``deferrable=True`` in the
triggerer (they poke once in the worker first, so a condition that already holds costs no deferral;
once deferred, a task stays deferred at least ``_tasks.min_deferral()`` seconds, 10 s by default,
which keeps it clear of Airflow 3.2-3.3's scheduler/triggerer race). ``timeout`` and ``soft_fail``
behave the same in every mode: running out of time raises ``AirflowSensorTimeout``, or skips the
task with ``soft_fail``; so does an incident reaching one of ``failure_statuses``
(``AirflowFailException``: no retry). A request processed with success false fails the task with
``RequestFailedError`` and the server's status text. Under ``dag.test()``, which runs a deferred
task's trigger in line, the trigger keeps the sensor's deadline, and a SIGTERM ends the wait (see
``on_kill``).
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, get_args

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_opsgenie_incident._compat import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    AirflowTaskTerminated,
    default_deferrable,
    in_process_run,
)
from airflow_provider_opsgenie_incident._tasks import (
    IncidentTargetTask,
    OpsgenieIncidentTask,
    earliest_trigger_end,
    request_result,
)
from airflow_provider_opsgenie_incident.client.errors import (
    InvalidRequestError,
    NotFoundError,
    OpsgenieIncidentError,
    WaitTimeoutError,
    error_from_dict,
)
from airflow_provider_opsgenie_incident.client.types import IncidentStatus
from airflow_provider_opsgenie_incident.links import OpsgenieIncidentLink

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context
    from airflow.triggers.base import BaseTrigger

__all__ = ["OpsgenieIncidentRequestSensor", "OpsgenieIncidentStatusSensor"]

_STATUSES: tuple[str, ...] = get_args(IncidentStatus)


class _OpsgenieIncidentSensor(OpsgenieIncidentTask, BaseSensorOperator):
    """
    Poke in the worker, or poke once and wait in the triggerer.

    :param deferrable: wait in the triggerer (polling every ``poke_interval``) instead of the worker.
    """

    #: The success event's field carrying what :meth:`_done` reads.
    event_field: ClassVar[str]

    def __init__(self, *, deferrable: bool = default_deferrable(), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if deferrable and self.reschedule:
            raise ValueError(
                "deferrable=True waits in the triggerer; it cannot be combined with mode='reschedule'"
            )
        if deferrable and self.exponential_backoff:
            raise ValueError(
                "deferrable=True polls every poke_interval; exponential_backoff is not supported"
            )
        self.deferrable = deferrable

    def _trigger(self, deadline: float) -> BaseTrigger:
        raise NotImplementedError

    def _done(self, context: Context, found: dict[str, Any]) -> Any:
        """Check what the wait found and return the task's XCom value."""
        raise NotImplementedError

    def execute(self, context: Context) -> Any:
        """Poke in the worker; when deferrable, poke once and hand the wait to the triggerer."""
        if not self.deferrable:
            return super().execute(context)
        deadline = time.time() + self.timeout
        done = self._first_poke(context)
        if done:
            return done.xcom_value if isinstance(done, PokeReturnValue) else None
        self.defer(
            trigger=self._trigger(deadline),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def _first_poke(self, context: Context) -> bool | PokeReturnValue:
        # The worker's poke loop (BaseSensorOperator.execute) maps errors this way; keep it here too.
        try:
            return self.poke(context)
        except AirflowFailException as error:
            if self.soft_fail or self.never_fail:
                raise AirflowSkipException(f"Skipping: {error}") from error
            raise
        except OpsgenieIncidentError as error:
            if self.never_fail:
                raise AirflowSkipException(f"Skipping: {error}") from error
            if not self.silent_fail:
                raise
            self.log.error("Sensor poke failed: %s", error)
            return False

    def on_kill(self) -> None:
        """
        End the wait on a SIGTERM when ``dag.test()`` runs it in line.

        Airflow's task runner answers a SIGTERM by calling ``on_kill`` and carrying on, counting on
        the worker's supervisor to end the process. ``dag.test()`` has no such supervisor: the poke
        loop, or the trigger it runs in line after a deferral, lives in the process that got the
        signal and would wait out the whole ``timeout``. There the sensor raises
        ``AirflowTaskTerminated``: a poking sensor fails, and a trigger run in line ends the
        ``dag.test()`` call. In a worker nothing changes. Airflow also calls ``on_kill`` while
        handling an ``execution_timeout``; that error stands.
        """
        if sys.exc_info()[1] is None and in_process_run():
            raise AirflowTaskTerminated(f"{self.task_id} received SIGTERM; its wait under dag.test() ends")

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """
        Resume after the trigger with the same result, or the same error, as a poke in the worker.

        A timeout becomes ``AirflowSensorTimeout``, which ``soft_fail`` turns into a skip.
        """
        if event.get("status") == "success":
            return self._done(context, event[self.event_field])
        error = error_from_dict(event["error"])
        if isinstance(error, WaitTimeoutError):
            raise AirflowSensorTimeout(str(error)) from error
        if self.never_fail:
            raise AirflowSkipException(f"Skipping: {error}") from error
        raise error


class OpsgenieIncidentRequestSensor(_OpsgenieIncidentSensor):
    """
    Wait until Opsgenie has processed an asynchronous request (an incident write).

    :param request_id: the ``requestId`` a write returned, e.g.
        ``"{{ ti.xcom_pull('close')['request_id'] }}"`` (templated).
    :param poke_interval: seconds between pokes (default 2); in the triggerer, the longest pause of
        a poll interval that starts at 50 ms and grows.
    :return: ``{"request_id", "incident_id", "action", "status"}``.
    :raises RequestFailedError: the request was processed with success false.

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#get-request-status
    """

    template_fields: Sequence[str] = (*_OpsgenieIncidentSensor.template_fields, "request_id")
    event_field = "data"

    def __init__(self, *, request_id: str, poke_interval: float = 2.0, **kwargs: Any) -> None:
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.request_id = request_id

    def poke(self, context: Context) -> bool | PokeReturnValue:
        """Read the request's status once."""
        from airflow_provider_opsgenie_incident.client.waiting import RequestWait

        try:
            response = self.hook.get_request_status(request_id=self.request_id)
        except NotFoundError:
            self.log.info("Request %s is not processed yet", self.request_id)
            return False
        data = RequestWait(self.request_id).outcome(response)
        return False if data is None else PokeReturnValue(True, self._done(context, data))

    def _trigger(self, deadline: float) -> BaseTrigger:
        from airflow_provider_opsgenie_incident.triggers.incident import OpsgenieIncidentRequestTrigger

        return OpsgenieIncidentRequestTrigger(
            request_id=self.request_id,
            opsgenie_incident_conn_id=self.opsgenie_incident_conn_id,
            deadline=deadline,
            max_interval=self.poke_interval,
            not_before=earliest_trigger_end(),
        )

    def _done(self, context: Context, found: dict[str, Any]) -> dict[str, Any]:
        return request_result(self.request_id, found)


class OpsgenieIncidentStatusSensor(IncidentTargetTask, _OpsgenieIncidentSensor):
    """
    Wait until an incident is in one of ``target_statuses``, e.g. until it is resolved.

    :param target_statuses: the statuses that end the wait with success: ``open``, ``resolved``
        or ``closed`` (templated).
    :param failure_statuses: statuses that end it with a failure (a skip with ``soft_fail``),
        e.g. ``["closed"]`` while waiting for ``resolved`` (templated).
    :return: the incident; its web address also feeds the task's "Opsgenie incident" link.

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#get-incident
    """

    template_fields: Sequence[str] = (
        *_OpsgenieIncidentSensor.template_fields,
        *IncidentTargetTask.template_fields,
        "target_statuses",
        "failure_statuses",
    )
    template_fields_renderers = {"target_statuses": "json", "failure_statuses": "json"}
    operator_extra_links = (OpsgenieIncidentLink(),)
    event_field = "incident"

    def __init__(
        self,
        *,
        target_statuses: Sequence[IncidentStatus] = ("resolved", "closed"),
        failure_statuses: Sequence[IncidentStatus] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.target_statuses = target_statuses
        self.failure_statuses = failure_statuses

    def _statuses(self) -> tuple[list[str], list[str]]:
        """Return the (rendered) target and failure statuses, checked."""
        target: list[str] = list(self.target_statuses)
        failure: list[str] = list(self.failure_statuses)
        for field, statuses in (("target_statuses", target), ("failure_statuses", failure)):
            unknown = sorted(set(statuses) - set(_STATUSES))
            if unknown:
                raise InvalidRequestError(
                    f"{field} must be among {', '.join(_STATUSES)}; got {', '.join(map(str, unknown))}",
                    field=field,
                )
        if not target or set(target) & set(failure):
            raise InvalidRequestError(
                "target_statuses must be non-empty and share no status with failure_statuses",
                field="target_statuses",
            )
        return target, failure

    def poke(self, context: Context) -> bool | PokeReturnValue:
        """Read the incident once."""
        target, failure = self._statuses()
        response = self.hook.get_incident(identifier=self.identifier, identifier_type=self.identifier_type)
        incident: dict[str, Any] = response.get("data") or {}
        self.log.info("Incident %s is %s", incident.get("id", self.identifier), incident.get("status"))
        if incident.get("status") not in (*target, *failure):
            return False
        return PokeReturnValue(True, self._done(context, incident))

    def _trigger(self, deadline: float) -> BaseTrigger:
        from airflow_provider_opsgenie_incident.triggers.incident import OpsgenieIncidentStatusTrigger

        target, failure = self._statuses()
        return OpsgenieIncidentStatusTrigger(
            identifier=self.identifier,
            statuses=[*target, *failure],
            identifier_type=self.identifier_type,
            opsgenie_incident_conn_id=self.opsgenie_incident_conn_id,
            poll_interval=self.poke_interval,
            deadline=deadline,
            not_before=earliest_trigger_end(),
        )

    def _done(self, context: Context, found: dict[str, Any]) -> dict[str, Any]:
        OpsgenieIncidentLink.persist(context, self.hook.incident_url(incident=found))
        status = found.get("status")
        if status in self._statuses()[1]:
            raise AirflowFailException(f"incident {found.get('id', self.identifier)} is {status}")
        return found
