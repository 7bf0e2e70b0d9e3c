"""One typed public method per catalogue endpoint, written once for every caller.

The sync client, the async client and the Airflow hook all inherit :class:`IncidentApiMethods`;
each supplies ``call`` (the sync client returns the JSON, the async one an awaitable of it, the
hook delegates to its client). A method's keyword arguments are exactly its catalogue entry's
argument names, which a test checks, so ``locals()`` carries them to the catalogue unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from airflow_provider_opsgenie_incident.client.types import (
        IdentifierType,
        Order,
        Priority,
        Responder,
        StatusPageEntry,
        TimelineGroup,
    )

__all__ = ["IncidentApiMethods"]

R = TypeVar("R")
Identifier = str


class IncidentApiMethods(Generic[R]):
    """Every action of the Incident API and the Incident Timeline API, as keyword-only methods."""

    def call(self, endpoint: str, arguments: dict[str, Any]) -> R:
        """Call one catalogue endpoint by name with its Python-named arguments; the one way in."""
        raise NotImplementedError

    def _invoke(self, endpoint: str, local_names: dict[str, Any]) -> R:
        return self.call(endpoint, {key: value for key, value in local_names.items() if key != "self"})

    # Incident API: asynchronous writes answer {"result", "requestId"}; pass the requestId to a wait.

    def create_incident(
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
    ) -> R:
        """Create an incident (asynchronous)."""
        return self._invoke("create_incident", locals())

    def get_incident(self, *, identifier: Identifier, identifier_type: IdentifierType | None = None) -> R:
        """Get one incident by id or tiny id."""
        return self._invoke("get_incident", locals())

    def list_incidents(
        self,
        *,
        query: str,
        offset: int | None = None,
        limit: int | None = None,
        sort: str | None = None,
        order: Order | None = None,
    ) -> R:
        """List one page of incidents matching a search query (``status:open AND tag:"x"``)."""
        return self._invoke("list_incidents", locals())

    def delete_incident(self, *, identifier: Identifier, identifier_type: IdentifierType | None = None) -> R:
        """Delete an incident (asynchronous)."""
        return self._invoke("delete_incident", locals())

    def close_incident(
        self,
        *,
        identifier: Identifier,
        identifier_type: IdentifierType | None = None,
        note: str | None = None,
    ) -> R:
        """Close an incident (asynchronous)."""
        return self._invoke("close_incident", locals())

    def resolve_incident(
        self,
        *,
        identifier: Identifier,
        identifier_type: IdentifierType | None = None,
        note: str | None = None,
    ) -> R:
        """Resolve an incident (asynchronous)."""
        return self._invoke("resolve_incident", locals())

    def add_note(
        self, *, identifier: Identifier, note: str, identifier_type: IdentifierType | None = None
    ) -> R:
        """Add a note to an incident (asynchronous)."""
        return self._invoke("add_note", locals())

    def list_notes(
        self,
        *,
        identifier: Identifier,
        identifier_type: IdentifierType | None = None,
        offset: str | None = None,
        direction: str | None = None,
        limit: int | None = None,
        order: Order | None = None,
    ) -> R:
        """List one page of an incident's notes."""
        return self._invoke("list_notes", locals())

    def list_logs(
        self,
        *,
        identifier: Identifier,
        identifier_type: IdentifierType | None = None,
        offset: str | None = None,
        direction: str | None = None,
        limit: int | None = None,
        order: Order | None = None,
    ) -> R:
        """List one page of an incident's activity log."""
        return self._invoke("list_logs", locals())

    def add_responder(
        self,
        *,
        identifier: Identifier,
        responders: Sequence[Responder],
        identifier_type: IdentifierType | None = None,
        note: str | None = None,
    ) -> R:
        """Add teams or users as responders of an incident (asynchronous)."""
        return self._invoke("add_responder", locals())

    def add_tags(
        self,
        *,
        identifier: Identifier,
        tags: Sequence[str],
        identifier_type: IdentifierType | None = None,
        note: str | None = None,
    ) -> R:
        """Add tags to an incident (asynchronous)."""
        return self._invoke("add_tags", locals())

    def remove_tags(
        self,
        *,
        identifier: Identifier,
        tags: Sequence[str],
        identifier_type: IdentifierType | None = None,
        note: str | None = None,
    ) -> R:
        """Remove tags from an incident (asynchronous)."""
        return self._invoke("remove_tags", locals())

    def add_details(
        self,
        *,
        identifier: Identifier,
        details: Mapping[str, str],
        identifier_type: IdentifierType | None = None,
        note: str | None = None,
    ) -> R:
        """Add custom properties to an incident (asynchronous)."""
        return self._invoke("add_details", locals())

    def remove_details(
        self,
        *,
        identifier: Identifier,
        keys: Sequence[str],
        identifier_type: IdentifierType | None = None,
        note: str | None = None,
    ) -> R:
        """Remove custom properties from an incident (asynchronous)."""
        return self._invoke("remove_details", locals())

    def update_priority(
        self, *, identifier: Identifier, priority: Priority, identifier_type: IdentifierType | None = None
    ) -> R:
        """Change an incident's priority (asynchronous)."""
        return self._invoke("update_priority", locals())

    def update_message(
        self, *, identifier: Identifier, message: str, identifier_type: IdentifierType | None = None
    ) -> R:
        """Change an incident's message (asynchronous)."""
        return self._invoke("update_message", locals())

    def update_description(
        self, *, identifier: Identifier, description: str, identifier_type: IdentifierType | None = None
    ) -> R:
        """Change an incident's description; an empty string clears it (asynchronous)."""
        return self._invoke("update_description", locals())

    def get_request_status(self, *, request_id: str) -> R:
        """Get the status of an asynchronous request; 404 while it is not processed."""
        return self._invoke("get_request_status", locals())

    # Incident Timeline API (v2): synchronous.

    def add_timeline_entry(
        self,
        *,
        incident_id: Identifier,
        content: str,
        time: datetime | str | None = None,
        content_type: str | None = None,
    ) -> R:
        """Add a custom entry to an incident's timeline."""
        return self._invoke("add_timeline_entry", locals())

    def get_timeline_entry(
        self, *, incident_id: Identifier, entry_id: str, content_type: str | None = None
    ) -> R:
        """Get one timeline entry."""
        return self._invoke("get_timeline_entry", locals())

    def update_timeline_entry(
        self,
        *,
        incident_id: Identifier,
        entry_id: str,
        content: str | None = None,
        time: datetime | str | None = None,
    ) -> R:
        """Change a custom timeline entry's text or time (at least one of them)."""
        return self._invoke("update_timeline_entry", locals())

    def delete_timeline_entry(self, *, incident_id: Identifier, entry_id: str) -> R:
        """Delete a timeline entry."""
        return self._invoke("delete_timeline_entry", locals())

    def list_timeline_entries(
        self,
        *,
        incident_id: Identifier,
        groups: Sequence[TimelineGroup] | None = None,
        discard_hidden: bool | None = None,
        offset: str | None = None,
        order: Order | None = None,
        limit: int | None = None,
        content_type: str | None = None,
    ) -> R:
        """List one page of an incident's timeline; pass the previous page's ``nextOffset`` on."""
        return self._invoke("list_timeline_entries", locals())

    def hide_timeline_entry(self, *, incident_id: Identifier, entry_id: str) -> R:
        """Hide a timeline entry in the web UI."""
        return self._invoke("hide_timeline_entry", locals())

    def unhide_timeline_entry(self, *, incident_id: Identifier, entry_id: str) -> R:
        """Show a hidden timeline entry again."""
        return self._invoke("unhide_timeline_entry", locals())
