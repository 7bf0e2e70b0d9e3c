from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator

ROOT = Path(__file__).resolve().parents[2]


def _raw_exchange(emulator, data: bytes) -> bytes:
    """Send raw bytes on a fresh socket and return everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


# -- HTTP behaviour -----------------------------------------------------------------------------


def test_keep_alive_serves_many_requests_on_one_connection(api, opsgenie_emulator):
    api.call("GET", "/v1/incidents", query={"query": ""})
    sock = api.conn.sock
    incident = api.create()
    for _ in range(5):
        assert api.call("GET", api.incident_path(incident["id"])).status == 200
        assert api.call("GET", "/v1/incidents/nope").status == 404
        assert api.call("POST", "/v1/incidents/create", {"message": "x" * 131}).status == 422
    assert api.conn.sock is sock
    assert len(opsgenie_emulator.requests) == 19


def test_every_response_has_a_correct_content_length(opsgenie_emulator):
    request = (
        b"GET /v1/incidents?query= HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: GenieKey emulator-key\r\nConnection: close\r\n\r\n"
    )
    answer = _raw_exchange(opsgenie_emulator, request)
    head, _, body = answer.partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    assert length == len(body)
    assert json.loads(body)["data"] == []


@pytest.mark.parametrize(
    ("identifier", "decoded"),
    [
        ("a/b", "a/b"),
        ("../alerts", "../alerts"),
        ("..", ".."),
        ("ünïcødé ✓", "ünïcødé ✓"),
        ("%2F", "%2F"),
        ("requests?x=1#frag", "requests?x=1#frag"),
        ("a b+c", "a b+c"),
    ],
    ids=["slash", "dot-dot-alerts", "dot-dot", "unicode", "percent", "query-chars", "space-plus"],
)
def test_encoded_identifiers_reach_the_incident_route(api, opsgenie_emulator, identifier, decoded):
    encoded = quote(identifier, safe="")
    got = api.call("GET", f"/v1/incidents/{encoded}")
    assert got.status == 404
    assert got.json["message"] == f"No incident exists with id [{decoded}]"

    result = api.write("POST", f"/v1/incidents/{encoded}/notes", {"note": "n"})
    assert (result["action"], result["status"]) == ("AddNote", "Incident does not exist")

    timeline = api.call("GET", f"/v2/incident-timelines/{encoded}/entries")
    assert timeline.json["message"] == f"No incident exists with id [{decoded}]"

    recorded = opsgenie_emulator.requests[0]
    assert recorded.raw_path == f"/v1/incidents/{encoded}"
    assert recorded.path == f"/v1/incidents/{decoded}"


def test_encoded_identifier_of_a_real_incident(api):
    incident = api.create()
    response = api.call("GET", "/v1/incidents/%31", query={"identifierType": "tiny"})
    assert response.data["id"] == incident["id"]


def test_unencoded_traversal_is_not_routed(api):
    response = api.call("GET", "/v1/incidents/../alerts")
    assert response.status == 404
    assert response.json["message"].startswith("No endpoint matches")


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("FOO", "/v1/incidents", 405, "DELETE, GET, PATCH, POST, PUT"),
        ("PATCH", "/v1/incidents/x/notes", 405, "GET, POST"),
        ("PUT", "/v1/incidents/create", 405, None),
        ("GET", "/v1/alerts", 404, None),
        ("GET", "/v1/incidents/x/unknown", 404, None),
        ("GET", "/", 404, None),
    ],
    ids=["unknown-method", "wrong-method", "put-create", "alerts", "unknown-action", "root"],
)
def test_unknown_routes_and_methods(api, method, path, status, allow):
    response = api.call(method, path)
    assert response.status == status
    assert set(response.json) == {"message", "took", "requestId"}
    if allow:
        assert response.headers["allow"] == allow


@pytest.mark.parametrize(
    ("head", "body", "status"),
    [
        (b"Content-Length: abc\r\n", b"", 400),
        (b"Content-Length: -5\r\n", b"", 400),
        (b"Content-Length: 10\r\n", b"{}", 400),
        (b"Content-Length: 1048577\r\n", b"x" * 1048577, 413),
        (b"Content-Length: 99999999999\r\n", b"", 413),
    ],
    ids=["not-a-number", "negative", "short-body", "over-1-mib", "huge-declared"],
)
def test_bad_bodies_get_json_errors_and_close(opsgenie_emulator, head, body, status):
    request = (
        b"POST /v1/incidents/create HTTP/1.1\r\nHost: x\r\nAuthorization: GenieKey emulator-key\r\n" + head
    )
    with socket.create_connection(("127.0.0.1", opsgenie_emulator.port), timeout=5) as sock:
        sock.sendall(request + b"\r\n" + body)
        if status == 400 and body:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(f"HTTP/1.1 {status} ".encode())
    assert b"Connection: close" in answer
    assert "message" in json.loads(answer.partition(b"\r\n\r\n")[2])
    assert opsgenie_emulator.incidents() == []


def test_body_of_exactly_1_mib_is_read(api):
    envelope = len(json.dumps({"message": "m", "pad": ""}))
    raw = json.dumps({"message": "m", "pad": "x" * (1024 * 1024 - envelope)}).encode()
    assert len(raw) == 1024 * 1024
    assert api.call("POST", "/v1/incidents/create", raw=raw).status == 202


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x00\x01\x02garbage\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET /" + b"a" * 70000 + b"\r\n\r\n",
    ],
    ids=["binary", "no-path", "bad-version", "long-line"],
)
def test_garbage_requests_do_not_crash_the_server(api, opsgenie_emulator, garbage):
    answer = _raw_exchange(opsgenie_emulator, garbage)
    assert answer.startswith(b"HTTP/1.")
    assert b" 400 " in answer or b" 414 " in answer or b" 505 " in answer
    assert api.call("GET", "/v1/incidents", query={"query": ""}).status == 200


def test_chunked_request_body(opsgenie_emulator):
    body = json.dumps({"message": "chunked"}).encode()
    request = (
        b"POST /v1/incidents/create HTTP/1.1\r\nHost: x\r\nAuthorization: GenieKey emulator-key\r\n"
        b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
        + f"{len(body[:5]):x}\r\n".encode() + body[:5] + b"\r\n"
        + f"{len(body[5:]):x}\r\n".encode() + body[5:] + b"\r\n0\r\n\r\n"
    )  # fmt: skip
    assert _raw_exchange(opsgenie_emulator, request).startswith(b"HTTP/1.1 202 ")
    assert opsgenie_emulator.incidents()[0]["message"] == "chunked"


# -- recorded requests and reset ----------------------------------------------------------------


def test_recorded_requests(api, opsgenie_emulator):
    api.call("POST", "/v1/incidents/a%2Fb/tags", {"tags": ["t"]}, query={"identifierType": "id", "x": "1"})
    api.call("GET", "/v1/incidents", query={"query": "status:open"})
    first, second = opsgenie_emulator.requests
    assert first.method == "POST"
    assert first.path == "/v1/incidents/a/b/tags"
    assert first.raw_path == "/v1/incidents/a%2Fb/tags?identifierType=id&x=1"
    assert first.query == {"identifierType": "id", "x": "1"}
    assert first.headers["authorization"] == "GenieKey emulator-key"
    assert first.headers["content-type"] == "application/json"
    assert first.body == {"tags": ["t"]}
    assert first.fault is None
    assert second.query == {"query": "status:open"}
    assert second.body is None

    with pytest.raises(Exception, match="frozen|cannot assign"):
        first.method = "GET"
    opsgenie_emulator.requests.clear()
    assert len(opsgenie_emulator.requests) == 2
    opsgenie_emulator.clear_requests()
    assert opsgenie_emulator.requests == []


def test_reset_restores_a_fresh_state(api, opsgenie_emulator):
    api.create()
    opsgenie_emulator.processing_delay = 1.0
    opsgenie_emulator.rate_limit(1)
    opsgenie_emulator.reset()
    assert opsgenie_emulator.incidents() == []
    assert opsgenie_emulator.requests == []
    assert opsgenie_emulator.processing_delay == 0.0
    assert api.create()["tinyId"] == "1"
    assert api.call("GET", "/v1/incidents", query={"query": ""}).status == 200


def test_inspection_helpers(api, opsgenie_emulator):
    incident = api.create(note="hello")
    assert opsgenie_emulator.incident(incident["id"]) == incident
    assert opsgenie_emulator.incident(incident["tinyId"]) == incident
    assert opsgenie_emulator.incident("missing") is None
    assert opsgenie_emulator.notes(incident["tinyId"]) == opsgenie_emulator.notes(incident["id"])
    assert opsgenie_emulator.notes("missing") == []
    assert opsgenie_emulator.logs("missing") == []
    assert opsgenie_emulator.timeline("missing") == []
    copy = opsgenie_emulator.incidents()[0]
    copy["status"] = "mutated"
    assert opsgenie_emulator.incidents()[0]["status"] == "open"


# -- lifecycle, fixtures, command line ----------------------------------------------------------


def test_lifecycle():
    emulator = OpsgenieEmulator(api_key="k", processing_delay=0.5)
    with pytest.raises(RuntimeError):
        _ = emulator.url
    assert emulator.start() is emulator
    url = emulator.url
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
    assert emulator.api_key == "k"
    assert emulator.processing_delay == 0.5
    with pytest.raises(ValueError, match="negative"):
        emulator.processing_delay = -1
    idle = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=5)
    idle.request("GET", "/v1/incidents?query=", headers={"Authorization": "GenieKey k"})
    assert idle.getresponse().read()
    emulator.stop()
    emulator.stop()
    with pytest.raises(urllib.error.URLError, match="refused"):
        urllib.request.urlopen(url, timeout=1)
    idle.close()


def test_context_manager():
    with OpsgenieEmulator() as emulator:
        request = urllib.request.Request(
            f"{emulator.url}/v1/incidents/create",
            data=b'{"message": "m"}',
            headers={"Authorization": f"GenieKey {OpsgenieEmulator.DEFAULT_API_KEY}"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 202
        assert len(emulator.incidents()) == 1


def test_connection_fixture_sets_the_airflow_connection(opsgenie_incident_connection, opsgenie_emulator):
    assert opsgenie_incident_connection is opsgenie_emulator
    connection = json.loads(os.environ["AIRFLOW_CONN_OPSGENIE_INCIDENT_DEFAULT"])
    assert connection == {
        "conn_type": "opsgenie_incident",
        "host": opsgenie_emulator.url,
        "password": "emulator-key",
        "extra": {"web_url": opsgenie_emulator.url},
    }


def test_session_server_is_shared(opsgenie_emulator, opsgenie_emulator_server):
    assert opsgenie_emulator is opsgenie_emulator_server


def test_command_line_serves_until_terminated():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    command = [
        sys.executable,
        "-m",
        "airflow_provider_opsgenie_incident.emulator",
        "--port",
        "0",
        "--api-key",
        "cli",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = process.stdout.readline()
        match = re.fullmatch(r"Opsgenie emulator listening on (http://127\.0\.0\.1:\d+)\n", line)
        assert match, line
        request = urllib.request.Request(
            f"{match.group(1)}/v1/incidents/create",
            data=b'{"message": "from the cli"}',
            headers={"Authorization": "GenieKey cli"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            request_id = json.load(response)["requestId"]
        status = urllib.request.Request(
            f"{match.group(1)}/v1/incidents/requests/{request_id}", headers={"Authorization": "GenieKey cli"}
        )
        with pytest.raises(urllib.error.HTTPError) as pending:
            urllib.request.urlopen(status, timeout=5)
        assert pending.value.code == 404
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=5)
    assert process.returncode == 0, stderr


# -- concurrency --------------------------------------------------------------------------------


def test_twenty_threads_create_concurrently(opsgenie_emulator, make_client):
    clients = [make_client() for _ in range(20)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(20)

    def work(client) -> None:
        try:
            barrier.wait()
            for i in range(5):
                response = client.call("POST", "/v1/incidents/create", {"message": f"m{i}"})
                assert response.status == 202
                assert client.status_of(response.json["requestId"]).data["success"] is True
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert errors == []
    incidents = opsgenie_emulator.incidents()
    assert len(incidents) == 100
    assert sorted(int(incident["tinyId"]) for incident in incidents) == list(range(1, 101))
    assert len({incident["createdAt"] for incident in incidents}) == 100


def test_several_processes_create_concurrently(opsgenie_emulator):
    script = textwrap.dedent(
        """
        import sys, urllib.request
        for i in range(10):
            request = urllib.request.Request(
                sys.argv[1] + "/v1/incidents/create",
                data=b'{"message": "from a process"}',
                headers={"Authorization": "GenieKey emulator-key", "Content-Type": "application/json"},
            )
            assert urllib.request.urlopen(request, timeout=10).status == 202
        """
    )
    processes = [
        subprocess.Popen([sys.executable, "-S", "-c", script, opsgenie_emulator.url]) for _ in range(4)
    ]
    assert [process.wait(timeout=20) for process in processes] == [0, 0, 0, 0]
    assert len(opsgenie_emulator.incidents()) == 40
