"""Parsing a DAG that uses our operators, sensors, links or notifiers loads nothing the SDK does not load.

Each check runs in a fresh interpreter. The baseline imports ``airflow.sdk`` and the SDK names our
modules build on (``airflow.sdk`` loads them lazily, so ``import airflow.sdk`` alone is too little):
whatever is new after importing our modules, besides the standard library and this package (which
Airflow may already have loaded for its provider info), is
a third-party module that DAG parsing pays for because of us. ``requests`` in particular must wait
until a hook makes its first call.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.util import find_spec
from typing import Any

import pytest

PACKAGE = "airflow_provider_opsgenie_incident"

PROBE = """
import importlib, json, sys
import airflow.sdk
from airflow.sdk import BaseNotifier, BaseOperator, BaseOperatorLink, BaseSensorOperator
from airflow.sdk import PokeReturnValue
from airflow.sdk import conf
import airflow.sdk.exceptions

def top_level():
    return {name.partition(".")[0] for name in sys.modules}

before = top_level()
for module in sys.argv[1:]:
    importlib.import_module(module)
new = top_level() - before - set(sys.stdlib_module_names)
loaded = {name: name in sys.modules for name in ("requests", "aiohttp")}
print(json.dumps({"new": sorted(new), **loaded}))
"""

PARSE_TIME_MODULES = [
    f"{PACKAGE}.operators.incident",
    f"{PACKAGE}.operators.incident_update",
    f"{PACKAGE}.operators.timeline",
    f"{PACKAGE}.sensors.incident",
    f"{PACKAGE}.links",
    f"{PACKAGE}._compat",
    *([f"{PACKAGE}.notifications.incident"] if find_spec(f"{PACKAGE}.notifications.incident") else []),
]


def probe(*modules: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, *modules], capture_output=True, text=True, check=True, timeout=120
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def test_parse_time_modules_load_no_new_third_party_module() -> None:
    result = probe(*PARSE_TIME_MODULES)
    assert set(result["new"]) <= {PACKAGE}
    assert result["requests"] is False


@pytest.mark.parametrize("module", [f"{PACKAGE}.triggers.incident"])
def test_triggers_do_not_load_requests(module: str) -> None:
    """Triggers load in the triggerer (and in a worker when it defers), never while parsing a DAG."""
    assert probe(module)["requests"] is False


def test_aiohttp_waits_for_the_first_async_client() -> None:
    """Importing the triggers or the async client module loads no aiohttp; building a client does."""
    assert probe(f"{PACKAGE}.triggers.incident", f"{PACKAGE}.client.asynchronous")["aiohttp"] is False
