"""The account's pacer: free turns at once, shared waits after a 429, no turn past the budget."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from airflow_provider_opsgenie_incident.client import RateLimitedError, RetrySettings
from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient
from airflow_provider_opsgenie_incident.client.flows import Call, run_flow
from airflow_provider_opsgenie_incident.client.pacer import budget, current_deadline, pacer_for
from airflow_provider_opsgenie_incident.emulator import Fault

LIST = {"query": "status:open"}


def test_one_pacer_per_account_never_showing_the_key(emu):
    pacer = pacer_for(emu.url, emu.api_key)
    assert pacer_for(emu.url, emu.api_key) is pacer
    assert pacer_for(emu.url, "another-key") is not pacer
    assert pacer_for("http://127.0.0.1:1", emu.api_key) is not pacer
    assert emu.api_key not in repr(pacer)
    assert emu.api_key not in pacer.label


def test_a_free_turn_is_given_at_once(make_client, emu):
    client = make_client()
    for _ in range(5):
        client.list_incidents(**LIST)
    pacer = pacer_for(emu.url, emu.api_key)
    assert (pacer.held, pacer.throttled, pacer.delay()) == (0, 0, 0.0)


def test_after_a_429_every_client_of_the_account_waits_for_it(make_client, emu):
    first, second = make_client(), make_client()
    emu.add_fault(Fault("status", status=429, headers={"Retry-After": "1"}))
    started = time.monotonic()
    first.list_incidents(**LIST)  # answered 429, waits 1 s, then succeeds
    second.list_incidents(**LIST)
    elapsed = time.monotonic() - started
    assert [r.fault for r in emu.requests] == ["status", None, None]
    assert 0.95 <= elapsed < 3
    assert pacer_for(emu.url, emu.api_key).throttled == 1


def test_a_held_client_sends_nothing_until_the_hold_ends(make_client, emu):
    first, second = make_client(), make_client()
    emu.add_fault(Fault("status", status=429, headers={"Retry-After": "1"}))
    done: list[float] = []
    started = time.monotonic()
    thread = threading.Thread(target=lambda: (first.list_incidents(**LIST), done.append(time.monotonic())))
    thread.start()
    while not emu.requests:
        time.sleep(0.01)
    time.sleep(0.05)  # the 429 is in: the second client's turn comes after the hold
    second.list_incidents(**LIST)
    second_done = time.monotonic() - started
    thread.join()
    assert second_done >= 0.95
    assert [r.fault for r in emu.requests].count("status") == 1


def test_threads_under_a_token_bucket_are_mostly_answered(make_client, emu):
    emu.rate_limit(20, burst=5)
    clients = [make_client() for _ in range(12)]
    errors: list[BaseException] = []

    def work(client) -> None:
        try:
            for _ in range(4):
                client.list_incidents(**LIST)
        except Exception as error:  # a lost call would be a failure of the pacer
            errors.append(error)

    threads = [threading.Thread(target=work, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    throttled = sum(r.fault == "rate_limit" for r in emu.requests)
    assert not errors
    assert sum(r.fault is None for r in emu.requests) == 48
    assert throttled <= len(emu.requests) / 3


def test_no_turn_is_waited_for_past_the_flows_budget(make_client, emu):
    client = make_client(retry=RetrySettings(total_timeout=5, backoff_initial=0.01))
    emu.add_fault(Fault("status", status=429, headers={"Retry-After": "30"}))
    with pytest.raises(RateLimitedError):
        client.list_incidents(**LIST)  # the server asked for 30 s: more than this call's budget
    other = make_client(retry=RetrySettings(total_timeout=60, backoff_initial=0.01))
    started = time.monotonic()
    with pytest.raises(RateLimitedError, match="after the time budget"):
        run_flow(_one_list(), other, timeout=1.0)
    assert time.monotonic() - started < 0.5
    assert len(emu.requests) == 1  # the other client, with 60 s of its own but 1 s of flow, sent nothing


def _one_list():
    result = yield Call("list_incidents", LIST)
    return result


def test_budgets_nest_to_the_earliest_deadline():
    assert current_deadline() == float("inf")
    with budget(10) as outer:
        with budget(100) as inner:
            assert inner == outer == current_deadline()
        with budget(1) as inner:
            assert inner < outer
    assert current_deadline() == float("inf")


def test_the_async_client_shares_the_sync_clients_pacer(make_client, settings, emu):
    sync_client = make_client()
    emu.add_fault(Fault("status", status=429, headers={"Retry-After": "1"}))
    held_at = time.monotonic()
    with pytest.raises(RateLimitedError), budget(0.3):
        sync_client.list_incidents(**LIST)  # the 1 s the server asks for do not fit in 0.3 s

    async def one_call() -> float:
        async with AsyncOpsgenieIncidentClient(settings) as client:
            await client.list_incidents(**LIST)
        return time.monotonic()

    answered_at = asyncio.run(one_call())
    assert answered_at - held_at >= 0.95  # the async call waited for the sync client's hold
    assert [r.fault for r in emu.requests] == ["status", None]
    assert pacer_for(emu.url, emu.api_key).throttled == 1
