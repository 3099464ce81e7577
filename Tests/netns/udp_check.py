#!/usr/bin/env python3
"""Full-size UDP datagrams with the don't-fragment bit set, each carrying content derived
from its sequence number, so the receiver can tell intact from damaged ones.

  udp_check.py send HOST PORT COUNT SIZE [INTERVAL [BURST]]
                                                      BURST datagrams (1) back to back every
                                                      INTERVAL seconds; HOST v4 or v6
  udp_check.py receive PORT SECONDS [6]               prints {"received", "intact", "damaged",
                                                      "distinct": intact sequence numbers}
"""
import hashlib
import json
import socket
import struct
import sys
import time

IP_MTU_DISCOVER, IPV6_MTU_DISCOVER, PMTUDISC_DO = 10, 23, 2


def payload(sequence: int, size: int) -> bytes:
    seed = hashlib.sha256(struct.pack("!I", sequence)).digest()
    body = (seed * (size // len(seed) + 1))[: size - 4]
    return struct.pack("!I", sequence) + body


def send(host: str, port: int, count: int, size: int, interval: float, burst: int) -> None:
    ipv6 = ":" in host
    with socket.socket(socket.AF_INET6 if ipv6 else socket.AF_INET, socket.SOCK_DGRAM) as s:
        if ipv6:
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, PMTUDISC_DO)
        else:
            s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, PMTUDISC_DO)
        for sequence in range(count):
            s.sendto(payload(sequence, size), (host, port))
            if sequence % burst == burst - 1:
                time.sleep(interval)


def datagrams(port: int, seconds: float, ipv6: bool = False, buffer: int = 0):
    """Each datagram that reaches PORT within SECONDS, once "listening" is printed (a
    receive buffer of BUFFER bytes if given)."""
    with socket.socket(socket.AF_INET6 if ipv6 else socket.AF_INET, socket.SOCK_DGRAM) as s:
        if buffer:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer)
        s.bind(("::" if ipv6 else "0.0.0.0", port))
        s.settimeout(0.2)
        print("listening", flush=True)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                yield s.recv(65536)
            except socket.timeout:
                continue


def receive(port: int, seconds: float, ipv6: bool) -> None:
    received = intact = 0
    sequences = set()
    for data in datagrams(port, seconds, ipv6):
        received += 1
        sequence = struct.unpack("!I", data[:4])[0]
        if data == payload(sequence, len(data)):
            intact += 1
            sequences.add(sequence)
    print(json.dumps({"received": received, "intact": intact, "damaged": received - intact, "distinct": len(sequences)}))


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]),
             float(sys.argv[6]) if len(sys.argv) > 6 else 0.001, int(sys.argv[7]) if len(sys.argv) > 7 else 1)
    else:
        receive(int(sys.argv[2]), float(sys.argv[3]), len(sys.argv) > 4 and sys.argv[4] == "6")
