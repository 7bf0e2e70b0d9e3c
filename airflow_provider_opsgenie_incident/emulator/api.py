"""Endpoint handlers of the Incident API (v1): request and response types shared by every handler.

A handler takes the :class:`Context`, the :class:`ApiRequest` and the decoded path parameters, and
returns an :class:`ApiResponse` or raises
:class:`~airflow_provider_opsgenie_incident.emulator.errors.ApiError`. The server adds ``took`` and
``requestId`` to every JSON payload.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from airflow_provider_opsgenie_incident.emulator import validation as v
from airflow_provider_opsgenie_incident.emulator.errors import ApiError, bad_request, not_found, unprocessable
from airflow_provider_opsgenie_incident.emulator.query import QueryError, parse_query

if TYPE_CHECKING:
    from airflow_provider_opsgenie_incident.emulator.state import EmulatorState

__all__ = ["ROUTES", "ApiRequest", "ApiResponse", "Context", "Handler", "Route", "endpoint", "json_body"]

_ACCEPTED = {"result": "Request will be processed"}
_SORTS = ("createdAt", "tinyId", "message", "status", "isSeen", "owner")
_ORDERS = ("desc", "asc")


@dataclass(frozen=True)
class ApiRequest:
    """What a handler needs from an HTTP request."""

    method: str
    query: dict[str, str]
    body: Any
    body_invalid: bool
    request_id: str


@dataclass
class ApiResponse:
    """A JSON answer; ``took`` and ``requestId`` are added by the server."""

    status: int
    payload: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """The emulator-wide facts a handler reads."""

    state: EmulatorState
    base_url: str
    processing_delay: float


Handler = Callable[[Context, ApiRequest, list[str]], ApiResponse]


@dataclass(frozen=True)
class Route:
    """One endpoint: name (as the client catalogue names it), method, path pattern, handler.

    ``None`` in the pattern marks a path parameter.
    """

    name: str
    method: str
    pattern: tuple[str | None, ...]
    handler: Handler


ROUTES: list[Route] = []
"""Every endpoint of both APIs, in declaration order; filled by :func:`endpoint`."""


def endpoint(name: str, method: str, path: str) -> Callable[[Handler], Handler]:
    """Declare the endpoint a handler answers, beside the handler.

    :param name: the endpoint's name in the client catalogue.
    :param method: the HTTP method.
    :param path: the path as the spec writes it; a ``{segment}`` is a path parameter.
    """
    pattern = tuple(None if part.startswith("{") else part for part in path.strip("/").split("/"))

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(name, method, pattern, handler))
        if not handler.__doc__:
            handler.__doc__ = f"``{method} {path}``."
        return handler

    return register


def json_body(request: ApiRequest) -> dict[str, Any]:
    """Return the body as a JSON object (``{}`` when empty); 400 if it was not JSON."""
    if request.body_invalid:
        raise bad_request("Could not parse the request body as JSON")
    if request.body is None:
        return {}
    if not isinstance(request.body, dict):
        raise unprocessable("the request body should be a JSON object")
    return request.body


def _target(request: ApiRequest, params: list[str]) -> dict[str, Any]:
    return {"identifier": params[0], "identifierType": v.identifier_type(request.query)}


def _accept(ctx: Context, request: ApiRequest, action: str, params: dict[str, Any]) -> ApiResponse:
    ctx.state.submit(request.request_id, action, params, ctx.processing_delay)
    return ApiResponse(202, dict(_ACCEPTED))


def _missing(identifier: str, identifier_type: str) -> ApiError:
    name = "tinyId" if identifier_type == "tiny" else "id"
    return not_found(f"No incident exists with {name} [{identifier}]")


# -- asynchronous writes ---------------------------------------------------------------------


@endpoint("create_incident", "POST", "/v1/incidents/create")
def create_incident(ctx: Context, request: ApiRequest, params: list[str]) -> ApiResponse:
    return _accept(ctx, request, "Create", v.create_payload(json_body(request)))


@endpoint("delete_incident", "DELETE", "/v1/incidents/{identifier}")
def delete_incident(ctx: Context, request: ApiRequest, params: list[str]) -> ApiResponse:
    target = _target(request, params)
    return _accept(ctx, request, "Delete", target)


def _with_note(action: str, *, note_required: bool = False) -> Handler:
    def handler(ctx: Context, request: ApiRequest, params: list[str]) -> ApiResponse:
        target = _target(request, params)
        target["note"] = v.note(json_body(request), required=note_required)
        return _accept(ctx, request, action, target)

    return handler


close_incident = endpoint("close_incident", "POST", "/v1/incidents/{identifier}/close")(_with_note("Close"))
resolve_incident = endpoint("resolve_incident", "POST", "/v1/incidents/{identifier}/resolve")(
    _with_note("Resolve")
)
add_note = endpoint("add_note", "POST", "/v1/incidents/{identifier}/notes")(
    _with_note("AddNote", note_required=True)
)


@endpoint("add_responder", "POST", "/v1/incidents/{identifier}/responders")
def add_responder(ctx: Context, request: ApiRequest, params: list[str]) -> ApiResponse:
    target = _target(request, params)
    body = json_body(request)
    if not isinstance(body.get("incidentId"), str) or not body["incidentId"]:
        raise unprocessable("incidentId is required")
    target["responder"] = v.responders(_required(body, "responder"), "responder")
    target["note"] = v.note(body)
    return _accept(ctx, request, "AddResponder", target)


def _required(body: dict[str, Any], name: str) -> Any:
    if not body.get(name):
        raise unprocessable(f"{name} is required")
    return body[name]


def _add(action: str, name: str, check: Callable[[Any], Any]) -> Handler:
    def handler(ctx: Context, request: ApiRequest, params: list[str]) -> ApiResponse:
        target = _target(request, params)
        body = json_body(request)
        target[name] = check(_required(body, name))
        target["note"] = v.note(body)
        return _accept(ctx, request, action, target)

    return handler


add_tags = endpoint("add_tags", "POST", "/v1/incidents/{identifier}/tags")(_add("AddTags", "tags", v.tags))
add_details = endpoint("add_details", "POST", "/v1/incidents/{identifier}/details")(
    _add("AddDetails", "details", v.details)
)


def _comma_list(request: ApiRequest, name: str) -> list[str]:
    items = [item.strip() for item in request.query.get(name, "").split(",") if item.strip()]
    if not items:
        raise unprocessable(f"{name} is required")
    return items


@endpoint("remove_tags", "DELETE", "/v1/incidents/{identifier}/tags")
def remove_tags(ctx: Context, request: ApiRequest, params: list[str]) -> ApiResponse:
    target = _target(request, params)
    target["tags"] = v.tags(_comma_list(request, "tags"))
    target["note"] = v.note(request.query)
    return _accept(ctx, request, "RemoveTags", target)


@endpoint("remove_details", "DELETE", "/v1/incidents/{identifier}/details")
def remove_details(ctx: Context, request: ApiRequest, params: list[str]) -> ApiResponse:
    target = _target(request, params)
    keys = _comma_list(request, "keys")
    if len(keys) > v.REMOVE_KEYS_MAX:
        raise unprocessable(f"keys should have at most {v.REMOVE_KEYS_MAX} items")
    target["keys"] = keys
    target["note"] = v.note(request.query)
    return _accept(ctx, request, "RemoveDetails", target)


@endpoint("update_priority", "PUT", "/v1/incidents/{identifier}/priority")
def update_priority(ctx: Context, request: ApiRequest, params: list[str]) -> ApiResponse:
    target = _target(request, params)
    target["priority"] = v.priority(json_body(request).get("priority"))
    return _accept(ctx, request, "UpdatePriority", target)


@endpoint("update_message", "PUT", "/v1/incidents/{identifier}/message")
def update_message(ctx: Context, request: ApiRequest, params: list[str]) -> ApiResponse:
    target = _target(request, params)
    target["message"] = v.message(json_body(request))
    return _accept(ctx, request, "UpdateMessage", target)


@endpoint("update_description", "PUT", "/v1/incidents/{identifier}/description")
def update_description(ctx: Context, request: ApiRequest, params: list[str]) -> ApiResponse:
    target = _target(request, params)
    target["description"] = v.optional_text(json_body(request), "description", v.DESCRIPTION_MAX) or ""
    return _accept(ctx, request, "UpdateDescription", target)


# -- synchronous reads -----------------------------------------------------------------------


@endpoint("get_request_status", "GET", "/v1/incidents/requests/{requestId}")
def request_status(ctx: Context, request: ApiRequest, params: list[str]) -> ApiResponse:
    known, data = ctx.state.request_status(params[0])
    if not known:
        raise not_found(f"No request exists with id [{params[0]}]")
    if data is None:
        raise ApiError(404, "Request not processed yet", {"X-Opsgenie-Errortype": "RequestNotProcessed"})
    return ApiResponse(200, {"data": data})


@endpoint("get_incident", "GET", "/v1/incidents/{identifier}")
def get_incident(ctx: Context, request: ApiRequest, params: list[str]) -> ApiResponse:
    identifier_type = v.identifier_type(request.query)
    incident = ctx.state.get(params[0], identifier_type)
    if incident is None:
        raise _missing(params[0], identifier_type)
    return ApiResponse(200, {"data": incident})


@endpoint("list_incidents", "GET", "/v1/incidents")
def list_incidents(ctx: Context, request: ApiRequest, params: list[str]) -> ApiResponse:
    query = request.query.get("query")
    if query is None:
        raise unprocessable("query is required")
    try:
        predicate = parse_query(query)
    except QueryError as exc:
        raise unprocessable(f"query [{query}] is invalid: {exc}") from None
    offset = v.int_param(request.query, "offset", 0, 0, None)
    limit = v.int_param(request.query, "limit", 20, 1, 100)
    sort = v.choice_param(request.query, "sort", "createdAt", _SORTS)
    order = v.choice_param(request.query, "order", "desc", _ORDERS)
    data, total = ctx.state.list_incidents(predicate, sort=sort, order=order, offset=offset, limit=limit)

    def link(at: int) -> str:
        fields = {"query": query, "offset": at, "limit": limit, "sort": sort, "order": order}
        return f"{ctx.base_url}/v1/incidents?{urlencode(fields)}"

    paging = {"first": link(0)}
    if offset + limit < total:
        paging["next"] = link(offset + limit)
    if offset > 0:
        paging["prev"] = link(max(0, offset - limit))
    paging["last"] = link(max(0, (total - 1) // limit * limit))
    return ApiResponse(200, {"data": data, "paging": paging, "totalCount": total})


def _list_items(kind: str) -> Handler:
    def handler(ctx: Context, request: ApiRequest, params: list[str]) -> ApiResponse:
        identifier_type = v.identifier_type(request.query)
        offset = request.query.get("offset") or None
        direction = v.choice_param(request.query, "direction", "next", ("next", "prev"))
        limit = v.int_param(request.query, "limit", 20, 1, 100)
        order = v.choice_param(request.query, "order", "desc", _ORDERS)
        page = ctx.state.page_items(
            kind, params[0], identifier_type, offset=offset, direction=direction, order=order, limit=limit
        )
        if page is None:
            raise _missing(params[0], identifier_type)
        data, more = page
        base = f"{ctx.base_url}/v1/incidents/{quote(params[0], safe='')}/{kind}"
        fields = {"identifierType": identifier_type, "limit": limit, "order": order}
        paging = {"first": f"{base}?{urlencode(fields)}"}
        if more and data:
            after = {**fields, "offset": data[-1]["offset"], "direction": "next"}
            paging["next"] = f"{base}?{urlencode(after)}"
        return ApiResponse(200, {"data": data, "paging": paging})

    return handler


list_notes = endpoint("list_notes", "GET", "/v1/incidents/{identifier}/notes")(_list_items("notes"))
list_logs = endpoint("list_logs", "GET", "/v1/incidents/{identifier}/logs")(_list_items("logs"))
