#!/usr/bin/env bash
# make bench: TCP throughput between two LAN hosts joined by each layer-2 tunnel in turn, on
# the test bed of Tests/netns (host A - gateway A - WAN veth - gateway B - host B), in one
# run: one stream, then four at once, in Gbit/s and as ratios to Causeway. Also counts IP
# fragments on the WAN during both.
#
#   Benchmarks/run.sh [CANDIDATE...]     candidates: vxlan causeway causeway_status openvpn tinc vtun n2n
#
# Root only. Everything lives in namespaces made per candidate and is removed afterwards.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
export CAUSEWAYD=${CAUSEWAYD:-$ROOT/.build/release/causewayd}
export CAUSEWAYCTL=${CAUSEWAYCTL:-$ROOT/.build/release/causewayctl}
DURATION=${DURATION:-10}
RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT
[ "$(id -u)" = 0 ] || { echo "the benchmark creates network namespaces: run it as root"; exit 1; }

# bridge_with NS LAN DEVICE: joins the LAN NIC and a tunnel device in a new bridge.
bridge_with() {
    ip -n "$1" link add br0 type bridge
    ip -n "$1" link set "$2" master br0 up
    ip -n "$1" link set "$3" master br0 up
    ip -n "$1" link set br0 up
}

# background NS NAME COMMAND...: starts a tunnel daemon in a namespace; remembered for the end.
PIDS=()
background() {
    local ns=$1 name=$2; shift 2
    ip netns exec "$ns" "$@" >>"$WORKDIR/$name.log" 2>&1 &
    PIDS+=($!)
}

wait_link() { wait_for 20 ip -n "$1" link show "$2"; }

setup_vxlan() {
    # Kernel VXLAN adds 50 bytes and has no MTU plan of its own: the WAN must carry 1550.
    ip -n "$NS_GA" link set wan0 mtu 1550; ip -n "$NS_GB" link set wan0 mtu 1550
    ip -n "$NS_GA" link add vx0 mtu 1500 type vxlan id 42 local "$WAN_A" remote "$WAN_B" dstport 4789 dev wan0
    ip -n "$NS_GB" link add vx0 mtu 1500 type vxlan id 42 local "$WAN_B" remote "$WAN_A" dstport 4789 dev wan0
    bridge_with "$NS_GA" lan-a vx0; bridge_with "$NS_GB" lan-b vx0
    NOTE="WAN MTU raised to 1550; no encryption"
}

setup_causeway() {
    write_config a; write_config b
    daemon_start a; daemon_start b
    NOTE="ChaCha20-Poly1305; WAN MTU 1500"
}

# Causeway again, with its MAC table full (4,200 addresses sent from host A's LAN) and a
# client asking for `status` as fast as gateway A answers (or STATUS_RATE a second), all
# through the measurement: what the control plane costs forwarding.
setup_causeway_status() {
    setup_causeway
    wait_for 30 ip netns exec "$NS_HA" ping -c 1 -W 1 "$LAN_B" || return
    ip netns exec "$NS_HA" python3 "$ROOT/Tests/netns/frames.py" macflood lan0 4200
    STATUS_STARTED=$SECONDS
    python3 "$ROOT/Benchmarks/status_loop.py" "$WORKDIR/site-a.sock" "$WORKDIR/status-answered" ${STATUS_RATE:+"$STATUS_RATE"} &
    PIDS+=($!)
}

# report_causeway_status: the note, once measured: how fast the status loop went.
report_causeway_status() {
    local answered entries
    answered=$(cat "$WORKDIR/status-answered" 2>/dev/null || echo 0)
    entries=$("$CAUSEWAYCTL" status --json --socket "$WORKDIR/site-a.sock" 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["macTable"]["entries"])' 2>/dev/null)
    echo "as causeway; ${entries:-?} MACs, status $((answered / (SECONDS - STATUS_STARTED + 1)))/s on gateway A"
}

setup_openvpn() {
    local pki="$WORKDIR/pki"
    mkdir -p "$pki"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=bench-ca \
        -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
    for side in a b; do
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=gateway-$side" \
            -keyout "$pki/$side.key" -out "$pki/$side.csr" 2>/dev/null
        openssl x509 -req -in "$pki/$side.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 1 \
            -out "$pki/$side.crt" 2>/dev/null
    done
    local common=(--dev tap0 --dev-type tap --proto udp --ca "$pki/ca.crt" --dh none
        --data-ciphers AES-256-GCM --cipher AES-256-GCM --verb 1)
    background "$NS_GA" openvpn-a openvpn "${common[@]}" --tls-server --local "$WAN_A" --remote "$WAN_B" \
        --cert "$pki/a.crt" --key "$pki/a.key"
    background "$NS_GB" openvpn-b openvpn "${common[@]}" --tls-client --local "$WAN_B" --remote "$WAN_A" \
        --cert "$pki/b.crt" --key "$pki/b.key"
    wait_link "$NS_GA" tap0 && wait_link "$NS_GB" tap0
    bridge_with "$NS_GA" lan-a tap0; bridge_with "$NS_GB" lan-b tap0
    NOTE="AES-256-GCM, TLS; tap mode; WAN MTU 1500"
}

setup_tinc() {
    local side name peer address
    for side in a b; do
        name=$side; peer=$([ $side = a ] && echo b || echo a)
        address=$([ $side = a ] && echo "$WAN_A" || echo "$WAN_B")
        mkdir -p "$WORKDIR/tinc-$side/hosts"
        printf 'Name = %s\nMode = switch\nInterface = tinc0\nAddressFamily = ipv4\n' "$name" > "$WORKDIR/tinc-$side/tinc.conf"
        [ $side = a ] && echo "ConnectTo = b" >> "$WORKDIR/tinc-$side/tinc.conf"
        printf 'Address = %s\nPort = 655\n' "$address" > "$WORKDIR/tinc-$side/hosts/$name"
        printf '#!/bin/sh\nip link set "$INTERFACE" up\n' > "$WORKDIR/tinc-$side/tinc-up"
        chmod +x "$WORKDIR/tinc-$side/tinc-up"
        tincd -c "$WORKDIR/tinc-$side" -K2048 </dev/null >/dev/null 2>&1
    done
    cp "$WORKDIR/tinc-a/hosts/a" "$WORKDIR/tinc-b/hosts/a"
    cp "$WORKDIR/tinc-b/hosts/b" "$WORKDIR/tinc-a/hosts/b"
    background "$NS_GA" tinc-a tincd -c "$WORKDIR/tinc-a" -D --pidfile="$WORKDIR/tinc-a.pid"
    background "$NS_GB" tinc-b tincd -c "$WORKDIR/tinc-b" -D --pidfile="$WORKDIR/tinc-b.pid"
    wait_link "$NS_GA" tinc0 && wait_link "$NS_GB" tinc0
    bridge_with "$NS_GA" lan-a tinc0; bridge_with "$NS_GB" lan-b tinc0
    NOTE="switch mode, default cipher; WAN MTU 1500"
}

setup_vtun() {
    cat > "$WORKDIR/vtund.conf" <<CONF
options { port 5000; ip /sbin/ip; }
bench {
  passwd causeway-bench; type ether; proto udp; encrypt no; compress no; keepalive yes; device vt0;
  up { ip "link set %% up"; };
}
CONF
    background "$NS_GB" vtund-b vtund -n -s -f "$WORKDIR/vtund.conf" -L "$WAN_B"
    sleep 1
    background "$NS_GA" vtund-a vtund -n -f "$WORKDIR/vtund.conf" bench "$WAN_B"
    wait_link "$NS_GA" vt0 && wait_link "$NS_GB" vt0
    bridge_with "$NS_GA" lan-a vt0; bridge_with "$NS_GB" lan-b vt0
    NOTE="ether over UDP, no encryption; WAN MTU 1500"
}

setup_n2n() {
    background "$NS_GB" supernode supernode -l 7654
    sleep 0.5
    # MTU 1500 on the edge's TAP: with its default 1400 the bridge would drop full-size frames.
    background "$NS_GA" edge-a edge -d n2n0 -a 10.99.0.1 -s 255.255.255.0 -c bench -k causeway-bench -l "$WAN_B:7654" -M 1500 -r
    background "$NS_GB" edge-b edge -d n2n0 -a 10.99.0.2 -s 255.255.255.0 -c bench -k causeway-bench -l "$WAN_B:7654" -M 1500 -r
    wait_link "$NS_GA" n2n0 && wait_link "$NS_GB" n2n0
    bridge_with "$NS_GA" lan-a n2n0; bridge_with "$NS_GB" lan-b n2n0
    NOTE="edge with supernode, community key; WAN MTU 1500"
}

# tcp_gbits STREAMS: DURATION seconds of iperf3 from host A to host B; prints Gbit/s received.
tcp_gbits() {
    ip netns exec "$NS_HB" iperf3 -s -1 -B "$LAN_B" >/dev/null 2>&1 &
    local server=$! report
    sleep 0.5
    report=$(ip netns exec "$NS_HA" iperf3 -c "$LAN_B" -P "$1" -t "$DURATION" -J 2>/dev/null)
    wait $server 2>/dev/null
    python3 -c 'import json,sys; print("%.3f" % (json.loads(sys.argv[1])["end"]["sum_received"]["bits_per_second"] / 1e9))' "$report" 2>/dev/null
}

# measure CANDIDATE: one fresh test bed, the tunnel, a TCP run; appends a line to RESULTS.
measure() (
    SUFFIX=$(printf 'b%03x%04x' $((RANDOM % 4096)) $RANDOM)
    source "$ROOT/Tests/netns/lib.sh"
    NOTE=
    cleanup() {
        local pid
        for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
        sites_teardown
    }
    trap cleanup EXIT
    sites_create 1500
    "setup_$1"
    if ! wait_for 30 ip netns exec "$NS_HA" ping -c 1 -W 1 "$LAN_B"; then
        echo "$1|failed to connect|||$NOTE" >> "$RESULTS"
        tail -n 5 "$WORKDIR"/*.log >&2
        exit 0
    fi
    ip netns exec "$NS_GA" tcpdump -i wan0 -n -w "$WORKDIR/fragments.pcap" \
        '(ip and ip[6:2] & 0x3fff != 0) or (ip6 and ip6[6] == 44)' >/dev/null 2>&1 &
    local capture=$!
    sleep 1
    local one four fragments
    one=$(tcp_gbits 1); four=$(tcp_gbits 4)
    sleep 0.5; kill $capture; wait $capture 2>/dev/null
    fragments=$(python3 "$ROOT/Tests/netns/frames.py" count "$WORKDIR/fragments.pcap" 2>/dev/null || echo "?")
    if declare -F "report_$1" >/dev/null; then NOTE=$("report_$1"); fi
    echo "$1|${one:-no result}|${four:-no result}|$fragments|$NOTE" >> "$RESULTS"
)

candidates=("$@")
[ ${#candidates[@]} -gt 0 ] || candidates=(vxlan causeway causeway_status openvpn tinc vtun n2n)
for candidate in "${candidates[@]}"; do
    echo "== $candidate ($DURATION s of TCP with one stream, then four, host A to host B)"
    measure "$candidate"
done

echo
python3 - "$RESULTS" "$(nproc)" "$(uname -r)" <<'PY'
import sys
rows = [line.rstrip("\n").split("|") for line in open(sys.argv[1]) if line.strip()]

def number(text):
    try:
        return float(text)
    except ValueError:
        return None

causeway = next((r for r in rows if r[0] == "causeway"), None)
bases = [number(causeway[1]), number(causeway[2])] if causeway else [None, None]

def cell(text, base):
    value = number(text)
    if value is None:
        return f"{text:>8} {'-':>6}"
    ratio = f"{value / base:.2f}x" if base else "-"
    return f"{value:>8.2f} {ratio:>6}"

print(f"TCP throughput in Gbit/s and as a ratio to Causeway, {sys.argv[2]} cores, kernel {sys.argv[3]}")
print(f"{'TUNNEL':<10} {'1 STREAM':>15} {'4 STREAMS':>15} {'WAN IP FRAGMENTS':>17}  NOTES")
for name, one, four, fragments, note in rows:
    print(f"{name:<10} {cell(one, bases[0])} {cell(four, bases[1])} {fragments:>17}  {note}")
PY
