"""The one retry policy of the client, shared by the sync and async transports.

What is retried (:func:`should_retry`): 429, 500, 502, 503 and 504, connection failures and
timeouts; never another 4xx. One predicate, :func:`may_have_been_applied`, says whether a failure
may have taken effect (the request left, and no clear answer came back). Such a failure is
retried blindly only for a call that is safe to repeat; a write that is not (it is not
idempotent, or it carries a note) is never repeated before the server has been asked whether it
was applied (:mod:`.verification`, which also lists which writes are which). A failure that
provably never reached the server (connection refused, connect timeout, 429) is retried for
every call.

How long to wait (:class:`ServerGuidedWait`): the server's ``Retry-After``, else its
``X-RateLimit-Period-In-Sec`` hint, else exponential backoff with jitter; after a 429, at least
until the account's next free turn (:mod:`.pacer`, which decides when anyone may send). When to
stop (:class:`BudgetStop`): before a wait would overrun the total time budget, or the budget of
the flow the call is part of; or after ``max_attempts`` errors. A 429 is not an error while time
is left: it is waited out, so the attempt count bounds errors, not throttling. The last typed
error is then raised as it is (``reraise=True``), never a ``tenacity.RetryError``.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from tenacity import AsyncRetrying, Retrying, retry_if_exception
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from airflow_provider_opsgenie_incident.client.errors import (
    InvalidRequestError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from airflow_provider_opsgenie_incident.client.pacer import current_deadline
from airflow_provider_opsgenie_incident.connection import default

if TYPE_CHECKING:
    from tenacity import RetryCallState

    from airflow_provider_opsgenie_incident.client.pacer import Pacer

__all__ = [
    "RETRY_STATUSES",
    "BudgetStop",
    "RetrySettings",
    "ServerGuidedWait",
    "after_first_attempt",
    "async_retrying",
    "may_have_been_applied",
    "retrying",
    "should_retry",
]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

P = TypeVar("P", Retrying, AsyncRetrying)


@dataclass(frozen=True)
class RetrySettings:
    """
    The retry budget of one client.

    :param total_timeout: seconds after which no further attempt starts (waits included).
    :param max_attempts: attempts that failed with an error at most, the first one included; 1
        disables retries. A 429 does not count: it is waited out while ``total_timeout`` lasts.
    :param backoff_initial: the first backoff, in seconds, before jitter.
    :param backoff_max: the longest backoff, in seconds, before jitter.
    :param verify_window: seconds over which a write that failed ambiguously is looked for before it
        is sent again, for a server that applies writes a little after it accepts them.
    """

    total_timeout: float = default("retry_timeout")
    max_attempts: int = default("max_attempts")
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    verify_window: float = 2.5

    def __post_init__(self) -> None:
        for name, value, minimum in (
            ("retry_timeout", self.total_timeout, 0),
            ("max_attempts", self.max_attempts, 1),
            ("backoff_initial", self.backoff_initial, 0),
            ("verify_window", self.verify_window, 0),
        ):
            if value < minimum:
                raise InvalidRequestError(f"{name} must be at least {minimum}, got {value}", field=name)


def should_retry(error: BaseException, *, idempotent: bool) -> bool:
    """
    Decide whether a failed attempt is worth another: the whole retry classifier.

    :param idempotent: whether the call is safe to repeat (:attr:`.PreparedRequest.repeatable`).
    """
    if isinstance(error, RateLimitedError):
        return True
    if may_have_been_applied(error):
        return idempotent and (not isinstance(error, ServerError) or error.status in RETRY_STATUSES)
    return isinstance(error, TransportError)


def may_have_been_applied(error: BaseException) -> bool:
    """
    Decide whether a failed write may nevertheless have been applied by the server.

    True after a timeout or reset once the request was sent, and after any server error (a gateway's
    500/502/503/504, or a malformed answer) since the backend may have acted before it failed.
    """
    if isinstance(error, TransportError):
        return error.request_sent
    return isinstance(error, ServerError)


class ServerGuidedWait(wait_base):
    """Wait as the server asked after a 429, else back off exponentially with jitter.

    :param pacer: the account's pacer: after a 429, the wait lasts at least until its next free turn.
    """

    def __init__(self, settings: RetrySettings, pacer: Pacer | None = None) -> None:
        self.settings = settings
        self.pacer = pacer

    def __call__(self, retry_state: RetryCallState) -> float:
        """Return the seconds to sleep before the next attempt."""
        error = retry_state.outcome.exception() if retry_state.outcome else None
        turn = self.pacer.delay() if self.pacer is not None and isinstance(error, RateLimitedError) else 0.0
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            return max(float(error.retry_after), turn)
        backoff = min(
            self.settings.backoff_initial * 2.0 ** (retry_state.attempt_number - 1), self.settings.backoff_max
        )
        # Jitter in [backoff/2, backoff] spreads the retries of many workers failing at once.
        return max(backoff * random.uniform(0.5, 1.0), turn)


class BudgetStop(stop_base):
    """
    Stop before a wait would overrun the time budget (the call's or its flow's), or after too many errors.

    A 429 is not counted as an error: throttling is waited out for as long as the budget lasts.
    """

    def __init__(self, settings: RetrySettings) -> None:
        self.settings = settings

    def __call__(self, retry_state: RetryCallState) -> bool:
        """Tell whether to give up after this failed attempt."""
        upcoming = retry_state.upcoming_sleep
        if (retry_state.seconds_since_start or 0.0) + upcoming >= self.settings.total_timeout:
            return True
        if time.monotonic() + upcoming >= current_deadline():
            return True
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, RateLimitedError):
            return False
        errors: int = getattr(retry_state, "_errors", 0) + 1
        retry_state._errors = errors  # type: ignore[attr-defined]
        return errors >= self.settings.max_attempts


def _policy(settings: RetrySettings, *, idempotent: bool, pacer: Pacer | None) -> dict[str, object]:
    return {
        "retry": retry_if_exception(lambda error: should_retry(error, idempotent=idempotent)),
        "wait": ServerGuidedWait(settings, pacer),
        "stop": BudgetStop(settings),
        "reraise": True,
    }


def retrying(settings: RetrySettings, *, idempotent: bool, pacer: Pacer | None = None) -> Retrying:
    """Build the sync policy; one instance is reusable across threads (tenacity keeps state per thread)."""
    return Retrying(**_policy(settings, idempotent=idempotent, pacer=pacer))  # type: ignore[arg-type]


def async_retrying(settings: RetrySettings, *, idempotent: bool, pacer: Pacer | None = None) -> AsyncRetrying:
    """Build the async policy; copy it per call, as coroutines of one thread would share its state."""
    return AsyncRetrying(**_policy(settings, idempotent=idempotent, pacer=pacer))  # type: ignore[arg-type]


def after_first_attempt(policy: P, started: float) -> P:
    """
    Return a copy of ``policy`` for a call whose first attempt already ran, and failed, outside it.

    Entering tenacity costs a tenth of a sync call's CPU and a third of a trigger poll's, so both
    clients make the first attempt directly and enter the policy only on a failure, which the
    caller replays as the policy's first attempt. The copy starts its clock at ``started`` (the
    ``time.monotonic()`` of that attempt), so attempts and time budget are what they would have
    been; a copy per call also keeps concurrent coroutines of one thread from sharing its state.
    """

    def from_the_first_attempt(retry_state: RetryCallState) -> None:
        if retry_state.attempt_number == 1:
            retry_state.start_time = started

    return policy.copy(before=from_the_first_attempt)
