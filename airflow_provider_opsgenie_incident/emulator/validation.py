"""Synchronous request validation, with the limits of the Opsgenie Incident API docs.

Every function raises :class:`~airflow_provider_opsgenie_incident.emulator.errors.ApiError` (422, the
message naming the field and the limit) or returns the normalised value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_opsgenie_incident.emulator.errors import unprocessable

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "DESCRIPTION_MAX",
    "DETAILS_MAX",
    "MESSAGE_MAX",
    "NOTE_MAX",
    "PRIORITIES",
    "REMOVE_KEYS_MAX",
    "RESPONDERS_MAX",
    "TAGS_MAX",
    "TAG_MAX",
    "choice_param",
    "create_payload",
    "details",
    "identifier_type",
    "int_param",
    "message",
    "note",
    "optional_text",
    "priority",
    "responders",
    "tags",
]

MESSAGE_MAX = 130
DESCRIPTION_MAX = 15000
NOTE_MAX = 25000
TAGS_MAX = 20
TAG_MAX = 50
DETAILS_MAX = 8000
RESPONDERS_MAX = 50
REMOVE_KEYS_MAX = 10
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
IDENTIFIER_TYPES = ("id", "tiny")
RESPONDER_TYPES = ("team", "user")


def _text(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str):
        raise unprocessable(f"{name} should be a string")
    if len(value) > limit:
        raise unprocessable(f"{name} should be at most {limit} characters")
    return value


def optional_text(body: Mapping[str, Any], name: str, limit: int) -> str | None:
    """Return the optional string field ``name`` (``None`` if absent or null)."""
    value = body.get(name)
    return None if value is None else _text(value, name, limit)


def message(body: Mapping[str, Any]) -> str:
    """Return the mandatory ``message`` (non-blank, at most 130 characters)."""
    value = optional_text(body, "message", MESSAGE_MAX)
    if value is None or not value.strip():
        raise unprocessable("message is required and can not be empty")
    return value


def note(body: Mapping[str, Any], *, required: bool = False) -> str | None:
    """Return ``note`` (at most 25000 characters); mandatory when ``required``."""
    value = optional_text(body, "note", NOTE_MAX)
    if required and (value is None or not value.strip()):
        raise unprocessable("note is required and can not be empty")
    return value


def tags(value: Any, name: str = "tags") -> list[str]:
    """Return a list of at most 20 tags of at most 50 characters, de-duplicated in order."""
    if not isinstance(value, list):
        raise unprocessable(f"{name} should be a list of strings")
    if len(value) > TAGS_MAX:
        raise unprocessable(f"{name} should have at most {TAGS_MAX} items")
    result: list[str] = []
    for tag in value:
        if not isinstance(tag, str) or not tag.strip():
            raise unprocessable(f"{name} items should be non-empty strings")
        if len(tag) > TAG_MAX:
            raise unprocessable(f"{name} items should be at most {TAG_MAX} characters")
        if tag not in result:
            result.append(tag)
    return result


def details(value: Any) -> dict[str, str]:
    """Return a string-to-string map whose keys and values total at most 8000 characters."""
    if not isinstance(value, dict):
        raise unprocessable("details should be a map of strings")
    total = 0
    for key, item in value.items():
        if not isinstance(item, str):
            raise unprocessable(f"details values should be strings; [{key}] is not")
        total += len(key) + len(item)
    if total > DETAILS_MAX:
        raise unprocessable(f"details should be at most {DETAILS_MAX} characters in total")
    return dict(value)


def responders(value: Any, name: str = "responders") -> list[dict[str, Any]]:
    """Return at most 50 responders, each a team or user given by ``id`` or ``name``/``username``."""
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise unprocessable(f"{name} should be a list")
    if len(value) > RESPONDERS_MAX:
        raise unprocessable(f"{name} should have at most {RESPONDERS_MAX} items")
    for item in value:
        if not isinstance(item, dict):
            raise unprocessable(f"{name} items should be objects")
        kind = item.get("type")
        if kind not in RESPONDER_TYPES:
            raise unprocessable(f"{name} type should be one of [team, user]")
        keys = ("id", "name", "username") if kind == "user" else ("id", "name")
        if not any(isinstance(item.get(key), str) and item[key] for key in keys):
            raise unprocessable(f"{name} of type {kind} should have one of [{', '.join(keys)}]")
    return [dict(item) for item in value]


def priority(value: Any) -> str:
    """Return a priority, one of P1..P5."""
    if value not in PRIORITIES:
        raise unprocessable(f"priority should be one of [{', '.join(PRIORITIES)}]")
    return str(value)


def identifier_type(query: Mapping[str, str]) -> str:
    """Return ``identifierType`` from the query: ``id`` (default) or ``tiny``."""
    return choice_param(query, "identifierType", "id", IDENTIFIER_TYPES)


def choice_param(query: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    """Return the query parameter ``name``, which must be one of ``choices``."""
    value = query.get(name, default)
    if value not in choices:
        raise unprocessable(f"{name} should be one of [{', '.join(choices)}]")
    return value


def int_param(query: Mapping[str, str], name: str, default: int, low: int, high: int | None) -> int:
    """Return the integer query parameter ``name`` within ``low``..``high``."""
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise unprocessable(f"{name} should be an integer") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise unprocessable(f"{name} should be {bound}")
    return value


def _status_page_entry(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise unprocessable("statusPageEntry should be an object")
    if not isinstance(value.get("title"), str) or not value["title"].strip():
        raise unprocessable("statusPageEntry title is required")
    if value.get("detail") is not None and not isinstance(value["detail"], str):
        raise unprocessable("statusPageEntry detail should be a string")
    return dict(value)


def create_payload(body: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a create-incident body and return its normalised fields."""
    payload: dict[str, Any] = {
        "message": message(body),
        "description": optional_text(body, "description", DESCRIPTION_MAX) or "",
        "responders": responders(body["responders"]) if body.get("responders") is not None else [],
        "tags": tags(body["tags"]) if body.get("tags") is not None else [],
        "details": details(body["details"]) if body.get("details") is not None else {},
        "priority": priority(body["priority"]) if body.get("priority") is not None else "P3",
        "note": note(body),
        "notifyStakeholders": body.get("notifyStakeholders", False),
    }
    if not isinstance(payload["notifyStakeholders"], bool):
        raise unprocessable("notifyStakeholders should be a boolean")
    service_id = optional_text(body, "serviceId", 200)
    services = body.get("impactedServices")
    if services is not None and (
        not isinstance(services, list) or not all(isinstance(item, str) for item in services)
    ):
        raise unprocessable("impactedServices should be a list of strings")
    if service_id is not None:
        payload["serviceId"] = service_id
    payload["impactedServices"] = list(services or ([service_id] if service_id else []))
    if body.get("statusPageEntry") is not None:
        payload["statusPageEntry"] = _status_page_entry(body["statusPageEntry"])
    return payload
