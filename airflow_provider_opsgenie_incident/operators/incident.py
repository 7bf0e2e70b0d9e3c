"""Operators for an incident's lifecycle (create, close, resolve, delete) and for reading incidents.

Reading means getting one incident and listing incidents, an incident's notes and its activity
log. The operators that change what an incident says (notes, responders, tags, details, priority,
message, description) live in :mod:`airflow_provider_opsgenie_incident.operators.incident_update`;
the two of them that this module used to hold are still importable from here.

Every write is asynchronous on the server: by default the operator waits until Opsgenie has
processed it (``wait_for_completion``, at most ``wait_timeout`` seconds, in the worker or, with
``deferrable=True``, in the triggerer) and fails with ``RequestFailedError`` and the server's
status text when it did not succeed, so a failed action never passes silently. Arguments are
validated before any request is sent; a value the API would refuse fails the task with
``InvalidRequestError`` naming the field.
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import TYPE_CHECKING, Any

from airflow_provider_opsgenie_incident._tasks import IncidentTargetTask
from airflow_provider_opsgenie_incident.links import OpsgenieIncidentLink
from airflow_provider_opsgenie_incident.operators._base import (
    _OpsgenieIncidentActionOperator,
    _OpsgenieIncidentBaseOperator,
    _OpsgenieIncidentListOperator,
    _OpsgenieIncidentNoteActionOperator,
    _OpsgenieIncidentRequestOperator,
)
from airflow_provider_opsgenie_incident.operators.incident_update import (
    OpsgenieAddIncidentNoteOperator,
    OpsgenieAddIncidentResponderOperator,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow.sdk import Context

    from airflow_provider_opsgenie_incident.client.types import Order, Priority, Responder, StatusPageEntry

__all__ = [
    "OpsgenieAddIncidentNoteOperator",
    "OpsgenieAddIncidentResponderOperator",
    "OpsgenieCloseIncidentOperator",
    "OpsgenieCreateIncidentOperator",
    "OpsgenieDeleteIncidentOperator",
    "OpsgenieGetIncidentOperator",
    "OpsgenieListIncidentLogsOperator",
    "OpsgenieListIncidentNotesOperator",
    "OpsgenieListIncidentsOperator",
    "OpsgenieResolveIncidentOperator",
]

_JSON = "json"

#: The default idempotency key: one incident per task run (a retry or a cleared task adopts it).
TASK_RUN_KEY = "{{ ti.dag_id }}.{{ ti.task_id }}.{{ ti.run_id }}.{{ ti.map_index }}"
IDEMPOTENCY_PREFIX = "idem:"
_HASH_LENGTH = 16
_TAG_LIMIT = 50
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Opsgenie applies a create asynchronously and its search may lag behind: after an ambiguous
# failure, search, pause this long, and search again before creating once more.
_SEARCH_SETTLE = 2.0


def idempotency_tag(key: str) -> str:
    """
    Return the tag carrying an idempotency key: ``idem:<readable part>:<16 hex>``, at most 50 characters.

    The hash covers the whole key; the readable part (the key's start, unsafe characters replaced)
    is only for people reading the incident.
    """
    digest = hashlib.sha256(key.encode()).hexdigest()[:_HASH_LENGTH]
    room = _TAG_LIMIT - len(IDEMPOTENCY_PREFIX) - 1 - _HASH_LENGTH
    return f"{IDEMPOTENCY_PREFIX}{_UNSAFE.sub('_', key)[:room]}:{digest}"


class OpsgenieCreateIncidentOperator(_OpsgenieIncidentRequestOperator):
    """
    Create an incident and return its id.

    :param message: the incident's title, at most 130 characters (templated).
    :param description: a longer description, at most 15000 characters (templated).
    :param responders: teams and users to route it to, e.g. ``[{"type": "team", "name": "NOC"}]``
        (templated).
    :param tags: tags, at most 20 of 50 characters each (templated).
    :param details: custom properties, a ``str`` to ``str`` mapping (templated).
    :param priority: ``P1`` to ``P5``; Opsgenie's default is ``P3`` (templated).
    :param note: a note to add to the new incident (templated).
    :param service_id: the impacted service's id (templated).
    :param impacted_services: ids of the impacted services (templated).
    :param status_page_entry: ``{"title": ..., "detail": ...}`` for the status page (templated).
    :param notify_stakeholders: whether Opsgenie notifies the stakeholders.
    :param idempotency_key: what makes two creates the same incident (templated). Its tag
        (``idem:...``, one of the 20 tags) goes on the incident, and an incident already carrying
        it is adopted instead of creating another: after a failure that may have been applied, an
        Airflow retry of the task, or a cleared task. The default is the task run (DAG id, task
        id, run id, map index); None creates without looking.
    :return: ``{"request_id", "incident_id", "tiny_id", "url", "action", "status"}``; the web
        address also feeds the task's "Opsgenie incident" link. An adopted incident has
        ``request_id`` None and ``status`` ``"Adopted incident"``.

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#create-incident
    """

    action = "create_incident"
    template_fields: Sequence[str] = (
        *_OpsgenieIncidentRequestOperator.template_fields,
        "message",
        "description",
        "responders",
        "tags",
        "details",
        "priority",
        "note",
        "service_id",
        "impacted_services",
        "status_page_entry",
        "idempotency_key",
    )
    template_fields_renderers = {
        "responders": _JSON,
        "tags": _JSON,
        "details": _JSON,
        "impacted_services": _JSON,
        "status_page_entry": _JSON,
    }
    operator_extra_links = (OpsgenieIncidentLink(),)

    def __init__(
        self,
        *,
        message: str,
        description: str | None = None,
        responders: Sequence[Responder] | None = None,
        tags: Sequence[str] | None = None,
        details: Mapping[str, str] | None = None,
        priority: Priority | None = None,
        note: str | None = None,
        service_id: str | None = None,
        impacted_services: Sequence[str] | None = None,
        status_page_entry: StatusPageEntry | None = None,
        notify_stakeholders: bool | None = None,
        idempotency_key: str | None = TASK_RUN_KEY,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.message = message
        self.description = description
        self.responders = responders
        self.tags = tags
        self.details = details
        self.priority = priority
        self.note = note
        self.service_id = service_id
        self.impacted_services = impacted_services
        self.status_page_entry = status_page_entry
        self.notify_stakeholders = notify_stakeholders
        self.idempotency_key = idempotency_key

    def execute(self, context: Context) -> Any:
        """Adopt the incident of this idempotency key if one exists, else create it."""
        if not self.idempotency_key:
            return super().execute(context)
        from airflow_provider_opsgenie_incident.client.errors import OpsgenieIncidentError
        from airflow_provider_opsgenie_incident.client.protocol import prepare
        from airflow_provider_opsgenie_incident.client.retry import may_have_been_applied

        tag = idempotency_tag(self.idempotency_key)
        arguments = self._arguments()
        arguments["tags"] = [*(arguments.get("tags") or []), tag]
        prepare(self.action, arguments)  # bad input fails before the search
        earlier = self._created_with(tag)
        if earlier is None:
            try:
                response = self.hook.call(self.action, arguments)
            except OpsgenieIncidentError as error:
                if not may_have_been_applied(error):
                    raise
                self.log.warning("The create may have been applied (%s): looking for tag %s", error, tag)
                earlier = self._created_with(tag, settle=_SEARCH_SETTLE)
                if earlier is None:
                    response = self.hook.call(self.action, arguments)
            if earlier is None:
                # Only the create is guarded: a failure while waiting for it is the wait's to report.
                return self._result(context, response)
        self.log.info("Adopting incident %s, created earlier with tag %s", earlier.get("id"), tag)
        return self._adopted(context, earlier)

    def _created_with(self, tag: str, *, settle: float = 0.0) -> dict[str, Any] | None:
        """Return the oldest incident carrying ``tag``; with ``settle``, look twice, that long apart."""
        query = f'tag:"{tag}"'
        for pause in (0.0, settle) if settle else (0.0,):
            time.sleep(pause)
            page = self.hook.call(
                "list_incidents", {"query": query, "limit": 1, "sort": "createdAt", "order": "asc"}
            )
            if page.get("data"):
                found: dict[str, Any] = page["data"][0]
                return found
        return None

    def _applied(self, context: Context, found: dict[str, Any]) -> dict[str, Any]:
        return self._adopted(context, found)

    def _adopted(self, context: Context, incident: dict[str, Any]) -> dict[str, Any]:
        url = self.hook.incident_url(incident=incident)
        OpsgenieIncidentLink.persist(context, url)
        return {
            "request_id": None,
            "incident_id": incident.get("id"),
            "tiny_id": incident.get("tinyId"),
            "url": url,
            "action": "Create",
            "status": "Adopted incident",
        }


class OpsgenieCloseIncidentOperator(_OpsgenieIncidentNoteActionOperator):
    """
    Close an incident.

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#close-incident
    """

    action = "close_incident"


class OpsgenieResolveIncidentOperator(_OpsgenieIncidentNoteActionOperator):
    """
    Resolve an incident (resolved is not closed: close it later, or let Opsgenie do it).

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#resolve-incident
    """

    action = "resolve_incident"


class OpsgenieDeleteIncidentOperator(_OpsgenieIncidentActionOperator):
    """
    Delete an incident.

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#delete-incident
    """

    action = "delete_incident"


class OpsgenieGetIncidentOperator(IncidentTargetTask, _OpsgenieIncidentBaseOperator):
    """
    Get an incident.

    :return: the incident, as the API returns it (``id``, ``tinyId``, ``status``, ``links``...).

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#get-incident
    """

    action = "get_incident"
    template_fields: Sequence[str] = (
        *_OpsgenieIncidentBaseOperator.template_fields,
        *IncidentTargetTask.template_fields,
    )
    operator_extra_links = (OpsgenieIncidentLink(),)


class OpsgenieListIncidentsOperator(_OpsgenieIncidentListOperator):
    """
    List the incidents matching a search query, page after page.

    :param query: an Opsgenie search query, e.g. ``status:open AND tag:"etl"`` (templated).
    :param sort: ``createdAt`` (default), ``tinyId``, ``message``, ``status``, ``isSeen`` or
        ``owner`` (templated).
    :param order: ``desc`` (default) or ``asc`` (templated).
    :return: a list of incidents.

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#list-incidents
    """

    action = "list_incidents"
    iterator = "iter_incidents"
    template_fields: Sequence[str] = (
        *_OpsgenieIncidentListOperator.template_fields,
        "query",
        "sort",
        "order",
    )

    def __init__(
        self, *, query: str, sort: str | None = None, order: Order | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.query = query
        self.sort = sort
        self.order = order


class _OpsgenieIncidentHistoryOperator(IncidentTargetTask, _OpsgenieIncidentListOperator):
    """
    Page through one incident's notes or activity log.

    :param order: ``desc`` (default, newest first) or ``asc`` (templated).
    """

    template_fields: Sequence[str] = (
        *_OpsgenieIncidentListOperator.template_fields,
        *IncidentTargetTask.template_fields,
        "order",
    )

    def __init__(self, *, order: Order | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.order = order


class OpsgenieListIncidentNotesOperator(_OpsgenieIncidentHistoryOperator):
    """
    List an incident's notes, page after page.

    :return: a list of notes (``note``, ``owner``, ``createdAt``, ``offset``).

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#list-incident-notes
    """

    action = "list_notes"
    iterator = "iter_notes"


class OpsgenieListIncidentLogsOperator(_OpsgenieIncidentHistoryOperator):
    """
    List an incident's activity log, page after page.

    :return: a list of log entries (``log``, ``type``, ``owner``, ``createdAt``, ``offset``).

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#list-incident-logs
    """

    action = "list_logs"
    iterator = "iter_logs"
