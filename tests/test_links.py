"""The "Opsgenie incident" extra link, resolved by Airflow itself at the end of real task runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from airflow.sdk import DAG

from airflow_provider_opsgenie_incident.client.settings import ClientSettings, incident_url
from airflow_provider_opsgenie_incident.get_provider_info import get_provider_info
from airflow_provider_opsgenie_incident.links import INCIDENT_URL_XCOM_KEY, OpsgenieIncidentLink
from airflow_provider_opsgenie_incident.notifications.incident import OpsgenieIncidentFailureNotifier
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


# -- one rule for an incident's address ---------------------------------------------------------

ACME = "https://acme.app.opsgenie.com"


@pytest.mark.parametrize(
    ("web_url", "incident", "incident_id", "expected"),
    [
        (ACME, {"id": "i-1", "links": {"web": "https://api/x/i-1"}}, "", f"{ACME}/incident/detail/i-1"),
        (f"{ACME}/", {"id": "i-1"}, "", f"{ACME}/incident/detail/i-1"),
        (ACME, None, "a/b c", f"{ACME}/incident/detail/a%2Fb%20c"),
        (None, {"id": "i-1", "links": {"web": "https://web/i-1"}}, "", "https://web/i-1"),
        ("", {"id": "i-1", "links": {"web": "https://web/i-1"}}, "", "https://web/i-1"),
        (ACME, {"links": {"web": "https://web/i-1"}}, "", "https://web/i-1"),
        (None, {"id": "i-1", "links": {"web": ""}}, "", None),
        (None, {"id": "i-1", "links": "not a mapping"}, "", None),
        (None, None, "i-1", None),
        (ACME, None, "", None),
    ],
    ids=[
        "web_url-wins",
        "trailing-slash",
        "id-is-quoted",
        "links-web-without-web_url",
        "empty-web_url",
        "no-id-links-web",
        "empty-links-web",
        "bad-links",
        "id-only",
        "nothing",
    ],
)
def test_incident_url_rule(
    web_url: str | None, incident: Any, incident_id: str, expected: str | None
) -> None:
    assert incident_url(web_url, incident, incident_id=incident_id) == expected
    assert (
        ClientSettings(api_key="k", web_url=web_url).incident_url(incident_id, incident=incident) == expected
    )


@dataclass
class _TaskInstance:
    dag_id: str = "etl"
    task_id: str = "load"
    run_id: str = "manual__2025-01-01"
    try_number: int = 1
    map_index: int = -1
    log_url: str = "http://airflow.local/log"


def test_log_line_link_and_xcom_show_one_address(
    opsgenie_emulator: OpsgenieEmulator,
    monkeypatch: pytest.MonkeyPatch,
    run_dag: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The account's web address differs from the emulator's links.web: the rule must pick one.
    connection = {"conn_type": "opsgenie_incident", "host": opsgenie_emulator.url}
    connection.update(password=opsgenie_emulator.api_key, extra=json.dumps({"web_url": ACME}))
    monkeypatch.setenv("AIRFLOW_CONN_OPSGENIE_INCIDENT_DEFAULT", json.dumps(connection))
    result = run_dag(
        """
from airflow.sdk import DAG
from airflow_provider_opsgenie_incident.operators.incident import *

with DAG("incident_one_address", schedule=None) as dag:
    create = OpsgenieCreateIncidentOperator(task_id="create", message="m")
    get = OpsgenieGetIncidentOperator(task_id="get", identifier=create.output["incident_id"])
"""
    )
    created = result.xcom("create")
    url = f"{ACME}/incident/detail/{created['incident_id']}"
    assert opsgenie_emulator.incident(created["incident_id"])["links"]["web"] != url
    assert created["url"] == url
    assert result.xcom("create", LINK_XCOM) == url
    assert result.xcom("get", LINK_XCOM) == url

    capsys.readouterr()
    context = {"dag": DAG("etl", schedule=None), "ti": _TaskInstance(), "run_id": "manual__2025-01-01"}
    OpsgenieIncidentFailureNotifier()({**context, "exception": ValueError("disk full")})
    [opened] = [i for i in opsgenie_emulator.incidents() if i["id"] != created["incident_id"]]
    logged = capsys.readouterr()
    assert f"{ACME}/incident/detail/{opened['id']}" in logged.out + logged.err
