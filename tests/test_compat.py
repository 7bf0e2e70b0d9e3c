"""Each Airflow name ``_compat`` stands in for is the one Airflow itself uses.

``default_deferrable`` runs in a fresh interpreter, so the deployment setting is read as Airflow
reads it at start-up.
``xcom_value`` is exercised by Airflow itself in ``tests/test_links.py``: at the end of a real task
run it calls the link's ``get_link``, which reads the stored URL back through it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import airflow.exceptions
import airflow.sdk.exceptions
import pytest

from airflow_provider_opsgenie_incident import _compat


def run_python(code: str, **env: str) -> str:
    import os

    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**os.environ, **env},
    )
    return completed.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("setting", ["True", "False"])
def test_default_deferrable_reads_the_deployment_setting(setting: str) -> None:
    code = """
    from airflow_provider_opsgenie_incident._compat import default_deferrable
    print(default_deferrable())
    """
    assert run_python(code, AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE=setting) == setting


@pytest.mark.parametrize(("setting", "expected"), [(None, "5.0 10.0"), ("12", "12.0 17.0")])
def test_the_deferral_floor_follows_the_workers_heartbeat_interval(
    setting: str | None, expected: str
) -> None:
    # The supervisor can notice a deferring process's exit up to this interval late.
    code = """
    from airflow_provider_opsgenie_incident._compat import worker_heartbeat_interval
    from airflow_provider_opsgenie_incident._tasks import min_deferral
    print(worker_heartbeat_interval(), min_deferral())
    """
    env = {} if setting is None else {"AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": setting}
    assert run_python(code, **env) == expected


@pytest.mark.parametrize(
    "name",
    [
        "AirflowFailException",
        "AirflowSensorTimeout",
        "AirflowSkipException",
        "AirflowTaskTerminated",
        "TaskDeferred",
    ],
)
def test_task_exceptions_are_the_ones_airflow_handles(name: str) -> None:
    # The SDK's classes; airflow.exceptions keeps deprecated aliases of the same ones.
    assert getattr(_compat, name) is getattr(airflow.sdk.exceptions, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated aliases since 3.2
        assert getattr(airflow.exceptions, name) is getattr(_compat, name)


def test_a_task_run_by_a_worker_is_not_an_in_process_run() -> None:
    # dag.test() is the other side: tests/sensors/test_sensors_under_dag_test.py sends it SIGTERM.
    assert _compat.in_process_run() is False


def test_a_registered_secret_is_masked() -> None:
    _compat.mask_secret("s3cr3t-compat-value")

    assert _compat.redact_or_replace("key s3cr3t-compat-value here") == "key *** here"
    assert _compat.redact_or_replace("nothing secret") == "nothing secret"


def test_text_is_withheld_when_the_masker_cannot_be_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _compat._MASKER_MODULES:
        monkeypatch.setitem(sys.modules, name, None)  # as after a release that moved the masker again

    assert _compat.redact_or_replace("key s3cr3t-compat-value here") == _compat.WITHHELD


def test_text_is_withheld_when_the_masker_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    import airflow.sdk._shared.secrets_masker as masker

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("masker broke")

    monkeypatch.setattr(masker, "redact", broken)

    assert _compat.redact_or_replace("key s3cr3t-compat-value here") == _compat.WITHHELD
