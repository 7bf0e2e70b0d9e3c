"""Operators that change what an incident says and who works on it.

Notes, responders, tags, details (custom properties), priority, message and description; the
incident's lifecycle and the reads are in :mod:`airflow_provider_opsgenie_incident.operators.incident`.
Like every incident write, they wait by default until Opsgenie has processed the request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_opsgenie_incident.operators._base import (
    _OpsgenieIncidentActionOperator,
    _OpsgenieIncidentNoteActionOperator,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_provider_opsgenie_incident.client.types import Priority, Responder

__all__ = [
    "OpsgenieAddIncidentDetailsOperator",
    "OpsgenieAddIncidentNoteOperator",
    "OpsgenieAddIncidentResponderOperator",
    "OpsgenieAddIncidentTagsOperator",
    "OpsgenieRemoveIncidentDetailsOperator",
    "OpsgenieRemoveIncidentTagsOperator",
    "OpsgenieUpdateIncidentDescriptionOperator",
    "OpsgenieUpdateIncidentMessageOperator",
    "OpsgenieUpdateIncidentPriorityOperator",
]

_JSON = "json"


class OpsgenieAddIncidentNoteOperator(_OpsgenieIncidentActionOperator):
    """
    Add a note to an incident.

    :param note: the note, at most 25000 characters (templated).

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

    :param responders: e.g. ``[{"type": "team", "name": "NOC"}, {"type": "user", "username": "a@b.c"}]``
        (templated).

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#add-responder-to-incident
    """

    action = "add_responder"
    template_fields: Sequence[str] = (*_OpsgenieIncidentNoteActionOperator.template_fields, "responders")
    template_fields_renderers = {"responders": _JSON}

    def __init__(self, *, responders: Sequence[Responder], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.responders = responders


class _OpsgenieIncidentTagsOperator(_OpsgenieIncidentNoteActionOperator):
    """Add or remove tags: the parameters both actions share."""

    template_fields: Sequence[str] = (*_OpsgenieIncidentNoteActionOperator.template_fields, "tags")
    template_fields_renderers = {"tags": _JSON}

    def __init__(self, *, tags: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tags = tags


class OpsgenieAddIncidentTagsOperator(_OpsgenieIncidentTagsOperator):
    """
    Add tags to an incident.

    :param tags: the tags to add, at most 20 of 50 characters each (templated).

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#add-tags-to-incident
    """

    action = "add_tags"


class OpsgenieRemoveIncidentTagsOperator(_OpsgenieIncidentTagsOperator):
    """
    Remove tags from an incident.

    :param tags: the tags to remove (templated).

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#remove-tags-from-incident
    """

    action = "remove_tags"


class OpsgenieAddIncidentDetailsOperator(_OpsgenieIncidentNoteActionOperator):
    """
    Add custom properties (details) to an incident.

    :param details: the properties to add, a ``str`` to ``str`` mapping (templated).

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#add-details-custom-properties-to-incident
    """

    action = "add_details"
    template_fields: Sequence[str] = (*_OpsgenieIncidentNoteActionOperator.template_fields, "details")
    template_fields_renderers = {"details": _JSON}

    def __init__(self, *, details: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.details = details


class OpsgenieRemoveIncidentDetailsOperator(_OpsgenieIncidentNoteActionOperator):
    """
    Remove custom properties (details) from an incident.

    :param keys: the names of the properties to remove (templated).

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#remove-details-custom-properties-from-incident
    """

    action = "remove_details"
    template_fields: Sequence[str] = (*_OpsgenieIncidentNoteActionOperator.template_fields, "keys")
    template_fields_renderers = {"keys": _JSON}

    def __init__(self, *, keys: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.keys = keys


class OpsgenieUpdateIncidentPriorityOperator(_OpsgenieIncidentActionOperator):
    """
    Change an incident's priority.

    :param priority: ``P1`` to ``P5`` (templated).

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#update-incident-priority
    """

    action = "update_priority"
    template_fields: Sequence[str] = (*_OpsgenieIncidentActionOperator.template_fields, "priority")

    def __init__(self, *, priority: Priority, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.priority = priority


class OpsgenieUpdateIncidentMessageOperator(_OpsgenieIncidentActionOperator):
    """
    Change an incident's message (its title).

    :param message: the new message, at most 130 characters (templated).

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#update-incident-message
    """

    action = "update_message"
    template_fields: Sequence[str] = (*_OpsgenieIncidentActionOperator.template_fields, "message")

    def __init__(self, *, message: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message


class OpsgenieUpdateIncidentDescriptionOperator(_OpsgenieIncidentActionOperator):
    """
    Change an incident's description; an empty string clears it.

    :param description: the new description, at most 15000 characters (templated).

    .. seealso:: https://docs.opsgenie.com/docs/incident-api#update-incident-description
    """

    action = "update_description"
    template_fields: Sequence[str] = (*_OpsgenieIncidentActionOperator.template_fields, "description")

    def __init__(self, *, description: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.description = description
