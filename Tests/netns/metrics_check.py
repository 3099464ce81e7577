#!/usr/bin/env python3
"""Parses causewayctl metrics with Prometheus's own parser (prometheus_client) and checks
every counter against two status --json reports taken just before and just after.

Usage: metrics_check.py METRICS_FILE STATUS_BEFORE_FILE STATUS_AFTER_FILE
"""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

# Metric (without prefix and _total) -> the counter in status --json. Written out here on
# purpose: a renamed counter or metric must fail this test.
COUNTERS = {
    "lan_frames_received": "framesFromLAN",
    "lan_bytes_received": "bytesFromLAN",
    "peer_datagrams_sent": "framesToPeer",
    "peer_bytes_sent": "bytesToPeer",
    "peer_frames_received": "framesFromPeer",
    "peer_bytes_received": "bytesFromPeer",
    "lan_frames_sent": "framesToLAN",
    "lan_bytes_sent": "bytesToLAN",
    "frames_flooded": "flooded",
    "frames_suppressed_local": "suppressedLocal",
    "mac_moves": "macMoves",
    "mac_table_full": "macTableFull",
    "keepalives_sent": "keepalivesSent",
    "keepalives_received": "keepalivesReceived",
    "handshakes_initiated": "handshakesInitiated",
    "handshake_initiations_received": "initiationsReceived",
    "handshakes_answered": "handshakesAnswered",
    "handshake_responses_received": "responsesReceived",
    "cookie_replies_sent": "cookieRepliesSent",
    "cookie_replies_received": "cookieRepliesReceived",
    "sessions_established": "sessionsEstablished",
    "frames_fragmented": "framesFragmented",
    "fragments_sent": "fragmentsSent",
    "fragments_received": "fragmentsReceived",
    "frames_reassembled": "framesReassembled",
    "frames_segmented": "framesSegmented",
    "frames_coalesced": "framesCoalesced",
    "mss_clamped": "mssClamped",
    "too_big_sent": "tooBigSent",
    "path_probes_sent": "pathProbesSent",
    "path_probes_acknowledged": "pathProbesAcknowledged",
}

text = open(sys.argv[1]).read()
before = json.load(open(sys.argv[2]))["counters"]
after = json.load(open(sys.argv[3]))["counters"]

families = {f.name: f for f in text_string_to_metric_families(text)}
problems = []
for metric, key in COUNTERS.items():
    family = families.get(f"causeway_{metric}")
    if family is None or family.type != "counter":
        problems.append(f"causeway_{metric}_total missing or not a counter")
        continue
    # One series per peer and one for what is no peer's: their sum is the status total.
    value = sum(sample.value for sample in family.samples if sample.name == f"causeway_{metric}_total")
    if not before[key] <= value <= after[key]:
        problems.append(f"causeway_{metric}_total = {value}, status said {before[key]}..{after[key]}")

drops = families.get("causeway_drops")
if drops is None:
    problems.append("causeway_drops_total missing")
else:
    by_reason = {}
    for sample in drops.samples:
        if sample.name == "causeway_drops_total":
            by_reason[sample.labels["reason"]] = by_reason.get(sample.labels["reason"], 0) + sample.value
    if set(by_reason) != set(after["drops"]):
        problems.append(f"drop reasons {sorted(by_reason)} != {sorted(after['drops'])}")
    for reason, value in by_reason.items():
        if not before["drops"].get(reason, -1) <= value <= after["drops"].get(reason, -1):
            problems.append(f"drops {reason} = {value}")

for gauge in ("peer_up", "uptime_seconds", "mac_entries", "device_up", "path_mtu_bytes", "reassembly_capacity_bytes"):
    if families.get(f"causeway_{gauge}", None) is None or families[f"causeway_{gauge}"].type != "gauge":
        problems.append(f"causeway_{gauge} missing or not a gauge")
if families.get("causeway_peer_up") and families["causeway_peer_up"].samples[0].value != 1:
    problems.append("causeway_peer_up is not 1")

# The configuration file's name, on every sample, so that instances on one host stay apart.
instances = {s.labels.get("instance") for f in families.values() for s in f.samples}
if len(instances) != 1 or None in instances:
    problems.append(f"every sample needs the one instance label; found {instances}")

if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"{len(families)} metric families parsed; {len(COUNTERS)} counters and "
      f"{len(by_reason)} drop reasons agree with status")
