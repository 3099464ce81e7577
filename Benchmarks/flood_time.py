"""Times a broadcast's trip to every other site: one sender, one listener per receiving host.

  flood_time.py listen IFACE SECONDS OUT    record (sequence, CLOCK_MONOTONIC) of each probe received
  flood_time.py send IFACE COUNT GAP OUT    send COUNT numbered broadcast probes GAP seconds apart
  flood_time.py report SENT RECEIVED...     per probe, the time until the last listener had it:
                                            prints "received/sent median_ms p99_ms"

CLOCK_MONOTONIC is one clock for every network namespace of a machine, so times taken in
different hosts' namespaces compare directly.
"""
import json
import socket
import struct
import sys
import time

ETHER_TYPE = 0x88B6  # IEEE local experimental, beside the tests' 0x88B5
SOURCE = bytes.fromhex("020000000f10")


def listen(interface: str, seconds: float, out: str) -> None:
    seen = {}
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETHER_TYPE)) as raw:
        raw.bind((interface, 0))
        raw.settimeout(0.2)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                frame = raw.recv(2048)
            except socket.timeout:
                continue
            if len(frame) >= 18 and frame[12:14] == struct.pack("!H", ETHER_TYPE):
                seen.setdefault(struct.unpack("!I", frame[14:18])[0], time.monotonic())
    json.dump(seen, open(out, "w"))


def send(interface: str, count: int, gap: float, out: str) -> None:
    sent = {}
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as raw:
        raw.bind((interface, 0))
        for sequence in range(count):
            frame = b"\xff" * 6 + SOURCE + struct.pack("!HI", ETHER_TYPE, sequence) + bytes(60)
            sent[sequence] = time.monotonic()
            raw.send(frame)
            time.sleep(gap)
    json.dump(sent, open(out, "w"))


def report(sent_path: str, received_paths: list) -> None:
    sent = {int(k): v for k, v in json.load(open(sent_path)).items()}
    received = [{int(k): v for k, v in json.load(open(p)).items()} for p in received_paths]
    delays = sorted(max(r[s] for r in received) - t for s, t in sent.items() if all(s in r for r in received))
    if not delays:
        print(f"0/{len(sent)} - -")
        return
    median = delays[len(delays) // 2] * 1000
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))] * 1000
    print(f"{len(delays)}/{len(sent)} {median:.3f} {p99:.3f}")


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "listen":
        listen(sys.argv[2], float(sys.argv[3]), sys.argv[4])
    elif command == "send":
        send(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
    elif command == "report":
        report(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)
