"""Flows as data: generators of steps with no I/O, and the two drivers that run them.

A flow is a generator that yields :class:`Call`, :class:`Wait` and :class:`Sleep` steps and
receives each step's result (or has its error thrown in), so one flow runs in a worker, a DAG
processor or the triggerer. :func:`run_flow` drives it with a synchronous client (or the hook),
:func:`arun_flow` with the asynchronous client; both use only the public ``call`` and
``wait_for_request``, share :func:`_resume` and :func:`_dispatch`, and differ only by ``await``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from airflow_provider_opsgenie_incident.client.errors import WaitTimeoutError
from airflow_provider_opsgenie_incident.client.pacer import budget

__all__ = ["Call", "Flow", "Sleep", "Step", "Wait", "arun_flow", "run_flow"]

T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """A step: call the catalogue endpoint ``endpoint`` with ``arguments``; the parsed JSON comes back."""

    endpoint: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Wait:
    """A step: wait until the asynchronous request is processed; its status ``data`` comes back."""

    request_id: str
    #: Seconds to wait at most; None: what is left of the flow's budget.
    timeout: float | None = None


@dataclass(frozen=True)
class Sleep:
    """A step: pause, to let the server process a request whose answer was lost."""

    seconds: float


Step = Call | Wait | Sleep
Flow = Generator[Step, Any, T]


class SyncApi(Protocol):
    """What :func:`run_flow` needs: the sync client or the hook."""

    def call(self, endpoint: str, arguments: Mapping[str, Any]) -> dict[str, Any]: ...

    def wait_for_request(self, request_id: str, *, timeout: float = ...) -> dict[str, Any]: ...


class AsyncApi(Protocol):
    """What :func:`arun_flow` needs: the async client."""

    async def call(self, endpoint: str, arguments: Mapping[str, Any]) -> dict[str, Any]: ...

    async def wait_for_request(self, request_id: str, *, timeout: float = ...) -> dict[str, Any]: ...


@dataclass(frozen=True)
class _Done:
    value: Any


def _resume(flow: Flow[Any], reply: Any, error: BaseException | None) -> Step | _Done:
    """Resume ``flow`` with the last step's reply, or throw its error in; return the next step."""
    try:
        return flow.throw(error) if error is not None else flow.send(reply)
    except StopIteration as stop:
        return _Done(stop.value)


def _dispatch(api: Any, step: Step, deadline: float, sleep: Callable[[float], Any]) -> Any:
    """
    Start one step (the async driver awaits what this returns), within the time budget.

    A wait gets what is left of the budget; any other step past the deadline fails with
    :class:`WaitTimeoutError`, which the driver throws into the flow like any other error.
    """
    remaining = max(deadline - time.monotonic(), 0.0)
    if isinstance(step, Wait):
        return api.wait_for_request(step.request_id, timeout=min(remaining, step.timeout or remaining))
    if remaining <= 0:
        raise WaitTimeoutError("gave up: the time budget is spent")
    if isinstance(step, Call):
        return api.call(step.endpoint, step.arguments)
    return sleep(min(step.seconds, remaining))


def run_flow(flow: Flow[T], api: SyncApi, *, timeout: float = 60.0) -> T:
    """
    Drive ``flow`` with a synchronous client or hook, within ``timeout`` seconds.

    The budget holds for every call of the flow too: no retry and no turn of the account's pacer
    (:mod:`.pacer`) is waited for past it.
    """
    reply, error = None, None
    with budget(timeout) as deadline:
        while not isinstance(step := _resume(flow, reply, error), _Done):
            try:
                reply, error = _dispatch(api, step, deadline, time.sleep), None
            except Exception as caught:  # thrown into the flow, which handles it or lets it propagate
                reply, error = None, caught
    return step.value  # type: ignore[no-any-return]


async def arun_flow(flow: Flow[T], api: AsyncApi, *, timeout: float = 60.0) -> T:
    """Drive ``flow`` with the asynchronous client, within ``timeout`` seconds (and the calls, as above)."""
    reply, error = None, None
    with budget(timeout) as deadline:
        while not isinstance(step := _resume(flow, reply, error), _Done):
            try:
                reply, error = await _dispatch(api, step, deadline, asyncio.sleep), None
            except Exception as caught:  # thrown into the flow, which handles it or lets it propagate
                reply, error = None, caught
    return step.value  # type: ignore[no-any-return]
