"""The "Opsgenie incident" button on a task: a link to the incident's page in the Opsgenie web UI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator, Context
    from airflow.sdk.types import TaskInstanceKey

__all__ = ["INCIDENT_URL_XCOM_KEY", "OpsgenieIncidentLink"]

#: The XCom key under which a task stores the web address of the incident it acted on.
INCIDENT_URL_XCOM_KEY = "opsgenie_incident_url"


class OpsgenieIncidentLink(BaseOperatorLink):
    """
    Link a task to the Opsgenie incident it created, read or waited for.

    The task stores the address in the XCom ``opsgenie_incident_url`` and the link reads it back.
    The address follows the one rule of
    :func:`airflow_provider_opsgenie_incident.client.settings.incident_url` (the connection's
    ``web_url`` when set, else the API's ``links.web``), as the notifiers' log lines and the
    operators' XCom ``url`` do, so a user sees one address per incident.
    """

    name = "Opsgenie incident"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        """Return the incident's web address stored by the task, or an empty string."""
        from airflow_provider_opsgenie_incident._compat import xcom_value

        url = xcom_value(ti_key, INCIDENT_URL_XCOM_KEY)
        return str(url) if url else ""

    @staticmethod
    def persist(context: Context, url: Any) -> None:
        """Store an incident's web address for the link; nothing is stored when it is unknown."""
        if url:
            context["ti"].xcom_push(key=INCIDENT_URL_XCOM_KEY, value=str(url))
