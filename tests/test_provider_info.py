"""The provider metadata: valid for Airflow, every named path importable, discovered by Airflow."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import airflow
import jsonschema
import pytest

import airflow_provider_opsgenie_incident
from airflow_provider_opsgenie_incident import connection as og_connection
from airflow_provider_opsgenie_incident.get_provider_info import get_provider_info

DISTRIBUTION = "airflow-provider-opsgenie-incident"
PACKAGE = "airflow_provider_opsgenie_incident"
CONN_TYPE = "opsgenie_incident"
INFO = get_provider_info()


def _module_paths() -> list[str]:
    """Every module named by a ``python-modules`` list, whatever section holds it."""
    return sorted(
        {
            module
            for value in INFO.values()
            if isinstance(value, list)
            for item in value
            if isinstance(item, dict)
            for module in item.get("python-modules", [])
        }
    )


def _class_paths() -> list[str]:
    """Every class named by the provider info: hook classes, notifiers, extra links, ..."""
    paths = {item["hook-class-name"] for item in INFO.get("connection-types", [])}
    for key in ("notifications", "extra-links", "hook-class-names", "secrets-backends", "executors"):
        paths.update(INFO.get(key, []))
    return sorted(paths)


def _import_class(path: str) -> type:
    module_name, _, class_name = path.rpartition(".")
    return getattr(importlib.import_module(module_name), class_name)


def test_provider_info_is_valid_for_airflow():
    schema_path = Path(airflow.__file__).parent / "provider_info.schema.json"
    schema = json.loads(schema_path.read_text())
    jsonschema.validate(INFO, schema)
    assert INFO["package-name"] == DISTRIBUTION
    assert INFO["versions"] == [airflow_provider_opsgenie_incident.__version__]


def test_provider_info_is_plain_json():
    assert json.loads(json.dumps(INFO)) == INFO


@pytest.mark.parametrize("module", _module_paths())
def test_every_named_module_imports(module):
    assert module.startswith(f"{PACKAGE}.")
    importlib.import_module(module)


@pytest.mark.parametrize("path", _class_paths())
def test_every_named_class_imports(path):
    assert path.startswith(f"{PACKAGE}.")
    assert isinstance(_import_class(path), type)


def test_every_integration_named_by_a_section_is_declared():
    declared = {item["integration-name"] for item in INFO["integrations"]}
    used = {
        item["integration-name"]
        for value in INFO.values()
        if isinstance(value, list)
        for item in value
        if isinstance(item, dict) and "integration-name" in item
    }
    assert used == declared


def test_the_connection_type_matches_the_hook():
    (connection,) = INFO["connection-types"]
    hook_class = _import_class(connection["hook-class-name"])
    assert connection["connection-type"] == hook_class.conn_type == CONN_TYPE
    assert connection["hook-name"] == hook_class.hook_name
    assert f"{PACKAGE}.hooks.incident" in INFO["hooks"][0]["python-modules"]
    # The UI is declared here, not by the deprecated form-widget methods.
    assert "get_connection_form_widgets" not in vars(hook_class)
    assert "get_ui_field_behaviour" not in vars(hook_class)


def test_entry_point_resolves_to_get_provider_info():
    (entry_point,) = [
        ep
        for ep in importlib.metadata.entry_points(group="apache_airflow_provider")
        if ep.module.startswith(PACKAGE)
    ]
    assert entry_point.value == f"{PACKAGE}.get_provider_info:get_provider_info"
    assert entry_point.load() is get_provider_info
    assert entry_point.dist.name.replace("_", "-") == DISTRIBUTION


def test_version_equals_the_installed_distribution():
    assert airflow_provider_opsgenie_incident.__version__ == importlib.metadata.version(DISTRIBUTION)


def test_task_runtime_knows_the_connection_type():
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    hook_info = ProvidersManagerTaskRuntime().hooks[CONN_TYPE]
    assert hook_info is not None
    assert hook_info.hook_class_name == f"{PACKAGE}.hooks.incident.OpsgenieIncidentHook"
    assert hook_info.connection_id_attribute_name == "opsgenie_incident_conn_id"
    assert hook_info.package_name == DISTRIBUTION
    assert hook_info.connection_testable is True


def test_providers_manager_reads_the_connection_form():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert manager.providers[DISTRIBUTION].version == airflow_provider_opsgenie_incident.__version__
    behaviour = manager.field_behaviours[CONN_TYPE]
    assert set(behaviour["hidden_fields"]) == {"schema", "port", "login"}
    assert behaviour["relabeling"]["password"] == "API key"
    (connection,) = INFO["connection-types"]
    for name in connection["conn-fields"]:
        widget = manager.connection_form_widgets[f"extra__{CONN_TYPE}__{name}"]
        assert widget.package_name == DISTRIBUTION
        assert widget.field_name == name
    for path in INFO.get("notifications", []):
        assert path in manager.notification
    for path in INFO.get("extra-links", []):
        assert path in manager.extra_links_class_names


def test_airflow_providers_list_shows_the_package():
    with tempfile.TemporaryDirectory(prefix="opsgenie-incident-cli-") as home:
        environment = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
        environment["AIRFLOW_HOME"] = home
        airflow_cli = Path(sys.executable).with_name("airflow")
        result = subprocess.run(
            [str(airflow_cli), "providers", "list", "-o", "json"],
            capture_output=True,
            text=True,
            env=environment,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    # Airflow may log a line or two to stdout before the JSON document.
    document = next(line for line in result.stdout.splitlines() if line.startswith("["))
    providers = {item["package_name"]: item for item in json.loads(document)}
    assert providers[DISTRIBUTION]["version"] == airflow_provider_opsgenie_incident.__version__


# -- the connection form comes from the connection module ---------------------------------------


def test_conn_fields_come_from_the_connection_module():
    (connection,) = INFO["connection-types"]
    assert connection["connection-type"] == og_connection.CONN_TYPE
    assert list(connection["conn-fields"]) == list(og_connection.EXTRAS)
    for name, extra in og_connection.EXTRAS.items():
        field = connection["conn-fields"][name]
        assert field["label"] == extra.label
        assert field["description"].startswith(extra.description)
        assert field["schema"].get("default") == extra.default
        assert extra.type in field["schema"]["type"]


@pytest.mark.parametrize("name", list(og_connection.EXTRAS))
def test_no_choice_offers_null_and_every_default_is_allowed(name):
    extra = og_connection.EXTRAS[name]
    schema = extra.schema()
    assert None not in schema.get("enum", [])
    if extra.choices:
        assert extra.default in extra.choices
        assert set(schema.get("values_display", {})) <= set(extra.choices)
    if extra.default is not None:
        jsonschema.validate(extra.default, schema)


def test_proxy_is_masked_in_the_form():
    widgets = {
        name for name, extra in og_connection.EXTRAS.items() if extra.schema().get("format") == "password"
    }
    assert widgets == {"proxy"}


README = Path(__file__).resolve().parent.parent / "README.md"
README_TABLE_HEADER = "| extra | form label | type | default | example | meaning |"


def _cell(value: object) -> str:
    return "none" if value is None else f"`{value}`"


def readme_table() -> str:
    """The README's table of connection extras, as the connection module defines them."""
    lines = [README_TABLE_HEADER, "| --- | --- | --- | --- | --- | --- |"]
    for name, extra in og_connection.EXTRAS.items():
        kind = ", ".join(f"`{choice}`" for choice in extra.choices) if extra.choices else extra.type
        example = f"`{extra.placeholder}`" if extra.placeholder else ""
        cells = [f"`{name}`", extra.label, kind, _cell(extra.default), example, extra.description]
        lines.append(f"| {' | '.join(cells)} |")
    return "\n".join(lines)


def test_the_readme_connection_table_matches_the_connection_module():
    text = README.read_text()
    start = text.index(README_TABLE_HEADER)
    table = []
    for line in text[start:].splitlines():
        if not line.startswith("|"):
            break
        table.append(line)
    assert "\n".join(table) == readme_table(), f"the README's table should read:\n{readme_table()}"
