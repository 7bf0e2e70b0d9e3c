"""Typed shapes of request arguments; responses stay ``dict[str, Any]`` so unknown fields survive."""

from __future__ import annotations

from typing import Literal, TypedDict

__all__ = [
    "IdentifierType",
    "IncidentStatus",
    "Order",
    "Priority",
    "Responder",
    "StatusPageEntry",
    "TimelineGroup",
]

Priority = Literal["P1", "P2", "P3", "P4", "P5"]
IdentifierType = Literal["id", "tiny"]
IncidentStatus = Literal["open", "resolved", "closed"]
Order = Literal["asc", "desc"]
TimelineGroup = Literal[
    "custom",
    "incident",
    "responderAlert",
    "stakeholderUpdate",
    "statusPage",
    "iccSessionLifecycle",
    "iccSessionDetails",
    "integration",
]


class Responder(TypedDict, total=False):
    """A team or user to route the incident to, named by ``id``, ``name`` or (users) ``username``."""

    type: Literal["team", "user"]
    id: str
    name: str
    username: str


class StatusPageEntry(TypedDict, total=False):
    """The status page entry of a new incident: ``title`` is required, ``detail`` optional."""

    title: str
    detail: str
