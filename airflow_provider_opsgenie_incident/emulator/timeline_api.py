"""Endpoint handlers of the Incident Timeline API (v2): synchronous, incidents addressed by id only."""

from __future__ import annotations

from typing import Any

from airflow_provider_opsgenie_incident.emulator import validation as v
from airflow_provider_opsgenie_incident.emulator.api import (
    ApiRequest,
    ApiResponse,
    Context,
    endpoint,
    json_body,
)
from airflow_provider_opsgenie_incident.emulator.clock import parse_time
from airflow_provider_opsgenie_incident.emulator.errors import unprocessable
from airflow_provider_opsgenie_incident.emulator.timeline import TIMELINE_GROUPS

__all__: list[str] = []  # the handlers are reached through ``routes.ROUTES``


def _content_type(request: ApiRequest) -> None:
    v.choice_param(request.query, "contentType", "plain_text", ("plain_text",))


def _description(value: Any) -> str:
    if not isinstance(value, dict):
        raise unprocessable("description should be an object with a content field")
    if value.get("type", "plain_text") != "plain_text":
        raise unprocessable("description type should be one of [plain_text]")
    content = value.get("content")
    if not isinstance(content, str) or not content.strip():
        raise unprocessable("description content is required and can not be empty")
    return content


def _time(value: Any) -> int | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return parse_time(value)
    except ValueError:
        raise unprocessable("time should be an ISO-8601 date-time") from None


@endpoint("add_timeline_entry", "POST", "/v2/incident-timelines/{incidentId}/entries")
def add_entry(ctx: Context, request: ApiRequest, params: list[str]) -> ApiResponse:
    body = json_body(request)
    if body.get("description") is None:
        raise unprocessable("description is required")
    content = _description(body["description"])
    entry = ctx.state.timeline.add(params[0], content, _time(body.get("time")))
    return ApiResponse(201, {"data": entry})


@endpoint("get_timeline_entry", "GET", "/v2/incident-timelines/{incidentId}/entries/{entryId}")
def get_entry(ctx: Context, request: ApiRequest, params: list[str]) -> ApiResponse:
    _content_type(request)
    return ApiResponse(200, {"data": ctx.state.timeline.get(params[0], params[1])})


@endpoint("update_timeline_entry", "PATCH", "/v2/incident-timelines/{incidentId}/entries/{entryId}")
def update_entry(ctx: Context, request: ApiRequest, params: list[str]) -> ApiResponse:
    body = json_body(request)
    if body.get("description") is None and body.get("time") is None:
        raise unprocessable("one of description and time is required")
    content = None if body.get("description") is None else _description(body["description"])
    entry = ctx.state.timeline.update(params[0], params[1], content, _time(body.get("time")))
    return ApiResponse(200, {"data": entry})


@endpoint("delete_timeline_entry", "DELETE", "/v2/incident-timelines/{incidentId}/entries/{entryId}")
def delete_entry(ctx: Context, request: ApiRequest, params: list[str]) -> ApiResponse:
    ctx.state.timeline.delete(params[0], params[1])
    return ApiResponse(200, {"result": "Deleted"})


@endpoint("hide_timeline_entry", "GET", "/v2/incident-timelines/{incidentId}/entries/{entryId}/hide")
def hide_entry(ctx: Context, request: ApiRequest, params: list[str]) -> ApiResponse:
    ctx.state.timeline.set_hidden(params[0], params[1], True)
    return ApiResponse(200, {"result": "Hided"})


@endpoint("unhide_timeline_entry", "GET", "/v2/incident-timelines/{incidentId}/entries/{entryId}/unhide")
def unhide_entry(ctx: Context, request: ApiRequest, params: list[str]) -> ApiResponse:
    ctx.state.timeline.set_hidden(params[0], params[1], False)
    return ApiResponse(200, {"result": "Unhided"})


@endpoint("list_timeline_entries", "GET", "/v2/incident-timelines/{incidentId}/entries")
def list_entries(ctx: Context, request: ApiRequest, params: list[str]) -> ApiResponse:
    _content_type(request)
    groups: set[str] | None = None
    if request.query.get("group"):
        groups = {group.strip() for group in request.query["group"].split(",") if group.strip()}
        unknown = sorted(groups - set(TIMELINE_GROUPS))
        if unknown:
            raise unprocessable(f"group should be among [{', '.join(TIMELINE_GROUPS)}]; got {unknown}")
    discard = request.query.get("discardHidden", "false").lower()
    if discard not in ("true", "false"):
        raise unprocessable("discardHidden should be true or false")
    order = v.choice_param(request.query, "order", "desc", ("desc", "asc"))
    limit = v.int_param(request.query, "limit", 20, 1, 20)
    entries, next_offset = ctx.state.timeline.page(
        params[0],
        groups=groups,
        discard_hidden=discard == "true",
        offset=request.query.get("offset") or None,
        order=order,
        limit=limit,
    )
    data: dict[str, Any] = {"entries": entries}
    if next_offset is not None:
        data["nextOffset"] = next_offset
    return ApiResponse(200, {"data": data})
