#!/usr/bin/env python3
"""Plays systemd's side of sd_notify for a test: receives the daemon's notifications on a
datagram socket and, the moment READY=1 arrives, checks that the bridge and the control
socket already exist. Writes one JSON line per notification to OUT.

Usage: notify_listener.py NOTIFY_SOCKET OUT NAMESPACE BRIDGE CONTROL_SOCKET
"""
import json
import os
import socket
import subprocess
import sys
import time

path, out, namespace, bridge, control_socket = sys.argv[1:6]
listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
listener.bind(path)
listener.settimeout(60)
print("listening", flush=True)
with open(out, "w") as log:
    while True:
        try:
            message = listener.recv(4096).decode()
        except socket.timeout:
            break
        fields = dict(line.split("=", 1) for line in message.splitlines() if "=" in line)
        record = {"at": time.monotonic(), "fields": fields}
        if fields.get("READY") == "1":
            record["bridge_existed"] = subprocess.run(
                ["ip", "-n", namespace, "link", "show", bridge], capture_output=True).returncode == 0
            record["control_socket_existed"] = os.path.exists(control_socket)
        log.write(json.dumps(record) + "\n")
        log.flush()
        if fields.get("STOPPING") == "1":
            break
