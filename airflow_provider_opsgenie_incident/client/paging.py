"""Pagination, written once over ``call``: the sync client and the hook share these iterators.

Each listing pages its own way: incidents by a numeric ``offset`` that counts the items seen, notes
and logs by an opaque ``offset`` read from the ``paging.next`` link, the timeline by
``data.nextOffset``. :func:`_next_offset` knows the three; :meth:`SyncMethods._pages` is the loop.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, Unpack
from urllib.parse import parse_qs, urlsplit

from airflow_provider_opsgenie_incident.client.catalogue import ENDPOINTS
from airflow_provider_opsgenie_incident.client.flows import run_flow
from airflow_provider_opsgenie_incident.client.methods import IncidentApiMethods
from airflow_provider_opsgenie_incident.client.waiting import wait_flow

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from airflow_provider_opsgenie_incident.client.flows import Flow
    from airflow_provider_opsgenie_incident.client.types import IdentifierType, Order, TimelineGroup

__all__ = ["SyncMethods"]

T = TypeVar("T")


def _items(page: dict[str, Any]) -> list[dict[str, Any]]:
    data = page.get("data") or []
    return list(data.get("entries") or []) if isinstance(data, dict) else list(data)


def _next_offset(endpoint: str, page: dict[str, Any], offset: Any, seen: int) -> Any:
    """Return the offset of the page after ``page``, or None when it was the last."""
    if endpoint == "list_timeline_entries":
        following = (page.get("data") or {}).get("nextOffset")
    else:
        next_url = (page.get("paging") or {}).get("next")
        if not next_url or not _items(page):
            return None
        if endpoint == "list_incidents":
            return seen
        following = (parse_qs(urlsplit(next_url).query).get("offset") or [None])[0]
    return following if following and following != offset else None


class _Paging(TypedDict, total=False):
    order: Order | None
    page_size: int | None


class IncidentPaging(_Paging, total=False):
    """The options of ``iter_incidents``: the sort field, the order and the page size."""

    sort: str | None


class NotePaging(_Paging, total=False):
    """The options of ``iter_notes`` and ``iter_logs``."""

    identifier_type: IdentifierType | None


class TimelinePaging(_Paging, total=False):
    """The options of ``iter_timeline_entries``."""

    groups: Sequence[TimelineGroup] | None
    discard_hidden: bool | None
    content_type: str | None


class SyncMethods(IncidentApiMethods[dict[str, Any]]):
    """The typed methods plus what a synchronous caller adds: iterators and the request wait."""

    def _pages(self, endpoint: str, arguments: dict[str, Any], first: Any = None) -> Iterator[dict[str, Any]]:
        # page_size defaults to the most the endpoint allows per page (100, the timeline 20).
        largest = next(f.maximum for f in ENDPOINTS[endpoint].fields if f.name == "limit")
        page_size = arguments.pop("page_size", None)
        arguments = {**arguments, "limit": page_size or largest}
        offset, seen = first, 0
        while True:
            page = self.call(endpoint, {**arguments, "offset": offset})
            items = _items(page)
            seen += len(items)
            yield from items
            offset = _next_offset(endpoint, page, offset, seen)
            if offset is None:
                return
            if endpoint in ("list_notes", "list_logs"):
                arguments = {**arguments, "direction": "next"}

    def wait_for_request(self, request_id: str, *, timeout: float = 60.0) -> dict[str, Any]:
        """
        Wait until an asynchronous request is processed and return its status ``data``.

        :raises RequestFailedError: the request was processed with success false.
        :raises WaitTimeoutError: it was not processed within ``timeout`` seconds.
        """
        return self.run_flow(wait_flow(request_id, timeout=timeout), timeout=math.inf)

    def run_flow(self, flow: Flow[T], *, timeout: float = 60.0) -> T:
        """Run a flow of steps (:mod:`.flows`) with this client, within ``timeout`` seconds."""
        return run_flow(flow, self, timeout=timeout)

    def iter_incidents(self, query: str, **options: Unpack[IncidentPaging]) -> Iterator[dict[str, Any]]:
        """Yield every incident matching a search query, page after page."""
        return self._pages("list_incidents", {"query": query, **options}, 0)

    def iter_notes(self, identifier: str, **options: Unpack[NotePaging]) -> Iterator[dict[str, Any]]:
        """Yield every note of an incident."""
        return self._pages("list_notes", {"identifier": identifier, **options})

    def iter_logs(self, identifier: str, **options: Unpack[NotePaging]) -> Iterator[dict[str, Any]]:
        """Yield every activity log entry of an incident."""
        return self._pages("list_logs", {"identifier": identifier, **options})

    def iter_timeline_entries(
        self, incident_id: str, **options: Unpack[TimelinePaging]
    ) -> Iterator[dict[str, Any]]:
        """Yield every entry of an incident's timeline, following ``nextOffset``."""
        return self._pages("list_timeline_entries", {"incident_id": incident_id, **options})
