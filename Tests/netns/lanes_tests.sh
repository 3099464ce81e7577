# Several data-plane threads (lanes) per gateway: a multi-queue TAP, a socket per lane on the
# one port, the kernel steering each datagram by its sender's lane. Correctness only: on
# this 2-core machine throughput is measured by `make bench`, never asserted.

# lanes_report SITE: each lane's frames as "LAN/peers LAN/peers ..." from the status JSON.
lanes_report() {
    json_get "$(daemon_status "$1")" '" ".join(str(l["framesFromLAN"]) + "/" + str(l["framesFromPeers"]) for l in s["lanes"])'
}

# every_lane_carried SITE LANES: each lane read frames from the LAN and took datagrams from
# the peer, and none was dropped for arriving on the wrong lane or as a replay.
every_lane_carried() {
    local status; status=$(daemon_status "$1")
    expect "$1 runs $2 lanes" [ "$(json_get "$status" 'len(s["lanes"])')" = "$2" ]
    expect "every lane of $1 moved frames both ways ($(lanes_report "$1"))" \
        [ "$(json_get "$status" 'all(l["framesFromLAN"] > 0 and l["framesFromPeers"] > 0 for l in s["lanes"])')" = True ]
    local drops; drops=$(json_get "$status" 's["counters"]["drops"]')
    expect "no wrong-lane or replay drops on $1 ($drops)" \
        [ "$(json_get "$status" 's["counters"]["drops"].get("wrong-lane", 0) + s["counters"]["drops"].get("replay", 0)')" = 0 ]
}

# flows_in_order FROM TO ADDRESS: 16 UDP flows at once, 2000 datagrams each; the receiver's
# verdict must show every flow in order, intact, once.
flows_in_order() {
    ip netns exec "$2" python3 "$HERE/flows_check.py" udp-receive 5010 15 > "$WORKDIR/flows" &
    local receiver=$!
    wait_for 5 grep -q listening "$WORKDIR/flows"
    ip netns exec "$1" python3 "$HERE/flows_check.py" udp-send "$3" 5010 16 2000 200 0.002
    wait $receiver
    local report; report=$(tail -n 1 "$WORKDIR/flows")
    echo "    udp flows: $report"
    expect "all 16 flows arrived" [ "$(json_get "$report" 's["flows"]')" = 16 ]
    expect "no datagram reordered within its flow" [ "$(json_get "$report" 's["reordered"]')" = 0 ]
    expect "none damaged, none twice" [ "$(json_get "$report" 's["damaged"] + s["duplicates"]')" = 0 ]
    expect "every flow delivered at least 95 %" [ "$(json_get "$report" 's["lowest"]')" -ge 1900 ]
}

# transfers_identical FROM TO ADDRESS: 8 TCP connections at once, 8 MB each; what arrived
# must hash as what was sent.
transfers_identical() {
    ip netns exec "$2" python3 "$HERE/flows_check.py" tcp-receive 5011 8 60 > "$WORKDIR/tcp-received" &
    local receiver=$!
    wait_for 5 grep -q listening "$WORKDIR/tcp-received"
    local sent; sent=$(ip netns exec "$1" python3 "$HERE/flows_check.py" tcp-send "$3" 5011 8 8000000)
    wait $receiver
    local received; received=$(tail -n 1 "$WORKDIR/tcp-received")
    expect "8 transfers of 8 MB arrived byte for byte ($received vs $sent)" [ "$received" = "$sent" ]
}

test_lanes_keep_every_flow_in_order_and_every_byte() {
    write_config a "data-plane-threads = 2"; write_config b "data-plane-threads = 2"
    daemon_start a; daemon_start b
    wait_for 15 ping_ok "$NS_HA" "$LAN_B" || fail "host A never reached host B"
    expect "causewayd logs its threads" grep -q 'data-plane-threads=2' "$WORKDIR/causewayd-a.log"
    expect "the TAP has two queues" [ "$(ip netns exec "$NS_GA" ls /sys/class/net/cw0/queues | grep -c '^tx-')" = 2 ]
    expect "each lane is a thread of its own, named (top -H shows it)" \
        [ "$(cat /proc/"${DAEMON_PID[a]}"/task/*/comm | grep -c '^cw-lane[01]$')" = 2 ]
    flows_in_order "$NS_HA" "$NS_HB" "$LAN_B"
    flows_in_order "$NS_HB" "$NS_HA" "$LAN_A"
    transfers_identical "$NS_HA" "$NS_HB" "$LAN_B"
    transfers_identical "$NS_HB" "$NS_HA" "$LAN_A"
    every_lane_carried a 2
    every_lane_carried b 2
    expect "status names the threads" sh -c "'$CAUSEWAYCTL' status --socket '$WORKDIR/site-a.sock' | grep -q '2 data-plane threads'"
    # A reload reaches every lane; the number of lanes takes a restart.
    sed -i 's/^data-plane-threads = .*/data-plane-threads = 3/' "$WORKDIR/site-a.toml"
    local refused; refused=$(ctl a reload 2>&1)
    expect "a new thread count is refused until a restart ($refused)" grep -q "'data-plane-threads'" <<<"$refused"
    sed -i -e 's/^data-plane-threads = .*/data-plane-threads = 2/' -e 's/^keepalive-interval = .*/keepalive-interval = 2/' "$WORKDIR/site-a.toml"
    expect "a live setting reloads on every lane" [ "$(ctl a reload)" = "reloaded: no peer changed; now in effect: keepalive-interval" ]
    expect "and the link carries on" ping_ok "$NS_HA" "$LAN_B" >/dev/null
    # The lanes share the port with each other only: a second gateway on it is refused.
    sed -e 's/^tap = .*/tap = "cw9"/' -e 's/^bridge = .*/bridge = "br9"/' -e 's/^control-socket = .*/control-socket = "site-x.sock"/' \
        "$WORKDIR/site-a.toml" > "$WORKDIR/site-x.toml"
    ip -n "$NS_GA" link add lan-x type veth peer name lan-y
    sed -i 's/^lan-interface = .*/lan-interface = "lan-x"/' "$WORKDIR/site-x.toml"
    local second=0
    ip netns exec "$NS_GA" timeout 10 "$CAUSEWAYD" run --config "$WORKDIR/site-x.toml" > "$WORKDIR/second.log" 2>&1 || second=$?
    expect "a second causewayd on the lanes' port fails ($(tail -n 1 "$WORKDIR/second.log"))" [ "$second" != 0 ] && [ "$second" != 124 ]
    expect "it names the port" grep -q "listen.*Address already in use" "$WORKDIR/second.log"
    expect "and leaves no device behind" sh -c "! ip -n '$NS_GA' link show cw9 2>/dev/null"
}

test_lanes_with_different_counts_on_each_side() {
    # A gateway's lanes need not match its peer's: A's lane k reaches B's lane k mod 1.
    write_config a "data-plane-threads = 3"; write_config b "data-plane-threads = 1"
    daemon_start a; daemon_start b
    wait_for 15 ping_ok "$NS_HA" "$LAN_B" || fail "host A never reached host B"
    flows_in_order "$NS_HA" "$NS_HB" "$LAN_B"
    flows_in_order "$NS_HB" "$NS_HA" "$LAN_A"
    transfers_identical "$NS_HB" "$NS_HA" "$LAN_A"
    local status; status=$(daemon_status a)
    expect "each of A's lanes sent to B ($(lanes_report a))" \
        [ "$(json_get "$status" 'all(l["framesToPeers"] > 0 for l in s["lanes"])')" = True ]
}
