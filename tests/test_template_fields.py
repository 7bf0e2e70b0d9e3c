"""Every operator and sensor: each templated field is an attribute and documented "(templated)".

A parameter is documented once, in the class that owns it (a shared base documents the
parameters of every class built on it), so the check walks each class's MRO: the nearest
class that documents a field must mark it templated.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import pytest
from airflow.sdk import BaseOperator

from airflow_provider_opsgenie_incident.get_provider_info import get_provider_info

PARAM = re.compile(r":param (?P<name>\w+):(?P<text>.*?)(?=\n:|\n\.\.|\n\n|\Z)", re.S)


def _public_classes() -> dict[str, type[BaseOperator]]:
    info = get_provider_info()
    classes: dict[str, type[BaseOperator]] = {}
    for kind in ("operators", "sensors"):
        for entry in info[kind]:
            for module_name in entry["python-modules"]:
                module = importlib.import_module(module_name)
                classes.update({name: getattr(module, name) for name in module.__all__})
    return classes


CLASSES = _public_classes()


def _documented(cls: type) -> dict[str, str]:
    """Each ``:param`` of the class and its bases, with the text of the nearest class documenting it."""
    params: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        doc = inspect.cleandoc(vars(klass).get("__doc__") or "")
        params.update((m["name"], m["text"]) for m in PARAM.finditer(doc))
    return params


def _required_parameters(cls: type) -> set[str]:
    """The keyword-only parameters without a default, across every ``__init__`` in the MRO."""
    required: set[str] = set()
    for klass in cls.__mro__:
        if issubclass(klass, BaseOperator) and klass is not BaseOperator and "__init__" in vars(klass):
            for name, parameter in inspect.signature(klass).parameters.items():
                if parameter.kind is parameter.KEYWORD_ONLY and parameter.default is parameter.empty:
                    required.add(name)
    return required - {"task_id"}


def test_every_operator_and_sensor_is_checked() -> None:
    assert len(CLASSES) == 26


@pytest.mark.parametrize("cls", CLASSES.values(), ids=CLASSES.keys())
def test_template_fields_are_attributes_and_documented(cls: type[Any]) -> None:
    task = cls(task_id="task", **{name: "{{ x }}" for name in _required_parameters(cls)})
    documented = _documented(cls)
    assert "opsgenie_incident_conn_id" in cls.template_fields
    assert len(set(cls.template_fields)) == len(cls.template_fields)
    for name in cls.template_fields:
        assert hasattr(task, name), name
        assert name in documented, f"{name} is not documented"
        assert "(templated)" in documented[name], f"{name} is not marked (templated)"
    assert set(getattr(cls, "template_fields_renderers", {})) <= set(cls.template_fields)


@pytest.mark.parametrize("cls", CLASSES.values(), ids=CLASSES.keys())
def test_every_parameter_is_documented(cls: type[Any]) -> None:
    """A parameter of ours is documented somewhere in the MRO; Airflow's own (``task_id``...) are not ours."""
    ours = set()
    for klass in cls.__mro__:
        if klass.__module__.startswith("airflow_provider_opsgenie_incident") and "__init__" in vars(klass):
            ours |= {
                name
                for name, parameter in inspect.signature(klass).parameters.items()
                if parameter.kind is parameter.KEYWORD_ONLY
            }
    assert ours - set(_documented(cls)) == set()
