"""The private bases of every operator: one ``execute``, driven by the endpoint catalogue.

A concrete operator names its catalogue ``action`` and stores each of its arguments under the
catalogue's argument name; :meth:`_OpsgenieIncidentBaseOperator.execute` collects them and hands
them to ``hook.call(action, arguments)`` (which validates them before any I/O), then shapes the
answer for XCom:

- a synchronous action (get an incident, every timeline action) returns the response's ``data``;
- a listing pages through the results and returns at most ``max_results`` of them;
- an asynchronous write (create, close, add a note...) returns its ``requestId`` at once, or, by
  default, waits until Opsgenie has processed it, in the worker or deferred to the triggerer,
  and fails with :class:`RequestFailedError` (the server's status text) when it did not succeed.

Each parameter is documented once, in the base that owns it. Only the standard library,
``airflow.sdk`` and the client's pure modules are imported here: the hook (and with it
``requests``) is loaded when a task first needs it, never while a DAG is parsed.
"""

from __future__ import annotations

import time
from datetime import timedelta
from itertools import islice
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from airflow_provider_opsgenie_incident._compat import default_deferrable
from airflow_provider_opsgenie_incident._tasks import (
    IncidentTargetTask,
    OpsgenieIncidentTask,
    earliest_trigger_end,
    request_result,
)
from airflow_provider_opsgenie_incident.client.errors import ServerError, WaitTimeoutError, error_from_dict
from airflow_provider_opsgenie_incident.links import OpsgenieIncidentLink

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

# The trigger fails with WaitTimeoutError at ``wait_timeout`` on its own; the deferral timeout is
# only a backstop for a trigger that never reports, so it must not pre-empt that typed error.
_DEFERRAL_GRACE = 60.0


class _OpsgenieIncidentBaseOperator(OpsgenieIncidentTask):
    """Call one catalogue action through :class:`OpsgenieIncidentHook` and return its answer."""

    #: The catalogue key this operator calls.
    action: ClassVar[str]

    def execute(self, context: Context) -> Any:
        """Call the action with this operator's (rendered) arguments and return the result for XCom."""
        return self._result(context, self._request(self._arguments()))

    def _arguments(self) -> dict[str, Any]:
        """Collect the action's arguments from the attributes of the same name; None is "not given"."""
        from airflow_provider_opsgenie_incident.client.catalogue import ENDPOINTS

        return {
            name: value
            for name in ENDPOINTS[self.action].argument_names
            if (value := getattr(self, name, None)) is not None
        }

    def _request(self, arguments: dict[str, Any]) -> Any:
        return self.hook.call(self.action, arguments)

    def _result(self, context: Context, response: Any) -> Any:
        data = response.get("data", response)
        if self._links_incident and isinstance(data, dict):
            OpsgenieIncidentLink.persist(context, self.hook.incident_url(incident=data))
        return data

    @property
    def _links_incident(self) -> bool:
        """Whether the task shows the incident link, so its result must store the incident's address."""
        return any(isinstance(link, OpsgenieIncidentLink) for link in self.operator_extra_links)


class _OpsgenieIncidentListOperator(_OpsgenieIncidentBaseOperator):
    """
    Page through a listing with the hook's iterator and return at most ``max_results`` items.

    :param max_results: the most items to return (and store in XCom); None returns them all.
    """

    #: The hook method yielding every item, page after page (it takes the action's arguments).
    iterator: ClassVar[str]

    def __init__(self, *, max_results: int | None = 100, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if max_results is not None and max_results < 1:
            raise ValueError(f"max_results must be at least 1 or None, got {max_results!r}")
        self.max_results = max_results

    def _request(self, arguments: dict[str, Any]) -> list[dict[str, Any]]:
        items = getattr(self.hook, self.iterator)(**arguments)
        if self.max_results is None:
            return list(items)
        found = list(islice(items, self.max_results + 1))
        if len(found) > self.max_results:
            self.log.warning(
                "More than %d results: returning the first %d; raise max_results for more.",
                self.max_results,
                self.max_results,
            )
        return found[: self.max_results]

    def _result(self, context: Context, response: Any) -> Any:
        return response


class _OpsgenieIncidentRequestOperator(_OpsgenieIncidentBaseOperator):
    """
    Make an asynchronous write and, by default, wait until Opsgenie has processed it.

    The write itself always runs in the worker: a deferred write would be sent again if the
    triggerer restarted. Only the wait can move to the triggerer, and only a wait that is not over
    after ``defer_after`` seconds: Opsgenie usually processes a request well within a second, and
    a trigger that fires within moments of the deferral can get the task marked failed on Airflow
    3.2 and 3.3, so a task that defers stays deferred a few seconds at least.

    :param wait_for_completion: wait until the request is processed, and fail if it did not
        succeed; when False, return ``{"request_id"}`` at once.
    :param wait_timeout: seconds to wait at most before failing with ``WaitTimeoutError``.
    :param deferrable: wait in the triggerer instead of the worker. Without ``wait_for_completion``
        there is no wait to move, so a deployment-wide ``default_deferrable`` changes nothing.
    :param defer_after: with ``deferrable``, seconds to wait in the worker first (default 2, twice
        a slow processing time); a request processed by then costs no deferral. 0 polls once.
    :return: ``{"request_id", "incident_id", "action", "status"}`` of the processed request, each
        also its own XCom (only ``request_id`` without waiting).
    """

    def __init__(
        self,
        *,
        wait_for_completion: bool = True,
        wait_timeout: float = 60.0,
        deferrable: bool = default_deferrable(),
        defer_after: float = 2.0,
        **kwargs: Any,
    ) -> None:
        # Each key of the result is also its own XCom, so ``create.output["incident_id"]`` works.
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        if wait_timeout <= 0:
            raise ValueError(f"wait_timeout must be positive, got {wait_timeout!r}")
        if defer_after < 0:
            raise ValueError(f"defer_after must not be negative, got {defer_after!r}")
        self.wait_for_completion = wait_for_completion
        self.wait_timeout = wait_timeout
        self.deferrable = deferrable
        self.defer_after = defer_after

    def _result(self, context: Context, response: Any) -> dict[str, Any]:
        request_id = response.get("requestId")
        if not request_id and response.get("verified"):
            return self._applied(context, response.get("data") or {})
        if not request_id:
            raise ServerError(f"Opsgenie accepted {self.action} without a requestId", status=202)
        self.log.info("Opsgenie accepted %s: request %s", self.action, request_id)
        if not self.wait_for_completion:
            return {"request_id": request_id}
        deadline = time.time() + self.wait_timeout
        in_worker = min(self.defer_after, self.wait_timeout) if self.deferrable else self.wait_timeout
        try:
            data = self.hook.wait_for_request(request_id, timeout=in_worker)
        except WaitTimeoutError:
            if in_worker >= self.wait_timeout:
                raise
            self._defer_wait(request_id, deadline)
        return self._processed(context, request_id, data)

    def _applied(self, context: Context, found: dict[str, Any]) -> dict[str, Any]:
        """
        Report a write whose answer was lost but which the server shows applied (the client checked).

        There is no request to wait for; ``found`` is what showed it (an incident, a note, ...).
        """
        self.log.info("Opsgenie shows %s applied, although its answer was lost", self.action)
        by_id = getattr(self, "identifier_type", None) != "tiny"
        return {
            "request_id": None,
            "incident_id": getattr(self, "identifier", None) if by_id else None,
            "action": self.action,
            "status": "applied",
        }

    def _defer_wait(self, request_id: str, deadline: float) -> NoReturn:
        from airflow_provider_opsgenie_incident.triggers.incident import OpsgenieIncidentRequestTrigger

        self.log.info("Request %s is still pending: waiting in the triggerer", request_id)
        self.defer(
            trigger=OpsgenieIncidentRequestTrigger(
                request_id=request_id,
                opsgenie_incident_conn_id=self.opsgenie_incident_conn_id,
                deadline=deadline,
                not_before=earliest_trigger_end(),
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=max(deadline - time.time(), 0.0) + _DEFERRAL_GRACE),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """
        Resume after the trigger: return what a wait in the worker returns, or raise its typed error.

        :raises RequestFailedError: the request was processed with success false.
        :raises WaitTimeoutError: it was not processed within ``wait_timeout``.
        """
        if event.get("status") != "success":
            raise error_from_dict(event["error"])
        return self._processed(context, event["request_id"], event["data"])

    def _processed(self, context: Context, request_id: str, data: dict[str, Any]) -> dict[str, Any]:
        result = request_result(request_id, data)
        self.log.info("Request %s processed: %s", request_id, result["status"])
        if self._links_incident and result["incident_id"]:
            incident = self.hook.get_incident(identifier=result["incident_id"])["data"]
            result["tiny_id"] = incident.get("tinyId")
            result["url"] = self.hook.incident_url(incident=incident)
            OpsgenieIncidentLink.persist(context, result["url"])
        return result


class _OpsgenieIncidentActionOperator(IncidentTargetTask, _OpsgenieIncidentRequestOperator):
    """Make an asynchronous write on one incident."""

    template_fields: Sequence[str] = (
        *_OpsgenieIncidentRequestOperator.template_fields,
        *IncidentTargetTask.template_fields,
    )


class _OpsgenieIncidentNoteActionOperator(_OpsgenieIncidentActionOperator):
    """
    Act on one incident and leave an optional note in its activity.

    :param note: a note to add with the action, at most 25000 characters (templated).
    """

    template_fields: Sequence[str] = (*_OpsgenieIncidentActionOperator.template_fields, "note")

    def __init__(self, *, note: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.note = note
