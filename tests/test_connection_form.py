"""The Add Connection form in a real Airflow UI and a real browser: labels, help, values, choices."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check_connection_form.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("check_connection_form", SCRIPT)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


check_connection_form = _load_script()
_MISSING = check_connection_form.browser_available()


@pytest.mark.skipif(_MISSING is not None, reason=f"no browser for the form check: {_MISSING}")
@pytest.mark.timeout(240)
def test_the_connection_form_shows_every_field_without_null(tmp_path):
    view, problems = check_connection_form.check(tmp_path / "form.png")
    assert problems == []
    assert (tmp_path / "form.png").stat().st_size > 10_000
    assert view.extras["region"]["choices"] == ["US (api.opsgenie.com)", "EU (api.eu.opsgenie.com)"]
    assert view.extras["region"]["selected"] == "US (api.opsgenie.com)"
    assert view.extras["default_priority"]["choices"] == ["P1", "P2", "P3 (Opsgenie's default)", "P4", "P5"]
    assert view.extras["connect_timeout"]["value"] == "5"
    # Airflow 3.3 masks an extra declared ``format: password``; 3.2's form has no masked input for
    # extra fields, so there the proxy URL is shown in clear (README, docs/connection.md).
    assert view.airflow_version
    assert view.extras["proxy"]["masked"] is check_connection_form.masks_secret_extras(view.airflow_version)
    assert view.standard == ["Description", "API URL", "API key"]


def test_differences_name_what_the_form_gets_wrong():
    view = check_connection_form.FormView(standard=["Description", "Login", "API URL", "API key"])
    view.text = "Region null"
    view.extras = {
        "region": {"label": "Region", "help": "", "selected": "null", "choices": ["us", "eu", "null"]}
    }
    problems = check_connection_form.differences(view)
    assert "hidden field Login is shown" in problems
    assert "the form shows 'null'" in problems
    assert any(problem.startswith("region: choices") for problem in problems)
    assert any(problem.startswith("region: shows 'null'") for problem in problems)
    assert any(problem.startswith("web_url: label None") for problem in problems)


@pytest.mark.parametrize(
    ("version", "masked"), [("3.2.2", False), ("3.3.0", True), ("3.3.2", True), ("4.0.0", True), ("", True)]
)
def test_a_secret_extra_is_expected_masked_where_the_form_can_mask_it(version, masked):
    view = check_connection_form.FormView(airflow_version=version)
    view.extras = {"proxy": {"label": "Proxy URL", "value": "", "masked": not masked}}
    problems = check_connection_form.differences(view)
    assert f"proxy: masked is {not masked}, expected {masked}" in problems
