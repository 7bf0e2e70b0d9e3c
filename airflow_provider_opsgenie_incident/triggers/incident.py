"""Triggers that wait in the triggerer: for a request to be processed, for an incident to reach a status.

Both share one stem, :class:`_OpsgenieIncidentPollTrigger`: read the connection again (the kwargs
hold only JSON primitives, never the key), borrow the async client, poll until done, sleeping
between polls, and yield exactly one event::

    {"status": "success", ...}                        the request's data / the incident
    {"status": "error", "error": error.to_dict(), ...} rebuilt by ``error_from_dict`` in the task

Retries (429, 5xx, network errors) and error types are the async client's, the same as the sync
client's. A ``deadline`` (seconds since the epoch, so that it survives a triggerer restart) ends
the wait with :class:`WaitTimeoutError`; a ``not_before`` (also seconds since the epoch) holds the
event back until then, so that a task never resumes within moments of deferring
(see ``_tasks.min_deferral``).

Every trigger of one connection in one triggerer borrows the same async client: building one for
https costs about 24 ms of CPU and 0.8 MB (mostly its TLS context and CA bundle), so a client per
trigger would spend ~24 s of CPU and ~800 MB on a thousand waiting sensors. A client held per
trigger would also lose its keep-alive connection between polls (idle connections close after
5 s) and pay a TLS handshake on every poll; the shared client keeps a few connections warm, so a
poll is one HTTP exchange. The client bounds the exchanges in flight (a triggerer restart wakes
every trigger at once), and a retry's backoff holds no connection.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
import weakref
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient
from airflow_provider_opsgenie_incident.client.errors import (
    NotFoundError,
    OpsgenieIncidentError,
    WaitTimeoutError,
)
from airflow_provider_opsgenie_incident.client.protocol import prepare
from airflow_provider_opsgenie_incident.client.waiting import RequestWait
from airflow_provider_opsgenie_incident.hooks.incident import OpsgenieIncidentHook

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

    from airflow_provider_opsgenie_incident.client.settings import ClientSettings
    from airflow_provider_opsgenie_incident.client.types import IdentifierType

__all__ = ["OpsgenieIncidentRequestTrigger", "OpsgenieIncidentStatusTrigger"]

_DEFAULT_CONN_ID = OpsgenieIncidentHook.default_conn_name


class _ClientLease:
    """One shared client and the number of triggers using it."""

    def __init__(self, client: AsyncOpsgenieIncidentClient) -> None:
        self.client = client
        self.users = 0


# Per event loop, because a client's connections belong to the loop they were opened on.
_LEASES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[ClientSettings, _ClientLease]] = (
    weakref.WeakKeyDictionary()
)


@asynccontextmanager
async def _shared_client(conn_id: str) -> AsyncIterator[_ClientLease]:
    """Lend the client of this connection's current settings; the last borrower closes it."""
    hook = OpsgenieIncidentHook(conn_id)
    # Keyed by the settings, key included: a rotated key or a changed host gets a new client.
    settings = hook.settings_from_connection(await hook.aget_incident_connection())
    leases = _LEASES.setdefault(asyncio.get_running_loop(), {})
    lease = leases.get(settings)
    if lease is None:
        lease = leases[settings] = _ClientLease(AsyncOpsgenieIncidentClient(settings))
    lease.users += 1
    try:
        yield lease
    finally:
        lease.users -= 1
        if lease.users == 0:
            if leases.get(settings) is lease:
                del leases[settings]
            await lease.client.aclose()


async def _poll(
    lease: _ClientLease,
    poke: Callable[[AsyncOpsgenieIncidentClient], Awaitable[dict[str, Any] | None]],
    next_interval: Callable[[], float],
    *,
    first_delay: float = 0.0,
) -> dict[str, Any]:
    """Call ``poke`` until it returns a result, sleeping ``next_interval()`` seconds between calls."""
    await asyncio.sleep(first_delay)
    while True:
        result = await poke(lease.client)
        if result is not None:
            return result
        await asyncio.sleep(next_interval())


class _OpsgenieIncidentPollTrigger(BaseTrigger):
    """
    Poll Opsgenie until a condition holds; yield one success or error event.

    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection, read in the triggerer.
    :param deadline: when to give up, in seconds since the epoch; None waits until the task's
        deferral timeout.
    :param not_before: the earliest time to yield the event, in seconds since the epoch: a result
        found sooner is held back until then. None yields it at once.
    """

    def __init__(
        self, *, opsgenie_incident_conn_id: str, deadline: float | None, not_before: float | None = None
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.opsgenie_incident_conn_id = opsgenie_incident_conn_id
        self.deadline = deadline
        self.not_before = not_before

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the class path and the keyword arguments that rebuild this trigger."""
        return f"{type(self).__module__}.{type(self).__qualname__}", self._kwargs()

    def _kwargs(self) -> dict[str, Any]:
        return {
            "opsgenie_incident_conn_id": self.opsgenie_incident_conn_id,
            "deadline": self.deadline,
            "not_before": self.not_before,
        }

    def _subject(self) -> dict[str, Any]:
        """Return the fields naming what is waited for, repeated in every event."""
        raise NotImplementedError

    async def _wait(self, lease: _ClientLease) -> dict[str, Any]:
        """Poll until done and return the success event's fields."""
        raise NotImplementedError

    def _remaining(self) -> float:
        return math.inf if self.deadline is None else self.deadline - time.time()

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Wait, then yield exactly one event, not before ``not_before``."""
        try:
            async with _shared_client(self.opsgenie_incident_conn_id) as lease:
                result = await self._wait(lease)
            event = {"status": "success", **self._subject(), **result}
        except OpsgenieIncidentError as error:
            self.log.info("Waiting for %s failed: %s", self._subject(), error)
            event = {"status": "error", **self._subject(), "error": error.to_dict()}
        held = 0.0 if self.not_before is None else self.not_before - time.time()
        if held > 0:
            # Resuming sooner could meet the executor's late report of the deferral: see _tasks.min_deferral.
            self.log.info(
                "Done; holding the event %.1f s, until the task has been deferred long enough", held
            )
            await asyncio.sleep(held)
        yield TriggerEvent(event)  # type: ignore[no-untyped-call]


class OpsgenieIncidentRequestTrigger(_OpsgenieIncidentPollTrigger):
    """
    Wait until Opsgenie has processed an asynchronous request.

    The poll interval starts at 50 ms and grows with the time already waited (a tenth of it), up
    to ``max_interval``, as the worker's wait does. The success event carries the request's
    status ``data`` (``incidentId``, ``action``, ``status``...); a request processed with success
    false gives an error event holding :class:`RequestFailedError` with the server's status text.

    :param request_id: the ``requestId`` of the write.
    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection.
    :param deadline: when to give up with :class:`WaitTimeoutError`, in seconds since the epoch.
    :param max_interval: the longest pause between two polls, in seconds.
    :param not_before: the earliest time to yield the event, in seconds since the epoch.
    """

    def __init__(
        self,
        *,
        request_id: str,
        opsgenie_incident_conn_id: str = _DEFAULT_CONN_ID,
        deadline: float | None = None,
        max_interval: float = 2.0,
        not_before: float | None = None,
    ) -> None:
        super().__init__(
            opsgenie_incident_conn_id=opsgenie_incident_conn_id, deadline=deadline, not_before=not_before
        )
        self.request_id = request_id
        self.max_interval = max_interval

    def _kwargs(self) -> dict[str, Any]:
        return {"request_id": self.request_id, **super()._kwargs(), "max_interval": self.max_interval}

    def _subject(self) -> dict[str, Any]:
        return {"request_id": self.request_id}

    async def _wait(self, lease: _ClientLease) -> dict[str, Any]:
        wait = RequestWait(
            self.request_id, timeout=max(self._remaining(), 0.0), max_interval=self.max_interval
        )

        poll = prepare("get_request_status", {"request_id": self.request_id})

        async def poke(client: AsyncOpsgenieIncidentClient) -> dict[str, Any] | None:
            try:
                response: dict[str, Any] | None = await client.send(poll)
            except NotFoundError:
                response = None  # not processed yet
            return wait.outcome(response)

        return {"data": await _poll(lease, poke, wait.next_interval)}


class OpsgenieIncidentStatusTrigger(_OpsgenieIncidentPollTrigger):
    """
    Wait until an incident's status is one of ``statuses``; the success event carries the incident.

    :param identifier: the incident's id, or its tiny id with ``identifier_type="tiny"``.
    :param statuses: the statuses that end the wait (``open``, ``resolved``, ``closed``).
    :param identifier_type: ``id`` (the default) or ``tiny``.
    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection.
    :param poll_interval: seconds between two polls.
    :param deadline: when to give up with :class:`WaitTimeoutError`, in seconds since the epoch.
    :param not_before: the earliest time to yield the event, in seconds since the epoch.
    """

    def __init__(
        self,
        *,
        identifier: str,
        statuses: Sequence[str] = ("resolved", "closed"),
        identifier_type: IdentifierType | None = None,
        opsgenie_incident_conn_id: str = _DEFAULT_CONN_ID,
        poll_interval: float = 60.0,
        deadline: float | None = None,
        not_before: float | None = None,
    ) -> None:
        super().__init__(
            opsgenie_incident_conn_id=opsgenie_incident_conn_id, deadline=deadline, not_before=not_before
        )
        self.identifier = identifier
        self.statuses = list(statuses)
        self.identifier_type = identifier_type
        self.poll_interval = poll_interval

    def _kwargs(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "statuses": self.statuses,
            "identifier_type": self.identifier_type,
            **super()._kwargs(),
            "poll_interval": self.poll_interval,
        }

    def _subject(self) -> dict[str, Any]:
        return {"identifier": self.identifier}

    async def _wait(self, lease: _ClientLease) -> dict[str, Any]:
        last_status: list[str | None] = [None]

        poll = prepare(
            "get_incident", {"identifier": self.identifier, "identifier_type": self.identifier_type}
        )

        async def poke(client: AsyncOpsgenieIncidentClient) -> dict[str, Any] | None:
            response = await client.send(poll)
            incident: dict[str, Any] = response.get("data") or {}
            last_status[0] = incident.get("status")
            return {"incident": incident} if last_status[0] in self.statuses else None

        def next_interval() -> float:
            remaining = self._remaining()
            if remaining <= 0:
                raise WaitTimeoutError(
                    f"incident {self.identifier} is still {last_status[0]}, not "
                    f"{' or '.join(self.statuses)}, at the deadline"
                )
            return min(self.poll_interval, remaining)

        # The sensor poked just before deferring, so the first poll may wait: a random share of the
        # interval spreads triggers that start together (after a triggerer restart, say) over the
        # interval, instead of polling in one burst every interval forever.
        first_delay = random.random() * min(self.poll_interval, max(self._remaining(), 0.0))
        return await _poll(lease, poke, next_interval, first_delay=first_delay)
