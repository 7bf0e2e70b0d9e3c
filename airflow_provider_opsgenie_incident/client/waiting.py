"""Waiting for an asynchronous request: the decisions, with no I/O, shared by both transports.

Every incident write answers 202 and a ``requestId``; the action happens later. The wait polls
``GET /v1/incidents/requests/{id}``: a 404 means "not processed yet", a processed request with
``success``/``isSuccess`` false raises :class:`RequestFailedError` with the server's status
text. The poll interval starts short and grows with the time already waited (a tenth of it), so
the wait adds at most about 10 % to the server's processing time, without polling a slow request
many times a second.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from airflow_provider_opsgenie_incident.client.errors import (
    NotFoundError,
    RequestFailedError,
    WaitTimeoutError,
)
from airflow_provider_opsgenie_incident.client.flows import Call, Sleep

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_opsgenie_incident.client.flows import Flow

__all__ = ["RequestWait", "wait_flow"]


class RequestWait:
    """
    The state of one wait for an asynchronous request.

    :param request_id: the ``requestId`` of the 202 answer.
    :param timeout: seconds to wait at most.
    :param min_interval: the first and shortest poll interval.
    :param max_interval: the longest poll interval.
    """

    def __init__(
        self,
        request_id: str,
        *,
        timeout: float = 60.0,
        min_interval: float = 0.05,
        max_interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.request_id = request_id
        self.timeout = timeout
        self.min_interval = min_interval
        self.max_interval = max_interval
        self._clock = clock
        self._started = clock()
        self.polls = 0

    def outcome(self, response: dict[str, Any] | None) -> dict[str, Any] | None:
        """
        Read one poll's answer: the request's ``data`` when processed successfully, None if pending.

        :param response: the request-status JSON, or None when the server answered 404.
        :raises RequestFailedError: the request was processed and failed.
        """
        self.polls += 1
        if response is None:
            return None
        data = response.get("data")
        if not isinstance(data, dict):
            return None
        succeeded = data.get("isSuccess", data.get("success"))
        if succeeded is False or data.get("success") is False:
            raise RequestFailedError(
                str(data.get("status") or "request failed"),
                request_id=self.request_id,
                action=data.get("action"),
                incident_id=data.get("incidentId") or None,
            )
        return data

    def next_interval(self) -> float:
        """
        Return how long to sleep before the next poll.

        :raises WaitTimeoutError: the time is up.
        """
        elapsed = self._clock() - self._started
        remaining = self.timeout - elapsed
        if remaining <= 0:
            raise WaitTimeoutError(
                f"request {self.request_id} was not processed within {self.timeout:g} s ({self.polls} polls)",
                request_id=self.request_id,
            )
        interval = min(max(elapsed / 10, self.min_interval), self.max_interval)
        return min(interval, remaining)


def wait_flow(request_id: str, *, timeout: float = 60.0) -> Flow[dict[str, Any]]:
    """Poll the request's status until it is processed; the flow behind every ``wait_for_request``."""
    wait = RequestWait(request_id, timeout=timeout)
    while True:
        try:
            response: dict[str, Any] | None = yield Call("get_request_status", {"request_id": request_id})
        except NotFoundError:
            response = None
        data = wait.outcome(response)
        if data is not None:
            return data
        yield Sleep(wait.next_interval())
