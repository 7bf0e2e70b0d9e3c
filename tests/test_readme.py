"""The README quotes the example DAGs instead of copying them, and its tables match the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
QUOTE = re.compile(
    r"<!-- quoted from (?P<path>\S+) \[START (?P<name>\S+)\] -->\n```python\n(?P<code>.*?)```", re.S
)


def _between_markers(path: str, name: str) -> str:
    source = (ROOT / path).read_text()
    return source.split(f"# [START {name}]\n", 1)[1].split(f"# [END {name}]", 1)[0]


QUOTES = [match.groupdict() for match in QUOTE.finditer(README)]


def test_readme_quotes_examples():
    assert len(QUOTES) >= 3


@pytest.mark.parametrize("quote", QUOTES, ids=[q["name"] for q in QUOTES])
def test_quoted_code_matches_the_example_dag(quote):
    assert quote["code"] == _between_markers(quote["path"], quote["name"])


def test_the_two_commands_are_documented():
    assert "make demo" in README
    assert "make test" in README


ROW = re.compile(
    r"^\| `(?P<cls>Opsgenie\w+)` \| `(?P<action>\w+)` \| `(?P<method>[A-Z]+) (?P<path>\S+)` \|", re.M
)
ROWS = [match.groupdict() for match in ROW.finditer(README)]


def _provided_classes() -> dict[str, type]:
    import importlib
    import inspect

    from airflow_provider_opsgenie_incident.get_provider_info import get_provider_info

    info = get_provider_info()
    modules = [
        m for kind in ("operators", "sensors") for entry in info[kind] for m in entry["python-modules"]
    ]
    classes: dict[str, type] = {}
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if inspect.isclass(value) and value.__module__ == module_name and not name.startswith("_"):
                classes[name] = value
    return classes


def test_the_operator_table_lists_every_operator_and_sensor_once():
    assert sorted(row["cls"] for row in ROWS) == sorted(_provided_classes())


@pytest.mark.parametrize("row", ROWS, ids=[row["cls"] for row in ROWS])
def test_the_operator_table_matches_the_catalogue(row):
    from airflow_provider_opsgenie_incident.client.catalogue import ENDPOINTS

    endpoint = ENDPOINTS[row["action"]]
    assert (row["method"], row["path"]) == (endpoint.method, endpoint.path)
    cls = _provided_classes()[row["cls"]]
    if hasattr(cls, "action"):
        assert cls.action == row["action"]


def test_every_endpoint_is_served_by_an_operator_or_sensor():
    from airflow_provider_opsgenie_incident.client.catalogue import ENDPOINTS

    assert {row["action"] for row in ROWS} == set(ENDPOINTS)
