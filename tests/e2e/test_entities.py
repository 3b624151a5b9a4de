"""Durable entities end to end (tests/apps/counter_entity): signal_entity and call_entity from an orchestrator,
signal_entity and read_entity_state from the SDK client and over the webhook, the batch protocol of
docs/protocol.md §5.2, operation errors caught by the caller, and entity state across kill -9."""
from __future__ import annotations

import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import azure.durable_functions as df
import pytest
import requests

from devhost.testing import Client, app_host, poll

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "tests" / "apps" / "counter_entity"
ENTITIES = "/runtime/webhooks/durabletask/entities"


host = app_host(APP, time_travel=False)


def new_key() -> str:
    return uuid.uuid4().hex[:12]


def entity_url(host: Client, key: str, name: str = "Counter") -> str:
    return host.url(f"{ENTITIES}/{name}/{key}")


def wait_state(host: Client, key: str, expected: Any, name: str = "Counter") -> Any:
    """Poll GET entities/{name}/{key} until the state equals `expected`."""
    def check() -> bool:
        response = host.http.get(entity_url(host, key, name), timeout=10)
        return response.status_code == 200 and response.json() == expected
    poll(check, timeout=10, what=f"entity {name}/{key} to hold {expected!r}")
    return expected


def barrier(host: Client, key: str) -> int:
    """The counter's value once every earlier message to it is applied: an orchestration's call_entity queues
    behind them (an entity takes its messages in order)."""
    instance_id = host.start_instance("CounterOrchestrator", {"key": key})
    final = host.wait(instance_id, timeout=30)
    assert final["runtimeStatus"] == "Completed", final
    return final["output"]["afterSignals"]


# -- from an orchestrator --------------------------------------------------------------------------------------
def test_orchestrator_signals_then_calls_and_catches_an_operation_error(host):
    key = new_key()
    instance_id = host.start_instance("CounterOrchestrator", {"key": key, "signals": [1, 2, 3], "add": 10})
    final = host.wait(instance_id)
    assert final["runtimeStatus"] == "Completed", final
    # The call queues behind the signals sent before it; the failing operation's message reaches the caller.
    assert final["output"] == {"afterSignals": 6, "afterAdd": 16, "error": "Counter cannot divide by zero"}
    assert wait_state(host, key, 16) == 16


def test_entity_messages_in_the_history(host):
    key = new_key()
    instance_id = host.start_instance("CounterOrchestrator", {"key": key, "signals": [5]})
    host.wait(instance_id)
    events = host.status(instance_id, showHistory=True, showHistoryOutput=True)["historyEvents"]
    kinds = [e["EventType"] for e in events]
    # one signal and three calls go out as EventSent; each call's answer comes back as EventRaised
    assert kinds == ["ExecutionStarted", "EventSent", "EventSent", "EventRaised", "EventSent", "EventRaised",
                     "EventSent", "EventRaised", "ExecutionCompleted"]
    sent = [e for e in events if e["EventType"] == "EventSent"]
    assert {e["InstanceId"] for e in sent} == {f"@counter@{key}"}
    assert [e["Name"] for e in sent] == ["op"] * 4  # every entity request is "op", as the extension names it
    assert [json.loads(e["Input"])["op"] for e in sent] == ["add", "get", "add", "fail"]


# -- from clients ----------------------------------------------------------------------------------------------
def test_sdk_client_signals_and_reads_state(host):
    key = new_key()
    counter = df.EntityId("Counter", key)
    host.sdk(lambda c: c.signal_entity(counter, "add", 5))
    host.sdk(lambda c: c.signal_entity(counter, "add", 2))
    state = poll(lambda: (lambda s: s if s.entity_state == 7 else None)(
        host.sdk(lambda c: c.read_entity_state(counter))), timeout=10, what="state 7 through the SDK")
    assert state.entity_exists is True
    response = host.http.get(entity_url(host, key), timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == 7


def test_unknown_entity_is_404_and_does_not_exist_for_the_sdk(host):
    response = host.http.get(entity_url(host, new_key()), timeout=10)
    assert response.status_code == 404
    assert response.content == b""
    state = host.sdk(lambda c: c.read_entity_state(df.EntityId("Counter", new_key())))
    assert state.entity_exists is False
    assert state.entity_state is None


def test_app_function_signals_and_reads_through_its_durable_client(host):
    key = new_key()
    assert host.http.get(host.url(f"/api/counters/{key}"), timeout=10).status_code == 404
    assert host.http.post(host.url(f"/api/counters/{key}"), params={"op": "add"}, json=7, timeout=10).status_code \
        == 202
    poll(lambda: host.http.get(host.url(f"/api/counters/{key}"), timeout=10).text == "7", timeout=10,
         what="GET /api/counters/{key} to answer 7")


def test_webhook_signal_bodies(host):
    key = new_key()
    url = entity_url(host, key)
    # The SDK's own shape (a JSON string holding JSON), and any non-JSON content type (the extension passes it
    # as a string), both reach get_input() as 5.
    assert host.http.post(url, params={"op": "add"}, json="5", timeout=10).status_code == 202
    assert host.http.post(url, params={"op": "add"}, data=b"5", headers={"Content-Type": "text/plain"},
                          timeout=10).status_code == 202
    assert host.http.post(url, params={"op": "add"}, data="5", timeout=10).status_code == 202  # curl -d 5
    # A bare JSON number is passed as 5, which the Python SDK's get_input cannot decode: the operation fails
    # and the state stays as it was, as under the real extension.
    assert host.http.post(url, params={"op": "add"}, json=5, timeout=10).status_code == 202
    assert host.http.post(url, params={"op": "add"}, json="1", timeout=10).status_code == 202
    assert barrier(host, key) == 16
    assert "Error in operation 'add' of entity @counter@" in host.log()
    # No body: an operation without input.
    assert host.http.post(url, params={"op": "reset"}, timeout=10).status_code == 202
    wait_state(host, key, 0)


def test_webhook_rejects_bad_entity_requests_and_changes_nothing(host):
    key = new_key()
    url = entity_url(host, key)
    assert host.http.post(url, params={"op": "add"}, json="3", timeout=10).status_code == 202
    wait_state(host, key, 3)
    bad = host.http.post(url, params={"op": "add"}, data=b"{not json", headers={"Content-Type": "application/json"},
                         timeout=10)
    assert bad.status_code == 400  # the extension's answer for this one is a message alone
    assert list(bad.json()) == ["Message"] and bad.json()["Message"].startswith("Could not parse JSON content: ")
    assert host.http.put(url, params={"op": "add"}, json="1", timeout=10).status_code == 404
    no_key = host.http.post(host.url(f"{ENTITIES}/Counter"), timeout=10)  # the extension's EntityId refuses it
    assert no_key.status_code == 400
    assert no_key.json() == {"Message": "Invalid entity id: entity key must not be null. (Parameter 'entityKey')"}
    assert barrier(host, key) == 3


def test_delete_sends_the_delete_operation(host):
    key = new_key()
    url = entity_url(host, key)
    assert host.http.post(url, params={"op": "add"}, json="4", timeout=10).status_code == 202
    wait_state(host, key, 4)
    assert host.http.delete(url, timeout=10).status_code == 202
    poll(lambda: host.http.get(url, timeout=10).status_code == 404, timeout=10, what="the deleted entity to be gone")


def test_entity_listing_shows_state_and_last_operation_time_and_leaves_deleted_ones_out(host):
    kept, deleted = new_key(), new_key()
    for key in (kept, deleted):
        assert host.http.post(entity_url(host, key), params={"op": "add"}, json="7", timeout=10).status_code == 202
        wait_state(host, key, 7)
    assert host.http.delete(entity_url(host, deleted), timeout=10).status_code == 202
    poll(lambda: host.http.get(entity_url(host, deleted), timeout=10).status_code == 404, timeout=10,
         what="the deleted entity to be gone")

    listed = host.http.get(host.url(f"{ENTITIES}/Counter"), params={"fetchState": "true", "top": "1000"}, timeout=10)

    assert listed.status_code == 200
    mine = {e["entityId"]["key"]: e for e in listed.json() if e["entityId"]["key"] in (kept, deleted)}
    assert list(mine) == [kept]
    assert mine[kept]["entityId"]["name"] == "counter" and mine[kept]["state"] == 7
    # a UTC DateTime as Newtonsoft writes it: the fraction without trailing zeros
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,6}[1-9])?Z", mine[kept]["lastOperationTime"])


# -- the batch protocol (docs/protocol.md §5.2) ----------------------------------------------------------------
def test_batch_protocol_seen_by_a_raw_entity(host):
    key = new_key()
    instance_id = host.start_instance("CounterOrchestrator",
                                      {"entity": "Recorder", "key": key, "signals": [1, 2, 3], "add": 10})
    final = host.wait(instance_id)
    assert final["runtimeStatus"] == "Completed", final
    # "get" was 4th in its batch; the call of "add" was alone in the next; "fail" failed with the entity's text.
    assert final["output"] == {"afterSignals": 3, "afterAdd": 0, "error": "Recorder cannot fail"}
    batches = host.http.get(entity_url(host, key, "Recorder"), timeout=10).json()["batches"]
    me = {"name": "recorder", "key": key}
    # Messages committed together are one batch; inputs are the JSON text of the orchestrator's JSON text.
    assert batches == [
        {"self": me, "exists": False, "batch": [
            {"name": "add", "input": '"1"', "isSignal": True},
            {"name": "add", "input": '"2"', "isSignal": True},
            {"name": "add", "input": '"3"', "isSignal": True},
            {"name": "get", "input": '"null"', "isSignal": False}]},
        {"self": me, "exists": True, "batch": [{"name": "add", "input": '"10"', "isSignal": False}]},
        {"self": me, "exists": True, "batch": [
            {"name": "fail", "input": json.dumps(json.dumps("divide by zero")), "isSignal": False}]},
    ]


def test_client_signal_inputs_in_the_batch(host):
    key = new_key()
    recorder = df.EntityId("Recorder", key)
    host.sdk(lambda c: c.signal_entity(recorder, "add", {"n": 5}))
    poll(lambda: host.http.get(entity_url(host, key, "Recorder"), timeout=10).status_code == 200, timeout=10,
         what="the first batch")
    host.sdk(lambda c: c.signal_entity(recorder, "ping"))

    def batches() -> list[dict[str, Any]] | None:
        found = host.http.get(entity_url(host, key, "Recorder"), timeout=10).json()["batches"]
        return found if len(found) == 2 else None

    first, second = poll(batches, timeout=10, what="the second batch")
    assert first["batch"] == [{"name": "add", "input": json.dumps(json.dumps({"n": 5})), "isSignal": True}]
    assert second["batch"] == [{"name": "ping", "input": None, "isSignal": True}]  # no input: null


# -- durability ------------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("local_only")
def test_entity_state_survives_kill_and_restart(devhost_factory):
    restartable = devhost_factory(APP).start()
    key = new_key()
    assert restartable.http.post(entity_url(restartable, key), params={"op": "add"}, json="42",
                                 timeout=10).status_code == 202
    wait_state(restartable, key, 42)
    restartable.kill()
    restartable.start()
    assert restartable.http.get(entity_url(restartable, key), timeout=10).json() == 42
    assert restartable.http.post(entity_url(restartable, key), params={"op": "add"}, json="1",
                                 timeout=10).status_code == 202
    wait_state(restartable, key, 43)


@pytest.mark.usefixtures("local_only")
def test_host_killed_during_entity_operations_applies_each_exactly_once(devhost_factory):
    restartable = devhost_factory(APP).start()
    key = new_key()
    url = entity_url(restartable, key)

    def orchestrate(_: int) -> str:
        return restartable.start_instance("CounterOrchestrator", {"key": key, "signals": [1] * 100})

    def signal(_: int) -> int:
        return requests.post(url, params={"op": "add"}, json="1000", timeout=10).status_code

    # 2,000 signals from 20 orchestrations and 100 from the webhook arrive in a burst; the host dies as soon as
    # the last one is accepted, while the entity is still working through its queue.
    with ThreadPoolExecutor(8) as pool:
        started, signalled = pool.map(orchestrate, range(20)), pool.map(signal, range(100))
        orchestrations, codes = list(started), set(signalled)
    assert codes == {202}
    restartable.kill()
    restartable.start()
    for instance_id in orchestrations:
        final = restartable.wait(instance_id, timeout=30)
        assert final["runtimeStatus"] == "Completed", final
        assert final["output"]["error"] == "Counter cannot divide by zero"
    # Every accepted signal counts once: none lost, none applied twice.
    assert barrier(restartable, key) == 20 * 100 + 100 * 1000
    assert requests.get(url, timeout=10).json() == 102000


@pytest.mark.usefixtures("local_only")
def test_host_killed_in_the_middle_of_a_batch_reruns_the_batch_once(devhost_factory, tmp_path):
    restartable = devhost_factory(APP).start()
    key = new_key()
    url = entity_url(restartable, key)

    def send(operation: str, value: Any) -> None:
        response = restartable.http.post(url, params={"op": operation}, json=json.dumps(value), timeout=10)
        assert response.status_code == 202

    first, second = tmp_path / "first", tmp_path / "second"
    send("hold", str(first))  # the entity's first batch holds here; what follows queues up behind it
    poll(lambda: Path(f"{first}.held").exists(), timeout=10, what="the first batch to hold")
    for _ in range(50):
        send("add", 1)
    send("hold", str(second))
    for _ in range(50):
        send("add", 1)
    first.touch()  # release: the next batch takes all 101 queued operations and holds after the first 50 adds
    poll(lambda: Path(f"{second}.held").exists(), timeout=10, what="the second batch to hold mid-way")
    # A batch commits its state and consumes its messages together: half a batch is not visible...
    assert restartable.http.get(url, timeout=10).status_code == 404
    restartable.kill()
    Path(f"{second}.held").unlink()
    second.touch()
    restartable.start()
    # ...and after the crash the whole batch runs again, from the committed state: each add counts once.
    assert barrier(restartable, key) == 100
    assert Path(f"{second}.held").exists()


# -- as the extension 3.x's HTTP API answers (issue 7) ---------------------------------------------------------
def test_signalling_an_entity_the_app_does_not_have_is_400_and_nothing_is_queued(host):
    response = host.http.post(host.url(f"{ENTITIES}/NoSuch/k"), params={"op": "add"}, json=1, timeout=10)
    assert response.status_code == 400
    assert response.json() == {"Message": "The function 'NoSuch' doesn't exist, is disabled, or is not an entity "
                                          "function. Additional info: The following are the known entity functions: "
                                          "'Counter', 'Recorder'."}
    with pytest.raises(Exception, match="400"):  # the SDK client raises on anything but 202
        host.sdk(lambda c: c.signal_entity(df.EntityId("NoSuch", "k"), "add", 1))
    assert host.http.get(host.url(f"{ENTITIES}/NoSuch/k"), timeout=10).status_code == 404


def test_dollar_reads_the_empty_key_and_a_missing_key_is_refused(host):
    """As in the extension: GET entities/{name}/$ reads the entity whose key is empty; on POST "$" is a key like any
    other; POST or DELETE without a key is refused by its EntityId."""
    assert host.http.post(host.url(f"{ENTITIES}/Counter/$"), params={"op": "add"}, json="2", timeout=10).status_code \
        == 202

    def listed() -> bool:
        page = host.http.get(host.url(f"{ENTITIES}/Counter"), params={"fetchState": "true"}, timeout=10).json()
        return any(e["entityId"]["key"] == "$" and e["state"] == 2 for e in page)

    poll(listed, timeout=10, what="the entity with key $ to hold 2")
    assert host.http.get(host.url(f"{ENTITIES}/Counter/$"), timeout=10).status_code == 404  # no entity with key ""
    for method in ("POST", "DELETE"):
        refused = host.http.request(method, host.url(f"{ENTITIES}/Counter/"), timeout=10)
        assert refused.status_code == 400 and refused.json()["Message"].startswith("Invalid entity id")
