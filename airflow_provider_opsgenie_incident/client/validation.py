"""One check for every field, driven by the limits the catalogue holds as data; and :func:`fit`.

:func:`check` validates one value against its :class:`~.catalogue.Field`: the field's ``kind``
says what the value must be (a text, a list of strings, a mapping...), and its limits
(``max_chars``, ``max_items``, ``item_chars``, ``total_chars``, ``minimum`` / ``maximum``,
``choices``) how large it may be. A broken limit raises
:class:`~airflow_provider_opsgenie_incident.client.errors.InvalidRequestError` naming the field,
the limit and the value's size, before any I/O.

:func:`fit` is the other side of the same data: it cuts a payload to the limits (texts with an
ellipsis, lists to their most items, mappings to their total), for callers such as the notifiers
whose text comes from a task's context and must never lose the incident by being too long.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_opsgenie_incident.client.catalogue import (
    DESCRIPTION_LIMIT,
    ENDPOINTS,
    MESSAGE_LIMIT,
)
from airflow_provider_opsgenie_incident.client.errors import InvalidRequestError

if TYPE_CHECKING:
    from airflow_provider_opsgenie_incident.client.catalogue import Field

__all__ = ["check", "fit", "largest_cap", "truncate"]

RESPONDER_TYPES = ("team", "user")
#: The longest identifier accepted (an id, a tiny id, a request id, an entry id): Opsgenie's are
#: UUIDs or numbers, far shorter; a longer one can only be a mistake, and would cost a 414.
IDENTIFIER_LIMIT = 256


def _invalid(
    field: str, problem: str, *, limit: int | None = None, size: int | None = None
) -> InvalidRequestError:
    return InvalidRequestError(f"{field} {problem}", field=field, limit=limit, size=size)


def _require_type(name: str, value: Any, expected: type | tuple[type, ...], label: str) -> None:
    # bool is an int subclass, but True is no page size.
    if not isinstance(value, expected) or (isinstance(value, bool) and expected is int):
        raise _invalid(name, f"must be {label}, got {type(value).__name__}")


def _encodable(name: str, value: Any) -> None:
    """Refuse what cannot travel: a lone surrogate (no UTF-8 for it) or a NUL, at any depth."""
    if isinstance(value, str):
        if "\x00" in value:
            raise _invalid(name, "must not contain a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise _invalid(
                name, f"cannot be encoded as UTF-8 (character {error.start}: {error.reason})"
            ) from None
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _encodable(f"{name}[{key!r}]" if isinstance(key, str) else name, key)
            _encodable(f"{name}[{key!r}]", item)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _encodable(f"{name}[{index}]", item)


def _text(name: str, value: Any, *, limit: int | None = None, allow_empty: bool = True) -> None:
    _require_type(name, value, str, "a string")
    if not allow_empty and not value.strip():
        raise _invalid(name, "must not be empty")
    if limit is not None and len(value) > limit:
        raise _invalid(
            name,
            f"is {len(value)} characters long; the limit is {limit} characters",
            limit=limit,
            size=len(value),
        )


def _items(name: str, value: Any, limit: int | None, label: str) -> None:
    _require_type(name, value, (list, tuple), label)
    if not value:
        raise _invalid(name, "must not be empty")
    if limit is not None and len(value) > limit:
        raise _invalid(name, f"has {len(value)} items; the limit is {limit}", limit=limit, size=len(value))


def _choice(field: Field, name: str, value: Any) -> None:
    if value not in field.choices:
        raise _invalid(name, f"must be one of {', '.join(field.choices)}; got {value!r}")


def _strings(field: Field, name: str, value: Any) -> None:
    _items(name, value, field.max_items, "a list of strings")
    for index, item in enumerate(value):
        _text(f"{name}[{index}]", item, limit=field.item_chars, allow_empty=False)
        if "," in item and field.wire in ("tags", "keys"):
            # Removal sends the list comma-joined in the query string: a comma would split it.
            raise _invalid(f"{name}[{index}]", "must not contain a comma")


def _choices(field: Field, name: str, value: Any) -> None:
    _require_type(name, value, (list, tuple), "a list")
    for item in value:
        _choice(field, name, item)


def _integer(field: Field, name: str, value: Any) -> None:
    _require_type(name, value, int, "an integer")
    low, high = field.minimum, field.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        upper = "" if high is None else f" and at most {high}"
        raise _invalid(name, f"must be at least {low}{upper}; got {value}", limit=high, size=value)


def _flag(field: Field, name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise _invalid(name, f"must be true or false, got {type(value).__name__}")


def _time(field: Field, name: str, value: Any) -> None:
    if isinstance(value, datetime):
        return
    _text(name, value, allow_empty=False)
    try:
        datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(
            name, f"must be an ISO 8601 time such as 2024-05-06T07:08:09Z, got {value!r}"
        ) from None


def _details(field: Field, name: str, value: Any) -> None:
    _require_type(name, value, Mapping, "a mapping of strings")
    if not value:
        raise _invalid(name, "must not be empty")
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise _invalid(f"{name}[{key!r}]", f"must map a string to a string, got {type(item).__name__}")
    total = sum(len(key) + len(item) for key, item in value.items())
    limit = field.total_chars
    if limit is not None and total > limit:
        raise _invalid(
            name,
            f"are {total} characters long in total (keys and values); the limit is {limit}",
            limit=limit,
            size=total,
        )


def _responders(field: Field, name: str, value: Any) -> None:
    _items(name, value, field.max_items, "a list of responders")
    for index, responder in enumerate(value):
        item = f"{name}[{index}]"
        _require_type(item, responder, Mapping, "a mapping with type and id or name")
        if responder.get("type") not in RESPONDER_TYPES:
            raise _invalid(
                f"{item}.type", f"must be one of {', '.join(RESPONDER_TYPES)}; got {responder.get('type')!r}"
            )
        names = ("id", "name", "username") if responder["type"] == "user" else ("id", "name")
        for key in names:
            if responder.get(key) is not None and not isinstance(responder[key], str):
                raise _invalid(f"{item}.{key}", f"must be a string; got {type(responder[key]).__name__}")
        given = [key for key in names if isinstance(responder.get(key), str) and responder[key]]
        if len(given) != 1:
            problem = "needs one of" if not given else "must name the responder once, by one of"
            raise _invalid(item, f"{problem} {', '.join(names)}")


def _status_page_entry(field: Field, name: str, value: Any) -> None:
    _require_type(name, value, Mapping, "a mapping with title and detail")
    _text(f"{name}.title", value.get("title"), limit=MESSAGE_LIMIT, allow_empty=False)
    if value.get("detail") is not None:
        _text(f"{name}.detail", value["detail"], limit=DESCRIPTION_LIMIT)


def _plain_text(field: Field, name: str, value: Any) -> None:
    _text(name, value, limit=field.max_chars, allow_empty=field.allow_empty)


def _identifier(field: Field, name: str, value: Any) -> None:
    _text(name, value, allow_empty=False)
    if field.location == "path" and len(value) > IDENTIFIER_LIMIT:
        raise _invalid(
            name,
            f"is {len(value)} characters long; the limit is {IDENTIFIER_LIMIT} characters",
            limit=IDENTIFIER_LIMIT,
            size=len(value),
        )


_CHECKS: dict[str, Callable[[Field, str, Any], None]] = {
    "text": _plain_text,
    "identifier": _identifier,
    "time": _time,
    "flag": _flag,
    "integer": _integer,
    "choice": _choice,
    "choices": _choices,
    "strings": _strings,
    "details": _details,
    "responders": _responders,
    "status_page_entry": _status_page_entry,
}


def check(field: Field, value: Any) -> None:
    """
    Check one value against its field's kind and limits.

    :raises InvalidRequestError: naming the field (its wire name), the limit and the value's size.
    """
    _CHECKS[field.kind](field, field.wire, value)
    _encodable(field.wire, value)


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut ``text`` to ``limit`` characters, ending with ``ellipsis`` when anything was cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(ellipsis), 0)] + ellipsis[:limit]


def largest_cap(lengths: Sequence[int], room: int) -> int:
    """Return the largest ``cap`` with ``sum(min(length, cap)) <= room``: short items whole, long ones cut."""
    low, high = 0, max(lengths, default=0)
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if sum(min(n, middle) for n in lengths) <= room else (low, middle - 1)
    return low


def _fit_details(details: Mapping[str, Any], limit: int) -> dict[str, str]:
    """Cut the longest values (with an ellipsis) until keys and values total at most ``limit``."""
    items = [(str(key), str(value)) for key, value in details.items()]
    if sum(len(key) + len(value) for key, value in items) <= limit:
        return dict(items)
    room = limit - sum(len(key) for key, _ in items)
    if room < 0:
        return _fit_details(dict(items[:-1]), limit)
    cap = largest_cap([len(value) for _, value in items], room)
    return {key: truncate(value, cap) for key, value in items}


def _fit(field: Field, value: Any) -> Any:
    if isinstance(value, str) and field.max_chars is not None:
        return truncate(value, field.max_chars)
    if field.kind == "details" and isinstance(value, Mapping) and field.total_chars is not None:
        return _fit_details(value, field.total_chars)
    if field.kind in ("strings", "responders") and isinstance(value, (list, tuple)):
        items = list(value)
        if field.item_chars is not None:
            items = [truncate(str(item), field.item_chars) for item in items]
        return items[: field.max_items]
    return value


def fit(endpoint: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """
    Return ``arguments`` cut to ``endpoint``'s limits: what would be refused as too long fits.

    Texts longer than their limit end with an ellipsis, lists keep their first items (each item cut
    to its length), mappings have their longest values cut until the total fits. Other values, and
    arguments the endpoint does not know, pass through unchanged.
    """
    fields = {field.name: field for field in ENDPOINTS[endpoint].fields}
    return {
        name: _fit(fields[name], value) if name in fields and value is not None else value
        for name, value in arguments.items()
    }
