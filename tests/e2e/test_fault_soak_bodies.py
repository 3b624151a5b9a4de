"""Fault soak, slow bodies: clients that stall their body, trickle it below the minimum data rate, or go away
mid-body keep coming for a bounded while (DEVHOST_SOAK_BODY_SECONDS, 15 by default) while a normal client keeps
starting instances; every start is answered promptly, every acknowledged instance completes with its own input
(nothing acknowledged is lost), every attacker is answered 408 or cut off, and the host serves on."""
from __future__ import annotations

import os
import random
import socket
import threading
import time
from pathlib import Path

import pytest

from devhost.testing import WEBHOOK, poll

APP = Path(__file__).resolve().parents[1] / "apps" / "waiter"
SECONDS = float(os.environ.get("DEVHOST_SOAK_BODY_SECONDS", "15"))
SEED = int(os.environ.get("DEVHOST_SOAK_SEED", str(random.randrange(1 << 30))))
ATTACKERS = 6
PROMPT = 4.0  # seconds a normal start may take while the attackers run


def attack(port: int, kind: str, stop: threading.Event, outcomes: list[str]) -> None:
    """One hostile client, again and again until told to stop: it sends headers and a little body, then stalls,
    trickles a byte a second, or closes the connection. The pauses are its own slowness, not synchronisation."""
    while not stop.is_set():
        framing = "Transfer-Encoding: chunked" if kind == "chunked-stall" else f"Content-Length: {16 << 20}"
        conn = socket.create_connection(("127.0.0.1", port), timeout=10)
        try:
            conn.sendall(f"POST {WEBHOOK}/orchestrators/Quick HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                         f"Content-Type: application/json\r\n{framing}\r\n\r\n".encode()
                         + (b"1\r\n[\r\n" if kind == "chunked-stall" else b"["))
            if kind == "gone":
                outcomes.append("gone")
                stop.wait(0.05)  # the attacker's own pace
                continue
            conn.settimeout(1)
            answer = b""
            while not answer and not stop.is_set():
                try:
                    if kind == "trickle":
                        conn.sendall(b" ")
                    answer = conn.recv(100)
                except socket.timeout:
                    continue
                except OSError:  # closed by the host while a byte was on its way
                    answer = b"closed"
            if answer:
                outcomes.append(answer.split(b"\r\n")[0].decode() if answer != b"closed" else "closed")
        finally:
            conn.close()


@pytest.mark.usefixtures("local_only")
def test_slow_and_stalled_bodies_hold_up_no_start_and_lose_nothing(devhost_factory):
    rng = random.Random(SEED)
    print(f"slow-body soak: {SECONDS:g} s, {ATTACKERS} attackers, DEVHOST_SOAK_SEED={SEED}")
    host = devhost_factory(APP).start()
    stop, outcomes = threading.Event(), []
    kinds = ["chunked-stall", "length-stall", "trickle", "gone"]
    attackers = [threading.Thread(target=attack, args=(host.port, kinds[i % len(kinds)], stop, outcomes),
                                  daemon=True) for i in range(ATTACKERS)]
    for thread in attackers:
        thread.start()
    acknowledged: dict[str, dict] = {}
    slowest = 0.0
    end = time.monotonic() + SECONDS
    try:
        while time.monotonic() < end:
            body = {"k": len(acknowledged), "pad": "x" * rng.randint(0, 4096)}
            began = time.monotonic()
            response = host.http.post(host.url(f"{WEBHOOK}/orchestrators/Quick"), json=body, timeout=PROMPT)
            slowest = max(slowest, time.monotonic() - began)
            assert response.status_code == 202, response.text
            acknowledged[response.json()["id"]] = body
    finally:
        stop.set()
        for thread in attackers:
            thread.join(timeout=15)
    print(f"slow-body soak: {len(acknowledged)} starts, slowest {slowest:.2f} s; attackers: "
          f"{ {o: outcomes.count(o) for o in set(outcomes)} }")

    for instance_id, body in acknowledged.items():
        assert host.wait(instance_id, timeout=30)["output"] == body
    assert set(outcomes) <= {"HTTP/1.1 408 Request Timeout", "closed", "gone"}, outcomes
    assert "HTTP/1.1 408 Request Timeout" in outcomes
    listed = poll(lambda: host.http.get(host.url(f"{WEBHOOK}/instances"), params={"top": 10000},
                                        timeout=10).json(), what="the listing")
    assert {i["instanceId"] for i in listed} == set(acknowledged)  # no attacker's body started anything
    assert "Traceback" not in host.log()
