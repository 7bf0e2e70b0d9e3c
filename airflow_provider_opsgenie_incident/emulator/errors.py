"""The error the emulator's API layer raises to answer a request with an Opsgenie-style error body."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["ApiError", "bad_request", "not_found", "unprocessable"]


class ApiError(Exception):
    """An HTTP error answered as ``{"message": ..., "took": ..., "requestId": ...}``."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers: dict[str, str] = dict(headers or {})


def bad_request(message: str) -> ApiError:
    """Return a 400 error."""
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    """Return a 404 error."""
    return ApiError(404, message)


def unprocessable(message: str) -> ApiError:
    """Return a 422 error, the status Opsgenie uses for validation failures."""
    return ApiError(422, message)
