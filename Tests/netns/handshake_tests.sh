# Site identity keys and a handshake that cannot be turned against the link: wrong keys,
# echoes, floods of handshake-shaped datagrams, forged responses, key rotation.

drops_of() { json_get "$(daemon_status "$1")" "s['counters']['drops']['$2']"; }
counter_of() { json_get "$(daemon_status "$1")" "s['counters']['$2']"; }
peer_up() { [ "$(json_get "$(daemon_status "$1")" 's["peers"][0]["up"]')" = True ]; }

test_a_wrong_public_key_is_refused() {
    write_config a
    write_config b
    # B names a stranger's key for A: A's initiations open at B but name another key, and
    # B's initiations carry a mac1 for a key A does not have.
    local stranger; stranger=$("$CAUSEWAYD" genkey | "$CAUSEWAYD" pubkey)
    sed -i "s|^public-key = .*|public-key = \"$stranger\"|" "$WORKDIR/site-b.toml"
    daemon_start a; daemon_start b
    at_least() { [ "$(drops_of "$1" "$2")" -ge "$3" ]; }
    expect "A counts B's initiations as not addressed to it" wait_for 10 at_least a bad-mac1 2
    expect "B counts A's initiations as from an unknown peer" wait_for 10 at_least b unknown-peer 2
    expect "no session at A" [ "$(counter_of a sessionsEstablished)" = 0 ]
    expect "no session at B" [ "$(counter_of b sessionsEstablished)" = 0 ]
    expect_not "no traffic crosses" ping_ok "$NS_HA" "$LAN_B" -c 2 >/dev/null
    echo "    A: bad-mac1 $(drops_of a bad-mac1); B: unknown-peer $(drops_of b unknown-peer)"
}

test_an_echo_of_a_gateways_own_datagrams_never_makes_a_session() {
    start_both
    # The peer is cut off and its address taken by a reflector that sends every datagram
    # back to where it came from: gateway A then hears only itself.
    daemon_stop b
    ip netns exec "$NS_GB" "$TESTPEER" --listen "$WAN_B:$PORT" --target "$WAN_A:$PORT" \
        --key /dev/null --peer-public-key x --reflect 14 > "$WORKDIR/reflector.json" &
    local reflector=$!
    # Host A keeps broadcasting (ARP) and sending unicast to B's address while it lasts.
    # Only what arrives at host A (-Q in) and carries host A's own source MAC.
    ip netns exec "$NS_HA" tcpdump -Q in -i lan0 --immediate-mode -U -n -w "$WORKDIR/cap-lan0.pcap" "ether src $(mac_of "$NS_HA" lan0)" 2>/dev/null &
    CAPTURE_PID=$!
    sleep 1
    local sessions_before; sessions_before=$(counter_of a sessionsEstablished)
    ip netns exec "$NS_HA" ping -b -c 20 -i 0.5 -W 1 198.19.0.255 >/dev/null 2>&1 || true
    ip -n "$NS_HA" neigh flush all >/dev/null 2>&1 || true
    ip netns exec "$NS_HA" ping -c 5 -i 0.5 -W 1 "$LAN_B" >/dev/null 2>&1 || true
    wait "$reflector" || fail "the reflector failed"
    local own; own=$(capture_count lan0)
    echo "    reflected $(cat "$WORKDIR/reflector.json"); own-message drops $(drops_of a own-message); frames of host A that came back to it: $own"
    expect "A's own handshakes came back and were counted" [ "$(drops_of a own-message)" -ge 1 ]
    expect "no new session from an echo" [ "$(counter_of a sessionsEstablished)" = "$sessions_before" ]
    expect "A does not report the peer up" [ "$(json_get "$(daemon_status a)" 's["peers"][0]["up"]')" = False ]
    expect "no frame of host A came back into site A" [ "$own" = 0 ]
}

# flood_from NS TARGET KEY PEER_KEY SOURCES KINDS SECONDS: a flood of handshake-shaped
# datagrams, in the background; its PID in FLOOD_PIDS.
FLOOD_PIDS=()
flood_from() {
    local ns=$1 target=$2 key=$3 peer_key=$4 sources=$5 kinds=$6 seconds=$7 listen=$8
    ip netns exec "$ns" "$TESTPEER" --listen "$listen" --target "$target" --key "$key" --peer-public-key "$peer_key" \
        --sources "$sources" --kinds "$kinds" --rate 3000 --flood "$seconds" ${REPLAY:+--replay "$REPLAY"} > "$WORKDIR/flood-$ns.json" &
    FLOOD_PIDS+=($!)
}

test_a_handshake_flood_does_not_keep_the_link_down() {
    # Capture one of B's initiations on the wire, to replay it during the flood.
    # Version 4, type 1: WireFormat.version and MessageType.handshakeInitiation.
    capture "$NS_GA" wan0 "udp and src host $WAN_B and dst port $PORT and udp[8:2] = 0x0401"
    start_both
    kill "$CAPTURE_PID"; wait "$CAPTURE_PID" 2>/dev/null || true
    python3 "$HERE/frames.py" udp-payload "$WORKDIR/cap-wan0.pcap" > "$WORKDIR/initiation.hex" || fail "no initiation captured"
    local host
    for host in 10 11 12 13; do ip -n "$NS_GB" addr add "198.18.0.$host/24" dev wan0; done
    for host in 20 21 22 23; do ip -n "$NS_GA" addr add "198.18.0.$host/24" dev wan0; done
    # Junk of the right shape, initiations and responses with a valid mac1 (an attacker who
    # knows the public key), replays of the captured initiation: spoofed and from the peer's
    # own address, to both gateways.
    REPLAY="$WORKDIR/initiation.hex" flood_from "$NS_GB" "$WAN_A:$PORT" "$WORKDIR/site-b.key" "$(public_key a)" \
        "198.18.0.10,198.18.0.11,198.18.0.12,198.18.0.13" junk,mac1,replay,responses 12 "$WAN_B:40001"
    flood_from "$NS_GA" "$WAN_B:$PORT" "$WORKDIR/site-a.key" "$(public_key b)" \
        "198.18.0.20,198.18.0.21,198.18.0.22,198.18.0.23" junk,mac1,responses 12 "$WAN_A:40002"
    sleep 2
    expect "A is under load" [ "$(json_get "$(daemon_status a)" 's["peers"][0]["handshakeUnderLoad"]')" = True ]
    expect "the established session keeps carrying traffic during the flood" ping_ok "$NS_HA" "$LAN_B" >/dev/null
    daemon_stop b
    local started=$SECONDS start_ns end_ns
    start_ns=$(date +%s%N)
    daemon_start b
    wait_for 10 ip netns exec "$NS_HA" ping -c 1 -W 0.2 "$LAN_B" || fail "the link did not come back during the flood"
    end_ns=$(date +%s%N)
    local recovery_ms=$(( (end_ns - start_ns) / 1000000 ))
    local pid
    for pid in "${FLOOD_PIDS[@]}"; do wait "$pid" || fail "a flood failed"; done
    echo "    floods: $(cat "$WORKDIR/flood-$NS_GB.json") $(cat "$WORKDIR/flood-$NS_GA.json")"
    echo "    A drops: bad-mac1 $(drops_of a bad-mac1), cookie-required $(drops_of a cookie-required), stale $(drops_of a stale-handshake), rate-limited $(drops_of a handshake-rate-limited), unknown-index $(drops_of a unknown-index), authentication $(drops_of a authentication); cookie replies sent $(counter_of a cookieRepliesSent)"
    echo "    B restarted during the flood; hosts reached each other again after $recovery_ms ms (from starting causewayd)"
    expect "reached again within 2 s of the restart ($recovery_ms ms)" [ "$recovery_ms" -le 2000 ]
    expect "junk was dropped at mac1" [ "$(drops_of a bad-mac1)" -gt 1000 ]
    expect "under load, cookies were demanded" [ "$(drops_of a cookie-required)" -gt 100 ]
    expect "replays were refused as stale" [ "$(drops_of a stale-handshake)" -gt 100 ]
    expect "the daemons survived" kill -0 "${DAEMON_PID[a]}"
}

# transfer_seconds BYTES: seconds (with milliseconds) to send BYTES from host A to host B over TCP.
transfer_seconds() {
    ip netns exec "$NS_HB" python3 -c '
import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 5009)); s.listen(1)
c,_=s.accept()
while c.recv(1<<20): pass' &
    local sink=$!
    sleep 0.5
    ip netns exec "$NS_HA" python3 -c '
import socket,sys,time
n=int(sys.argv[2]); block=b"\0"*(1<<20); s=socket.create_connection((sys.argv[1], 5009)); t=time.monotonic()
while n>0: s.sendall(block[:min(n,len(block))]); n-=len(block)
s.shutdown(socket.SHUT_WR); s.recv(1); print("%.3f" % (time.monotonic()-t))' "$LAN_B" "$1"
    wait "$sink"
}

# cpu_ticks PID: the process's user plus system time, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# What a forged response costs before it is refused is work, not wall time: the daemon's CPU
# time over a window of flood, less the same window idle, divided by the responses refused in
# it. A response that reached the Diffie-Hellman step would cost well over 100 µs.
test_forged_responses_cost_little_and_leave_the_session_alone() {
    start_both
    local host
    for host in 10 11 12 13; do ip -n "$NS_GB" addr add "198.18.0.$host/24" dev wan0; done
    transfer_seconds $((20 * 1024 * 1024)) > /dev/null  # the session carries traffic
    local pid=${DAEMON_PID[a]} ticks_per_second; ticks_per_second=$(getconf CLK_TCK)
    local sessions_before; sessions_before=$(counter_of a sessionsEstablished)
    local idle_start; idle_start=$(cpu_ticks "$pid"); sleep 5
    local idle_ticks=$(( $(cpu_ticks "$pid") - idle_start ))
    flood_from "$NS_GB" "$WAN_A:$PORT" "$WORKDIR/site-b.key" "$(public_key a)" \
        "198.18.0.10,198.18.0.11,198.18.0.12,198.18.0.13" responses 30 "$WAN_B:40001"
    sleep 1
    local refused_start flood_start
    refused() { echo $(( $(drops_of a unknown-index) + $(drops_of a cookie-required) + $(drops_of a handshake-rate-limited) )); }
    refused_start=$(refused); flood_start=$(cpu_ticks "$pid"); sleep 5
    local flood_ticks=$(( $(cpu_ticks "$pid") - flood_start )) refused_count=$(( $(refused) - refused_start ))
    local seconds; seconds=$(transfer_seconds $((20 * 1024 * 1024)))
    kill "${FLOOD_PIDS[0]}" 2>/dev/null; wait "${FLOOD_PIDS[0]}" 2>/dev/null || true
    local microseconds; microseconds=$(python3 -c "print('%.1f' % (max(0, $flood_ticks - $idle_ticks) / $ticks_per_second * 1e6 / max(1, $refused_count)))")
    echo "    A's CPU over 5 s: $idle_ticks ticks idle, $flood_ticks under the flood; $refused_count forged responses refused: $microseconds µs each; 20 MB under the flood in $seconds s"
    expect "forged responses were seen and refused ($refused_count in 5 s)" [ "$refused_count" -gt 5000 ]
    expect "a forged response costs under 25 µs of CPU ($microseconds µs)" python3 -c "import sys; sys.exit(0 if $microseconds < 25 else 1)"
    expect "the flood started no new session" [ "$(counter_of a sessionsEstablished)" = "$sessions_before" ]
    expect "the peer stayed up" peer_up a
}

test_key_rotation_on_one_site() {
    start_both
    # As docs/operations.md says: a new key for site A, A's configuration points at it, B's
    # names A's new public key, both restart.
    "$CAUSEWAYD" genkey "$WORKDIR/site-a-new.key" || fail "genkey"
    sed -i 's|^private-key-file = .*|private-key-file = "site-a-new.key"|' "$WORKDIR/site-a.toml"
    sed -i "s|^public-key = .*|public-key = \"$("$CAUSEWAYD" pubkey "$WORKDIR/site-a-new.key")\"|" "$WORKDIR/site-b.toml"
    daemon_stop b; daemon_stop a
    expect "check accepts A's new configuration" ip netns exec "$NS_GA" "$CAUSEWAYD" check --config "$WORKDIR/site-a.toml"
    daemon_start a; daemon_start b
    expect "the sites talk again with A's new key" wait_for 10 ping_ok "$NS_HA" "$LAN_B"
    expect "B knows A by its new key" [ "$(json_get "$(daemon_status b)" 's["peers"][0]["publicKey"]')" = "$("$CAUSEWAYD" pubkey "$WORKDIR/site-a-new.key")" ]
    local handshake; handshake=$(json_get "$(daemon_status a)" 's["peers"][0]["secondsSinceLatestHandshake"]')
    expect "A shows a recent handshake ($handshake s ago)" python3 -c "import sys; sys.exit(0 if $handshake < 10 else 1)"
}

# cipher_of SITE: the transport cipher of the site's current session with its peer.
cipher_of() { json_get "$(daemon_status "$1")" 's["peers"][0].get("cipher")'; }

test_the_transport_cipher_is_agreed_in_the_handshake() {
    # One side names ChaCha20-Poly1305, the other is left at auto: both seal with it.
    write_config a 'cipher = "chacha20-poly1305"'; write_config b
    daemon_start a; daemon_start b
    expect "the sites talk with one side's cipher named" wait_for 15 ping_ok "$NS_HA" "$LAN_B"
    expect "A seals with chacha20-poly1305 ($(cipher_of a))" [ "$(cipher_of a)" = chacha20-poly1305 ]
    expect "B seals with chacha20-poly1305 ($(cipher_of b))" [ "$(cipher_of b)" = chacha20-poly1305 ]
    expect "status says the cipher" grep -q "cipher chacha20-poly1305" <<<"$(ctl b status)"
    daemon_stop a; daemon_stop b

    # Both at auto: AES-256-GCM exactly where this processor has AES instructions (BoringSSL
    # asks for AES and carry-less multiplication: pclmulqdq on x86, pmull on ARM), as both
    # gateways run on it.
    write_config a; write_config b
    daemon_start a; daemon_start b
    local expected=chacha20-poly1305
    grep -qw aes /proc/cpuinfo && grep -qwE 'pclmulqdq|pmull' /proc/cpuinfo && expected=aes-256-gcm
    expect "the sites talk at auto" wait_for 15 ping_ok "$NS_HA" "$LAN_B"
    expect "auto agrees on $expected ($(cipher_of a), $(cipher_of b))" [ "$(cipher_of a)/$(cipher_of b)" = "$expected/$expected" ]
    daemon_stop a; daemon_stop b

    # Two named ciphers that differ: every handshake is refused once it opened, and each
    # side says what the other accepts.
    write_config a 'cipher = "aes-256-gcm"'; write_config b 'cipher = "chacha20-poly1305"'
    daemon_start a; daemon_start b
    at_least() { [ "$(drops_of "$1" "$2")" -ge "$3" ]; }
    expect "B refuses A's initiations" wait_for 10 at_least b no-common-cipher 1
    expect "A refuses B's initiations" wait_for 10 at_least a no-common-cipher 1
    expect "no session at A" [ "$(counter_of a sessionsEstablished)" = 0 ]
    expect "no session at B" [ "$(counter_of b sessionsEstablished)" = 0 ]
    expect_not "no traffic crosses" ping_ok "$NS_HA" "$LAN_B" -c 2 >/dev/null
    expect "B's log names what A accepts" wait_for 5 grep -q "site-a's handshakes accept aes-256-gcm" "$WORKDIR/causewayd-b.log"
    expect "A's log names what B accepts" wait_for 5 grep -q "site-b's handshakes accept chacha20-poly1305" "$WORKDIR/causewayd-a.log"
}
