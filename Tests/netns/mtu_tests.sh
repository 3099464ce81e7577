# No MTU black holes: full-size frames cross any WAN of 1280 bytes or more, and the WAN
# never sees an IP fragment (docs/protocol.md, "Path MTU").

# capture_start NAME NS IFACE FILTER / capture_stop NAME: a named capture; stop prints the
# number of packets and leaves them in $WORKDIR/NAME.pcap.
declare -A CAPTURES=()
capture_start() {
    ip netns exec "$2" tcpdump -i "$3" --immediate-mode -U -n -w "$WORKDIR/$1.pcap" "$4" 2>/dev/null &
    CAPTURES[$1]=$!
}
capture_stop() {
    sleep 0.5
    kill "${CAPTURES[$1]}"; wait "${CAPTURES[$1]}" 2>/dev/null || true
    python3 "$HERE/frames.py" count "$WORKDIR/$1.pcap"
}
IP_FRAGMENTS='(ip and ip[6:2] & 0x3fff != 0) or (ip6 and ip6[6] == 44)'

set_wan_mtu() { ip -n "$NS_GA" link set wan0 mtu "$1"; ip -n "$NS_GB" link set wan0 mtu "$1"; }
path_mtu_is() { [ "$(ctl_value "$1" status 's["peers"][0]["pathMTU"], s["peers"][0]["pathMTUSearching"]')" = "($2, False)" ]; }
# path_mtu_between SITE LOW HIGH: settled on a size in [LOW, HIGH].
path_mtu_between() {
    [ "$(ctl_value "$1" status "$2 <= s['peers'][0]['pathMTU'] <= $3 and not s['peers'][0]['pathMTUSearching']")" = True ]
}
counter() { ctl_value "$1" status "s['counters']['$2']"; }

# udp_full_size COUNT: COUNT 1472-byte datagrams with DF from host A; prints the receiver's report.
udp_full_size() {
    ip netns exec "$NS_HB" python3 "$HERE/udp_check.py" receive 5003 $(( $1 / 200 + 4 )) > "$WORKDIR/udp-report" &
    local receiver=$!
    wait_for 5 grep -q listening "$WORKDIR/udp-report"
    ip netns exec "$NS_HA" python3 "$HERE/udp_check.py" send "$LAN_B" 5003 "$1" 1472 0.002
    wait $receiver
    tail -n 1 "$WORKDIR/udp-report"
}

# full_size_traffic_crosses WAN_MTU: everything the issue asks of one WAN MTU.
full_size_traffic_crosses() {
    local mtu=$1 largest mss fragments report before_fragmented before_frames tcp_share udp_share
    set_wan_mtu "$mtu"
    start_both
    expect "both gateways find path MTU $mtu within 10 s" wait_for 10 path_mtu_is a "$mtu"
    expect "(gateway B too)" wait_for 10 path_mtu_is b "$mtu"
    largest=$(ctl_value a status 's["peers"][0]["largestWholeFrame"]')
    capture_start wan "$NS_GA" wan0 "$IP_FRAGMENTS"
    capture_start syn "$NS_HB" lan0 "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn and dst port 5001"
    sleep 1

    expect "ping -M do -s 1472 A -> B" ip netns exec "$NS_HA" ping -M do -s 1472 -c 3 -i 0.2 -W 2 "$LAN_B"
    expect "ping -M do -s 1472 B -> A" ip netns exec "$NS_HB" ping -M do -s 1472 -c 3 -i 0.2 -W 2 "$LAN_A"

    before_fragmented=$(counter a framesFragmented); before_frames=$(counter a framesFromLAN)
    report=$(udp_full_size 500)
    expect "500 DF datagrams of 1472 bytes arrive intact ($report)" \
        [ "$(json_get "$report" 's["intact"] == 500 and s["damaged"] == 0')" = True ]
    udp_share="$(( $(counter a framesFragmented) - before_fragmented )) of $(( $(counter a framesFromLAN) - before_frames ))"

    head -c 50000000 /dev/urandom > "$WORKDIR/tcp.in"
    ip netns exec "$NS_HB" socat -u TCP-LISTEN:5001,reuseaddr OPEN:"$WORKDIR/tcp.out",creat,trunc &
    local receiver=$!
    sleep 0.5
    before_fragmented=$(counter a framesFragmented); before_frames=$(counter a framesFromLAN)
    expect "the 50 MB TCP sender finished" timeout 120 ip netns exec "$NS_HA" socat -u OPEN:"$WORKDIR/tcp.in" TCP:"$LAN_B":5001
    wait $receiver || true
    tcp_share="$(( $(counter a framesFragmented) - before_fragmented )) of $(( $(counter a framesFromLAN) - before_frames ))"
    expect "50 MB arrived byte-identical" [ "$(sha256sum < "$WORKDIR/tcp.in")" = "$(sha256sum < "$WORKDIR/tcp.out")" ]

    fragments=$(capture_stop wan)
    capture_stop syn >/dev/null
    mss=$(python3 "$HERE/frames.py" mss "$WORKDIR/syn.pcap")
    expect "host B saw the SYN with MSS $((largest - 54)) (saw '$mss')" [ "$mss" = "$((largest - 54))" ]
    expect "the WAN carried no IP fragment (saw $fragments)" [ "$fragments" = 0 ]
    echo "    WAN MTU $mtu: path MTU $mtu, datagram payload $((mtu - 28)), largest whole frame $largest, MSS $mss;" \
         "frames fragmented: TCP $tcp_share, 1472-byte UDP $udp_share"
}

test_full_size_traffic_over_a_1500_byte_wan() { full_size_traffic_crosses 1500; }
test_full_size_traffic_over_a_1400_byte_wan() { full_size_traffic_crosses 1400; }
test_full_size_traffic_over_a_1280_byte_wan() { full_size_traffic_crosses 1280; }

# no_icmp_on_the_wan NS: the gateway's WAN drops every ICMP message, as many firewalls do.
no_icmp_on_the_wan() {
    ip netns exec "$1" nft -f - <<'NFT'
table inet causeway_test {
    chain input { type filter hook input priority 0; iifname "wan0" meta l4proto { icmp, ipv6-icmp } drop; }
    chain output { type filter hook output priority 0; oifname "wan0" meta l4proto { icmp, ipv6-icmp } drop; }
}
NFT
}

test_path_mtu_follows_a_shrinking_wan_without_icmp() {
    no_icmp_on_the_wan "$NS_GA"; no_icmp_on_the_wan "$NS_GB"
    start_both
    expect "path MTU 1500 first" wait_for 10 path_mtu_is a 1500
    ip netns exec "$NS_HA" ping -i 0.05 -c 200 -s 1472 "$LAN_B" > "$WORKDIR/ping.out" &
    local pinger=$! changed_at found_in
    sleep 2
    # Only gateway B's side shrinks: its own sends fail with EMSGSIZE, while gateway A's
    # large datagrams vanish without a word (no ICMP) and only A's probes can tell.
    ip -n "$NS_GB" link set wan0 mtu 1280
    changed_at=$SECONDS
    # A veth takes frames 4 bytes over its MTU on receive (room for a VLAN tag), so what
    # crosses into gateway B is up to 1284 bytes: that is the path MTU A should find.
    expect "gateway A finds the new path MTU (1280-1284) within 10 s, without ICMP" wait_for 10 path_mtu_between a 1280 1284
    expect "gateway B finds 1280 from its own device" wait_for 10 path_mtu_is b 1280
    found_in=$((SECONDS - changed_at))
    wait $pinger || true
    local received; received=$(grep -o '[0-9]* received' "$WORKDIR/ping.out" | awk '{print $1}')
    echo "    path MTU $(ctl_value a status 's["peers"][0]["pathMTU"]') found within ${found_in}s of the change; $received of 200 pings answered"
    expect "traffic continued: at least 150 of 200 full-size pings answered" [ "${received:-0}" -ge 150 ]
    expect "full-size pings work after the change" ip netns exec "$NS_HA" ping -M do -s 1472 -c 3 -i 0.2 -W 2 "$LAN_B"
}

test_fragmented_frames_arrive_whole_or_not_at_all_under_loss() {
    set_wan_mtu 1280
    start_both
    expect "path MTU 1280" wait_for 10 path_mtu_is b 1280
    # Gateway A's UDP GSO sends are cut into datagrams before they leave, as by a NIC without
    # UDP segmentation offload; otherwise a veth carries them whole and the rule below
    # would drop whole sends rather than single datagrams.
    ip netns exec "$NS_GA" ethtool -K wan0 tx-udp-segmentation off >/dev/null
    # Gateway B merges reassembled datagrams that arrive together (UDPCoalescer); its LAN
    # port cuts them back before they leave, as a NIC without offloads does, so that the
    # capture on host B sees frames as they would be on a wire, not the veth's merged ones.
    ip netns exec "$NS_GB" ethtool -K lan-b tx off >/dev/null
    # 5 % of the link's datagrams into gateway B are lost.
    ip netns exec "$NS_GB" nft -f - <<NFT
table inet causeway_loss {
    chain input { type filter hook input priority 0; iifname "wan0" udp dport $PORT numgen random mod 20 == 0 drop; }
}
NFT
    capture_start lan "$NS_HB" lan0 "udp dst port 5003"
    local report lengths capacity peak
    report=$(udp_full_size 2000)
    capture_stop lan >/dev/null
    lengths=$(python3 "$HERE/frames.py" lengths "$WORKDIR/lan.pcap")
    echo "    2000 sent, $report; frame lengths on host B's LAN: $lengths"
    expect "every datagram that arrived is intact" [ "$(json_get "$report" 's["damaged"]')" = 0 ]
    expect "about 90 % arrived (two fragments each, 5 % loss)" \
        [ "$(json_get "$report" '1600 <= s["received"] < 2000')" = True ]
    expect "every frame on host B's LAN is whole (1514 bytes)" [ "$lengths" = 1514 ]
    expect "frames left incomplete were counted" [ "$(ctl_value b status "s['counters']['drops']['reassembly-timeout']")" -gt 0 ]
    capacity=$(ctl_value b status 's["reassembly"]["capacityBytes"]')
    peak=$(ctl_value b status 's["reassembly"]["bytesInUse"]')
    expect "reassembly memory is within its cap ($peak of $capacity bytes)" [ "$peak" -le "$capacity" ]
}

test_hostile_fragments_are_counted_and_dropped() {
    write_config a
    daemon_start a
    wait_for 10 test -S "$WORKDIR/site-a.sock" || fail "no control socket"
    capture_start marker "$NS_HA" lan0 "ether proto 0x88b5"
    sleep 1
    local report arrived state
    report=$(ip netns exec "$NS_GB" "$TESTPEER" --listen "$WAN_B:$PORT" --target "$WAN_A:$PORT" \
        --key "$WORKDIR/site-b.key" --peer-public-key "$(public_key a)" --marker causeway-fragmented --fragments) || fail "the test peer failed"
    echo "    sent: $report"
    sleep 1
    arrived=$(capture_stop marker)
    expect "the daemon survived" kill -0 "${DAEMON_PID[a]}"
    expect "exactly the one valid split frame reached the LAN (saw $arrived)" [ "$arrived" = 1 ]
    state=$(daemon_status a)
    expect "overlapping fragments were counted" [ "$(json_get "$state" "s['counters']['drops']['fragment-overlap']")" -ge 1 ]
    expect "oversized fragments were counted" [ "$(json_get "$state" "s['counters']['drops']['fragment-oversized']")" -ge 2 ]
    expect "300 incomplete frames filled the 64 slots and were counted as they were pushed out" \
        [ "$(json_get "$state" "s['counters']['drops']['reassembly-full']")" -ge 236 ]
    expect "reassembly memory stayed within its cap" \
        [ "$(json_get "$state" 's["reassembly"]["bytesInUse"] <= s["reassembly"]["capacityBytes"]')" = True ]
    reassembly_empty() { [ "$(ctl_value a status 's["reassembly"]["framesInProgress"]')" = 0 ]; }
    expect "the frames left incomplete time out" wait_for 5 reassembly_empty
}

test_icmp_too_big_answers_instead_of_splitting() {
    set_wan_mtu 1280
    write_config a "icmp-too-big = true"; write_config b "icmp-too-big = true"
    daemon_start a; daemon_start b
    wait_for 15 ping_ok "$NS_HA" "$LAN_B" || fail "host A never reached host B"
    expect "path MTU 1280" wait_for 10 path_mtu_is a 1280
    local output inner fragmented_before
    inner=$(( $(ctl_value a status 's["peers"][0]["largestWholeFrame"]') - 14 ))
    fragmented_before=$(counter a framesFragmented)
    # The first full-size ping with DF draws "fragmentation needed"; the host then knows.
    output=$(ip netns exec "$NS_HA" ping -M do -s 1472 -c 3 -i 0.3 -W 1 "$LAN_B" 2>&1 || true)
    echo "$output" | grep -m1 -i "mtu" | sed 's/^/    /'
    echo "$output" | grep -qiE "mtu ?= ?$inner" || fail "host A was not told the MTU $inner: $output"
    expect "host A's route cache learned MTU $inner" \
        bash -c "ip -n '$NS_HA' route get '$LAN_B' | grep -q 'mtu $inner'"
    expect "a ping that fits the MTU crosses with DF" \
        ip netns exec "$NS_HA" ping -M do -s $((inner - 28)) -c 2 -i 0.2 -W 2 "$LAN_B"
    expect "the answers were counted" [ "$(counter a tooBigSent)" -ge 1 ]
    expect "and nothing was split" [ "$(counter a framesFragmented)" = "$fragmented_before" ]
    # IPv6 hosts ignore an MTU under 1280, so over this WAN Causeway splits IPv6 frames instead.
    expect "a full-size IPv6 ping still crosses, split" ip netns exec "$NS_HA" ping -6 -M do -s 1452 -c 2 -i 0.2 -W 2 fd00:19::2
    expect "(split, not answered)" [ "$(counter a framesFragmented)" -gt "$fragmented_before" ]
}
