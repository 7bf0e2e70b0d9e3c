"""Pure request building and response parsing over the catalogue; shared by both transports."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from dataclasses import field as _default
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_provider_opsgenie_incident import __version__
from airflow_provider_opsgenie_incident.client.catalogue import ENDPOINTS, Endpoint
from airflow_provider_opsgenie_incident.client.errors import (
    InvalidRequestError,
    ServerError,
    error_for_status,
)
from airflow_provider_opsgenie_incident.client.validation import check, truncate

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["PreparedRequest", "auth_headers", "parse_response", "prepare", "server_wait_hint"]

USER_AGENT = f"airflow-provider-opsgenie-incident/{__version__}"


@dataclass(frozen=True)
class PreparedRequest:
    """A validated request, ready for a transport: the path is already URL-encoded."""

    endpoint: Endpoint
    path: str
    query: tuple[tuple[str, str], ...]
    body: dict[str, Any] | None
    arguments: Mapping[str, Any] = _default(default_factory=dict)

    @property
    def repeatable(self) -> bool:
        """Whether sending it twice is harmless, so an ambiguous failure may be retried blindly."""
        return self.endpoint.evidence_for(self.arguments) is None

    @property
    def method(self) -> str:
        """The HTTP method."""
        return self.endpoint.method


def _encode_scalar(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


def _encode_query(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(_encode_scalar(value))


def _put_nested(body: dict[str, Any], wire: str, value: Any) -> None:
    *parents, leaf = wire.split(".")
    for parent in parents:
        body = body.setdefault(parent, {})
    body[leaf] = value


def prepare(endpoint: Endpoint | str, arguments: Mapping[str, Any]) -> PreparedRequest:
    """
    Validate ``arguments`` against the endpoint and build the request; no I/O.

    ``None`` means "not given": it is never sent. Every path value is URL-encoded with no safe
    characters, so an identifier such as ``../alerts`` or ``a/b?x=1`` stays one path segment;
    ``.`` and ``..``, which no encoding keeps, are refused.

    :raises InvalidRequestError: a required field is missing or a value breaks a documented limit.
    :raises TypeError: an argument the endpoint does not know (a programming error).
    """
    if isinstance(endpoint, str):
        endpoint = ENDPOINTS[endpoint]
    unknown = set(arguments) - set(endpoint.argument_names)
    if unknown:
        raise TypeError(f"{endpoint.name}() got unexpected arguments: {', '.join(sorted(unknown))}")
    if endpoint.requires_one_of and all(arguments.get(name) is None for name in endpoint.requires_one_of):
        raise InvalidRequestError(
            f"{endpoint.name} needs at least one of {', '.join(endpoint.requires_one_of)}",
            field=endpoint.requires_one_of[0],
        )
    if arguments.get("identifier_type") == "tiny" and not str(arguments.get("identifier", "")).isdigit():
        raise InvalidRequestError(
            "identifier must be a number with identifierType tiny (a tiny id such as 42)", field="identifier"
        )
    path_values: dict[str, str] = {}
    query: list[tuple[str, str]] = []
    body: dict[str, Any] | None = None
    for field in endpoint.fields:
        value = arguments.get(field.name)
        if value is None:
            if field.required:
                raise InvalidRequestError(f"{field.wire} is required", field=field.wire)
            continue
        check(field, value)
        if field.location == "path":
            if str(value) in (".", ".."):
                # HTTP clients remove dot segments (RFC 3986, 5.2.4) after encoding, so "." or ".."
                # would address another resource: /v1/incidents/./notes is /v1/incidents/notes.
                raise InvalidRequestError(f"{field.wire} must not be '.' or '..'", field=field.wire)
            path_values[field.wire] = quote(str(value), safe="")
        elif field.location == "query":
            query.append((field.wire, _encode_query(value)))
        else:
            if body is None:
                body = {}
            _put_nested(body, field.wire, _encode_scalar(value))
    if body is None and endpoint.method in ("POST", "PUT", "PATCH"):
        body = {}
    return PreparedRequest(endpoint, endpoint.path.format(**path_values), tuple(query), body, arguments)


def server_wait_hint(headers: Mapping[str, str]) -> float | None:
    """Return the wait the server asked for: ``Retry-After`` (seconds or date), else the rate-limit period."""
    retry_after = headers.get("Retry-After")
    if retry_after:
        try:
            return max(float(retry_after), 0.0)
        except ValueError:
            try:
                when = parsedate_to_datetime(retry_after)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                return max((when - datetime.now(UTC)).total_seconds(), 0.0)
    period = headers.get("X-RateLimit-Period-In-Sec")
    if period:
        try:
            return max(float(period), 0.0)
        except ValueError:
            return None
    return None


def auth_headers(api_key: str) -> dict[str, str]:
    """Return the headers every call carries; the key appears only here."""
    return {
        "Authorization": f"GenieKey {api_key}",
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
    }


#: The longest server text kept in an error message: an HTML page or a huge body becomes a line.
MESSAGE_CHARS = 300
_TAG = re.compile(r"<(script|style)\b.*?</\1>|<[^>]*>", re.IGNORECASE | re.DOTALL)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _error_message(payload: Any, content: bytes | bytearray) -> str:
    """Return the server's message, or the readable start of a body that is not JSON (HTML: its title)."""
    if isinstance(payload, dict) and isinstance(payload.get("message"), str):
        text = str(payload["message"])
    else:
        text = content.decode("utf-8", errors="replace")
        title = _TITLE.search(text)
        text = html.unescape(title.group(1) if title else _TAG.sub(" ", text))
    return truncate(" ".join(text.split()), MESSAGE_CHARS) or "no response body"


def parse_response(status: int, headers: Mapping[str, str], content: bytes | bytearray) -> dict[str, Any]:
    """
    Turn a response into its JSON object, or raise the matching typed error.

    Unknown fields are kept. A body that is not JSON never breaks the error path: its start
    becomes the error message.
    """
    try:
        payload: Any = json.loads(content) if content else {}
    except ValueError:
        payload = None
    request_id = payload.get("requestId") if isinstance(payload, dict) else None
    if 200 <= status < 300:
        if not isinstance(payload, dict):
            raise ServerError(
                f"response is not a JSON object: {_error_message(None, content)}",
                status=status,
                request_id=request_id,
            )
        return payload
    retry_after = server_wait_hint(headers) if status == 429 else None
    raise error_for_status(
        status, _error_message(payload, content), request_id=request_id, retry_after=retry_after
    )
