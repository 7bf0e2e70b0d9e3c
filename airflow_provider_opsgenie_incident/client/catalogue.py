"""Every action of the Opsgenie Incident API (v1) and Incident Timeline API (v2), described once.

An :class:`Endpoint` says which HTTP method and path an action uses, which Python arguments go to
the path, the query and the body under which wire names, which limits guard them, whether the
API answers asynchronously (202 + ``requestId``) and whether repeating the call is harmless.
Request building (:mod:`.protocol`), both transports, the hook, the operators and the tests all
read this table; adding an endpoint is one entry here plus one thin method in :mod:`.methods`.

Where the spec's sources disagree, the entries follow the project's design decisions: the
description limit is 15000, priority / message / description updates are ``PUT``, details live
under ``/v1/incidents/{id}/details``, removals send comma-joined ``tags`` / ``keys`` and the note
in the query, and timeline hide / unhide are ``GET`` as the timeline docs show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

from airflow_provider_opsgenie_incident.client import validation as v
from airflow_provider_opsgenie_incident.client.types import IdentifierType, Order, TimelineGroup

__all__ = ["ENDPOINTS", "Endpoint", "Field", "Location"]

Location = Literal["path", "query", "body"]

INCIDENT_DOCS: Final = "https://docs.opsgenie.com/docs/incident-api"
TIMELINE_DOCS: Final = "https://docs.opsgenie.com/docs/incident-timeline-api"


@dataclass(frozen=True)
class Field:
    """
    One argument of an endpoint.

    :param name: the Python keyword argument.
    :param wire: the name on the wire; a dotted name nests in the JSON body (``description.content``).
    :param location: where the value goes: ``path``, ``query`` or ``body``.
    :param required: whether the call is refused without it.
    :param check: the validation applied before any I/O.
    """

    name: str
    wire: str
    location: Location
    required: bool = False
    check: v.Check | None = None


@dataclass(frozen=True)
class Endpoint:
    """
    One API action.

    :param name: the catalogue key, equal to the client method name.
    :param method: the HTTP method.
    :param path: the path template; ``{name}`` placeholders are filled from path fields, URL-encoded.
    :param fields: the arguments, in the order of the client method's signature.
    :param asynchronous: the API answers 202 with a ``requestId`` to poll, not the result.
    :param idempotent: repeating the call cannot create a second note, entry or incident.
    :param docs: the documentation section describing the action.
    :param requires_one_of: argument names of which at least one must be given.
    """

    name: str
    method: str
    path: str
    fields: tuple[Field, ...]
    asynchronous: bool = False
    idempotent: bool = True
    docs: str = INCIDENT_DOCS
    requires_one_of: tuple[str, ...] = ()

    @property
    def argument_names(self) -> tuple[str, ...]:
        """The Python argument names, each once, in signature order."""
        return tuple(dict.fromkeys(field.name for field in self.fields))


_IDENTIFIER = Field("identifier", "identifier", "path", required=True, check=v.identifier)
_IDENTIFIER_TYPE = Field(
    "identifier_type", "identifierType", "query", check=v.one_of(get_args(IdentifierType))
)
_NOTE = Field("note", "note", "body", check=v.max_chars(v.NOTE_LIMIT))
_QUERY_NOTE = Field("note", "note", "query", check=v.max_chars(v.NOTE_LIMIT))
_ORDER = Field("order", "order", "query", check=v.one_of(get_args(Order)))
_INCIDENT_ID = Field("incident_id", "incidentId", "path", required=True, check=v.identifier)
_ENTRY_ID = Field("entry_id", "timelineEntryId", "path", required=True, check=v.identifier)
_CONTENT_TYPE = Field("content_type", "contentType", "query", check=v.one_of(("plain_text",)))
_TIMELINE_GROUPS: Final = get_args(TimelineGroup)
_INCIDENT_PATH: Final = "/v1/incidents/{identifier}"
_ENTRY_PATH: Final = "/v2/incident-timelines/{incidentId}/entries/{timelineEntryId}"


def _incident_action(
    name: str, suffix: str, *fields: Field, method: str = "POST", idempotent: bool = True
) -> Endpoint:
    """Describe an asynchronous write on one incident (path identifier + identifierType)."""
    return Endpoint(
        name,
        method,
        _INCIDENT_PATH + suffix,
        (_IDENTIFIER, _IDENTIFIER_TYPE, *fields),
        asynchronous=True,
        idempotent=idempotent,
    )


def _paged_incident_list(name: str, suffix: str) -> Endpoint:
    """Describe the notes / logs listings, paged by an opaque offset and a direction."""
    return Endpoint(
        name,
        "GET",
        _INCIDENT_PATH + suffix,
        (
            _IDENTIFIER,
            _IDENTIFIER_TYPE,
            Field("offset", "offset", "query", check=v.identifier),
            Field("direction", "direction", "query", check=v.one_of(("next", "prev"))),
            Field("limit", "limit", "query", check=v.int_range(1, 100)),
            _ORDER,
        ),
    )


def _timeline_entry(name: str, method: str, suffix: str = "", *fields: Field) -> Endpoint:
    """Describe a synchronous call on one timeline entry."""
    return Endpoint(
        name, method, _ENTRY_PATH + suffix, (_INCIDENT_ID, _ENTRY_ID, *fields), docs=TIMELINE_DOCS
    )


_TIMELINE_CONTENT = Field("content", "description.content", "body", check=v.max_chars(v.DESCRIPTION_LIMIT))
_TIMELINE_TIME = Field("time", "time", "body", check=v.timestamp)

_ALL: Final = (
    Endpoint(
        "create_incident",
        "POST",
        "/v1/incidents/create",
        (
            Field(
                "message",
                "message",
                "body",
                required=True,
                check=v.max_chars(v.MESSAGE_LIMIT, allow_empty=False),
            ),
            Field("description", "description", "body", check=v.max_chars(v.DESCRIPTION_LIMIT)),
            Field("responders", "responders", "body", check=v.responders),
            Field("tags", "tags", "body", check=v.string_list(v.TAGS_LIMIT, v.TAG_LIMIT)),
            Field("details", "details", "body", check=v.details),
            Field("priority", "priority", "body", check=v.one_of(v.PRIORITIES)),
            _NOTE,
            Field("service_id", "serviceId", "body", check=v.identifier),
            Field("impacted_services", "impactedServices", "body", check=v.string_list(100)),
            Field("status_page_entry", "statusPageEntry", "body", check=v.status_page_entry),
            Field("notify_stakeholders", "notifyStakeholders", "body", check=v.boolean),
        ),
        asynchronous=True,
        idempotent=False,
    ),
    Endpoint("get_incident", "GET", _INCIDENT_PATH, (_IDENTIFIER, _IDENTIFIER_TYPE)),
    Endpoint(
        "list_incidents",
        "GET",
        "/v1/incidents",
        (
            Field("query", "query", "query", required=True, check=v.max_chars(10000, allow_empty=False)),
            Field("offset", "offset", "query", check=v.int_range(0)),
            Field("limit", "limit", "query", check=v.int_range(1, 100)),
            Field(
                "sort",
                "sort",
                "query",
                check=v.one_of(("createdAt", "tinyId", "message", "status", "isSeen", "owner")),
            ),
            _ORDER,
        ),
    ),
    Endpoint("delete_incident", "DELETE", _INCIDENT_PATH, (_IDENTIFIER, _IDENTIFIER_TYPE), asynchronous=True),
    _incident_action("close_incident", "/close", _NOTE),
    _incident_action("resolve_incident", "/resolve", _NOTE),
    _incident_action(
        "add_note",
        "/notes",
        Field("note", "note", "body", required=True, check=v.max_chars(v.NOTE_LIMIT, allow_empty=False)),
        idempotent=False,
    ),
    _paged_incident_list("list_notes", "/notes"),
    _paged_incident_list("list_logs", "/logs"),
    _incident_action(
        "add_responder",
        "/responders",
        Field("identifier", "incidentId", "body"),
        Field("responders", "responder", "body", required=True, check=v.responders),
        _NOTE,
    ),
    _incident_action(
        "add_tags",
        "/tags",
        Field("tags", "tags", "body", required=True, check=v.string_list(v.TAGS_LIMIT, v.TAG_LIMIT)),
        _NOTE,
    ),
    _incident_action(
        "remove_tags",
        "/tags",
        Field("tags", "tags", "query", required=True, check=v.string_list(v.TAGS_LIMIT, v.TAG_LIMIT)),
        _QUERY_NOTE,
        method="DELETE",
    ),
    _incident_action(
        "add_details", "/details", Field("details", "details", "body", required=True, check=v.details), _NOTE
    ),
    _incident_action(
        "remove_details",
        "/details",
        Field("keys", "keys", "query", required=True, check=v.string_list(v.REMOVE_DETAILS_KEYS_LIMIT)),
        _QUERY_NOTE,
        method="DELETE",
    ),
    _incident_action(
        "update_priority",
        "/priority",
        Field("priority", "priority", "body", required=True, check=v.one_of(v.PRIORITIES)),
        method="PUT",
    ),
    _incident_action(
        "update_message",
        "/message",
        Field(
            "message", "message", "body", required=True, check=v.max_chars(v.MESSAGE_LIMIT, allow_empty=False)
        ),
        method="PUT",
    ),
    _incident_action(
        "update_description",
        "/description",
        Field("description", "description", "body", required=True, check=v.max_chars(v.DESCRIPTION_LIMIT)),
        method="PUT",
    ),
    Endpoint(
        "get_request_status",
        "GET",
        "/v1/incidents/requests/{requestId}",
        (Field("request_id", "requestId", "path", required=True, check=v.identifier),),
    ),
    Endpoint(
        "add_timeline_entry",
        "POST",
        "/v2/incident-timelines/{incidentId}/entries",
        (
            _INCIDENT_ID,
            Field(
                "content",
                "description.content",
                "body",
                required=True,
                check=v.max_chars(v.DESCRIPTION_LIMIT, allow_empty=False),
            ),
            _TIMELINE_TIME,
            Field("content_type", "description.type", "body", check=v.one_of(("plain_text",))),
        ),
        idempotent=False,
        docs=TIMELINE_DOCS,
    ),
    _timeline_entry("get_timeline_entry", "GET", "", _CONTENT_TYPE),
    Endpoint(
        "update_timeline_entry",
        "PATCH",
        _ENTRY_PATH,
        (_INCIDENT_ID, _ENTRY_ID, _TIMELINE_CONTENT, _TIMELINE_TIME),
        docs=TIMELINE_DOCS,
        requires_one_of=("content", "time"),
    ),
    _timeline_entry("delete_timeline_entry", "DELETE"),
    Endpoint(
        "list_timeline_entries",
        "GET",
        "/v2/incident-timelines/{incidentId}/entries",
        (
            _INCIDENT_ID,
            Field("groups", "group", "query", check=v.subset_of(_TIMELINE_GROUPS)),
            Field("discard_hidden", "discardHidden", "query", check=v.boolean),
            Field("offset", "offset", "query", check=v.identifier),
            _ORDER,
            Field("limit", "limit", "query", check=v.int_range(1, 20)),
            _CONTENT_TYPE,
        ),
        docs=TIMELINE_DOCS,
    ),
    _timeline_entry("hide_timeline_entry", "GET", "/hide"),
    _timeline_entry("unhide_timeline_entry", "GET", "/unhide"),
)

#: Every endpoint by name: the 18 Incident API actions and the 7 Timeline API actions.
ENDPOINTS: Final[dict[str, Endpoint]] = {endpoint.name: endpoint for endpoint in _ALL}
