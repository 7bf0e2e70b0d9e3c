"""Operators for every action of the Opsgenie Incident Timeline API (v2).

The timeline API answers synchronously: each operator returns the response's ``data`` (the
entry, or the page of entries) or, for delete / hide / unhide, the API's answer
(``{"result", "requestId", "took"}``). Incidents are addressed by id only (no tiny ids).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

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


class _IncidentTimelineTask(BaseOperator):
    """
    Name the incident whose timeline a task reads or changes.

    :param incident_id: the incident's id (templated).
    """

    template_fields: Sequence[str] = ("incident_id",)

    def __init__(self, *, incident_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.incident_id = incident_id


class _OpsgenieTimelineOperator(_IncidentTimelineTask, _OpsgenieIncidentBaseOperator):
    """Call one timeline action on an incident."""

    template_fields: Sequence[str] = (
        *_OpsgenieIncidentBaseOperator.template_fields,
        *_IncidentTimelineTask.template_fields,
    )


class _OpsgenieTimelineEntryOperator(_OpsgenieTimelineOperator):
    """
    Act on one timeline entry of an incident.

    :param entry_id: the timeline entry's id (templated).
    """

    template_fields: Sequence[str] = (*_OpsgenieTimelineOperator.template_fields, "entry_id")

    def __init__(self, *, entry_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.entry_id = entry_id


class OpsgenieAddTimelineEntryOperator(_OpsgenieTimelineOperator):
    """
    Add a custom entry to an incident's timeline.

    :param content: the entry's text, at most 15000 characters (templated).
    :param time: when it happened: a ``datetime`` or an ISO 8601 string such as ``"{{ ts }}"``;
        the server's default is now (templated).
    :param content_type: ``plain_text``, the only type the API accepts (templated).
    :return: the new entry (``id``, ``group``, ``type``, ``eventTime``, ``description``...).

    .. seealso:: https://docs.opsgenie.com/docs/incident-timeline-api#add-incident-timeline-entry
    """

    action = "add_timeline_entry"
    template_fields: Sequence[str] = (
        *_OpsgenieTimelineOperator.template_fields,
        "content",
        "time",
        "content_type",
    )

    def __init__(
        self,
        *,
        content: str,
        time: datetime | str | None = None,
        content_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.content = content
        self.time = time
        self.content_type = content_type


class OpsgenieGetTimelineEntryOperator(_OpsgenieTimelineEntryOperator):
    """
    Get one entry of an incident's timeline.

    :param content_type: ``plain_text``, the only type the API returns (templated).
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
    Change a custom timeline entry's text or time (at least one of them); only ``custom`` entries can change.

    :param content: the new text, at most 15000 characters (templated).
    :param time: the new time: a ``datetime`` or an ISO 8601 string (templated).
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

    :return: the API's answer, ``{"result": "Deleted", "requestId", "took"}``.

    .. seealso:: https://docs.opsgenie.com/docs/incident-timeline-api#delete-incident-timeline-entry
    """

    action = "delete_timeline_entry"


class OpsgenieHideTimelineEntryOperator(_OpsgenieTimelineEntryOperator):
    """
    Hide a timeline entry in the Opsgenie web UI.

    :return: the API's answer, ``{"result": "Hided", "requestId", "took"}``.

    .. seealso:: https://docs.opsgenie.com/docs/incident-timeline-api#hide-incident-timeline-entry
    """

    action = "hide_timeline_entry"


class OpsgenieUnhideTimelineEntryOperator(_OpsgenieTimelineEntryOperator):
    """
    Show a hidden timeline entry again.

    :return: the API's answer, ``{"result": "Unhided", "requestId", "took"}``.

    .. seealso:: https://docs.opsgenie.com/docs/incident-timeline-api#unhide-incident-timeline-entry
    """

    action = "unhide_timeline_entry"


class OpsgenieListTimelineEntriesOperator(_IncidentTimelineTask, _OpsgenieIncidentListOperator):
    """
    List the entries of an incident's timeline, page after page.

    :param discard_hidden: leave out hidden entries.
    :param order: ``desc`` (default) or ``asc`` (templated).
    :return: a list of entries.

    .. seealso:: https://docs.opsgenie.com/docs/incident-timeline-api#list-incident-timeline-entries
    """

    action = "list_timeline_entries"
    iterator = "iter_timeline_entries"
    template_fields: Sequence[str] = (
        *_OpsgenieIncidentListOperator.template_fields,
        *_IncidentTimelineTask.template_fields,
        "order",
    )

    def __init__(
        self, *, discard_hidden: bool | None = None, order: Order | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.discard_hidden = discard_hidden
        self.order = order
