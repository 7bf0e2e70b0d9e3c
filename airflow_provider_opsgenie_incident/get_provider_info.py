"""Provider metadata, read by Airflow through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_provider_opsgenie_incident import __version__
from airflow_provider_opsgenie_incident.connection import (
    CONN_TYPE,
    HOOK_NAME,
    conn_fields,
    ui_field_behaviour,
)

_PACKAGE = "airflow_provider_opsgenie_incident"
_INTEGRATION = HOOK_NAME


def get_provider_info() -> dict[str, Any]:
    """Return the provider info: a plain dict, no imports of the classes it names."""
    return {
        "package-name": "airflow-provider-opsgenie-incident",
        "name": HOOK_NAME,
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
                "connection-type": CONN_TYPE,
                "hook-class-name": f"{_PACKAGE}.hooks.incident.OpsgenieIncidentHook",
                "hook-name": HOOK_NAME,
                "ui-field-behaviour": ui_field_behaviour(),
                "conn-fields": conn_fields(),
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
            f"{_PACKAGE}.notifications.incident.OpsgenieIncidentRetryNotifier",
        ],
        "extra-links": [f"{_PACKAGE}.links.OpsgenieIncidentLink"],
    }
