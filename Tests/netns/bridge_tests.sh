# The tests themselves; run.sh calls each test_* function in a fresh subshell.

mac_of() { ip -n "$1" -br link show "$2" | awk '{print $3}'; }
has_link() { ip -n "$1" link show "$2" >/dev/null 2>&1; }
master_of() { ip -n "$1" -o link show "$2" | grep -o 'master [^ ]*' | awk '{print $2}'; }
ping_ok() { ip netns exec "$1" ping -c 1 -W 1 "${@:2}"; }
both_up() {
    [ "$(json_get "$(daemon_status a)" 's["peers"][0]["up"]')" = True ] &&
    [ "$(json_get "$(daemon_status b)" 's["peers"][0]["up"]')" = True ]
}
start_both() {
    write_config a "$@"; write_config b "$@"
    daemon_start a; daemon_start b
    wait_for 15 ping_ok "$NS_HA" "$LAN_B" || fail "host A never reached host B"
}
# capture NS IFACE FILTER: starts tcpdump, leaves its PID in CAPTURE_PID, output in
# $WORKDIR/cap-IFACE.pcap. Immediate mode: otherwise packets still in the kernel's ring
# block when tcpdump is stopped are never written.
capture() {
    ip netns exec "$1" tcpdump -i "$2" --immediate-mode -U -n -w "$WORKDIR/cap-$2.pcap" "$3" 2>/dev/null &
    CAPTURE_PID=$!
    sleep 1
}
# capture_count IFACE: stops the capture and prints how many packets it saw.
capture_count() {
    sleep 0.5
    kill "$CAPTURE_PID"; wait "$CAPTURE_PID" 2>/dev/null || true
    python3 "$HERE/frames.py" count "$WORKDIR/cap-$1.pcap"
}

test_two_sites_become_one_subnet() {
    start_both
    # ARP resolved host B's real MAC across the WAN.
    local neighbor
    neighbor=$(ip -n "$NS_HA" neigh show "$LAN_B" | grep -o 'lladdr [^ ]*' | awk '{print $2}')
    expect "host A's ARP entry for host B is host B's MAC" [ "$neighbor" = "$(mac_of "$NS_HB" lan0)" ]
    expect "ping A -> B" ip netns exec "$NS_HA" ping -c 3 -i 0.2 -W 2 "$LAN_B"
    expect "ping B -> A" ip netns exec "$NS_HB" ping -c 3 -i 0.2 -W 2 "$LAN_A"
    expect "ping6 A -> B" ip netns exec "$NS_HA" ping -6 -c 3 -i 0.2 -W 2 fd00:19::2
    # UDP crosses.
    ip netns exec "$NS_HB" socat -u UDP-RECV:5002 OPEN:"$WORKDIR/udp.out",creat &
    local receiver=$!
    sleep 0.5
    echo "causeway-udp-probe" | ip netns exec "$NS_HA" socat -u STDIN UDP-SENDTO:"$LAN_B":5002
    sleep 1; kill $receiver 2>/dev/null; wait $receiver 2>/dev/null || true
    expect "a UDP datagram crossed" grep -q causeway-udp-probe "$WORKDIR/udp.out"

    # 20 MB of TCP arrive byte-identical.
    head -c 20000000 /dev/urandom > "$WORKDIR/tcp.in"
    ip netns exec "$NS_HB" socat -u TCP-LISTEN:5001,reuseaddr OPEN:"$WORKDIR/tcp.out",creat,trunc &
    receiver=$!
    sleep 0.5
    expect "TCP sender finished" timeout 60 ip netns exec "$NS_HA" socat -u OPEN:"$WORKDIR/tcp.in" TCP:"$LAN_B":5001
    wait $receiver || true
    expect "20 MB arrived byte-identical" [ "$(sha256sum < "$WORKDIR/tcp.in")" = "$(sha256sum < "$WORKDIR/tcp.out")" ]
    # A cut host A's large TCP frames into segments (TCPSegmentation); B merged segments
    # into large frames that host B's kernel took (TCPCoalescer). Both ways byte-exact.
    local coalesced segmented
    segmented=$(json_get "$(daemon_status a)" 's["counters"]["framesSegmented"]')
    expect "A cut large TCP frames over IPv4 ($segmented)" [ "$segmented" -gt 100 ]
    coalesced=$(json_get "$(daemon_status b)" 's["counters"]["framesCoalesced"]')
    expect "B coalesced TCP segments over IPv4 ($coalesced)" [ "$coalesced" -gt 1000 ]
    # The same over IPv6, and back from B to A.
    ip netns exec "$NS_HA" socat -u TCP6-LISTEN:5004,reuseaddr OPEN:"$WORKDIR/tcp6.out",creat,trunc &
    receiver=$!
    sleep 0.5
    expect "TCP over IPv6 finished" timeout 60 ip netns exec "$NS_HB" socat -u OPEN:"$WORKDIR/tcp.in" TCP6:[fd00:19::1]:5004
    wait $receiver || true
    expect "20 MB over IPv6 arrived byte-identical" [ "$(sha256sum < "$WORKDIR/tcp.in")" = "$(sha256sum < "$WORKDIR/tcp6.out")" ]
    segmented=$(json_get "$(daemon_status b)" 's["counters"]["framesSegmented"]')
    expect "B cut large TCP frames over IPv6 ($segmented)" [ "$segmented" -gt 100 ]
    coalesced=$(json_get "$(daemon_status a)" 's["counters"]["framesCoalesced"]')
    expect "A coalesced TCP segments over IPv6 ($coalesced)" [ "$coalesced" -gt 1000 ]

    # Both daemons learned both hosts, each at the right place.
    local state_a macs_a host_a host_b
    state_a=$(daemon_status a); macs_a=$(daemon_macs a)
    host_a=$(mac_of "$NS_HA" lan0); host_b=$(mac_of "$NS_HB" lan0)
    expect "A learned host A as local" [ "$(json_get "$macs_a" "[m['location'] for m in s if m['mac']=='$host_a']")" = "['local']" ]
    expect "A learned host B as behind the peer" [ "$(json_get "$macs_a" "[m['location'] for m in s if m['mac']=='$host_b']")" = "['peer']" ]
    expect "A moved frames both ways" [ "$(json_get "$state_a" 's["counters"]["framesToPeer"] > 10000 and s["counters"]["framesToLAN"] > 100')" = True ]
}

test_vlan_tagged_frames_cross_unchanged() {
    start_both
    # This kernel has no 8021q module, so host A writes tagged frames itself (AF_PACKET)
    # and a capture on host B's LAN compares what arrives byte for byte.
    capture "$NS_HB" lan0 "vlan 100"
    ip netns exec "$NS_HA" python3 "$HERE/frames.py" send lan0 "$WORKDIR/vlan.frame" 5
    capture_count lan0 >/dev/null
    expect "5 tagged frames arrived byte-identical" \
        python3 "$HERE/frames.py" compare "$WORKDIR/cap-lan0.pcap" "$WORKDIR/vlan.frame" 5
    expect "A learned the sender with its VLAN" \
        [ "$(json_get "$(daemon_macs a)" "[m.get('vlan') for m in s if m['mac']=='02:00:00:00:01:00']")" = "[100]" ]
}

test_broadcast_crosses_and_local_unicast_stays_local() {
    start_both
    # A broadcast ARP request from host A reaches host B's LAN.
    capture "$NS_HB" lan0 "arp and ether broadcast and ether src $(mac_of "$NS_HA" lan0)"
    ip netns exec "$NS_HA" arping -c 3 -w 3 -I lan0 198.19.0.77 >/dev/null 2>&1 || true
    expect "the broadcast crossed to site B" [ "$(capture_count lan0)" -ge 3 ]

    # A second host on site A's LAN; the bridge does not learn these two ports, so it floods
    # their unicast to the TAP too, and causewayd alone must keep it off the WAN.
    ip netns add "cw-hA2-$SUFFIX"
    ip -n "cw-hA2-$SUFFIX" link add lan0 type veth peer name lan-a2 netns "$NS_GA"
    ip -n "cw-hA2-$SUFFIX" addr add 198.19.0.3/24 dev lan0
    ip -n "cw-hA2-$SUFFIX" link set lan0 up
    ip -n "$NS_GA" link set lan-a2 master br0 up
    ip -n "$NS_GA" link set lan-a type bridge_slave learning off
    ip -n "$NS_GA" link set lan-a2 type bridge_slave learning off
    # What the ports learned before (host A from its ARP above, host A2 at link up) goes too.
    ip -n "$NS_GA" link set br0 type bridge fdb_flush
    expect "host A reaches the second local host" wait_for 10 ping_ok "$NS_HA" 198.19.0.3
    local suppressed_before
    suppressed_before=$(json_get "$(daemon_status a)" 's["counters"]["suppressedLocal"]')

    # Large local pings would show up on the WAN as data datagrams over 1200 bytes; none may.
    # (udp[9] is the message type: control messages, path MTU probes among them, are not frames.)
    capture "$NS_GA" wan0 "udp and greater 1200 and udp[9] != 4"
    ip netns exec "$NS_HA" ping -c 20 -i 0.05 -s 1200 -W 1 198.19.0.3 >/dev/null
    local local_count; local_count=$(capture_count wan0)
    # The same capture does see large pings to the far site, so it could have failed.
    capture "$NS_GA" wan0 "udp and greater 1200 and udp[9] != 4"
    ip netns exec "$NS_HA" ping -c 20 -i 0.05 -s 1200 -W 1 "$LAN_B" >/dev/null
    local remote_count; remote_count=$(capture_count wan0)
    ip netns del "cw-hA2-$SUFFIX"
    expect "no local unicast crossed the WAN (saw $local_count)" [ "$local_count" = 0 ]
    expect "remote unicast did cross the WAN (saw $remote_count)" [ "$remote_count" -ge 20 ]
    local suppressed_after
    suppressed_after=$(json_get "$(daemon_status a)" 's["counters"]["suppressedLocal"]')
    expect "causewayd counted the suppressed frames ($suppressed_before -> $suppressed_after)" [ "$((suppressed_after - suppressed_before))" -ge 20 ]
}

test_mac_entries_age_out() {
    start_both "mac-aging-time = 2"
    local host_b; host_b=$(mac_of "$NS_HB" lan0)
    has_host_b() { json_get "$(daemon_macs a)" "'$host_b' in [m['mac'] for m in s]" | grep -q True; }
    lacks_host_b() { ! has_host_b; }
    ip netns exec "$NS_HA" ping -c 1 -W 1 "$LAN_B" >/dev/null
    expect "host B is learned after traffic" has_host_b
    expect "host B's entry ages out after 2 s without traffic" wait_for 15 lacks_host_b
}

# small_datagrams_cross FROM_NS TO_NS HOST [6]: 20,000 datagrams of 40 bytes, in bursts of 40
# back to back every 2 ms (a burst crosses in a few batches, so it merges); prints the
# receiver's report.
small_datagrams_cross() {
    ip netns exec "$2" python3 "$HERE/udp_check.py" receive 5005 12 ${4:-} > "$WORKDIR/small-udp" &
    local receiver=$!
    wait_for 5 grep -q listening "$WORKDIR/small-udp"
    ip netns exec "$1" python3 "$HERE/udp_check.py" send "$3" 5005 20000 40 0.002 40
    wait $receiver
    tail -n 1 "$WORKDIR/small-udp"
}

# datagrams_merged_intact SITE REPORT: what the receiving gateway and host saw.
datagrams_merged_intact() {
    local report=$2 status
    status=$(daemon_status "$1")
    expect "no datagram damaged ($report)" [ "$(json_get "$report" 's["damaged"]')" = 0 ]
    expect "none twice" [ "$(json_get "$report" 's["distinct"] == s["received"]')" = True ]
    expect "at least 95 % of them arrived" [ "$(json_get "$report" 's["distinct"]')" -ge 19000 ]
    expect "the TAP took every merged write" [ "$(json_get "$status" 's["counters"]["drops"].get("send-failed", 0)')" = 0 ]
    expect "$1 merged datagrams" [ "$(json_get "$status" 's["counters"]["framesCoalesced"]')" -gt 1000 ]
}

test_small_datagrams_cross_merged_and_intact() {
    start_both
    # Each gateway merges a flow's datagrams into one TAP write with UDP segmentation
    # (UDPCoalescer); the kernel cuts it back. With checksum offload off on the LAN port the
    # kernel completes each datagram's checksum in software from the seed the merge left, and
    # the receiving host verifies it: a wrong seed would lose every merged datagram.
    ip netns exec "$NS_GB" ethtool -K lan-b tx off >/dev/null
    ip netns exec "$NS_GA" ethtool -K lan-a tx off >/dev/null
    datagrams_merged_intact b "$(small_datagrams_cross "$NS_HA" "$NS_HB" "$LAN_B")"
    datagrams_merged_intact a "$(small_datagrams_cross "$NS_HB" "$NS_HA" fd00:19::1 6)"
}

test_full_size_frame_crosses_1500_byte_wan() {
    start_both
    expect "1472-byte ping A -> B" ip netns exec "$NS_HA" ping -c 3 -i 0.2 -W 2 -M dont -s 1472 "$LAN_B"
    expect "1472-byte ping B -> A" ip netns exec "$NS_HB" ping -c 3 -i 0.2 -W 2 -M dont -s 1472 "$LAN_A"
}

test_hostile_datagrams_are_counted_and_dropped() {
    write_config a
    daemon_start a
    sleep 1
    capture "$NS_HA" lan0 "ether proto 0x88b5"
    local report
    report=$(ip netns exec "$NS_GB" "$TESTPEER" --listen "$WAN_B:$PORT" --target "$WAN_A:$PORT" \
        --key "$WORKDIR/site-b.key" --peer-public-key "$(public_key a)" --marker causeway-valid)
    echo "    sent: $report"
    local arrived; arrived=$(capture_count lan0)
    expect "the daemon survived" kill -0 "${DAEMON_PID[a]}"
    expect "exactly the one valid frame reached the LAN (saw $arrived)" [ "$arrived" = 1 ]
    local state; state=$(daemon_status a)
    local reason
    for reason in malformed authentication replay unknown-network unknown-session bad-mac1 unknown-peer; do
        local want got
        want=$(json_get "$report" "s['$reason']")
        got=$(json_get "$state" "s['counters']['drops']['$reason']")
        expect "drops[$reason] = $got, at least the $want sent" [ "$got" -ge "$want" ]
    done
}

test_restarted_peer_is_rehandshaked() {
    start_both
    local sessions_before tap_mac_before
    sessions_before=$(json_get "$(daemon_status a)" 's["counters"]["sessionsEstablished"]')
    tap_mac_before=$(mac_of "$NS_GB" cw0)
    daemon_kill b
    expect_not "traffic stops while B is down" ip netns exec "$NS_HA" ping -c 2 -W 1 "$LAN_B"
    daemon_start b
    expect "traffic resumes without touching A" wait_for 20 ping_ok "$NS_HA" "$LAN_B"
    local sessions_after
    sessions_after=$(json_get "$(daemon_status a)" 's["counters"]["sessionsEstablished"]')
    expect "A shows a new session ($sessions_before -> $sessions_after)" [ "$sessions_after" -gt "$sessions_before" ]
    expect "B's TAP kept its MAC across the restart" [ "$(mac_of "$NS_GB" cw0)" = "$tap_mac_before" ]
}

test_sigterm_restores_created_bridge() {
    write_config a
    daemon_start a
    wait_for 10 has_link "$NS_GA" cw0 || fail "cw0 never appeared"
    expect "lan-a was enslaved into br0" [ "$(master_of "$NS_GA" lan-a)" = br0 ]
    expect "causewayd exited 0 on SIGTERM" daemon_stop a
    expect_not "the TAP is gone" has_link "$NS_GA" cw0
    expect_not "the bridge causewayd created is gone" has_link "$NS_GA" br0
    expect "lan-a is out of any bridge" [ -z "$(master_of "$NS_GA" lan-a)" ]
}

test_sigterm_leaves_existing_bridge() {
    ip -n "$NS_GA" link add br0 type bridge
    write_config a
    daemon_start a
    wait_for 10 has_link "$NS_GA" cw0 || fail "cw0 never appeared"
    expect "cw0 is a port of the existing bridge" [ "$(master_of "$NS_GA" cw0)" = br0 ]
    expect "causewayd exited 0 on SIGINT-free SIGTERM" daemon_stop a
    expect "the existing bridge is still there" has_link "$NS_GA" br0
    expect_not "the TAP is gone" has_link "$NS_GA" cw0
    expect "lan-a, which causewayd added, is out again" [ -z "$(master_of "$NS_GA" lan-a)" ]
    expect "the bridge is down again, as it was" ip -n "$NS_GA" -o link show br0 | grep -qv 'state UP'
}

# run_bad CONFIG_NAME EXPECTED_EXIT PATTERN: causewayd must refuse with a message naming the
# file, the key and the problem, and leave no device behind.
run_bad() {
    local name=$1 want=$2 pattern=$3 status=0 output
    output=$(ip netns exec "$NS_GA" "$CAUSEWAYD" run --config "$WORKDIR/$name.toml" 2>&1) || status=$?
    [ "$status" = "$want" ] || fail "$name: exit $status, expected $want ($output)"
    echo "$output" | grep -q "$WORKDIR/$name.toml" || fail "$name: message does not name the file: $output"
    echo "$output" | grep -qE "$pattern" || fail "$name: message does not match '$pattern': $output"
    ! has_link "$NS_GA" br0 || fail "$name: br0 left behind"
    ! has_link "$NS_GA" cw0 || fail "$name: cw0 left behind"
    [ -z "$(master_of "$NS_GA" lan-a)" ] || fail "$name: lan-a left in a bridge"
    [ ! -e "$WORKDIR/site-a.sock" ] || fail "$name: control socket left behind"
    if [ "$want" = 2 ]; then
        ip netns exec "$NS_GA" "$CAUSEWAYD" check --config "$WORKDIR/$name.toml" >/dev/null 2>&1 && fail "$name: check accepted it"
    fi
    echo "    $name: $(echo "$output" | tail -n 1)"
}

test_bad_configurations_are_refused_cleanly() {
    write_config a
    local good="$WORKDIR/site-a.toml"
    expect "check accepts the good configuration" ip netns exec "$NS_GA" "$CAUSEWAYD" check --config "$good"
    mk() { local name=$1 sed_expr=$2; sed "$sed_expr" "$good" > "$WORKDIR/$name.toml"; }
    mk unknown-key '1i colour = "blue"';                    run_bad unknown-key 2 "key 'colour': unknown key"
    mk missing-peer '/^\[\[peer\]\]/,$d';                      run_bad missing-peer 2 "key 'peer': missing"
    mk bad-address 's/^endpoint = .*/endpoint = "198.18.0.300:51820"/'; run_bad bad-address 2 "key 'peer.endpoint': '198.18.0.300:51820' is not ADDRESS:PORT"
    mk own-key "s|^public-key = .*|public-key = \"$(public_key a)\"|"; run_bad own-key 2 "key 'peer.public-key'.*this site's own public key"
    mk version-1 's/^private-key-file = .*/key-file = "site-a.key"/'; run_bad version-1 2 "key 'key-file': a shared key alone no longer identifies a site"
    mk bad-port 's/^listen = .*/listen = "198.18.0.1:70000"/'; run_bad bad-port 2 "key 'listen'.*70000"
    mk no-nic 's/^lan-interface = .*/lan-interface = "eth9"/'; run_bad no-nic 2 "key 'lan-interface': 'eth9' does not exist"
    mk syntax 's/^tap = .*/tap = = "cw0"/';                 run_bad syntax 2 "line [0-9]+"
    head -c 16 /dev/urandom | base64 > "$WORKDIR/short.key"; chmod 600 "$WORKDIR/short.key"
    mk short-key 's/^private-key-file = .*/private-key-file = "short.key"/'; run_bad short-key 2 "key 'private-key-file'.*16 bytes, a key has 32"
    head -c 32 /dev/urandom | base64 > "$WORKDIR/open.key"; chmod 644 "$WORKDIR/open.key"
    mk open-key 's/^private-key-file = .*/private-key-file = "open.key"/';  run_bad open-key 2 "key 'private-key-file'.*mode 644"
    ln -s "$WORKDIR/site-a.key" "$WORKDIR/link.key"
    mk linked-key 's/^private-key-file = .*/private-key-file = "link.key"/';  run_bad linked-key 2 "key 'private-key-file'.*is a symbolic link"
    mk bad-psk '1i preshared-key-file = "open.key"';      run_bad bad-psk 2 "key 'preshared-key-file'.*mode 644"
    cp "$good" "$WORKDIR/writable.toml"; chmod 666 "$WORKDIR/writable.toml"; run_bad writable 2 "writable by others"
    cp "$WORKDIR/site-a.key" "$WORKDIR/foreign.key"; chown 65534 "$WORKDIR/foreign.key"
    mk foreign-key 's/^private-key-file = .*/private-key-file = "foreign.key"/'; run_bad foreign-key 2 "key 'private-key-file'.*owned by uid 65534, neither root"
    # Fails after the bridge and TAP exist (the address is not on this host): all rolled back.
    mk foreign-listen 's/^listen = .*/listen = "198.18.0.99:51820"/'; run_bad foreign-listen 1 "key 'listen'.*bind"
    mk no-socket-dir 's|^control-socket = .*|control-socket = "/nonexistent-causeway/run/x.sock"|'; run_bad no-socket-dir 1 "key 'control-socket'.*mkdir"
}

test_genkey_writes_private_key() {
    expect "genkey creates the file" "$CAUSEWAYD" genkey "$WORKDIR/new.key"
    expect "mode 600" [ "$(stat -c %a "$WORKDIR/new.key")" = 600 ]
    expect "32 bytes of base64" [ "$(base64 -d < "$WORKDIR/new.key" | wc -c)" = 32 ]
    expect_not "genkey refuses to overwrite" "$CAUSEWAYD" genkey "$WORKDIR/new.key" 2>/dev/null
    local public; public=$("$CAUSEWAYD" pubkey "$WORKDIR/new.key") || fail "pubkey FILE"
    expect "pubkey reads stdin as well" [ "$("$CAUSEWAYD" pubkey < "$WORKDIR/new.key")" = "$public" ]
    expect "a public key is 32 bytes of base64" [ "$(echo "$public" | base64 -d | wc -c)" = 32 ]
    expect "another private key, another public key" [ "$("$CAUSEWAYD" genkey | "$CAUSEWAYD" pubkey)" != "$public" ]
    expect "pubkey refuses what is not a key" sh -c "! echo nonsense | '$CAUSEWAYD' pubkey 2>/dev/null"
    expect "genpsk writes a pre-shared key" "$CAUSEWAYD" genpsk "$WORKDIR/link.psk"
    expect "mode 600" [ "$(stat -c %a "$WORKDIR/link.psk")" = 600 ]
}

test_example_configurations_pass_check() {
    local site lan
    for site in a b; do
        lan=lan-$site
        # The examples name eth1 and a placeholder for the peer's key; this gateway's LAN NIC
        # has its own name, and the peer is the other test site.
        "$CAUSEWAYD" genkey "$WORKDIR/causeway-$site.key" || fail "genkey"
        sed -e "s/^lan-interface = .*/lan-interface = \"$lan\"/" -e "s/^private-key-file = .*/private-key-file = \"causeway-$site.key\"/" \
            -e "s|^public-key = .*|public-key = \"$(public_key a)\"|" "$ROOT/examples/site-$site.toml" > "$WORKDIR/example-$site.toml"
        expect "examples/site-$site.toml passes check" ip netns exec "$(gateway_ns $site)" "$CAUSEWAYD" check --config "$WORKDIR/example-$site.toml"
    done
    grep -q '^listen = "198.18.0.1:' "$ROOT/examples/site-a.toml" && grep -q '^endpoint = "198.18.0.1:' "$ROOT/examples/site-b.toml" \
        || fail "the example pair does not point at each other"
}
