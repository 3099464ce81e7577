#!/usr/bin/env python3
"""Where a ping's time goes, hop by hop: reads the four captures `PING_HOPS=1` makes (gateway
A's LAN and WAN ports, gateway B's WAN and LAN ports, microsecond stamps) and prints the
median of each hop over the pings found in all four.

    hops.py DIR WAN_A WAN_B

Each echo request and reply is found on the LAN ports by its ICMP type and sequence number.
On the WAN, the tunnel's datagram is the first UDP datagram from the sending gateway after
the frame entered it, found again on the far side by its bytes (the WAN is one veth, so
both captures see the same datagram)."""
import statistics
import struct
import sys


def packets(path):
    data = open(path, 'rb').read()
    nanoseconds = struct.unpack('<I', data[:4])[0] == 0xa1b23c4d
    offset = 24  # the pcap global header
    while offset + 16 <= len(data):
        seconds, fraction, captured, _ = struct.unpack('<IIII', data[offset:offset + 16])
        offset += 16
        yield seconds + fraction / (1e9 if nanoseconds else 1e6), data[offset:offset + captured]
        offset += captured


def is_ipv4(frame, protocol):
    return len(frame) > 34 and frame[12:14] == b'\x08\x00' and frame[23] == protocol


def echoes(path):
    """{(ICMP type, sequence): time} of the echo requests (8) and replies (0) captured."""
    found = {}
    for stamp, frame in packets(path):
        if is_ipv4(frame, 1):
            icmp = frame[14 + (frame[14] & 15) * 4:]
            found[(icmp[0], struct.unpack('>H', icmp[6:8])[0])] = stamp
    return found


def datagrams(path, source):
    address = bytes(int(part) for part in source.split('.'))
    return [(stamp, frame) for stamp, frame in packets(path) if is_ipv4(frame, 17) and frame[26:30] == address]


def first_after(captured, moment):
    return next((entry for entry in captured if entry[0] > moment), None)


def same(captured, frame):
    return next((entry for entry in captured if entry[1] == frame), None)


def main():
    directory, wan_a, wan_b = sys.argv[1:4]
    lan_a, lan_b = echoes(f'{directory}/ga-lan.pcap'), echoes(f'{directory}/gb-lan.pcap')
    a_to_b_at_a = datagrams(f'{directory}/ga-wan.pcap', wan_a)
    a_to_b_at_b = datagrams(f'{directory}/gb-wan.pcap', wan_a)
    b_to_a_at_b = datagrams(f'{directory}/gb-wan.pcap', wan_b)
    b_to_a_at_a = datagrams(f'{directory}/ga-wan.pcap', wan_b)
    names = ['request through A', 'request across the WAN', 'request through B', 'host B answering',
             'reply through B', 'reply across the WAN', 'reply through A', 'round trip']
    hops = {name: [] for name in names}
    for (kind, sequence), entered in lan_a.items():
        if kind != 8 or (8, sequence) not in lan_b or (0, sequence) not in lan_b or (0, sequence) not in lan_a:
            continue
        sent_by_a = first_after(a_to_b_at_a, entered)
        came_to_b = sent_by_a and same(a_to_b_at_b, sent_by_a[1])
        answered = lan_b[(0, sequence)]
        sent_by_b = first_after(b_to_a_at_b, answered)
        came_to_a = sent_by_b and same(b_to_a_at_a, sent_by_b[1])
        if not (came_to_b and came_to_a):
            continue
        moments = [entered, sent_by_a[0], came_to_b[0], lan_b[(8, sequence)], answered, sent_by_b[0], came_to_a[0], lan_a[(0, sequence)]]
        for name, start, end in zip(names, moments, moments[1:]):
            hops[name].append((end - start) * 1e6)
        hops['round trip'].append((moments[-1] - moments[0]) * 1e6)
    print(f'{len(hops["round trip"])} pings found in all four captures; median microseconds per hop:')
    for name in names:
        print(f'  {name:24} {statistics.median(hops[name]):6.0f}' if hops[name] else f'  {name:24}      -')


if __name__ == '__main__':
    main()
