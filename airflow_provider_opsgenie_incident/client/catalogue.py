"""Every action of the Opsgenie Incident API (v1) and Incident Timeline API (v2), described once.

An :class:`Endpoint` says which HTTP method and path an action uses, which Python arguments go to
the path, the query and the body under which wire names, which limits guard them (data on each
:class:`Field`, which :mod:`.validation` checks and fits), whether the API answers asynchronously
(202 + ``requestId``) and whether repeating the call is harmless.
Request building (:mod:`.protocol`), both transports, the hook, the operators and the tests all
read this table; adding an endpoint is one entry here plus one thin method in :mod:`.methods`.

Where the spec's sources disagree, the entries follow the project's design decisions: the
description limit is 15000, priority / message / description updates are ``PUT``, details live
under ``/v1/incidents/{id}/details``, removals send comma-joined ``tags`` / ``keys`` and the note
in the query, and timeline hide / unhide are ``GET`` as the timeline docs show.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

from airflow_provider_opsgenie_incident.client.types import IdentifierType, Order, Priority, TimelineGroup

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "DESCRIPTION_LIMIT",
    "DETAILS_TOTAL_LIMIT",
    "ENDPOINTS",
    "MESSAGE_LIMIT",
    "NOTE_LIMIT",
    "RESPONDERS_LIMIT",
    "TAGS_LIMIT",
    "TAG_LIMIT",
    "Endpoint",
    "Field",
    "Kind",
    "Location",
]

Location = Literal["path", "query", "body"]
#: What shows that a write was applied: a new incident, its note, its timeline entry, or its target gone.
Evidence = Literal["created", "note", "entry", "gone"]

INCIDENT_DOCS: Final = "https://docs.opsgenie.com/docs/incident-api"
TIMELINE_DOCS: Final = "https://docs.opsgenie.com/docs/incident-timeline-api"


Kind = Literal[
    "text",
    "identifier",
    "time",
    "flag",
    "integer",
    "choice",
    "choices",
    "strings",
    "details",
    "responders",
    "status_page_entry",
]

MESSAGE_LIMIT: Final = 130
DESCRIPTION_LIMIT: Final = 15000
NOTE_LIMIT: Final = 25000
TAGS_LIMIT: Final = 20
TAG_LIMIT: Final = 50
DETAILS_TOTAL_LIMIT: Final = 8000
RESPONDERS_LIMIT: Final = 50


@dataclass(frozen=True)
class Field:
    """
    One argument of an endpoint, with its limits as data.

    :param name: the Python keyword argument.
    :param wire: the name on the wire; a dotted name nests in the JSON body (``description.content``).
    :param location: where the value goes: ``path``, ``query`` or ``body``.
    :param kind: what the value is (a text, a list of strings, a mapping...), which picks its check.
    :param required: whether the call is refused without it.
    :param allow_empty: whether an empty (or blank) text is accepted.
    :param max_chars: the longest text.
    :param max_items: the most items of a list.
    :param item_chars: the longest item of a list of strings.
    :param total_chars: the most characters of a mapping's keys and values together.
    :param choices: the values allowed (``choice``, ``choices``).
    :param minimum: the smallest integer allowed.
    :param maximum: the largest integer allowed.
    """

    name: str
    wire: str
    location: Location
    kind: Kind = "text"
    required: bool = False
    allow_empty: bool = True
    max_chars: int | None = None
    max_items: int | None = None
    item_chars: int | None = None
    total_chars: int | None = None
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None


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
    :param evidence: for a write that is not safe to repeat, how to see whether it was applied: the
        read to make (its arguments are the write's own, where the read takes them) and what to
        look for in it (see :mod:`.verification`). Writes carrying a note get ``("list_notes",
        "note")`` from :meth:`evidence_for`.
    """

    name: str
    method: str
    path: str
    fields: tuple[Field, ...]
    asynchronous: bool = False
    idempotent: bool = True
    docs: str = INCIDENT_DOCS
    requires_one_of: tuple[str, ...] = ()
    evidence: tuple[str, Evidence] | None = None

    def evidence_for(self, arguments: Mapping[str, Any]) -> tuple[str, Evidence] | None:
        """Return how to check this call after an ambiguous failure; None when repeating it is harmless."""
        if self.evidence is not None:
            return self.evidence
        if self.asynchronous and arguments.get("note"):
            # Idempotent but for its note: repeated, the action would add the note twice.
            return ("list_notes", "note")
        return None

    @property
    def argument_names(self) -> tuple[str, ...]:
        """The Python argument names, each once, in signature order."""
        return tuple(dict.fromkeys(field.name for field in self.fields))


def _text(name: str, wire: str, location: Location, limit: int, **options: Any) -> Field:
    return Field(name, wire, location, max_chars=limit, **options)


def _required_text(name: str, wire: str, limit: int) -> Field:
    return _text(name, wire, "body", limit, required=True, allow_empty=False)


def _choice(name: str, wire: str, location: Location, choices: tuple[str, ...], **options: Any) -> Field:
    return Field(name, wire, location, kind="choice", choices=choices, **options)


def _tags(location: Location, *, required: bool = True) -> Field:
    return Field(
        "tags",
        "tags",
        location,
        kind="strings",
        required=required,
        max_items=TAGS_LIMIT,
        item_chars=TAG_LIMIT,
    )


def _page_limit(maximum: int) -> Field:
    return Field("limit", "limit", "query", kind="integer", minimum=1, maximum=maximum)


_IDENTIFIER = Field("identifier", "identifier", "path", kind="identifier", required=True)
_IDENTIFIER_TYPE = _choice("identifier_type", "identifierType", "query", get_args(IdentifierType))
_NOTE = _text("note", "note", "body", NOTE_LIMIT)
_QUERY_NOTE = _text("note", "note", "query", NOTE_LIMIT)
_ORDER = _choice("order", "order", "query", get_args(Order))
_INCIDENT_ID = Field("incident_id", "incidentId", "path", kind="identifier", required=True)
_ENTRY_ID = Field("entry_id", "timelineEntryId", "path", kind="identifier", required=True)
_CONTENT_TYPE = _choice("content_type", "contentType", "query", ("plain_text",))
_PRIORITY = _choice("priority", "priority", "body", get_args(Priority))
_RESPONDERS = Field("responders", "responders", "body", kind="responders", max_items=RESPONDERS_LIMIT)
_DETAILS = Field("details", "details", "body", kind="details", total_chars=DETAILS_TOTAL_LIMIT)
_TIMELINE_TIME = Field("time", "time", "body", kind="time")
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
            Field("offset", "offset", "query", kind="identifier"),
            _choice("direction", "direction", "query", ("next", "prev")),
            _page_limit(100),
            _ORDER,
        ),
    )


def _timeline_entry(name: str, method: str, suffix: str = "", *fields: Field) -> Endpoint:
    """Describe a synchronous call on one timeline entry."""
    return Endpoint(
        name, method, _ENTRY_PATH + suffix, (_INCIDENT_ID, _ENTRY_ID, *fields), docs=TIMELINE_DOCS
    )


_ALL: Final = (
    Endpoint(
        "create_incident",
        "POST",
        "/v1/incidents/create",
        (
            _required_text("message", "message", MESSAGE_LIMIT),
            _text("description", "description", "body", DESCRIPTION_LIMIT),
            _RESPONDERS,
            _tags("body", required=False),
            _DETAILS,
            _PRIORITY,
            _NOTE,
            Field("service_id", "serviceId", "body", kind="identifier"),
            Field("impacted_services", "impactedServices", "body", kind="strings", max_items=100),
            Field("status_page_entry", "statusPageEntry", "body", kind="status_page_entry"),
            Field("notify_stakeholders", "notifyStakeholders", "body", kind="flag"),
        ),
        asynchronous=True,
        idempotent=False,
        evidence=("list_incidents", "created"),
    ),
    Endpoint("get_incident", "GET", _INCIDENT_PATH, (_IDENTIFIER, _IDENTIFIER_TYPE)),
    Endpoint(
        "list_incidents",
        "GET",
        "/v1/incidents",
        (
            _text("query", "query", "query", 10000, required=True, allow_empty=False),
            Field("offset", "offset", "query", kind="integer", minimum=0),
            _page_limit(100),
            _choice("sort", "sort", "query", ("createdAt", "tinyId", "message", "status", "isSeen", "owner")),
            _ORDER,
        ),
    ),
    Endpoint(
        "delete_incident",
        "DELETE",
        _INCIDENT_PATH,
        (_IDENTIFIER, _IDENTIFIER_TYPE),
        asynchronous=True,
        evidence=("get_incident", "gone"),
    ),
    _incident_action("close_incident", "/close", _NOTE),
    _incident_action("resolve_incident", "/resolve", _NOTE),
    _incident_action("add_note", "/notes", _required_text("note", "note", NOTE_LIMIT), idempotent=False),
    _paged_incident_list("list_notes", "/notes"),
    _paged_incident_list("list_logs", "/logs"),
    _incident_action(
        "add_responder",
        "/responders",
        Field("identifier", "incidentId", "body"),
        replace(_RESPONDERS, wire="responder", required=True),
        _NOTE,
    ),
    _incident_action("add_tags", "/tags", _tags("body"), _NOTE),
    _incident_action("remove_tags", "/tags", _tags("query"), _QUERY_NOTE, method="DELETE"),
    _incident_action("add_details", "/details", replace(_DETAILS, required=True), _NOTE),
    _incident_action(
        "remove_details",
        "/details",
        Field("keys", "keys", "query", kind="strings", required=True, max_items=10),
        _QUERY_NOTE,
        method="DELETE",
    ),
    _incident_action("update_priority", "/priority", replace(_PRIORITY, required=True), method="PUT"),
    _incident_action(
        "update_message", "/message", _required_text("message", "message", MESSAGE_LIMIT), method="PUT"
    ),
    _incident_action(
        "update_description",
        "/description",
        _text("description", "description", "body", DESCRIPTION_LIMIT, required=True),
        method="PUT",
    ),
    Endpoint(
        "get_request_status",
        "GET",
        "/v1/incidents/requests/{requestId}",
        (Field("request_id", "requestId", "path", kind="identifier", required=True),),
    ),
    Endpoint(
        "add_timeline_entry",
        "POST",
        "/v2/incident-timelines/{incidentId}/entries",
        (
            _INCIDENT_ID,
            _required_text("content", "description.content", DESCRIPTION_LIMIT),
            _TIMELINE_TIME,
            _choice("content_type", "description.type", "body", ("plain_text",)),
        ),
        idempotent=False,
        docs=TIMELINE_DOCS,
        evidence=("list_timeline_entries", "entry"),
    ),
    _timeline_entry("get_timeline_entry", "GET", "", _CONTENT_TYPE),
    Endpoint(
        "update_timeline_entry",
        "PATCH",
        _ENTRY_PATH,
        (
            _INCIDENT_ID,
            _ENTRY_ID,
            _text("content", "description.content", "body", DESCRIPTION_LIMIT, allow_empty=False),
            _TIMELINE_TIME,
        ),
        docs=TIMELINE_DOCS,
        requires_one_of=("content", "time"),
    ),
    replace(_timeline_entry("delete_timeline_entry", "DELETE"), evidence=("get_timeline_entry", "gone")),
    Endpoint(
        "list_timeline_entries",
        "GET",
        "/v2/incident-timelines/{incidentId}/entries",
        (
            _INCIDENT_ID,
            Field("groups", "group", "query", kind="choices", choices=get_args(TimelineGroup)),
            Field("discard_hidden", "discardHidden", "query", kind="flag"),
            Field("offset", "offset", "query", kind="identifier"),
            _ORDER,
            _page_limit(20),
            _CONTENT_TYPE,
        ),
        docs=TIMELINE_DOCS,
    ),
    _timeline_entry("hide_timeline_entry", "GET", "/hide"),
    _timeline_entry("unhide_timeline_entry", "GET", "/unhide"),
)

#: Every endpoint by name: the 18 Incident API actions and the 7 Timeline API actions.
ENDPOINTS: Final[dict[str, Endpoint]] = {endpoint.name: endpoint for endpoint in _ALL}
