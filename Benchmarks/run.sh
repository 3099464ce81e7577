#!/usr/bin/env bash
# make bench: each layer-2 tunnel in turn between two LAN hosts, on the test bed of Tests/netns
# (host A - gateway A - 1500-byte WAN veth - gateway B - host B), the whole set RUNS times in
# one sitting. For each tunnel:
#   - ping, host A to host B: PINGS pings 10 ms apart, on the idle tunnel;
#   - TCP (iperf3, DURATION seconds each): one stream A->B, one stream B->A, one stream each way
#     at once (--bidir), four streams A->B; the tunnel daemons' CPU time is read from /proc
#     before and after these four runs, and IP fragments on the WAN are counted during them;
#   - UDP with 64-byte Ethernet frames (18-byte iperf3 payload), A->B, offered at UDP_RATE.
# Benchmarks/report.py turns what was measured into one JSON per run, a table per run, a
# summary table and a chart, all as ratios to kernel VXLAN.
#
#   Benchmarks/run.sh [CANDIDATE...]
#       candidates: vxlan causeway causeway_chacha causeway_lanes causeway_status wireguard_vxlan openvpn tinc vtun n2n
#   environment: DURATION (10) RUNS (2) PINGS (1000) UDP_RATE (144M) LANES (2) BENCH_OUT (.build/bench)
#   PING_HOPS=1: the pings go 20 ms apart with both gateways' LAN and WAN ports captured,
#   and run-N/TUNNEL/ping-hops.txt says where their time went, hop by hop (Benchmarks/hops.py)
#
# Results: BENCH_OUT/DATE-TIME/ (run-N.json, summary.json, report.txt, chart.png, each run's raw
# iperf3, ping and /proc readings in run-N/TUNNEL/); BENCH_OUT/latest points to the newest.
# Root only. Everything lives in namespaces made per tunnel and run, removed afterwards.
set -uo pipefail
source "$(dirname "$0")/setup.sh"
RUNS=${RUNS:-2}
PINGS=${PINGS:-1000}
PING_HOPS=${PING_HOPS:-0}
PING_INTERVAL=$([ "$PING_HOPS" = 1 ] && echo 0.02 || echo 0.01)
# iperf3 counts its payload: 18 bytes a datagram is 144 bits, so 144M asks for a million
# datagrams a second. No tunnel here carries that many; iperf3 itself sends what it can
# (report.py shows the rate sent beside the rate received).
UDP_RATE=${UDP_RATE:-144M}
UDP_PAYLOAD=18   # 14 Ethernet + 20 IPv4 + 8 UDP + 18 = 60 bytes, 64 with the FCS
BENCH_OUT=${BENCH_OUT:-$ROOT/.build/bench}
# matplotlib, for the chart, is installed by `make bench` into .build/python.
export PYTHONPATH=$ROOT/.build/python${PYTHONPATH:+:$PYTHONPATH}

# bridge_with NS LAN DEVICE: joins the LAN NIC and a tunnel device in a new bridge.
bridge_with() {
    ip -n "$1" link add br0 type bridge
    ip -n "$1" link set "$2" master br0 up
    ip -n "$1" link set "$3" master br0 up
    ip -n "$1" link set br0 up
}

# background NS NAME COMMAND...: starts a process in a namespace; ended by PID at the end.
# `ip netns exec` execs the command, so the PID is the daemon's own.
PIDS=()
background() {
    local ns=$1 name=$2; shift 2
    ip netns exec "$ns" "$@" >>"$WORKDIR/$name.log" 2>&1 &
    PIDS+=($!)
}

# tunnel_daemon SIDE PID: the tunnel's daemon on gateway a or b, whose CPU time is counted
# (with its children: VTun's server forks one per session).
declare -A TUNNEL_PID=()
tunnel_daemon() { TUNNEL_PID[$1]=$2; }

wait_link() { wait_for 20 ip -n "$1" link show "$2"; }

setup_vxlan() {
    # Kernel VXLAN adds 50 bytes and has no MTU plan of its own: the WAN must carry 1550.
    ip -n "$NS_GA" link set wan0 mtu 1550; ip -n "$NS_GB" link set wan0 mtu 1550
    ip -n "$NS_GA" link add vx0 mtu 1500 type vxlan id 42 local "$WAN_A" remote "$WAN_B" dstport 4789 dev wan0
    ip -n "$NS_GB" link add vx0 mtu 1500 type vxlan id 42 local "$WAN_B" remote "$WAN_A" dstport 4789 dev wan0
    bridge_with "$NS_GA" lan-a vx0; bridge_with "$NS_GB" lan-b vx0
    NOTE="WAN MTU raised to 1550; no encryption"
}

# setup_causeway [TOML LINES...]: both gateways, with the extra lines in both configurations.
setup_causeway() {
    write_config a "$@"; write_config b "$@"
    daemon_start a; daemon_start b
    tunnel_daemon a "${DAEMON_PID[a]}"; tunnel_daemon b "${DAEMON_PID[b]}"
    local cipher="cipher auto: AES-256-GCM where both have AES instructions"
    [[ " $* " != *"cipher ="* ]] || cipher=
    NOTE="${cipher:+$cipher; }WAN MTU 1500${1:+; $*}"
}

# Causeway with ChaCha20-Poly1305, the cipher of gateways without AES instructions (and of
# every gateway before version 4): what the cipher alone changes.
setup_causeway_chacha() {
    setup_causeway 'cipher = "chacha20-poly1305"'
}

# Causeway with LANES data-plane threads on each gateway (2 unless set): a TAP queue and a
# socket per thread. On a machine of few cores the threads share them with the hosts.
setup_causeway_lanes() {
    setup_causeway "data-plane-threads = ${LANES:-2}"
}

# Causeway again, with its MAC table full (4,200 addresses sent from host A's LAN) and a
# client asking for `status` as fast as gateway A answers (or STATUS_RATE a second), all
# through the measurement: what the control plane costs forwarding. The client's own CPU is
# not counted as the daemon's.
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

# Kernel VXLAN, as above, but inside a WireGuard tunnel run by wireguard-go (userspace) on
# each gateway: the tunnel's inner addresses are 198.18.0.101 and .102 (/32 each, outside the
# WAN's .1 and .2). A 1500-byte LAN frame is 1550 bytes in VXLAN, so the wg interfaces carry
# 1550, and WireGuard's 1610-byte datagrams are fragmented by the sending kernel on the
# 1500-byte WAN (the fragment count shows it). wireguard-go's UAPI socket lives in the shared
# /var/run/wireguard, not in the namespace: the interface names are unique per run and side,
# and the sockets are removed on cleanup.
setup_wireguard_vxlan() {
    local side ns name inner peer_inner peer_wan other
    [ -d /var/run/wireguard ] || WG_RUNDIR_MADE=1
    for side in a b; do
        (umask 077; wg genkey > "$WORKDIR/wg-$side.key")
        wg pubkey < "$WORKDIR/wg-$side.key" > "$WORKDIR/wg-$side.pub"
    done
    for side in a b; do
        if [ $side = a ]; then ns=$NS_GA; inner=198.18.0.101; peer_inner=198.18.0.102; peer_wan=$WAN_B; other=b
        else ns=$NS_GB; inner=198.18.0.102; peer_inner=198.18.0.101; peer_wan=$WAN_A; other=a; fi
        name=wg$SUFFIX$side   # 11 characters: interface names stop at 15
        WG_SOCKETS+=("/var/run/wireguard/$name.sock")
        # -f: stays in the foreground, so the PID is wireguard-go's and it ends with the run.
        background "$ns" "wireguard-go-$side" wireguard-go -f "$name"
        tunnel_daemon $side "${PIDS[-1]}"
        wait_for 20 test -S "/var/run/wireguard/$name.sock" || return
        ip netns exec "$ns" wg set "$name" private-key "$WORKDIR/wg-$side.key" listen-port 51820 \
            peer "$(cat "$WORKDIR/wg-$other.pub")" endpoint "$peer_wan:51820" allowed-ips "$peer_inner/32"
        ip -n "$ns" link set "$name" mtu 1550 up
        ip -n "$ns" addr add "$inner/32" peer "$peer_inner/32" dev "$name"
        ip -n "$ns" link add vx0 mtu 1500 type vxlan id 42 local "$inner" remote "$peer_inner" dstport 4789 dev "$name"
    done
    bridge_with "$NS_GA" lan-a vx0; bridge_with "$NS_GB" lan-b vx0
    NOTE="wireguard-go $(wireguard-go --version 2>/dev/null | sed -n 's/^wireguard-go v//p'); wg MTU 1550, VXLAN 1500 over it; WAN MTU 1500 (fragments)"
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
    tunnel_daemon a "${PIDS[-1]}"
    background "$NS_GB" openvpn-b openvpn "${common[@]}" --tls-client --local "$WAN_B" --remote "$WAN_A" \
        --cert "$pki/b.crt" --key "$pki/b.key"
    tunnel_daemon b "${PIDS[-1]}"
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
    tunnel_daemon a "${PIDS[-1]}"
    background "$NS_GB" tinc-b tincd -c "$WORKDIR/tinc-b" -D --pidfile="$WORKDIR/tinc-b.pid"
    tunnel_daemon b "${PIDS[-1]}"
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
    tunnel_daemon b "${PIDS[-1]}"
    sleep 1
    background "$NS_GA" vtund-a vtund -n -f "$WORKDIR/vtund.conf" bench "$WAN_B"
    tunnel_daemon a "${PIDS[-1]}"
    wait_link "$NS_GA" vt0 && wait_link "$NS_GB" vt0
    bridge_with "$NS_GA" lan-a vt0; bridge_with "$NS_GB" lan-b vt0
    NOTE="ether over UDP, no encryption; WAN MTU 1500"
}

setup_n2n() {
    background "$NS_GB" supernode supernode -l 7654
    sleep 0.5
    # MTU 1500 on the edge's TAP: with its default 1400 the bridge would drop full-size frames.
    background "$NS_GA" edge-a edge -d n2n0 -a 10.99.0.1 -s 255.255.255.0 -c bench -k causeway-bench -l "$WAN_B:7654" -M 1500 -r
    tunnel_daemon a "${PIDS[-1]}"
    background "$NS_GB" edge-b edge -d n2n0 -a 10.99.0.2 -s 255.255.255.0 -c bench -k causeway-bench -l "$WAN_B:7654" -M 1500 -r
    tunnel_daemon b "${PIDS[-1]}"
    wait_link "$NS_GA" n2n0 && wait_link "$NS_GB" n2n0
    bridge_with "$NS_GA" lan-a n2n0; bridge_with "$NS_GB" lan-b n2n0
    NOTE="edge with supernode, community key; CPU: edges only; WAN MTU 1500"
}

# iperf NAME IPERF3-ARGS...: DURATION seconds of iperf3, client on host A, server on host B;
# keeps the client's JSON report as NAME.json. Both ends give up after a while of their own,
# so a tunnel that stops carrying cannot hang the benchmark.
iperf() {
    local name=$1; shift
    timeout $((DURATION + 30)) ip netns exec "$NS_HB" iperf3 -s -1 -B "$LAN_B" >/dev/null 2>&1 &
    local server=$!
    sleep 0.5
    timeout $((DURATION + 20)) ip netns exec "$NS_HA" iperf3 -c "$LAN_B" -t "$DURATION" -J "$@" \
        > "$RAW/$name.json" 2>/dev/null
    wait $server 2>/dev/null
}

# daemon_cpu FILE: CPU time so far of each side's tunnel daemon and its children, as JSON.
daemon_cpu() {
    local side args=()
    for side in "${!TUNNEL_PID[@]}"; do args+=("$side=${TUNNEL_PID[$side]}"); done
    python3 "$HERE/proc_cpu.py" "${args[@]}" > "$RAW/$1"
}

# ping_idle: the latency measurement, on the idle tunnel. With PING_HOPS=1 the four ports a
# ping crosses in the gateways are captured (microsecond stamps) and Benchmarks/hops.py
# times each hop; the pings then go 20 ms apart, so that each finds the tunnel idle.
ping_idle() {
    local captures=() port
    if [ "$PING_HOPS" = 1 ]; then
        for port in "$NS_GA lan-a ga-lan" "$NS_GA wan0 ga-wan" "$NS_GB wan0 gb-wan" "$NS_GB lan-b gb-lan"; do
            set -- $port
            ip netns exec "$1" tcpdump -i "$2" -n --time-stamp-precision=micro -w "$RAW/$3.pcap" >/dev/null 2>&1 &
            captures+=($!)
        done
        sleep 1
    fi
    ip netns exec "$NS_HA" ping -n -c "$PINGS" -i "$PING_INTERVAL" -W 1 "$LAN_B" > "$RAW/ping.txt" 2>&1
    [ "$PING_HOPS" = 1 ] || return 0
    sleep 0.5; kill "${captures[@]}"; wait "${captures[@]}" 2>/dev/null
    python3 "$HERE/hops.py" "$RAW" "$WAN_A" "$WAN_B" > "$RAW/ping-hops.txt" 2>&1
    rm -f "$RAW"/g[ab]-*.pcap
}

# tcp_runs: the four TCP runs, with the daemons' CPU time read around them and the WAN's IP
# fragments captured during them.
tcp_runs() {
    ip netns exec "$NS_GA" tcpdump -i wan0 -n -w "$WORKDIR/fragments.pcap" \
        '(ip and ip[6:2] & 0x3fff != 0) or (ip6 and ip6[6] == 44)' >/dev/null 2>&1 &
    local capture=$!
    sleep 1
    daemon_cpu cpu-before.json
    iperf tcp-1-a-to-b -P 1
    iperf tcp-1-b-to-a -P 1 -R
    iperf tcp-1-both-ways -P 1 --bidir
    iperf tcp-4-a-to-b -P 4
    daemon_cpu cpu-after.json
    sleep 0.5; kill $capture; wait $capture 2>/dev/null
    python3 "$ROOT/Tests/netns/frames.py" count "$WORKDIR/fragments.pcap" > "$RAW/wan-fragments.txt" 2>/dev/null ||
        echo "?" > "$RAW/wan-fragments.txt"
}

# measure CANDIDATE: one fresh test bed, the tunnel, the measurements; what they printed goes
# to RUN_DIR/CANDIDATE, which report.py reads.
measure() (
    SUFFIX=$(printf 'b%03x%04x' $((RANDOM % 4096)) $RANDOM)
    source "$ROOT/Tests/netns/lib.sh"
    RAW=$RUN_DIR/$1
    mkdir -p "$RAW"
    NOTE=
    WG_SOCKETS=()
    WG_RUNDIR_MADE=
    cleanup() {
        local pid
        for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
        sites_teardown
        rm -f "${WG_SOCKETS[@]}"
        [ -z "$WG_RUNDIR_MADE" ] || rmdir /var/run/wireguard 2>/dev/null
        true
    }
    trap cleanup EXIT
    sites_create 1500
    "setup_$1"
    echo "$NOTE" > "$RAW/note.txt"
    if ! wait_for 30 ip netns exec "$NS_HA" ping -c 1 -W 1 "$LAN_B"; then
        echo "failed to connect" > "$RAW/status.txt"
        tail -n 5 "$WORKDIR"/*.log >&2
        exit 0
    fi
    # Latency first, on the idle tunnel; UDP last, since a flood may leave a tunnel worse off.
    ping_idle
    tcp_runs
    iperf udp-64 -u -l "$UDP_PAYLOAD" -b "$UDP_RATE"
    if declare -F "report_$1" >/dev/null; then NOTE=$("report_$1"); echo "$NOTE" > "$RAW/note.txt"; fi
    echo "ok" > "$RAW/status.txt"
)

candidates=("$@")
[ ${#candidates[@]} -gt 0 ] || candidates=(vxlan causeway causeway_chacha causeway_lanes causeway_status wireguard_vxlan openvpn tinc vtun n2n)
OUT=$BENCH_OUT/$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
ln -sfn "$(basename "$OUT")" "$BENCH_OUT/latest"
printf '%s\n' "${candidates[@]}" > "$OUT/candidates.txt"
cat > "$OUT/settings.txt" <<SETTINGS
started=$(date -Is)
runs=$RUNS
duration=$DURATION
pings=$PINGS
ping_interval=$PING_INTERVAL
udp_payload=$UDP_PAYLOAD
udp_rate=$UDP_RATE
cores=$(nproc)
kernel=$(uname -r)
SETTINGS
echo "results in $OUT"
for run in $(seq 1 "$RUNS"); do
    RUN_DIR=$OUT/run-$run
    for candidate in "${candidates[@]}"; do
        echo "== run $run of $RUNS: $candidate (ping, then $DURATION s each of TCP A->B, B->A, both ways, 4 streams, then UDP)"
        measure "$candidate"
        if [ "$PING_HOPS" = 1 ] && [ -f "$RUN_DIR/$candidate/ping-hops.txt" ]; then
            { echo "$candidate, run $run: ping, $(cat "$RUN_DIR/$candidate/ping-hops.txt")"; echo; } | tee -a "$OUT/hops.txt"
        fi
    done
    echo
    python3 "$HERE/report.py" run "$OUT" "$run" | tee -a "$OUT/report.txt"
done
python3 "$HERE/report.py" summary "$OUT" | tee -a "$OUT/report.txt"
