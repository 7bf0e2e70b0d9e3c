"""The one error hierarchy of the Opsgenie Incident client.

Every error raised by the client, sync or async, is one of these::

    OpsgenieIncidentError                 status, message, request_id
    ├── AuthenticationError               401 / 403: wrong key or missing rights
    ├── NotFoundError                     404: no such incident, entry or request
    ├── RateLimitedError                  429 after the retry budget (retry_after)
    ├── InvalidRequestError, ValueError   our validation (field, limit, size) or the server's 400 / 422
    ├── ServerError                       5xx after the retry budget, or an unreadable 2xx body
    ├── TransportError                    no usable answer after retries (request_sent, cause, url)
    ├── RequestFailedError                an asynchronous request processed with success false
    └── WaitTimeoutError, TimeoutError    the wait for a request or a state ran out of time

Code branches on these types, never on the text of an error. No error ever holds the API key:
the key travels only in the ``Authorization`` header, which no error records, and the clients
remove it from server-provided text that echoes it (:func:`remove_secret`).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthenticationError",
    "InvalidRequestError",
    "NotFoundError",
    "OpsgenieIncidentError",
    "RateLimitedError",
    "RequestFailedError",
    "ServerError",
    "TransportError",
    "WaitTimeoutError",
    "error_for_status",
    "error_from_dict",
    "remove_secret",
]


class OpsgenieIncidentError(Exception):
    """
    Base class of every error raised by this package's Opsgenie client.

    :param message: what went wrong, as the server said it where it said anything.
    :param status: the HTTP status, if a response was received.
    :param request_id: the ``requestId`` of the response, if any.
    """

    def __init__(self, message: str, *, status: int | None = None, request_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.insert(0, f"HTTP {self.status}:")
        if self.request_id:
            parts.append(f"(requestId {self.request_id})")
        return " ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, status={self.status!r}, "
            f"request_id={self.request_id!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (error_from_dict, (self.to_dict(),))

    def to_dict(self) -> dict[str, Any]:
        """Return the error as JSON primitives, for a trigger event; :func:`error_from_dict` reverses it."""
        fields = {key: value for key, value in vars(self).items() if not key.startswith("_")}
        return {"error_class": type(self).__name__, **fields}


class AuthenticationError(OpsgenieIncidentError):
    """The API key was refused (401) or lacks the rights for this call (403)."""


class NotFoundError(OpsgenieIncidentError):
    """The incident, timeline entry or request does not exist (404)."""


class RateLimitedError(OpsgenieIncidentError):
    """
    The API kept answering 429 until the retry budget was spent.

    :param retry_after: the wait, in seconds, the server last asked for, if it said.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = 429,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, request_id=request_id)
        self.retry_after = retry_after


class InvalidRequestError(OpsgenieIncidentError, ValueError):
    """
    The request is not valid: caught by our validation before any I/O, or refused with 400 / 422.

    :param field: the wire name of the offending field, when known.
    :param limit: the limit that was exceeded, when there is one.
    :param size: the size of the offending value, when it was too large.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        field: str | None = None,
        limit: int | None = None,
        size: int | None = None,
    ) -> None:
        super().__init__(message, status=status, request_id=request_id)
        self.field = field
        self.limit = limit
        self.size = size


class ServerError(OpsgenieIncidentError):
    """The server failed (5xx) after the retry budget, or sent a body that is not JSON."""


class TransportError(OpsgenieIncidentError):
    """
    No usable answer came: the connection failed, timed out or broke a limit, after retries.

    :param request_sent: False when the request provably never reached the server.
    :param cause: why, one of :data:`~.limits.TransportCause` (``deadline``, ``body_too_large``...).
    :param url: the URL of the exchange (never holds the key, which travels only in a header).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        request_sent: bool = True,
        cause: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message, status=status, request_id=request_id)
        self.request_sent = request_sent
        self.cause = cause
        self.url = url


class RequestFailedError(OpsgenieIncidentError):
    """
    An asynchronous request was processed, and failed (``success: false``).

    The message is the server's status text, such as ``Incident does not exist``.

    :param action: the action the request carried (``Create``, ``Resolve``...).
    :param incident_id: the incident the request was about, if the server named it.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        action: str | None = None,
        incident_id: str | None = None,
    ) -> None:
        super().__init__(message, status=status, request_id=request_id)
        self.action = action
        self.incident_id = incident_id


class WaitTimeoutError(OpsgenieIncidentError, TimeoutError):
    """A wait for an asynchronous request, or for an incident state, ran out of time."""


_CLASSES: dict[str, type[OpsgenieIncidentError]] = {
    cls.__name__: cls
    for cls in (
        OpsgenieIncidentError,
        AuthenticationError,
        NotFoundError,
        RateLimitedError,
        InvalidRequestError,
        ServerError,
        TransportError,
        RequestFailedError,
        WaitTimeoutError,
    )
}


def error_from_dict(data: dict[str, Any]) -> OpsgenieIncidentError:
    """Rebuild an error from :meth:`OpsgenieIncidentError.to_dict` (a trigger event, a pickle)."""
    fields = dict(data)
    cls = _CLASSES.get(str(fields.pop("error_class", "")), OpsgenieIncidentError)
    message = str(fields.pop("message", "unknown error"))
    return cls(message, **fields)


def error_for_status(
    status: int, message: str, *, request_id: str | None = None, retry_after: float | None = None
) -> OpsgenieIncidentError:
    """Map an HTTP error status to the error type a caller can catch."""
    if status in (401, 403):
        return AuthenticationError(message, status=status, request_id=request_id)
    if status == 404:
        return NotFoundError(message, status=status, request_id=request_id)
    if status == 429:
        return RateLimitedError(message, status=status, request_id=request_id, retry_after=retry_after)
    if status in (400, 422):
        return InvalidRequestError(message, status=status, request_id=request_id)
    if status >= 500:
        return ServerError(message, status=status, request_id=request_id)
    return OpsgenieIncidentError(message, status=status, request_id=request_id)


REDACTED = "***"


def remove_secret(error: OpsgenieIncidentError, secret: str) -> None:
    """Remove ``secret`` from the text of ``error`` (server text may echo it), before anyone sees it."""
    if secret and secret in error.message:
        error.message = error.message.replace(secret, REDACTED)
        error.args = (error.message,)
