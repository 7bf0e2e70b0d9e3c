"""
Notifiers that open an Opsgenie incident when a task or DAG fails and resolve it when it recovers.

Attach them through ``default_args`` (every task), on a DAG, or as a Deadline Alert callback::

    default_args = opsgenie_incident_callbacks(priority="P2", tags=["billing"])

A failure opens one incident per fingerprint (by default the DAG id and task id; a DAG-level or
Deadline callback uses the DAG id). While it is open, later failures are recorded on it instead
of opening another; when the task (or DAG) succeeds, every open incident with the fingerprint is
resolved with a note. Many workers failing at once converge to one open incident without any lock
(see :mod:`airflow_provider_opsgenie_incident.client.incidents`).

The incident's timeline tells the story: each failure, each retry (with ``on_retry=True``), the
missed deadline and the recovery add one custom entry, stamped with the event's own time and
written exactly once (:mod:`airflow_provider_opsgenie_incident.client.story`). On an incident
already open the entry is the failure's record; a note is added instead only when the timeline
refuses it or is down, and the log says so. ``timeline=False`` turns the entries off.

Where the callbacks run: task callbacks in the worker, after the task; DAG callbacks and the
failure callbacks of tasks killed from outside in the DAG processor, with a smaller context (there
may be no ``ti`` and no ``dag_run``); Deadline Alert callbacks in the triggerer, through
``async_notify``, with only ``dag_run`` (a dict) and ``deadline`` in the context.

A notifier never raises into Airflow's callback machinery. When it cannot record what it was
called for within ``timeout`` seconds (its retry budget and its waits, 429s included), it logs one
ERROR line naming what was not recorded (task, try, the exception's first line, the log URL) and
why (for example ``throttled (HTTP 429) after 118 s of its 120 s budget``), so a down or
throttled Opsgenie cannot hold a worker and no failure goes unseen. The notifiers of one account
in a process share what they find: one searches for a fingerprint's open incident, the others
record their failures on it (:mod:`airflow_provider_opsgenie_incident.client.sightings`). The API key never
reaches a log line, an error or an incident.
"""

from __future__ import annotations

import random
import time
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseNotifier

from airflow_provider_opsgenie_incident._compat import redact_or_replace
from airflow_provider_opsgenie_incident.connection import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from types import ModuleType

    import jinja2
    from airflow.sdk import Context

    from airflow_provider_opsgenie_incident.client.flows import Flow, SyncApi
    from airflow_provider_opsgenie_incident.client.incidents import IncidentOutcome
    from airflow_provider_opsgenie_incident.client.settings import ClientSettings
    from airflow_provider_opsgenie_incident.client.story import Entry
    from airflow_provider_opsgenie_incident.client.types import Responder
    from airflow_provider_opsgenie_incident.hooks.incident import IncidentDefaults, OpsgenieIncidentHook
    from airflow_provider_opsgenie_incident.notifications._run import Run
    from airflow_provider_opsgenie_incident.notifications._story import Kind

__all__ = [
    "OpsgenieIncidentFailureNotifier",
    "OpsgenieIncidentRecoveryNotifier",
    "OpsgenieIncidentRetryNotifier",
    "opsgenie_incident_callbacks",
    "send_opsgenie_incident_failure_notification",
    "send_opsgenie_incident_recovery_notification",
    "send_opsgenie_incident_retry_notification",
]

#: Seconds a notification may take. A failure storm under the account's rate limit is waited out
#: for this long (docs/callbacks.md, "Rate limits and the time budget").
DEFAULT_TIMEOUT = 120.0
#: Seconds between the turns of two map indexes: longer than Opsgenie usually takes to apply a create,
#: so the next in line sees the incident of the one before it (by tiny id) and joins it.
STAGGER_STEP = 0.4
STAGGER_SLOTS = 16
#: Seconds over which failures of a task that is not mapped draw their turn.
UNMAPPED_SPREAD = 1.0
#: The failure notifier's own fields of the incident it opens, all templated.
_INCIDENT_FIELDS = ("message", "description", "details", "tags", "responders", "priority", "service_id")
_VERBS = {"created": "opened", "noted": "already open, failure recorded", "resolved": "resolved"}


def _stagger(map_index: str | None) -> float:
    """
    Return how long a worker that found no open incident watches for another one's before creating.

    Mapped instances failing together take turns by map index: map index 0 creates at once and the
    others join its incident as soon as it exists; when it did not fail, the lowest index that did
    creates, one turn (:data:`STAGGER_STEP`) later per index. Anything else draws a random moment.
    """
    if map_index is not None:
        return min(int(map_index), STAGGER_SLOTS - 1) * STAGGER_STEP
    return random.uniform(0, UNMAPPED_SPREAD)


class _OpsgenieIncidentNotifier(BaseNotifier):
    """The shared part of the notifiers: connection, fingerprint, note, timeline, budget, both runs."""

    template_fields: Sequence[str] = ("opsgenie_incident_conn_id", "fingerprint", "note")
    action = "notify"
    #: The event this notifier's timeline entry tells.
    kind: Kind = "failure"

    def __init__(
        self,
        *,
        opsgenie_incident_conn_id: str = DEFAULT_CONN_ID,
        fingerprint: str | None = None,
        note: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        timeline: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.opsgenie_incident_conn_id, self.fingerprint = opsgenie_incident_conn_id, fingerprint
        self.note, self.timeout, self.timeline = note, timeout, timeline

    @cached_property
    def hook(self) -> OpsgenieIncidentHook:
        """The hook; its retry budget is the notifier's ``timeout``."""
        from airflow_provider_opsgenie_incident.hooks.incident import OpsgenieIncidentHook

        return OpsgenieIncidentHook(self.opsgenie_incident_conn_id, retry_timeout=self.timeout)

    def render_template_fields(self, context: Context, jinja_env: jinja2.Environment | None = None) -> None:
        """Render the templated fields, with Airflow's default environment if the DAG offers none."""
        # dag.test() hands DAG callbacks its scheduler copy of the DAG, which has no template environment.
        if jinja_env is None and not hasattr(context.get("dag"), "get_template_env"):
            jinja_env = self.get_template_env()
        super().render_template_fields(context, jinja_env)

    def _flow(
        self, incidents: ModuleType, run: Run, tag: str, defaults: IncidentDefaults, settings: ClientSettings
    ) -> Flow[IncidentOutcome]:
        """Build this notifier's flow with ``incidents``, the flows module, imported once per call."""
        raise NotImplementedError

    def _identify(self, context: Context) -> tuple[Run, str, ModuleType]:
        """Read the run from the context; return it, its fingerprint tag and the flows module."""
        from airflow_provider_opsgenie_incident.client import fingerprint, incidents
        from airflow_provider_opsgenie_incident.notifications._run import Run

        run = Run.from_context(context)
        return run, fingerprint.run_fingerprint(run.dag_id, run.task_id, self.fingerprint), incidents

    def _entry(self, run: Run) -> Entry | None:
        """Return the event's timeline entry, or None when the timeline is off."""
        if not self.timeline:
            return None
        from airflow_provider_opsgenie_incident.notifications._story import entry

        return entry(run, self.kind)

    @cached_property
    def _api(self) -> SyncApi:
        """The hook's client, with the timeline calls on their own short budget."""
        if not self.timeline:
            return self.hook.client
        from airflow_provider_opsgenie_incident.notifications._story import routed

        return routed(self.hook.client)

    def notify(self, context: Context) -> None:
        """Run the notifier's flow with the synchronous client (worker, DAG processor); never raise."""
        from airflow_provider_opsgenie_incident.client.flows import run_flow

        started = time.monotonic()
        run, tag, incidents = self._identify(context)
        try:
            settings = self.hook.settings
            flow = self._flow(incidents, run, tag, self.hook.defaults, settings)
            outcome = run_flow(flow, self._api, timeout=self.timeout)
        except Exception as error:
            self._log_failure(run, tag, error, time.monotonic() - started)
            return
        self._log_outcome(run, tag, outcome, settings)

    async def async_notify(self, context: Context) -> None:
        """Run the same flow with the asynchronous client (triggerer: Deadline Alerts); never raise."""
        from airflow_provider_opsgenie_incident.client.flows import arun_flow
        from airflow_provider_opsgenie_incident.notifications._story import arouted

        started = time.monotonic()
        run, tag, incidents = self._identify(context)
        try:
            connection = await self.hook.aget_incident_connection()
            async with await self.hook.get_async_client(connection) as client:
                defaults = self.hook.defaults_from_connection(connection)
                flow = self._flow(incidents, run, tag, defaults, client.settings)
                if not self.timeline:
                    outcome = await client.run_flow(flow, timeout=self.timeout)
                else:
                    async with arouted(client) as api:
                        outcome = await arun_flow(flow, api, timeout=self.timeout)
        except Exception as error:
            self._log_failure(run, tag, error, time.monotonic() - started)
            return
        self._log_outcome(run, tag, outcome, client.settings)

    def _log_failure(self, run: Run, tag: str, error: Exception, elapsed: float) -> None:
        """Log, as one ERROR line, what could not be recorded and why; the callback then returns."""
        from airflow_provider_opsgenie_incident.client.errors import RateLimitedError

        lines = (run.error or "").splitlines()
        reason = "throttled (HTTP 429)" if isinstance(error, RateLimitedError) else "gave up"
        text = str(error).splitlines()
        self.log.error(
            "Opsgenie incident %s for %s (try %s, fingerprint %s) not recorded: %s; log %s;"
            " %s after %.0f s of its %.0f s budget: %s: %s",
            self.action,
            run.subject,
            run.try_number or "-",
            tag,
            lines[0] if lines else "no exception",
            run.log_url or "-",
            reason,
            elapsed,
            self.timeout,
            type(error).__name__,
            text[0] if text else "",
        )

    def _log_outcome(self, run: Run, tag: str, outcome: IncidentOutcome, settings: ClientSettings) -> None:
        if outcome.action == "nothing":
            self.log.debug("No open Opsgenie incident for %s (fingerprint %s)", run.subject, tag)
            return
        verb = _VERBS[outcome.action]
        for incident_id in outcome.resolved or (outcome.incident_id,):
            url = settings.incident_url(incident_id or "") or ""
            self.log.info(
                "Opsgenie incident %s (%s, fingerprint %s): %s %s", incident_id, run.subject, tag, verb, url
            )
        if outcome.closed:
            self.log.info("Closed duplicate Opsgenie incident(s) %s", ", ".join(outcome.closed))
        if outcome.skipped:
            self.log.info("Opsgenie incident(s) %s were no longer open", ", ".join(outcome.skipped))
        if outcome.timeline_error or outcome.timeline == "found":
            from airflow_provider_opsgenie_incident.notifications._story import log_entry

            log_entry(self.log, run, self.kind, outcome)


class OpsgenieIncidentFailureNotifier(_OpsgenieIncidentNotifier):
    """
    Open an Opsgenie incident for a failed task or DAG, or record the failure on the one already open.

    Defaults come from the context (message ``[Airflow] <dag_id>.<task_id> failed``, a description
    and details with the exception, run id, try number, logical date and log URL) and from the
    connection extra (priority, responders, tags, service id). Every text is cut to its API limit,
    so a long name never loses the incident. In a Human-in-the-loop operator's ``notifiers`` it pages
    as the wait starts: ``[Airflow] <dag_id>.<task_id> awaits a decision: <subject>``.

    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection. (templated)
    :param fingerprint: what the incident stands for; failures with the same fingerprint share one
        open incident. Default: the DAG id and task id, so the mapped instances of a task share one
        incident (DAG-level and Deadline callbacks: the DAG id). (templated)
    :param message: the incident's message, cut to 130 characters. (templated)
    :param description: the incident's description, cut to 15000 characters. (templated)
    :param details: custom properties added to the run's facts. (templated)
    :param tags: tags besides the fingerprint tag (default: the connection's). (templated)
    :param responders: teams or users, e.g. ``[{"type": "team", "name": "NOC"}]`` (default: the
        connection's). (templated)
    :param priority: ``P1`` to ``P5`` (default: the connection's, else Opsgenie's ``P3``). (templated)
    :param service_id: the impacted service (default: the connection's). (templated)
    :param note: the note added to an incident already open when its timeline entry cannot be
        written (or with ``timeline=False``). (templated)
    :param timeout: seconds the notification may take, retries and waits included.
    :param timeline: add the failure's timeline entry to the incident (the failure's record on an
        incident already open); False: notes only.

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#create-incident
    """

    template_fields: Sequence[str] = (*_OpsgenieIncidentNotifier.template_fields, *_INCIDENT_FIELDS)
    template_fields_renderers = {"details": "json", "responders": "json"}
    action = "open"

    def __init__(
        self,
        *,
        message: str | None = None,
        description: str | None = None,
        details: Mapping[str, Any] | None = None,
        tags: Sequence[str] | None = None,
        responders: Sequence[Responder] | None = None,
        priority: str | None = None,
        service_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.message, self.description, self.details = message, description, details
        self.tags, self.responders, self.priority, self.service_id = tags, responders, priority, service_id

    def _flow(
        self, incidents: ModuleType, run: Run, tag: str, defaults: IncidentDefaults, settings: ClientSettings
    ) -> Flow[IncidentOutcome]:
        verb = "missed its deadline" if run.scope == "deadline" else "failed"
        headline = f"{run.subject} {f'awaits a decision: {run.question}' if run.question else verb}"
        message = self.message or f"[Airflow] {headline}"
        details = {**run.facts(), **{str(k): str(v) for k, v in (self.details or {}).items()}}
        description = self.description or run.story(f"{headline}.")
        tags = self.tags if self.tags is not None else defaults.tags
        create: dict[str, Any] = {
            "message": redact_or_replace(message),
            "description": redact_or_replace(description),
            "details": {key: redact_or_replace(value) for key, value in details.items()},
            # A comma would split the tag when it is removed; the flow cuts the rest to the limits.
            "tags": [cleaned for tag in tags if (cleaned := str(tag).replace(",", " ").strip())],
            "responders": list(self.responders or defaults.responders) or None,
            "priority": self.priority or defaults.priority,
            "service_id": self.service_id or defaults.service_id,
        }
        note = redact_or_replace(self.note or run.story(f"{headline} again."))
        entry = self._entry(run)
        from airflow_provider_opsgenie_incident.client import sightings

        board = sightings.sightings_for(settings.base_url, settings.api_key)
        # The notifiers of this tag here wait for the one leading: it creates at the earliest turn.
        turn = _stagger(run.map_index)
        flow: Flow[IncidentOutcome] = incidents.open_or_note(
            tag, create=create, note=note, entry=entry, stagger=lambda: board.turn(tag, turn)
        )
        return sightings.share(
            board, tag, flow, lambda incident: incidents.note_open(incident, note, entry), turn
        )


class OpsgenieIncidentRetryNotifier(_OpsgenieIncidentNotifier):
    """
    Record a failed try that Airflow will retry on the task's open Opsgenie incident, if one is open.

    A retry pages nobody and opens no incident: it adds its timeline entry (``Retrying: etl.load,
    try 1 of 4 failed``) to the incident an earlier failure opened, or a note when the timeline
    refuses it. With nothing open it makes one read and no write. Attach it as
    ``on_retry_callback``, or through ``opsgenie_incident_callbacks(on_retry=True)``.

    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection. (templated)
    :param fingerprint: the failure notifier's fingerprint (default: the DAG id and task id). (templated)
    :param note: the note added when the timeline entry cannot be written (default: the try, the
        error and the log). (templated)
    :param timeout: seconds the notification may take, retries and waits included.
    :param timeline: add the retry's timeline entry; with False only the note is added.

    .. seealso:: https://docs.opsgenie.com/docs/incident-timeline-api#add-incident-timeline-entry
    """

    action = "record the retry of"
    kind = "retry"

    def _flow(
        self, incidents: ModuleType, run: Run, tag: str, defaults: IncidentDefaults, settings: ClientSettings
    ) -> Flow[IncidentOutcome]:
        note = self.note or run.story(f"{run.subject} failed and will be retried.")
        flow: Flow[IncidentOutcome] = incidents.record_open(
            tag, note=redact_or_replace(note), entry=self._entry(run)
        )
        return flow


class OpsgenieIncidentRecoveryNotifier(_OpsgenieIncidentNotifier):
    """
    Resolve every open Opsgenie incident of a task or DAG that succeeded, with a note.

    With nothing open it makes one read and no write, so it is cheap on every success.

    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection. (templated)
    :param fingerprint: the failure notifier's fingerprint (default: the DAG id and task id; DAG-level:
        the DAG id). (templated)
    :param note: the note added on resolving (default: which run succeeded). (templated)
    :param timeout: seconds the notification may take, retries and waits included.
    :param timeline: add the recovery's timeline entry, the one that ends the story, before resolving.

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#resolve-incident
    """

    action = "resolve"
    kind = "recovery"

    def _flow(
        self, incidents: ModuleType, run: Run, tag: str, defaults: IncidentDefaults, settings: ClientSettings
    ) -> Flow[IncidentOutcome]:
        note = self.note or f"{run.subject} succeeded in run {run.run_id or 'unknown'}; resolved by Airflow."
        from airflow_provider_opsgenie_incident.client.sightings import sightings_for

        sightings_for(settings.base_url, settings.api_key).forget(tag)  # resolved: no longer open
        flow: Flow[IncidentOutcome] = incidents.resolve_open(
            tag, note=redact_or_replace(note), entry=self._entry(run)
        )
        return flow


send_opsgenie_incident_failure_notification = OpsgenieIncidentFailureNotifier
send_opsgenie_incident_recovery_notification = OpsgenieIncidentRecoveryNotifier
send_opsgenie_incident_retry_notification = OpsgenieIncidentRetryNotifier

_SHARED_OPTIONS = ("opsgenie_incident_conn_id", "fingerprint", "timeout", "timeline")


def opsgenie_incident_callbacks(
    *, recovery_note: str | None = None, on_retry: bool = False, **options: Any
) -> dict[str, BaseNotifier]:
    """
    Return ``on_failure_callback`` and ``on_success_callback`` notifiers sharing one configuration.

    Spread it into ``default_args`` (every task) or into a ``DAG(...)`` (the DAG run)::

        default_args = {"retries": 1, **opsgenie_incident_callbacks(priority="P2", on_retry=True)}

    :param recovery_note: the note added when resolving. (templated)
    :param on_retry: also return an ``on_retry_callback`` that records each retried try on the open
        incident (:class:`OpsgenieIncidentRetryNotifier`).
    :param options: the :class:`OpsgenieIncidentFailureNotifier` arguments; the connection id,
        fingerprint, timeout and ``timeline`` are shared with the other notifiers.
    """
    shared = {name: options[name] for name in _SHARED_OPTIONS if name in options}
    callbacks: dict[str, BaseNotifier] = {
        "on_failure_callback": OpsgenieIncidentFailureNotifier(**options),
        "on_success_callback": OpsgenieIncidentRecoveryNotifier(note=recovery_note, **shared),
    }
    if on_retry:
        callbacks["on_retry_callback"] = OpsgenieIncidentRetryNotifier(**shared)
    return callbacks
