"""The documented limits of the Opsgenie Incident and Timeline APIs, as pure checks.

Each check takes the field's wire name and its value and raises
:class:`~airflow_provider_opsgenie_incident.client.errors.InvalidRequestError` naming the field,
the limit and the value's size. The catalogue attaches checks to the fields they guard, so a
request is validated completely before any I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any, Final, get_args

from airflow_provider_opsgenie_incident.client.errors import InvalidRequestError
from airflow_provider_opsgenie_incident.client.types import Priority

__all__ = [
    "DESCRIPTION_LIMIT",
    "DETAILS_TOTAL_LIMIT",
    "MESSAGE_LIMIT",
    "NOTE_LIMIT",
    "PRIORITIES",
    "RESPONDERS_LIMIT",
    "TAGS_LIMIT",
    "TAG_LIMIT",
    "Check",
    "boolean",
    "details",
    "identifier",
    "int_range",
    "max_chars",
    "one_of",
    "responders",
    "status_page_entry",
    "string_list",
    "subset_of",
    "timestamp",
    "truncate",
]

Check = Callable[[str, Any], None]

MESSAGE_LIMIT: Final = 130
DESCRIPTION_LIMIT: Final = 15000
NOTE_LIMIT: Final = 25000
TAGS_LIMIT: Final = 20
TAG_LIMIT: Final = 50
DETAILS_TOTAL_LIMIT: Final = 8000
RESPONDERS_LIMIT: Final = 50
REMOVE_DETAILS_KEYS_LIMIT: Final = 10
PRIORITIES: Final = get_args(Priority)
RESPONDER_TYPES: Final = ("team", "user")


def _invalid(
    field: str, problem: str, *, limit: int | None = None, size: int | None = None
) -> InvalidRequestError:
    return InvalidRequestError(f"{field} {problem}", field=field, limit=limit, size=size)


def _require_type(field: str, value: Any, expected: type | tuple[type, ...], name: str) -> None:
    # bool is an int subclass, but True is no page size.
    if not isinstance(value, expected) or (isinstance(value, bool) and expected is int):
        raise _invalid(field, f"must be {name}, got {type(value).__name__}")


def identifier(field: str, value: Any) -> None:
    """Check a path identifier: a non-empty string (it is URL-encoded, so any character is safe)."""
    _require_type(field, value, str, "a string")
    if not value.strip():
        raise _invalid(field, "must not be empty")


def boolean(field: str, value: Any) -> None:
    """Check a flag: a real ``bool``, so the string ``"false"`` is not taken for true."""
    if not isinstance(value, bool):
        raise _invalid(field, f"must be true or false, got {type(value).__name__}")


def timestamp(field: str, value: Any) -> None:
    """Check a point in time: a ``datetime`` or an ISO-8601 string."""
    if not isinstance(value, datetime):
        identifier(field, value)


def max_chars(limit: int, *, allow_empty: bool = True) -> Check:
    """Return a check that the value is a string of at most ``limit`` characters."""

    def check(field: str, value: Any) -> None:
        _require_type(field, value, str, "a string")
        if not allow_empty and not value.strip():
            raise _invalid(field, "must not be empty")
        if len(value) > limit:
            raise _invalid(
                field,
                f"is {len(value)} characters long; the limit is {limit} characters",
                limit=limit,
                size=len(value),
            )

    return check


def one_of(allowed: Collection[str]) -> Check:
    """Return a check that the value is one of ``allowed``."""

    def check(field: str, value: Any) -> None:
        if value not in allowed:
            raise _invalid(field, f"must be one of {', '.join(allowed)}; got {value!r}")

    return check


def subset_of(allowed: Collection[str]) -> Check:
    """Return a check that the value is a list of strings, each one of ``allowed``."""

    def check(field: str, value: Any) -> None:
        _require_type(field, value, (list, tuple), "a list")
        for item in value:
            one_of(allowed)(field, item)

    return check


def int_range(minimum: int, maximum: int | None = None) -> Check:
    """Return a check that the value is an integer in ``[minimum, maximum]``."""

    def check(field: str, value: Any) -> None:
        _require_type(field, value, int, "an integer")
        if value < minimum or (maximum is not None and value > maximum):
            upper = "" if maximum is None else f" and at most {maximum}"
            raise _invalid(
                field, f"must be at least {minimum}{upper}; got {value}", limit=maximum, size=value
            )

    return check


def string_list(max_items: int, item_limit: int | None = None) -> Check:
    """Return a check that the value is a list of at most ``max_items`` non-empty strings."""

    def check(field: str, value: Any) -> None:
        _require_type(field, value, (list, tuple), "a list of strings")
        if not value:
            raise _invalid(field, "must not be empty")
        if len(value) > max_items:
            raise _invalid(
                field, f"has {len(value)} items; the limit is {max_items}", limit=max_items, size=len(value)
            )
        for index, item in enumerate(value):
            item_field = f"{field}[{index}]"
            _require_type(item_field, item, str, "a string")
            if not item.strip():
                raise _invalid(item_field, "must not be empty")
            if item_limit is not None and len(item) > item_limit:
                raise _invalid(
                    item_field,
                    f"is {len(item)} characters long; the limit is {item_limit} characters",
                    limit=item_limit,
                    size=len(item),
                )
            if "," in item and field in ("tags", "keys"):
                # Removal sends the list comma-joined in the query string: a comma would split it.
                raise _invalid(item_field, "must not contain a comma")

    return check


def details(field: str, value: Any) -> None:
    """Check custom properties: string keys and values, 8000 characters in total."""
    _require_type(field, value, Mapping, "a mapping of strings")
    if not value:
        raise _invalid(field, "must not be empty")
    total = 0
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise _invalid(f"{field}[{key!r}]", f"must map a string to a string, got {type(item).__name__}")
        total += len(key) + len(item)
    if total > DETAILS_TOTAL_LIMIT:
        raise _invalid(
            field,
            f"are {total} characters long in total (keys and values); the limit is {DETAILS_TOTAL_LIMIT}",
            limit=DETAILS_TOTAL_LIMIT,
            size=total,
        )


def responders(field: str, value: Any) -> None:
    """Check responders: at most 50, each a team or user named by ``id``, ``name`` or ``username``."""
    _require_type(field, value, (list, tuple), "a list of responders")
    if not value:
        raise _invalid(field, "must not be empty")
    if len(value) > RESPONDERS_LIMIT:
        raise _invalid(
            field,
            f"has {len(value)} items; the limit is {RESPONDERS_LIMIT}",
            limit=RESPONDERS_LIMIT,
            size=len(value),
        )
    for index, responder in enumerate(value):
        item_field = f"{field}[{index}]"
        _require_type(item_field, responder, Mapping, "a mapping with type and id or name")
        one_of(RESPONDER_TYPES)(f"{item_field}.type", responder.get("type"))
        names = ("id", "name", "username") if responder["type"] == "user" else ("id", "name")
        if not any(isinstance(responder.get(key), str) and responder[key] for key in names):
            raise _invalid(item_field, f"needs one of {', '.join(names)}")


def status_page_entry(field: str, value: Any) -> None:
    """Check a status page entry: ``title`` is required when an entry is given, ``detail`` optional."""
    _require_type(field, value, Mapping, "a mapping with title and detail")
    max_chars(MESSAGE_LIMIT, allow_empty=False)(f"{field}.title", value.get("title"))
    if value.get("detail") is not None:
        max_chars(DESCRIPTION_LIMIT)(f"{field}.detail", value["detail"])


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut ``text`` to ``limit`` characters, ending with ``ellipsis`` when anything was cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(ellipsis), 0)] + ellipsis[:limit]
