"""One typed public method per catalogue endpoint, each one line over ``call``.

The sync client, the async client and the Airflow hook all inherit :class:`IncidentApiMethods`;
each supplies ``call`` (the sync client returns the JSON, the async one an awaitable of it, the
hook delegates to its client). A method takes keyword arguments only, typed by the
:class:`~typing.TypedDict` of its request (PEP 692, as botocore's stubs do), whose keys are
exactly its catalogue entry's argument names (a test checks it); shared groups of arguments (the
incident addressed, its note) are declared once and inherited. An optional argument given as
``None`` counts as not given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar, Unpack

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from airflow_provider_opsgenie_incident.client import types as t

__all__ = ["IncidentApiMethods"]

R = TypeVar("R")


class _Message(TypedDict):
    message: str


class CreateIncident(_Message, total=False):
    """The arguments of ``create_incident``."""

    description: str | None
    responders: Sequence[t.Responder] | None
    tags: Sequence[str] | None
    details: Mapping[str, str] | None
    priority: t.Priority | None
    note: str | None
    service_id: str | None
    impacted_services: Sequence[str] | None
    status_page_entry: t.StatusPageEntry | None
    notify_stakeholders: bool | None


class _Query(TypedDict):
    query: str


class ListIncidents(_Query, total=False):
    """The arguments of ``list_incidents``: a search query and one page of its results."""

    offset: int | None
    limit: int | None
    sort: str | None
    order: t.Order | None


class _Identifier(TypedDict):
    identifier: str


class Incident(_Identifier, total=False):
    """The incident a call addresses: its id, or its tiny id with ``identifier_type="tiny"``."""

    identifier_type: t.IdentifierType | None


class IncidentNote(Incident, total=False):
    """An incident and the note recorded with the action."""

    note: str | None


class NewNote(Incident):
    """An incident and the note to add to it."""

    note: str


class IncidentPage(Incident, total=False):
    """One page of an incident's notes or activity log, by an opaque ``offset``."""

    offset: str | None
    direction: str | None
    limit: int | None
    order: t.Order | None


class NewResponders(IncidentNote):
    """Teams or users to add as responders of an incident."""

    responders: Sequence[t.Responder]


class TagChange(IncidentNote):
    """Tags to add to or remove from an incident."""

    tags: Sequence[str]


class NewDetails(IncidentNote):
    """Custom properties to add to an incident."""

    details: Mapping[str, str]


class DetailKeys(IncidentNote):
    """Custom properties to remove from an incident, by key."""

    keys: Sequence[str]


class NewPriority(Incident):
    """An incident's new priority."""

    priority: t.Priority


class NewMessage(Incident):
    """An incident's new message."""

    message: str


class NewDescription(Incident):
    """An incident's new description; an empty string clears it."""

    description: str


class RequestStatus(TypedDict):
    """The ``requestId`` of an asynchronous request."""

    request_id: str


class _Content(TypedDict):
    incident_id: str
    content: str


class NewTimelineEntry(_Content, total=False):
    """A custom entry to add to an incident's timeline."""

    time: datetime | str | None
    content_type: str | None


class TimelineEntry(TypedDict):
    """One timeline entry of one incident."""

    incident_id: str
    entry_id: str


class ReadTimelineEntry(TimelineEntry, total=False):
    """A timeline entry to read, and the form of its text."""

    content_type: str | None


class TimelineEntryChange(TimelineEntry, total=False):
    """A custom timeline entry's new text or time (at least one of them)."""

    content: str | None
    time: datetime | str | None


class _Timeline(TypedDict):
    incident_id: str


class TimelinePage(_Timeline, total=False):
    """One page of an incident's timeline; pass the previous page's ``nextOffset`` on."""

    groups: Sequence[t.TimelineGroup] | None
    discard_hidden: bool | None
    offset: str | None
    order: t.Order | None
    limit: int | None
    content_type: str | None


class IncidentApiMethods(Generic[R]):
    """Every action of the Incident API and the Incident Timeline API, as keyword-only methods."""

    def call(self, endpoint: str, arguments: Mapping[str, Any]) -> R:
        """Call one catalogue endpoint by name with its Python-named arguments; the one way in."""
        raise NotImplementedError

    # Incident API: asynchronous writes answer {"result", "requestId"}; pass the requestId to a wait.

    def create_incident(self, **arguments: Unpack[CreateIncident]) -> R:
        """Create an incident (asynchronous)."""
        return self.call("create_incident", arguments)

    def get_incident(self, **arguments: Unpack[Incident]) -> R:
        """Get one incident by id or tiny id."""
        return self.call("get_incident", arguments)

    def list_incidents(self, **arguments: Unpack[ListIncidents]) -> R:
        """List one page of incidents matching a search query (``status:open AND tag:"x"``)."""
        return self.call("list_incidents", arguments)

    def delete_incident(self, **arguments: Unpack[Incident]) -> R:
        """Delete an incident (asynchronous)."""
        return self.call("delete_incident", arguments)

    def close_incident(self, **arguments: Unpack[IncidentNote]) -> R:
        """Close an incident (asynchronous)."""
        return self.call("close_incident", arguments)

    def resolve_incident(self, **arguments: Unpack[IncidentNote]) -> R:
        """Resolve an incident (asynchronous)."""
        return self.call("resolve_incident", arguments)

    def add_note(self, **arguments: Unpack[NewNote]) -> R:
        """Add a note to an incident (asynchronous)."""
        return self.call("add_note", arguments)

    def list_notes(self, **arguments: Unpack[IncidentPage]) -> R:
        """List one page of an incident's notes."""
        return self.call("list_notes", arguments)

    def list_logs(self, **arguments: Unpack[IncidentPage]) -> R:
        """List one page of an incident's activity log."""
        return self.call("list_logs", arguments)

    def add_responder(self, **arguments: Unpack[NewResponders]) -> R:
        """Add teams or users as responders of an incident (asynchronous)."""
        return self.call("add_responder", arguments)

    def add_tags(self, **arguments: Unpack[TagChange]) -> R:
        """Add tags to an incident (asynchronous)."""
        return self.call("add_tags", arguments)

    def remove_tags(self, **arguments: Unpack[TagChange]) -> R:
        """Remove tags from an incident (asynchronous)."""
        return self.call("remove_tags", arguments)

    def add_details(self, **arguments: Unpack[NewDetails]) -> R:
        """Add custom properties to an incident (asynchronous)."""
        return self.call("add_details", arguments)

    def remove_details(self, **arguments: Unpack[DetailKeys]) -> R:
        """Remove custom properties from an incident (asynchronous)."""
        return self.call("remove_details", arguments)

    def update_priority(self, **arguments: Unpack[NewPriority]) -> R:
        """Change an incident's priority (asynchronous)."""
        return self.call("update_priority", arguments)

    def update_message(self, **arguments: Unpack[NewMessage]) -> R:
        """Change an incident's message (asynchronous)."""
        return self.call("update_message", arguments)

    def update_description(self, **arguments: Unpack[NewDescription]) -> R:
        """Change an incident's description; an empty string clears it (asynchronous)."""
        return self.call("update_description", arguments)

    def get_request_status(self, **arguments: Unpack[RequestStatus]) -> R:
        """Get the status of an asynchronous request; 404 while it is not processed."""
        return self.call("get_request_status", arguments)

    # Incident Timeline API (v2): synchronous.

    def add_timeline_entry(self, **arguments: Unpack[NewTimelineEntry]) -> R:
        """Add a custom entry to an incident's timeline."""
        return self.call("add_timeline_entry", arguments)

    def get_timeline_entry(self, **arguments: Unpack[ReadTimelineEntry]) -> R:
        """Get one timeline entry."""
        return self.call("get_timeline_entry", arguments)

    def update_timeline_entry(self, **arguments: Unpack[TimelineEntryChange]) -> R:
        """Change a custom timeline entry's text or time (at least one of them)."""
        return self.call("update_timeline_entry", arguments)

    def delete_timeline_entry(self, **arguments: Unpack[TimelineEntry]) -> R:
        """Delete a timeline entry."""
        return self.call("delete_timeline_entry", arguments)

    def list_timeline_entries(self, **arguments: Unpack[TimelinePage]) -> R:
        """List one page of an incident's timeline; pass the previous page's ``nextOffset`` on."""
        return self.call("list_timeline_entries", arguments)

    def hide_timeline_entry(self, **arguments: Unpack[TimelineEntry]) -> R:
        """Hide a timeline entry in the web UI."""
        return self.call("hide_timeline_entry", arguments)

    def unhide_timeline_entry(self, **arguments: Unpack[TimelineEntry]) -> R:
        """Show a hidden timeline entry again."""
        return self.call("unhide_timeline_entry", arguments)
