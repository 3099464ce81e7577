#!/usr/bin/env python3
"""Many flows at once, each checked for order and content: what several data-plane threads
must carry without reordering a flow or changing a byte.

  flows_check.py udp-send HOST PORT FLOWS COUNT SIZE INTERVAL
        FLOWS sockets (FLOWS flows, each its own source port) take turns sending COUNT
        numbered datagrams each, one round every INTERVAL seconds
  flows_check.py udp-receive PORT SECONDS
        prints {"flows", "received", "damaged", "duplicates", "reordered", "lowest"}: per flow,
        a datagram numbered below one already seen is reordered; "lowest" is the fewest any
        flow delivered
  flows_check.py tcp-send HOST PORT CONNECTIONS BYTES
        CONNECTIONS connections at once, each sending BYTES of a stream derived from its
        number; prints {"digests": [...]} of what was sent
  flows_check.py tcp-receive PORT CONNECTIONS SECONDS
        prints {"digests": [...]} of what each connection delivered, by its number
"""
import hashlib
import json
import socket
import struct
import sys
import threading
import time

from udp_check import datagrams

HEADER = struct.Struct("!HI")  # flow, sequence


def datagram(flow: int, sequence: int, size: int) -> bytes:
    seed = hashlib.sha256(HEADER.pack(flow, sequence)).digest()
    return HEADER.pack(flow, sequence) + (seed * (size // len(seed) + 1))[: size - HEADER.size]


def udp_send(host: str, port: int, flows: int, count: int, size: int, interval: float) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets = [socket.socket(family, socket.SOCK_DGRAM) for _ in range(flows)]
    for sequence in range(count):
        for flow, s in enumerate(sockets):
            s.sendto(datagram(flow, sequence, size), (host, port))
        time.sleep(interval)
    for s in sockets:
        s.close()


def udp_receive(port: int, seconds: float) -> None:
    seen: dict[int, set[int]] = {}
    highest: dict[int, int] = {}
    received = damaged = duplicates = reordered = 0
    for data in datagrams(port, seconds, buffer=4 << 20):
        received += 1
        flow, sequence = HEADER.unpack_from(data)
        if data != datagram(flow, sequence, len(data)):
            damaged += 1
            continue
        numbers = seen.setdefault(flow, set())
        if sequence in numbers:
            duplicates += 1
            continue
        numbers.add(sequence)
        if sequence < highest.get(flow, -1):
            reordered += 1
        highest[flow] = max(highest.get(flow, -1), sequence)
    print(json.dumps({
        "flows": len(seen), "received": received, "damaged": damaged, "duplicates": duplicates,
        "reordered": reordered, "lowest": min((len(n) for n in seen.values()), default=0),
    }))


def stream_block(connection: int, index: int) -> bytes:
    return hashlib.sha512(struct.pack("!II", connection, index)).digest() * 64  # 4 KiB


def tcp_send(host: str, port: int, connections: int, length: int) -> None:
    digests = [""] * connections

    def one(connection: int) -> None:
        digest = hashlib.sha256()
        with socket.create_connection((host, port), timeout=30) as s:
            s.sendall(struct.pack("!I", connection))
            sent = index = 0
            while sent < length:
                block = stream_block(connection, index)[: length - sent]
                s.sendall(block)
                digest.update(block)
                sent += len(block)
                index += 1
            s.shutdown(socket.SHUT_WR)
            s.recv(1)
        digests[connection] = digest.hexdigest()

    threads = [threading.Thread(target=one, args=(c,)) for c in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"digests": digests}))


def tcp_receive(port: int, connections: int, seconds: float) -> None:
    digests = [""] * connections

    def one(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(seconds)
            header = b""
            while len(header) < 4:
                header += conn.recv(4 - len(header))
            connection = struct.unpack("!I", header)[0]
            digest = hashlib.sha256()
            while chunk := conn.recv(1 << 16):
                digest.update(chunk)
            digests[connection] = digest.hexdigest()

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("0.0.0.0", port))
        listener.listen(connections)
        listener.settimeout(seconds)
        print("listening", flush=True)
        threads = []
        for _ in range(connections):
            conn, _ = listener.accept()
            t = threading.Thread(target=one, args=(conn,))
            t.start()
            threads.append(t)
        for t in threads:
            t.join()
    print(json.dumps({"digests": digests}))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "udp-send":
        udp_send(args[0], int(args[1]), int(args[2]), int(args[3]), int(args[4]), float(args[5]))
    elif command == "udp-receive":
        udp_receive(int(args[0]), float(args[1]))
    elif command == "tcp-send":
        tcp_send(args[0], int(args[1]), int(args[2]), int(args[3]))
    else:
        tcp_receive(int(args[0]), int(args[1]), float(args[2]))
