"""Operators for every action of the Opsgenie Incident Timeline API (v2).

The timeline API answers synchronously: each operator returns the response's ``data`` (the
entry, or the page of entries) or, for delete / hide / unhide, the API's answer
(``{"result", "requestId", "took"}``). Incidents are addressed by id only (no tiny ids).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_opsgenie_incident.operators._base import (
    _OpsgenieIncidentBaseOperator,
    _OpsgenieIncidentListOperator,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from airflow_provider_opsgenie_incident.client.types import Order

__all__ = [
    "OpsgenieAddTimelineEntryOperator",
    "OpsgenieDeleteTimelineEntryOperator",
    "OpsgenieGetTimelineEntryOperator",
    "OpsgenieHideTimelineEntryOperator",
    "OpsgenieListTimelineEntriesOperator",
    "OpsgenieUnhideTimelineEntryOperator",
    "OpsgenieUpdateTimelineEntryOperator",
]


class _OpsgenieTimelineEntryOperator(_OpsgenieIncidentBaseOperator):
    """
    Act on one timeline entry of an incident.

    :param incident_id: the incident's id (templated).
    :param entry_id: the timeline entry's id (templated).
    """

    template_fields: Sequence[str] = (
        *_OpsgenieIncidentBaseOperator.template_fields,
        "incident_id",
        "entry_id",
    )

    def __init__(self, *, incident_id: str, entry_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.incident_id = incident_id
        self.entry_id = entry_id


class OpsgenieAddTimelineEntryOperator(_OpsgenieIncidentBaseOperator):
    """
    Add a custom entry to an incident's timeline.

    :param incident_id: the incident's id (templated).
    :param content: the entry's text, at most 15000 characters (templated).
    :param time: when it happened: a ``datetime`` or an ISO 8601 string such as ``"{{ ts }}"``;
        the server's default is now (templated).
    :param content_type: ``plain_text``, the only type the API accepts (templated).
    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection (templated).
    :return: the new entry (``id``, ``group``, ``type``, ``eventTime``, ``description``...).

    .. seealso:: https://docs.opsgenie.com/docs/incident-timeline-api#add-incident-timeline-entry
    """

    action = "add_timeline_entry"
    template_fields: Sequence[str] = (
        *_OpsgenieIncidentBaseOperator.template_fields,
        "incident_id",
        "content",
        "time",
        "content_type",
    )

    def __init__(
        self,
        *,
        incident_id: str,
        content: str,
        time: datetime | str | None = None,
        content_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.incident_id = incident_id
        self.content = content
        self.time = time
        self.content_type = content_type


class OpsgenieGetTimelineEntryOperator(_OpsgenieTimelineEntryOperator):
    """
    Get one entry of an incident's timeline.

    :param incident_id: the incident's id (templated).
    :param entry_id: the timeline entry's id (templated).
    :param content_type: ``plain_text``, the only type the API returns (templated).
    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection (templated).
    :return: the entry.

    .. seealso:: https://docs.opsgenie.com/docs/incident-timeline-api#get-incident-timeline-entry
    """

    action = "get_timeline_entry"
    template_fields: Sequence[str] = (*_OpsgenieTimelineEntryOperator.template_fields, "content_type")

    def __init__(self, *, content_type: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.content_type = content_type


class OpsgenieUpdateTimelineEntryOperator(_OpsgenieTimelineEntryOperator):
    """
    Change a custom timeline entry's text or time (at least one of them).

    :param incident_id: the incident's id (templated).
    :param entry_id: the timeline entry's id; only ``custom`` entries can change (templated).
    :param content: the new text, at most 15000 characters (templated).
    :param time: the new time: a ``datetime`` or an ISO 8601 string (templated).
    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection (templated).
    :return: the updated entry.

    .. seealso:: https://docs.opsgenie.com/docs/incident-timeline-api#update-incident-timeline-entry
    """

    action = "update_timeline_entry"
    template_fields: Sequence[str] = (*_OpsgenieTimelineEntryOperator.template_fields, "content", "time")

    def __init__(
        self, *, content: str | None = None, time: datetime | str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.content = content
        self.time = time


class OpsgenieDeleteTimelineEntryOperator(_OpsgenieTimelineEntryOperator):
    """
    Delete a timeline entry.

    :param incident_id: the incident's id (templated).
    :param entry_id: the timeline entry's id (templated).
    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection (templated).
    :return: the API's answer, ``{"result": "Deleted", "requestId", "took"}``.

    .. seealso:: https://docs.opsgenie.com/docs/incident-timeline-api#delete-incident-timeline-entry
    """

    action = "delete_timeline_entry"
    template_fields: Sequence[str] = _OpsgenieTimelineEntryOperator.template_fields


class OpsgenieHideTimelineEntryOperator(_OpsgenieTimelineEntryOperator):
    """
    Hide a timeline entry in the Opsgenie web UI.

    :param incident_id: the incident's id (templated).
    :param entry_id: the timeline entry's id (templated).
    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection (templated).
    :return: the API's answer, ``{"result": "Hided", "requestId", "took"}``.

    .. seealso:: https://docs.opsgenie.com/docs/incident-timeline-api#hide-incident-timeline-entry
    """

    action = "hide_timeline_entry"
    template_fields: Sequence[str] = _OpsgenieTimelineEntryOperator.template_fields


class OpsgenieUnhideTimelineEntryOperator(_OpsgenieTimelineEntryOperator):
    """
    Show a hidden timeline entry again.

    :param incident_id: the incident's id (templated).
    :param entry_id: the timeline entry's id (templated).
    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection (templated).
    :return: the API's answer, ``{"result": "Unhided", "requestId", "took"}``.

    .. seealso:: https://docs.opsgenie.com/docs/incident-timeline-api#unhide-incident-timeline-entry
    """

    action = "unhide_timeline_entry"
    template_fields: Sequence[str] = _OpsgenieTimelineEntryOperator.template_fields


class OpsgenieListTimelineEntriesOperator(_OpsgenieIncidentListOperator):
    """
    List the entries of an incident's timeline, page after page.

    :param incident_id: the incident's id (templated).
    :param discard_hidden: leave out hidden entries.
    :param order: ``desc`` (default) or ``asc`` (templated).
    :param max_results: the most entries to return (and store in XCom); None returns them all.
    :param opsgenie_incident_conn_id: the ``opsgenie_incident`` connection (templated).
    :return: a list of entries.

    .. seealso:: https://docs.opsgenie.com/docs/incident-timeline-api#list-incident-timeline-entries
    """

    action = "list_timeline_entries"
    iterator = "iter_timeline_entries"
    template_fields: Sequence[str] = (*_OpsgenieIncidentListOperator.template_fields, "incident_id", "order")

    def __init__(
        self,
        *,
        incident_id: str,
        discard_hidden: bool | None = None,
        order: Order | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.incident_id = incident_id
        self.discard_hidden = discard_hidden
        self.order = order
