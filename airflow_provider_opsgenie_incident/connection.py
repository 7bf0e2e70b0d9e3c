"""
The ``opsgenie_incident`` connection described as data: its type, default id and extra fields.

Standard library only, so it can be imported while a DAG file is parsed. The connection form
(``get_provider_info()``'s ``conn-fields``), the hook's reading of a connection, the client's
defaults and the README's connection table all come from :data:`EXTRAS`: changing an extra's
default is one edit here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "CONN_ID_PARAM",
    "CONN_TYPE",
    "DEFAULT_CONN_ID",
    "EXTRAS",
    "HOOK_NAME",
    "ExtraField",
    "conn_fields",
    "default",
    "extra_value",
    "ui_field_behaviour",
]

CONN_TYPE: Final = "opsgenie_incident"
DEFAULT_CONN_ID: Final = "opsgenie_incident_default"
#: The keyword every operator, sensor and notifier takes for the connection id.
CONN_ID_PARAM: Final = "opsgenie_incident_conn_id"
HOOK_NAME: Final = "Opsgenie Incident"

Scalar = str | float | int | None


@dataclass(frozen=True)
class ExtraField:
    """
    One field of the connection's extra, as the form shows it and the hook reads it.

    :param name: the key in the extra.
    :param label: the form's label.
    :param type: the JSON type of the value: ``string``, ``number`` or ``integer``.
    :param default: the value used when the extra does not set the field; the form shows it too.
    :param description: the help text under the field.
    :param placeholder: an example value.
    :param choices: the only values allowed, if the field is a choice.
    :param choice_labels: what the form shows for some choices.
    :param secret: masked in the form, as it may hold credentials.
    """

    name: str
    label: str
    type: Literal["string", "number", "integer"]
    default: Scalar
    description: str
    placeholder: str = ""
    choices: tuple[str, ...] = ()
    choice_labels: Mapping[str, str] = field(default_factory=dict)
    secret: bool = False

    @property
    def help(self) -> str:
        """Return the help text the form shows: the description and, if there is one, the example."""
        return f"{self.description} Example: {self.placeholder}" if self.placeholder else self.description

    def schema(self) -> dict[str, Any]:
        """Return the field's JSON schema, as Airflow's connection form reads it."""
        # A choice lists no null (the form would offer "null" as a choice): it has a real default.
        schema: dict[str, Any] = {"type": [self.type, "null"]}
        if self.default is not None:
            schema["default"] = self.default
        if self.choices:
            schema["enum"] = list(self.choices)
        if self.choice_labels:
            schema["values_display"] = dict(self.choice_labels)
        if self.secret:
            schema["format"] = "password"
        return schema


_PRIORITIES = ("P1", "P2", "P3", "P4", "P5")

#: Every extra of the connection, in form order.
EXTRAS: Final[Mapping[str, ExtraField]] = MappingProxyType(
    {
        extra.name: extra
        for extra in (
            ExtraField(
                "region",
                "Region",
                "string",
                "us",
                "Which Opsgenie API to use when the API URL is empty.",
                choices=("us", "eu"),
                choice_labels={"us": "US (api.opsgenie.com)", "eu": "EU (api.eu.opsgenie.com)"},
            ),
            ExtraField(
                "web_url",
                "Web URL",
                "string",
                None,
                "Your account's web address; when set, every incident link is built from it.",
                placeholder="https://acme.app.opsgenie.com",
            ),
            ExtraField(
                "connect_timeout", "Connect timeout (s)", "number", 5, "Seconds to open a connection."
            ),
            ExtraField("read_timeout", "Read timeout (s)", "number", 15, "Seconds to wait for each answer."),
            ExtraField(
                "retry_timeout",
                "Retry budget (s)",
                "number",
                60,
                "Total seconds one call may spend retrying 429, 5xx and network errors.",
            ),
            ExtraField(
                "max_attempts",
                "Attempts per call",
                "integer",
                6,
                "Attempts per call that end in an error, the first included; a 429 is waited out within"
                " the retry budget.",
            ),
            ExtraField(
                "proxy",
                "Proxy URL",
                "string",
                None,
                "A proxy for the API; when empty, the environment's proxy settings.",
                placeholder="http://proxy.example.com:3128",
                secret=True,
            ),
            ExtraField(
                "default_responders",
                "Default responders",
                "string",
                None,
                (
                    "Responders of the incidents the notifiers open: team:NAME or user:NAME, comma-separated"
                    " (in JSON, also a list of responder objects)."
                ),
                placeholder="team:NOC, user:jane@example.com",
            ),
            ExtraField(
                "default_tags",
                "Default tags",
                "string",
                None,
                "Tags of the incidents the notifiers open, comma-separated.",
                placeholder="airflow, etl",
            ),
            ExtraField(
                "default_priority",
                "Default priority",
                "string",
                "P3",
                "Priority of the incidents the notifiers open.",
                choices=_PRIORITIES,
                choice_labels={"P3": "P3 (Opsgenie's default)"},
            ),
            ExtraField(
                "default_service_id",
                "Default service id",
                "string",
                None,
                "The impacted service of the incidents the notifiers open.",
            ),
        )
    }
)


def default(name: str) -> Any:
    """Return an extra's default value: the one place defaults are read from."""
    return EXTRAS[name].default


def extra_value(extra: Mapping[str, Any], name: str) -> Any:
    """Return an extra's raw value, None when absent or empty."""
    value = extra.get(name)
    if value in (None, ""):
        # Airflow's connection form may store a custom field with the historical prefix.
        value = extra.get(f"extra__{CONN_TYPE}__{name}")
    return None if value == "" else value


def conn_fields() -> dict[str, dict[str, Any]]:
    """Return the ``conn-fields`` of the provider info: the form's extra fields."""
    fields: dict[str, dict[str, Any]] = {}
    for extra in EXTRAS.values():
        fields[extra.name] = {
            "label": extra.label,
            "description": extra.help,
            "schema": extra.schema(),
        }
    return fields


def ui_field_behaviour() -> dict[str, Any]:
    """Return the ``ui-field-behaviour`` of the provider info: which standard fields show, and how."""
    # The form shows placeholders for the standard fields only; the extras' examples are in their help.
    return {
        "hidden-fields": ["schema", "port", "login"],
        "relabeling": {"host": "API URL", "password": "API key"},
        "placeholders": {
            "host": "empty: the Region's API; else e.g. https://api.eu.opsgenie.com",
            "password": "API key of an Opsgenie API integration (GenieKey)",
        },
    }
