#!/usr/bin/env python3
"""Full-size UDP datagrams with the don't-fragment bit set, each carrying content derived
from its sequence number, so the receiver can tell intact from damaged ones.

  udp_check.py send HOST PORT COUNT SIZE [INTERVAL]   one datagram every INTERVAL seconds
  udp_check.py receive PORT SECONDS                   prints {"received", "intact", "damaged"}
"""
import hashlib
import json
import socket
import struct
import sys
import time

IP_MTU_DISCOVER, IP_PMTUDISC_DO = 10, 2


def payload(sequence: int, size: int) -> bytes:
    seed = hashlib.sha256(struct.pack("!I", sequence)).digest()
    body = (seed * (size // len(seed) + 1))[: size - 4]
    return struct.pack("!I", sequence) + body


def send(host: str, port: int, count: int, size: int, interval: float) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
        for sequence in range(count):
            s.sendto(payload(sequence, size), (host, port))
            time.sleep(interval)


def receive(port: int, seconds: float) -> None:
    received = intact = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("0.0.0.0", port))
        s.settimeout(0.2)
        print("listening", flush=True)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                data = s.recv(65536)
            except socket.timeout:
                continue
            received += 1
            sequence = struct.unpack("!I", data[:4])[0]
            intact += data == payload(sequence, len(data))
    print(json.dumps({"received": received, "intact": intact, "damaged": received - intact}))


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]),
             float(sys.argv[6]) if len(sys.argv) > 6 else 0.001)
    else:
        receive(int(sys.argv[2]), float(sys.argv[3]))
