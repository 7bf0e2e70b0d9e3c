"""The catalogue and the typed methods agree, with no I/O."""

from __future__ import annotations

import inspect
import re

import pytest

from airflow_provider_opsgenie_incident.client import methods
from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient
from airflow_provider_opsgenie_incident.client.catalogue import ENDPOINTS, INCIDENT_DOCS, TIMELINE_DOCS
from airflow_provider_opsgenie_incident.client.methods import IncidentApiMethods
from airflow_provider_opsgenie_incident.client.protocol import prepare
from airflow_provider_opsgenie_incident.client.sync import OpsgenieIncidentClient
from airflow_provider_opsgenie_incident.hooks.incident import OpsgenieIncidentHook

INCIDENT_ENDPOINTS = {
    "create_incident",
    "get_incident",
    "list_incidents",
    "delete_incident",
    "close_incident",
    "resolve_incident",
    "add_note",
    "list_notes",
    "list_logs",
    "add_responder",
    "add_tags",
    "remove_tags",
    "add_details",
    "remove_details",
    "update_priority",
    "update_message",
    "update_description",
    "get_request_status",
}
TIMELINE_ENDPOINTS = {
    "add_timeline_entry",
    "get_timeline_entry",
    "update_timeline_entry",
    "delete_timeline_entry",
    "list_timeline_entries",
    "hide_timeline_entry",
    "unhide_timeline_entry",
}


def _public_methods() -> set[str]:
    return {
        name
        for name, member in vars(IncidentApiMethods).items()
        if callable(member) and not name.startswith("_") and name != "call"
    }


def test_catalogue_has_18_incident_and_7_timeline_endpoints():
    assert len(ENDPOINTS) == 25
    assert set(ENDPOINTS) == INCIDENT_ENDPOINTS | TIMELINE_ENDPOINTS
    assert {name for name, e in ENDPOINTS.items() if e.docs == INCIDENT_DOCS} == INCIDENT_ENDPOINTS
    assert {name for name, e in ENDPOINTS.items() if e.docs == TIMELINE_DOCS} == TIMELINE_ENDPOINTS
    assert {name for name, e in ENDPOINTS.items() if e.path.startswith("/v1/")} == INCIDENT_ENDPOINTS
    assert {name for name, e in ENDPOINTS.items() if e.path.startswith("/v2/")} == TIMELINE_ENDPOINTS


def test_every_endpoint_has_exactly_one_method_and_every_method_an_endpoint():
    assert _public_methods() == set(ENDPOINTS)
    for name, endpoint in ENDPOINTS.items():
        assert endpoint.name == name


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_method_parameters_are_keyword_only_and_equal_the_argument_names(name):
    method = getattr(IncidentApiMethods, name)
    parameters = [p for p in inspect.signature(method).parameters.values() if p.name != "self"]
    assert [p.kind for p in parameters] == [inspect.Parameter.VAR_KEYWORD]
    # The keyword arguments are typed by a TypedDict: Unpack[<name>] in the annotation.
    (typed_dict,) = re.findall(r"Unpack\[(\w+)\]", method.__annotations__[parameters[0].name])
    arguments = getattr(methods, typed_dict)
    assert set(arguments.__required_keys__) | set(arguments.__optional_keys__) == set(
        ENDPOINTS[name].argument_names
    )
    # The typed method demands exactly what the catalogue requires.
    assert set(arguments.__required_keys__) == {f.name for f in ENDPOINTS[name].fields if f.required}


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_path_placeholders_are_path_fields_and_locations_are_known(name):
    endpoint = ENDPOINTS[name]
    placeholders = set(re.findall(r"{(\w+)}", endpoint.path))
    assert placeholders == {f.wire for f in endpoint.fields if f.location == "path"}
    assert all(f.location in ("path", "query", "body") for f in endpoint.fields)
    assert all(f.required for f in endpoint.fields if f.location == "path")
    assert endpoint.method in ("GET", "POST", "PUT", "PATCH", "DELETE")
    if endpoint.method in ("GET", "DELETE"):
        assert not [f for f in endpoint.fields if f.location == "body"]


def test_asynchronous_and_idempotent_flags():
    asynchronous = {name for name, e in ENDPOINTS.items() if e.asynchronous}
    assert asynchronous == INCIDENT_ENDPOINTS - {
        "get_incident",
        "list_incidents",
        "list_notes",
        "list_logs",
        "get_request_status",
    }
    not_idempotent = {name for name, e in ENDPOINTS.items() if not e.idempotent}
    assert not_idempotent == {"create_incident", "add_note", "add_timeline_entry"}


@pytest.mark.parametrize("cls", [OpsgenieIncidentClient, AsyncOpsgenieIncidentClient, OpsgenieIncidentHook])
def test_clients_and_hook_inherit_every_method(cls):
    assert issubclass(cls, IncidentApiMethods)
    for name in ENDPOINTS:
        assert getattr(cls, name) is getattr(IncidentApiMethods, name)


def test_base_call_is_abstract_and_unknown_arguments_are_a_type_error():
    with pytest.raises(NotImplementedError):
        IncidentApiMethods().get_incident(identifier="x")
    with pytest.raises(TypeError, match="unexpected arguments: bogus"):
        prepare("get_incident", {"identifier": "x", "bogus": 1})


def test_prepare_builds_nested_body_and_never_sends_none():
    prepared = prepare(
        ENDPOINTS["update_timeline_entry"],
        {"incident_id": "i", "entry_id": "e", "content": "c", "time": None},
    )
    assert prepared.method == "PATCH"
    assert prepared.path == "/v2/incident-timelines/i/entries/e"
    assert prepared.query == ()
    assert prepared.body == {"description": {"content": "c"}}
    # A write with nothing in its body still sends an empty JSON object.
    assert prepare("close_incident", {"identifier": "i"}).body == {}
    assert prepare("get_incident", {"identifier": "i"}).body is None


def test_client_package_loads_the_transports_lazily():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import airflow_provider_opsgenie_incident.client as client\n"
        "from airflow_provider_opsgenie_incident.client import catalogue, errors, validation\n"
        "assert 'requests' not in sys.modules, 'requests loaded'\n"
        "assert 'airflow' not in sys.modules, 'airflow loaded'\n"
        "client.OpsgenieIncidentClient\n"
        "assert 'requests' not in sys.modules, 'requests loaded by the class'\n"
        "client.OpsgenieIncidentClient(client.ClientSettings(api_key='k'))\n"
        "assert 'requests' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_lazy_names_resolve_to_the_transport_classes():
    import airflow_provider_opsgenie_incident.client as client

    assert client.OpsgenieIncidentClient is OpsgenieIncidentClient
    assert client.AsyncOpsgenieIncidentClient is AsyncOpsgenieIncidentClient
    assert set(client.__all__) >= {"OpsgenieIncidentClient", "AsyncOpsgenieIncidentClient", "ClientSettings"}
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        client.Nope  # noqa: B018
