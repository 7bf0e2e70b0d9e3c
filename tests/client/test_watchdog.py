"""The per-process watchdog: a socket past its exchange's deadline is shut down, and nothing else."""

from __future__ import annotations

import os
import socket
import time

import pytest

from airflow_provider_opsgenie_incident.client import watchdog


def _blocked_read(seconds: float) -> tuple[bytes, float, watchdog.Exchange]:
    left, right = socket.socketpair()
    with left, right:
        exchange = watchdog.watch(seconds)
        exchange.attach(left)
        started = time.monotonic()
        data = left.recv(10)  # the peer never writes
        return data, time.monotonic() - started, exchange


def test_a_blocked_read_is_woken_at_the_deadline() -> None:
    data, elapsed, exchange = _blocked_read(0.3)
    assert data == b""
    assert exchange.expired is True
    assert 0.25 <= elapsed < 1.0


def test_a_finished_exchange_is_left_alone() -> None:
    left, right = socket.socketpair()
    with left, right:
        exchange = watchdog.watch(0.1)
        exchange.attach(left)
        exchange.finish()
        time.sleep(0.3)
        right.sendall(b"still open")
        assert left.recv(10) == b"still open"
    assert exchange.expired is False


def test_a_socket_attached_after_the_deadline_is_shut_down_at_once() -> None:
    exchange = watchdog.watch(0.05)
    time.sleep(0.2)
    assert exchange.expired is True
    left, right = socket.socketpair()
    with left, right:
        exchange.attach(left)
        assert left.recv(10) == b""


def test_finished_exchanges_do_not_pile_up() -> None:
    dog = watchdog._Watchdog()
    for _ in range(10_000):
        dog.watch(60.0).finish()
    assert len(dog._heap) <= 2048


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_has_its_own_watchdog() -> None:
    watchdog.watch(0.01).finish()  # the parent's thread is running
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit code
        try:
            data, elapsed, _ = _blocked_read(0.2)
            os._exit(0 if data == b"" and elapsed < 1.0 else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
