#!/usr/bin/env python3
"""Writes the committed seed corpus of the fuzz targets (Tests/Fuzz/Corpus/<target>/): a few
valid inputs each, in the record formats the targets read (see each target's comment). The
handshake seeds need the handshake itself: `swift run fuzz-handshake DIR` writes them."""
import os
import shutil
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Corpus")
HOST_A = bytes([0x02, 0, 0, 0, 0x0A, 1])
HOST_B = bytes([0x02, 0, 0, 0, 0x0B, 1])
BROADCAST = b"\xff" * 6


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def tcp(source_port, flags, seq, payload=b"", mss=None):
    options = struct.pack("!BBH", 2, 4, mss) if mss else b""
    offset = (20 + len(options)) // 4
    return struct.pack("!HHIIBBHHH", source_port, 80, seq, 0, offset << 4, flags, 65535, 0, 0) + options + payload


def ipv4(payload, protocol=6, dont_fragment=True):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0x4000 if dont_fragment else 0,
                         64, protocol, 0, bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2]))
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def ipv6(payload, protocol=6):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), protocol, 64,
                       bytes([0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [1]), bytes([0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [2])) + payload


def ethernet(ethertype, payload, tags=()):
    header = HOST_B + HOST_A
    for tpid, vid in tags:
        header += struct.pack("!HH", tpid, vid)
    return header + struct.pack("!H", ethertype) + payload


def virtio(flags=0, gso_type=0, headers=0, segment=0, start=0, offset=0):
    # The legacy header: host byte order (little-endian on the machines we run on).
    return struct.pack("<BBHHHH", flags, gso_type, headers, segment, start, offset)


def record(data):
    return struct.pack("<H", len(data)) + data


SYN_DOUBLE_TAGGED = ethernet(0x0800, ipv4(tcp(40000, 0x02, 1, mss=1460)), tags=((0x88A8, 100), (0x8100, 200)))
SYN_ACK_IPV6 = ethernet(0x86DD, ipv6(tcp(40001, 0x12, 7, mss=1440)), tags=((0x8100, 10),))
ARP = BROADCAST + HOST_A + b"\x08\x06" + bytes(28)
LARGE_UDP = ethernet(0x0800, ipv4(struct.pack("!HHHH", 5000, 5001, 8 + 1600, 0) + bytes(1600), protocol=17))
LARGE_TCP = ethernet(0x0800, ipv4(tcp(40002, 0x18, 1000, bytes(range(256)) * 16)))
SEGMENTS = [ethernet(0x0800, ipv4(tcp(40003, 0x10, 1 + 1000 * n, bytes([n]) * 1000))) for n in range(3)]


def frame_seeds():
    gso = virtio(flags=1, gso_type=1, headers=14 + 20 + 20, segment=1448, start=14 + 20, offset=16)
    gso_v6 = virtio(flags=1, gso_type=4, headers=18 + 40 + 24, segment=1400, start=18 + 40, offset=16)
    large_v6 = ethernet(0x86DD, ipv6(tcp(40004, 0x18, 5, bytes(3000))), tags=((0x8100, 10),))
    return {
        "syn-double-tagged": virtio() + record(SYN_DOUBLE_TAGGED),
        "syn-ack-ipv6": virtio() + record(SYN_ACK_IPV6),
        "arp-broadcast": virtio() + record(ARP),
        "udp-too-big": virtio() + record(LARGE_UDP),
        "tcp-gso-ipv4": gso + record(LARGE_TCP),
        "tcp-gso-ipv6-tagged": gso_v6 + record(large_v6),
        "tcp-flow": b"".join(virtio() + record(segment) for segment in SEGMENTS),
    }


def datagram_seeds():
    frame = ethernet(0x0800, ipv4(tcp(40000, 0x12, 1, mss=1460)))
    pieces = [frame[:30], frame[30:]]
    fragments = b"".join(bytes([2]) + record(struct.pack("!IHH", 7, len(frame), offset) + piece)
                         for offset, piece in ((0, pieces[0]), (30, pieces[1])))
    return {
        "data-syn-ack": bytes([1]) + record(frame),
        "data-tagged-syn": bytes([1]) + record(SYN_DOUBLE_TAGGED),
        "data-flow": b"".join(bytes([1]) + record(segment) for segment in SEGMENTS),
        "fragments": fragments,
        "control-keepalive": bytes([3]) + record(bytes([1]) + struct.pack("!Q", 123456789)),
        "control-probe": bytes([3]) + record(bytes([3]) + struct.pack("!Q", 1) + bytes(1400)),
        "raw-initiation-shaped": bytes([0]) + record(bytes([3, 1, 0, 0]) + bytes(144)),
        "raw-data-shaped": bytes([0]) + record(bytes([3, 3, 0, 0]) + bytes(60)),
    }


def reassembly_seeds():
    frame = bytes(range(256)) * 12
    in_order = b"".join(struct.pack("!IHH", 1, len(frame), offset) + record(frame[offset:offset + 1200])
                        for offset in range(0, len(frame), 1200))
    reversed_ = b"".join(struct.pack("!IHH", 2, len(frame), offset) + record(frame[offset:offset + 1200])
                         for offset in reversed(range(0, len(frame), 1200)))
    overlapping = (struct.pack("!IHH", 3, 2000, 0) + record(bytes(1200))
                   + struct.pack("!IHH", 3, 2000, 1000) + record(bytes(1000)))
    return {"in-order": in_order, "reversed": reversed_, "overlapping": overlapping}


def control_seeds():
    return {
        "status": b'{"version":1,"request":"status"}',
        "macs": b'{"version":1,"request":"macs"}',
        "metrics": b'{"version":1,"request":"metrics"}',
        "explain": b'{"version":1,"request":"explain","mac":"02:00:5e:10:00:01"}',
        "explain-ip": b'{"version":1,"request":"explain","ip":"198.19.0.2"}',
    }


def config_seeds():
    examples = os.path.join(os.path.dirname(os.path.dirname(ROOT)), "..", "examples")
    seeds = {}
    for name in ("site-a.toml", "site-b.toml"):
        with open(os.path.join(examples, name), "rb") as file:
            seeds[name] = file.read()
    return seeds


def main():
    for target, seeds in (("fuzz-frame", frame_seeds()), ("fuzz-datagram", datagram_seeds()),
                          ("fuzz-reassembly", reassembly_seeds()), ("fuzz-control", control_seeds()),
                          ("fuzz-config", config_seeds())):
        directory = os.path.join(ROOT, target)
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        for name, data in seeds.items():
            with open(os.path.join(directory, name), "wb") as file:
                file.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
