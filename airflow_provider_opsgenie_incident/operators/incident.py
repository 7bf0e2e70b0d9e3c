"""Operators that create, read, list, close, resolve and delete incidents, and add notes and responders.

The operators that change an incident's tags, details, priority, message or description live
in :mod:`airflow_provider_opsgenie_incident.operators.incident_update`.

Every write is asynchronous on the server: by default the operator waits until Opsgenie has
processed it (``wait_for_completion``, at most ``wait_timeout`` seconds, in the worker or, with
``deferrable=True``, in the triggerer) and fails with ``RequestFailedError`` and the server's
status text when it did not succeed, so a failed action never passes silently. Arguments are
validated before any request is sent; a value the API would refuse fails the task with
``InvalidRequestError`` naming the field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_opsgenie_incident.links import OpsgenieIncidentLink
from airflow_provider_opsgenie_incident.operators._base import (
    _OpsgenieIncidentActionOperator,
    _OpsgenieIncidentBaseOperator,
    _OpsgenieIncidentListOperator,
    _OpsgenieIncidentNoteActionOperator,
    _OpsgenieIncidentRequestOperator,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_provider_opsgenie_incident.client.types import (
        IdentifierType,
        Order,
        Priority,
        Responder,
        StatusPageEntry,
    )

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
    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection (templated).
    :param wait_for_completion: wait until the incident exists (default); when False, return
        ``{"request_id"}`` at once.
    :param wait_timeout: seconds to wait at most.
    :param deferrable: wait in the triggerer instead of the worker.
    :return: ``{"request_id", "incident_id", "tiny_id", "url", "action", "status"}``; the web
        address also feeds the task's "Opsgenie incident" link.

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


class OpsgenieGetIncidentOperator(_OpsgenieIncidentBaseOperator):
    """
    Get an incident.

    :param identifier: the incident's id, or its tiny id with ``identifier_type="tiny"`` (templated).
    :param identifier_type: ``id`` (the default) or ``tiny`` (templated).
    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection (templated).
    :return: the incident, as the API returns it (``id``, ``tinyId``, ``status``, ``links``...).

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#get-incident
    """

    action = "get_incident"
    template_fields: Sequence[str] = (
        *_OpsgenieIncidentBaseOperator.template_fields,
        "identifier",
        "identifier_type",
    )
    operator_extra_links = (OpsgenieIncidentLink(),)

    def __init__(
        self, *, identifier: str, identifier_type: IdentifierType | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.identifier = identifier
        self.identifier_type = identifier_type


class OpsgenieListIncidentsOperator(_OpsgenieIncidentListOperator):
    """
    List the incidents matching a search query, page after page.

    :param query: an Opsgenie search query, e.g. ``status:open AND tag:"etl"`` (templated).
    :param sort: ``createdAt`` (default), ``tinyId``, ``message``, ``status``, ``isSeen`` or
        ``owner`` (templated).
    :param order: ``desc`` (default) or ``asc`` (templated).
    :param max_results: the most incidents to return (and store in XCom); None returns them all.
    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection (templated).
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


class _OpsgenieIncidentHistoryOperator(_OpsgenieIncidentListOperator):
    """Page through one incident's notes or activity log."""

    template_fields: Sequence[str] = (
        *_OpsgenieIncidentListOperator.template_fields,
        "identifier",
        "identifier_type",
        "order",
    )

    def __init__(
        self,
        *,
        identifier: str,
        identifier_type: IdentifierType | None = None,
        order: Order | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.identifier = identifier
        self.identifier_type = identifier_type
        self.order = order


class OpsgenieListIncidentNotesOperator(_OpsgenieIncidentHistoryOperator):
    """
    List an incident's notes, page after page.

    :param identifier: the incident's id, or its tiny id with ``identifier_type="tiny"`` (templated).
    :param identifier_type: ``id`` (the default) or ``tiny`` (templated).
    :param order: ``desc`` (default, newest first) or ``asc`` (templated).
    :param max_results: the most notes to return (and store in XCom); None returns them all.
    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection (templated).
    :return: a list of notes (``note``, ``owner``, ``createdAt``, ``offset``).

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#list-incident-notes
    """

    action = "list_notes"
    iterator = "iter_notes"


class OpsgenieListIncidentLogsOperator(_OpsgenieIncidentHistoryOperator):
    """
    List an incident's activity log, page after page.

    :param identifier: the incident's id, or its tiny id with ``identifier_type="tiny"`` (templated).
    :param identifier_type: ``id`` (the default) or ``tiny`` (templated).
    :param order: ``desc`` (default, newest first) or ``asc`` (templated).
    :param max_results: the most log entries to return (and store in XCom); None returns them all.
    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection (templated).
    :return: a list of log entries (``log``, ``type``, ``owner``, ``createdAt``, ``offset``).

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#list-incident-logs
    """

    action = "list_logs"
    iterator = "iter_logs"


class OpsgenieDeleteIncidentOperator(_OpsgenieIncidentActionOperator):
    """
    Delete an incident.

    :param identifier: the incident's id, or its tiny id with ``identifier_type="tiny"`` (templated).
    :param identifier_type: ``id`` (the default) or ``tiny`` (templated).
    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection (templated).
    :param wait_for_completion: wait until the request is processed (default).
    :param wait_timeout: seconds to wait at most.
    :param deferrable: wait in the triggerer instead of the worker.
    :return: ``{"request_id", "incident_id", "action", "status"}`` (only ``request_id`` without waiting).

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#delete-incident
    """

    action = "delete_incident"
    template_fields: Sequence[str] = _OpsgenieIncidentActionOperator.template_fields


class OpsgenieCloseIncidentOperator(_OpsgenieIncidentNoteActionOperator):
    """
    Close an incident.

    :param identifier: the incident's id, or its tiny id with ``identifier_type="tiny"`` (templated).
    :param identifier_type: ``id`` (the default) or ``tiny`` (templated).
    :param note: a note to add, at most 25000 characters (templated).
    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection (templated).
    :param wait_for_completion: wait until the request is processed (default).
    :param wait_timeout: seconds to wait at most.
    :param deferrable: wait in the triggerer instead of the worker.
    :return: ``{"request_id", "incident_id", "action", "status"}`` (only ``request_id`` without waiting).

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#close-incident
    """

    action = "close_incident"
    template_fields: Sequence[str] = _OpsgenieIncidentNoteActionOperator.template_fields


class OpsgenieResolveIncidentOperator(_OpsgenieIncidentNoteActionOperator):
    """
    Resolve an incident (resolved is not closed: close it later, or let Opsgenie do it).

    :param identifier: the incident's id, or its tiny id with ``identifier_type="tiny"`` (templated).
    :param identifier_type: ``id`` (the default) or ``tiny`` (templated).
    :param note: a note to add, at most 25000 characters (templated).
    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection (templated).
    :param wait_for_completion: wait until the request is processed (default).
    :param wait_timeout: seconds to wait at most.
    :param deferrable: wait in the triggerer instead of the worker.
    :return: ``{"request_id", "incident_id", "action", "status"}`` (only ``request_id`` without waiting).

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#resolve-incident
    """

    action = "resolve_incident"
    template_fields: Sequence[str] = _OpsgenieIncidentNoteActionOperator.template_fields


class OpsgenieAddIncidentNoteOperator(_OpsgenieIncidentActionOperator):
    """
    Add a note to an incident.

    :param identifier: the incident's id, or its tiny id with ``identifier_type="tiny"`` (templated).
    :param identifier_type: ``id`` (the default) or ``tiny`` (templated).
    :param note: the note, at most 25000 characters (templated).
    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection (templated).
    :param wait_for_completion: wait until the request is processed (default).
    :param wait_timeout: seconds to wait at most.
    :param deferrable: wait in the triggerer instead of the worker.
    :return: ``{"request_id", "incident_id", "action", "status"}`` (only ``request_id`` without waiting).

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#add-note-to-incident
    """

    action = "add_note"
    template_fields: Sequence[str] = (*_OpsgenieIncidentActionOperator.template_fields, "note")

    def __init__(self, *, note: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.note = note


class OpsgenieAddIncidentResponderOperator(_OpsgenieIncidentNoteActionOperator):
    """
    Add teams or users as responders of an incident.

    :param identifier: the incident's id, or its tiny id with ``identifier_type="tiny"`` (templated).
    :param identifier_type: ``id`` (the default) or ``tiny`` (templated).
    :param responders: e.g. ``[{"type": "team", "name": "NOC"}, {"type": "user", "username": "a@b.c"}]``
        (templated).
    :param note: a note to add (templated).
    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection (templated).
    :param wait_for_completion: wait until the request is processed (default).
    :param wait_timeout: seconds to wait at most.
    :param deferrable: wait in the triggerer instead of the worker.
    :return: ``{"request_id", "incident_id", "action", "status"}`` (only ``request_id`` without waiting).

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#add-responder-to-incident
    """

    action = "add_responder"
    template_fields: Sequence[str] = (*_OpsgenieIncidentNoteActionOperator.template_fields, "responders")
    template_fields_renderers = {"responders": _JSON}

    def __init__(self, *, responders: Sequence[Responder], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.responders = responders
