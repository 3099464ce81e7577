#!/usr/bin/env python3
"""Speaks to causewayd's control socket the way careless and hostile clients do.

Usage: control_client.py SOCKET SCENARIO
Scenarios print one JSON line describing what happened, and exit non-zero when the daemon
did not behave as docs/control.md says.
"""
import json
import select
import socket
import sys
import time

PATH, SCENARIO = sys.argv[1], sys.argv[2]


def connect():
    """Connects as causewayctl does: waiting while the daemon's backlog is full. (Python's
    timeout makes the socket non-blocking, where a full backlog is EAGAIN, not a wait.)"""
    deadline = time.monotonic() + 15
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(15)
        try:
            s.connect(PATH)
            return s
        except BlockingIOError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def read_reply(s):
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return json.loads(data) if data else None


def closed_after(s):
    """True when the daemon closed the connection (EOF), after any reply."""
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True


def ask(payload):
    s = connect()
    s.sendall(payload)
    reply = read_reply(s)
    s.close()
    return reply


def error_code(reply):
    return reply and not reply["ok"] and reply["error"]["code"]


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


def status_answers_within(seconds):
    start = time.monotonic()
    reply = ask(b'{"version":1,"request":"status"}\n')
    return reply and reply["ok"] and time.monotonic() - start < seconds


if SCENARIO == "unknown-request":
    reply = ask(b'{"version":1,"request":"dance"}\n')
    check(error_code(reply) == "unknown-request", f"unknown request answered {reply}")
    check("dance" in reply["error"]["message"], "the error names the request")
elif SCENARIO == "malformed-json":
    reply = ask(b'{"version":1,"request":\n')
    check(error_code(reply) == "malformed-request", f"malformed JSON answered {reply}")
elif SCENARIO == "oversized":
    s = connect()
    s.sendall(b"x" * 5000)
    reply = read_reply(s)
    check(error_code(reply) == "request-too-large", f"an oversized request answered {reply}")
    check(closed_after(s), "the connection is closed after an oversized request")
elif SCENARIO == "silent":
    silent = connect()
    # While one client says nothing, others are served at once.
    check(status_answers_within(1.0), "status is answered while a silent client is connected")
    start = time.monotonic()
    reply = read_reply(silent)
    waited = time.monotonic() - start
    check(error_code(reply) == "timeout", f"a silent client got {reply}")
    check(waited < 2.5, f"the timeout came after {waited:.1f} s, not about 1 s after connecting")
    check(closed_after(silent), "the silent client is disconnected")
elif SCENARIO == "disconnect-mid-request":
    for _ in range(20):
        s = connect()
        s.sendall(b'{"version":1,"req')
        s.close()
    check(status_answers_within(1.0), "status is answered after clients left mid-request")
elif SCENARIO == "pipelined":
    s = connect()
    s.sendall(b'{"version":1,"request":"status"}\n{"version":1,"request":"macs"}\n')
    first, second = read_reply(s), read_reply(s)
    check(first and first["ok"] and "status" in first, "the first of two requests is answered")
    check(second and second["ok"] and "macs" in second, "the second of two requests is answered")
elif SCENARIO == "full":
    held = [connect() for _ in range(16)]
    # Well inside the second a silent client is given, so the slots are still held.
    time.sleep(0.1)
    waiting = connect()
    waiting.sendall(b'{"version":1,"request":"status"}\n')
    ready, _, _ = select.select([waiting], [], [], 0.5)
    check(not ready, "with 16 clients connected, a 17th waits for a slot")
    for s in held:
        s.close()
    ready, _, _ = select.select([waiting], [], [], 2)
    check(ready, "the 17th client is served once the slots are free")
    reply = read_reply(waiting)
    check(reply and reply["ok"], f"the 17th client got {reply}")
elif SCENARIO == "idle-slots":
    # 16 clients that never speak hold every slot, but only for about a second each.
    idle = [(connect(), time.monotonic()) for _ in range(16)]
    print("holding", flush=True)
    for s, connected in idle:
        reply = read_reply(s)
        check(error_code(reply) == "timeout", f"an idle client got {reply}")
        check(closed_after(s), "an idle client is disconnected after its timeout reply")
        held = time.monotonic() - connected
        check(held < 2.5, f"an idle client held its slot {held:.1f} s")
elif SCENARIO == "budget":
    s = connect()
    budget = 100
    for n in range(budget):
        s.sendall(b'{"version":1,"request":"status"}\n')
        reply = read_reply(s)
        check(reply and reply["ok"], f"request {n + 1} of {budget} got {reply}")
    s.sendall(b'{"version":1,"request":"status"}\n')
    reply = read_reply(s)
    check(error_code(reply) == "request-budget-exhausted", f"request {budget + 1} got {reply}")
    check(str(budget) in reply["error"]["message"], "the error names the budget")
    check(closed_after(s), "the connection is closed after its budget")
else:
    sys.exit(f"unknown scenario {SCENARIO}")
print(json.dumps({"scenario": SCENARIO, "ok": True}))
