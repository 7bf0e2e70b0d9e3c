"""The "Opsgenie incident" extra link, resolved by Airflow itself at the end of real task runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_opsgenie_incident.get_provider_info import get_provider_info
from airflow_provider_opsgenie_incident.links import INCIDENT_URL_XCOM_KEY, OpsgenieIncidentLink
from airflow_provider_opsgenie_incident.operators.incident import (
    OpsgenieCloseIncidentOperator,
    OpsgenieCreateIncidentOperator,
    OpsgenieGetIncidentOperator,
)
from airflow_provider_opsgenie_incident.sensors.incident import OpsgenieIncidentStatusSensor

if TYPE_CHECKING:
    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator

LINK_XCOM = f"_link_{OpsgenieIncidentLink.__name__}"  # where Airflow stores get_link()'s answer


@pytest.mark.parametrize(
    ("cls", "linked"),
    [
        (OpsgenieCreateIncidentOperator, True),
        (OpsgenieGetIncidentOperator, True),
        (OpsgenieIncidentStatusSensor, True),
        (OpsgenieCloseIncidentOperator, False),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_link_is_declared_where_an_incident_is_known(cls: type[Any], linked: bool) -> None:
    names = [link.name for link in cls.operator_extra_links]
    assert names == (["Opsgenie incident"] if linked else [])


def test_provider_info_names_the_link() -> None:
    assert get_provider_info()["extra-links"] == [
        f"{OpsgenieIncidentLink.__module__}.{OpsgenieIncidentLink.__qualname__}"
    ]


def test_airflow_resolves_the_link_from_the_stored_url(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Any
) -> None:
    result = run_dag(
        """
from airflow.sdk import DAG
from airflow_provider_opsgenie_incident.operators.incident import *

with DAG("incident_link", schedule=None) as dag:
    create = OpsgenieCreateIncidentOperator(task_id="create", message="m")
    get = OpsgenieGetIncidentOperator(task_id="get", identifier=create.output["incident_id"])
    broken = OpsgenieCreateIncidentOperator(task_id="broken", message="{{ 'x' * 131 }}")
"""
    )

    url = f"{opsgenie_incident_connection.url}/incident/detail/{result.xcom('create')['incident_id']}"
    assert result.task_states == {"create": "success", "get": "success", "broken": "failed"}
    assert result.xcom("create", INCIDENT_URL_XCOM_KEY) == url
    assert result.xcom("create", LINK_XCOM) == url
    assert result.xcom("get", LINK_XCOM) == url
    assert not result.xcom("broken", LINK_XCOM)  # no incident, no link
