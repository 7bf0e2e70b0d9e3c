"""Provider metadata, read by Airflow through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_provider_opsgenie_incident import __version__

_PACKAGE = "airflow_provider_opsgenie_incident"
_INTEGRATION = "Opsgenie Incident"


def get_provider_info() -> dict[str, Any]:
    """Return the provider info: a plain dict, no imports of the classes it names."""
    return {
        "package-name": "airflow-provider-opsgenie-incident",
        "name": "Opsgenie Incident",
        "description": "Opsgenie Incident and Timeline APIs: operators, sensors, triggers, notifiers.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": _INTEGRATION,
                "external-doc-url": "https://docs.opsgenie.com/docs/incident-api",
                "tags": ["service"],
            }
        ],
        "hooks": [{"integration-name": _INTEGRATION, "python-modules": [f"{_PACKAGE}.hooks.incident"]}],
        "connection-types": [
            {
                "connection-type": "opsgenie_incident",
                "hook-class-name": f"{_PACKAGE}.hooks.incident.OpsgenieIncidentHook",
                "hook-name": "Opsgenie Incident",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "login"],
                    "relabeling": {"host": "API URL", "password": "API key"},
                    "placeholders": {
                        "host": "https://api.opsgenie.com (empty: US; extra region=eu: EU)",
                        "password": "API key of an Opsgenie API integration (GenieKey)",
                    },
                },
                "conn-fields": {
                    "region": {
                        "label": "Region",
                        "description": "us or eu; used when the API URL is empty.",
                        "schema": {"type": ["string", "null"], "enum": ["us", "eu", None]},
                    },
                    "web_url": {
                        "label": "Web URL",
                        "description": "The account's web address, for links to incidents.",
                        "schema": {"type": ["string", "null"], "default": None},
                    },
                    "connect_timeout": {
                        "label": "Connect timeout (s)",
                        "schema": {"type": ["number", "null"], "default": 5},
                    },
                    "read_timeout": {
                        "label": "Read timeout (s)",
                        "schema": {"type": ["number", "null"], "default": 15},
                    },
                    "retry_timeout": {
                        "label": "Retry budget (s)",
                        "description": "Total time a call may spend retrying 429, 5xx and network errors.",
                        "schema": {"type": ["number", "null"], "default": 60},
                    },
                    "max_attempts": {
                        "label": "Attempts per call",
                        "schema": {"type": ["integer", "null"], "default": 6},
                    },
                    "proxy": {"label": "Proxy URL", "schema": {"type": ["string", "null"]}},
                    "default_responders": {
                        "label": "Default responders",
                        "description": "For notifiers, e.g. team:NOC, user:jane@example.com",
                        "schema": {"type": ["string", "null"]},
                    },
                    "default_tags": {
                        "label": "Default tags",
                        "description": "Comma-separated.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "default_priority": {
                        "label": "Default priority",
                        "schema": {"type": ["string", "null"], "enum": ["P1", "P2", "P3", "P4", "P5", None]},
                    },
                    "default_service_id": {
                        "label": "Default service id",
                        "schema": {"type": ["string", "null"]},
                    },
                },
            }
        ],
        "operators": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": [
                    f"{_PACKAGE}.operators.incident",
                    f"{_PACKAGE}.operators.incident_update",
                    f"{_PACKAGE}.operators.timeline",
                ],
            }
        ],
        "sensors": [{"integration-name": _INTEGRATION, "python-modules": [f"{_PACKAGE}.sensors.incident"]}],
        "triggers": [{"integration-name": _INTEGRATION, "python-modules": [f"{_PACKAGE}.triggers.incident"]}],
        "notifications": [
            f"{_PACKAGE}.notifications.incident.OpsgenieIncidentFailureNotifier",
            f"{_PACKAGE}.notifications.incident.OpsgenieIncidentRecoveryNotifier",
        ],
        "extra-links": [f"{_PACKAGE}.links.OpsgenieIncidentLink"],
    }
