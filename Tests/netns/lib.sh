# Shared by the network-namespace tests and the demo: two simulated sites.
#
#   ns hA (LAN host A) ─veth─ ns gA (bridge: lan-a + causeway TAP) ─veth "WAN"─ ns gB (…) ─veth─ ns hB
#
# Everything lives in namespaces created here with a per-run suffix; `sites_teardown`
# deletes them and ends the daemons this shell started, by PID. Nothing touches the root
# namespace: veth pairs are created directly inside their namespaces.

CAUSEWAYD=${CAUSEWAYD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.build/debug/causewayd}
CAUSEWAYCTL=${CAUSEWAYCTL:-$(dirname "$CAUSEWAYD")/causewayctl}
SUFFIX=${SUFFIX:-$$$RANDOM}
NS_HA=cw-hA-$SUFFIX
NS_GA=cw-gA-$SUFFIX
NS_GB=cw-gB-$SUFFIX
NS_HB=cw-hB-$SUFFIX
WAN_A=198.18.0.1
WAN_B=198.18.0.2
LAN_A=198.19.0.1
LAN_B=198.19.0.2
PORT=61820  # as the examples: see the comment above `listen` in examples/site-a.toml
WORKDIR=$(mktemp -d /tmp/causeway-test.XXXXXX)
declare -A DAEMON_PID=()
# Namespaces a test adds to the two sites (more sites, a WAN switch): deleted on teardown.
EXTRA_NS=()

# sites_create [WAN_MTU]: namespaces, LAN and WAN veths, addresses. No daemon yet.
sites_create() {
    local wan_mtu=${1:-1500}
    for ns in "$NS_HA" "$NS_GA" "$NS_GB" "$NS_HB"; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
    done
    ip -n "$NS_HA" link add lan0 type veth peer name lan-a netns "$NS_GA"
    ip -n "$NS_HB" link add lan0 type veth peer name lan-b netns "$NS_GB"
    ip -n "$NS_GA" link add wan0 mtu "$wan_mtu" type veth peer name wan0 netns "$NS_GB" mtu "$wan_mtu"
    ip -n "$NS_HA" addr add "$LAN_A/24" dev lan0
    ip -n "$NS_HB" addr add "$LAN_B/24" dev lan0
    ip -n "$NS_HA" -6 addr add fd00:19::1/64 dev lan0 nodad
    ip -n "$NS_HB" -6 addr add fd00:19::2/64 dev lan0 nodad
    ip -n "$NS_GA" addr add "$WAN_A/24" dev wan0
    ip -n "$NS_GB" addr add "$WAN_B/24" dev wan0
    for ns in "$NS_HA" "$NS_HB"; do ip -n "$ns" link set lan0 up; done
    ip -n "$NS_GA" link set wan0 up
    ip -n "$NS_GB" link set wan0 up
    # The LAN ports come up with the bridge: causewayd brings the NIC up itself.
    # Each site its own private key; each configuration names the other's public key.
    local site
    for site in a b; do
        "$CAUSEWAYD" genkey "$WORKDIR/site-$site.key"
    done
}

# public_key SITE: the site's public key, as its peer's configuration names it.
public_key() { "$CAUSEWAYD" pubkey "$WORKDIR/site-$1.key"; }

# write_config SITE [extra toml lines...]: the configuration of site a or b. The extra
# lines go before the [[peer]] table, so they are top-level keys. The peer is named site-b
# (or site-a).
write_config() {
    local site=$1; shift
    local listen peer lan other
    if [ "$site" = a ]; then listen=$WAN_A; peer=$WAN_B; lan=lan-a; other=b; else listen=$WAN_B; peer=$WAN_A; lan=lan-b; other=a; fi
    {
        echo "bridge = \"br0\""
        echo "lan-interface = \"$lan\""
        echo "tap = \"cw0\""
        echo "listen = \"$listen:$PORT\""
        echo "private-key-file = \"site-$site.key\""
        echo "keepalive-interval = 1"
        echo "control-socket = \"site-$site.sock\""
        # One data-plane thread, as "auto" gives on the 2-core machines CI runs on, so that a
        # test sees the same gateway on any machine; the lanes' tests ask for more.
        [[ " $* " == *"data-plane-threads"* ]] || echo "data-plane-threads = 1"
        local line
        for line in "$@"; do echo "$line"; done
        echo
        echo "[[peer]]"
        echo "name = \"site-$other\""
        echo "public-key = \"$(public_key $other)\""
        echo "endpoint = \"$peer:$PORT\""
    } > "$WORKDIR/site-$site.toml"
}

gateway_ns() { case $1 in a) echo "$NS_GA" ;; b) echo "$NS_GB" ;; *) echo "cw-g${1^^}-$SUFFIX" ;; esac; }

# daemon_start SITE: runs causewayd in the site's gateway namespace, log in $WORKDIR.
daemon_start() {
    local site=$1 ns
    ns=$(gateway_ns "$site")
    ip netns exec "$ns" "$CAUSEWAYD" run --config "$WORKDIR/site-$site.toml" >>"$WORKDIR/causewayd-$site.log" 2>&1 &
    DAEMON_PID[$site]=$!
}

# daemon_stop SITE: SIGTERM, then wait for the daemon to put its devices back.
daemon_stop() {
    local site=$1 pid=${DAEMON_PID[$1]:-}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    local status=0
    wait "$pid" || status=$?
    unset "DAEMON_PID[$site]"
    return $status
}

# daemon_kill SITE: SIGKILL, as a crash.
daemon_kill() {
    local pid=${DAEMON_PID[$1]:-}
    [ -n "$pid" ] || return 0
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "DAEMON_PID[$1]"
}

# ctl SITE ARGS...: causewayctl against the site's daemon.
ctl() {
    local site=$1; shift
    "$CAUSEWAYCTL" "$@" --socket "$WORKDIR/site-$site.sock"
}

# daemon_status SITE / daemon_macs SITE: the daemon's status or MAC table as JSON.
daemon_status() { ctl "$1" status --json; }
daemon_macs() { ctl "$1" macs --json; }

# json_get JSON PYTHON-EXPRESSION-ON-s: one value out of a state report.
json_get() {
    python3 -c 'import json,sys; s=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# wait_for SECONDS COMMAND...: retries COMMAND until it succeeds or time runs out.
wait_for() {
    local seconds=$1; shift
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.2
    done
}

sites_teardown() {
    local site
    for site in "${!DAEMON_PID[@]}"; do
        daemon_stop "$site" || true
    done
    for ns in "$NS_HA" "$NS_GA" "$NS_GB" "$NS_HB" "${EXTRA_NS[@]}"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$WORKDIR"
}
