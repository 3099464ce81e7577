"""Writes raw Ethernet frames and checks them in a capture, for frames no kernel tool makes.

  frames.py send IFACE FRAME_FILE COUNT     build an 802.1Q-tagged frame (VLAN 100), save it, send it COUNT times
  frames.py compare PCAP FRAME_FILE COUNT   succeed when PCAP holds COUNT frames identical to the saved one
  frames.py count PCAP                      print how many frames PCAP holds
  frames.py mss PCAP                        print the MSS option of each TCP SYN in PCAP
  frames.py lengths PCAP                    print the distinct frame lengths in PCAP
  frames.py udp-payload PCAP                print the UDP payload of the first IPv4 frame in PCAP, in hex
  frames.py storm IFACE SECONDS             send broadcast frames as fast as possible; print how many
  frames.py spoof IFACE SOURCE_MAC COUNT    send COUNT broadcast frames from SOURCE_MAC, 50 ms apart
  frames.py macflood IFACE COUNT            send COUNT broadcast frames, each from a new random address
"""
import socket
import struct
import sys
import time


def tagged_frame() -> bytes:
    destination = b"\xff" * 6
    source = bytes.fromhex("020000000100")
    tag = struct.pack("!HH", 0x8100, 100)
    return destination + source + tag + b"\x88\xb5" + b"causeway-vlan-frame" + bytes(range(64))


def send(interface: str, path: str, count: int) -> None:
    frame = tagged_frame()
    with open(path, "wb") as saved:
        saved.write(frame)
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as raw:
        raw.bind((interface, 0))
        for _ in range(count):
            raw.send(frame)


def storm(interface: str, seconds: float) -> int:
    frame = b"\xff" * 6 + bytes.fromhex("020000000077") + b"\x88\xb5" + bytes(186)
    sent = 0
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as raw:
        raw.bind((interface, 0))
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for _ in range(100):
                try:
                    raw.send(frame)
                    sent += 1
                except BlockingIOError:
                    pass
    return sent


def spoof(interface: str, source: str, count: int) -> None:
    frame = b"\xff" * 6 + bytes.fromhex(source.replace(":", "")) + b"\x88\xb5" + b"causeway-spoof" + bytes(50)
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as raw:
        raw.bind((interface, 0))
        for _ in range(count):
            raw.send(frame)
            time.sleep(0.05)


def macflood(interface: str, count: int) -> None:
    import random
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as raw:
        raw.bind((interface, 0))
        for _ in range(count):
            # Locally administered unicast: the second bit of the first byte set, the first clear.
            source = bytes([0x02 | (random.randrange(256) & 0xFC)]) + random.randbytes(5)
            frame = b"\xff" * 6 + source + b"\x88\xb5" + bytes(46)
            try:
                raw.send(frame)
            except BlockingIOError:
                pass


def captured_frames(path: str):
    with open(path, "rb") as capture:
        data = capture.read()
    offset = 24  # the pcap global header
    while offset + 16 <= len(data):
        _, _, included, _ = struct.unpack_from("<IIII", data, offset)
        offset += 16
        yield data[offset:offset + included]
        offset += included


def compare(pcap: str, path: str, count: int) -> int:
    with open(path, "rb") as saved:
        expected = saved.read()
    frames = list(captured_frames(pcap))
    matching = sum(1 for frame in frames if frame == expected)
    print(f"    {len(frames)} captured, {matching} identical to the frame sent")
    return 0 if matching == count and len(frames) == count else 1


def syn_mss(frame: bytes):
    """The MSS a TCP SYN in an (untagged) Ethernet frame announces, or None."""
    ether_type = struct.unpack_from("!H", frame, 12)[0]
    if ether_type == 0x0800 and frame[23] == 6:
        tcp = 14 + (frame[14] & 0x0F) * 4
    elif ether_type == 0x86DD and frame[20] == 6:
        tcp = 14 + 40
    else:
        return None
    if not frame[tcp + 13] & 0x02:
        return None
    end, option = tcp + (frame[tcp + 12] >> 4) * 4, tcp + 20
    while option < end:
        kind = frame[option]
        if kind == 0:
            break
        if kind == 1:
            option += 1
            continue
        if kind == 2:
            return struct.unpack_from("!H", frame, option + 2)[0]
        option += frame[option + 1]
    return None


if __name__ == "__main__":
    command, first = sys.argv[1:3]
    if command == "count":
        print(sum(1 for _ in captured_frames(first)))
        sys.exit(0)
    if command == "mss":
        print(" ".join(str(m) for m in (syn_mss(f) for f in captured_frames(first)) if m is not None))
        sys.exit(0)
    if command == "udp-payload":
        for frame in captured_frames(first):
            if struct.unpack_from("!H", frame, 12)[0] == 0x0800 and frame[23] == 17:
                udp = 14 + (frame[14] & 0x0F) * 4
                print(frame[udp + 8:].hex())
                sys.exit(0)
        sys.exit(1)
    if command == "lengths":
        print(" ".join(str(n) for n in sorted({len(f) for f in captured_frames(first)})))
        sys.exit(0)
    if command == "storm":
        print(storm(first, float(sys.argv[3])))
        sys.exit(0)
    if command == "macflood":
        macflood(first, int(sys.argv[3]))
        sys.exit(0)
    second, third = sys.argv[3:5]
    if command == "spoof":
        spoof(first, second, int(third))
        sys.exit(0)
    if command == "send":
        send(first, second, int(third))
    else:
        sys.exit(compare(first, second, int(third)))
