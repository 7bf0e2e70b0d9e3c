"""Each Airflow name ``_compat`` stands in for: the current release's side and the fallback's.

The fallbacks serve Airflow 3.1, where ``airflow.sdk`` lacks ``conf`` and the task exceptions;
a fresh interpreter with the newer module blocked takes the fallback path for real.
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


@pytest.mark.parametrize("blocked", [None, "airflow.sdk.configuration"], ids=["sdk-conf", "airflow-3.1"])
@pytest.mark.parametrize("setting", ["True", "False"])
def test_default_deferrable_reads_the_deployment_setting(blocked: str | None, setting: str) -> None:
    code = f"""
    import sys
    if {blocked!r}:
        sys.modules[{blocked!r}] = None  # as on Airflow 3.1: from airflow.sdk import conf fails
    from airflow_provider_opsgenie_incident._compat import default_deferrable
    print(default_deferrable())
    """
    assert run_python(code, AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE=setting) == setting


@pytest.mark.parametrize(
    "name", ["AirflowFailException", "AirflowSensorTimeout", "AirflowSkipException", "TaskDeferred"]
)
def test_task_exceptions_are_the_ones_airflow_handles(name: str) -> None:
    # The SDK's classes since 3.2; airflow.exceptions, where 3.1 keeps them, names the same ones since.
    home = airflow.sdk.exceptions if hasattr(airflow.sdk.exceptions, name) else airflow.exceptions
    assert getattr(_compat, name) is getattr(home, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated aliases since 3.2
        assert getattr(airflow.exceptions, name) is getattr(_compat, name)


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
