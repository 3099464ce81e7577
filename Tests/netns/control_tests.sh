# causewayctl and the control socket (docs/control.md).

# ctl_json SITE ARGS... PYTHON-EXPRESSION: one value out of a --json reply.
ctl_value() {
    local site=$1 expression=${*: -1} json
    json=$(ctl "$site" "${@:2:$#-2}" --json) || return 1
    json_get "$json" "$expression"
}

test_ctl_reports_macs_and_counters() {
    start_both
    local host_a host_b flooded_before flooded_after
    host_a=$(mac_of "$NS_HA" lan0); host_b=$(mac_of "$NS_HB" lan0)
    ip netns exec "$NS_HB" ping -c 3 -i 0.2 "$LAN_A" >/dev/null || fail "host B cannot ping host A"

    for site in a b; do
        local here there macs
        if [ $site = a ]; then here=$host_a; there=$host_b; else here=$host_b; there=$host_a; fi
        macs=$(daemon_macs $site)
        expect "daemon $site lists its own host as local" \
            [ "$(json_get "$macs" "[m['location'] for m in s if m['mac']=='$here']")" = "['local']" ]
        expect "daemon $site lists the other host behind the peer" \
            [ "$(json_get "$macs" "[(m['location'], m['peerEndpoint']) for m in s if m['mac']=='$there']")" = \
              "[('peer', '$([ $site = a ] && echo $WAN_B || echo $WAN_A):$PORT')]" ]
        expect "daemon $site moved frames each way" \
            [ "$(ctl_value $site status 's["counters"]["framesToPeer"] >= 3 and s["counters"]["framesFromPeer"] >= 3 and s["counters"]["framesToLAN"] >= 3')" = True ]
        expect "daemon $site reports every device up" \
            [ "$(ctl_value $site status "sorted((d['role'], d['state']) for d in s['devices'])")" = "[('bridge', 'up'), ('lan', 'up'), ('tap', 'up')]" ]
    done

    flooded_before=$(ctl_value a status 's["counters"]["flooded"]')
    ip netns exec "$NS_HA" arping -b -c 3 -w 3 -I lan0 "$LAN_B" >/dev/null || true
    flooded_after=$(ctl_value a status 's["counters"]["flooded"]')
    expect "3 broadcast ARP requests counted as flooded ($flooded_before -> $flooded_after)" [ $((flooded_after - flooded_before)) -ge 3 ]

    # The tables people read carry the same facts.
    local status_text macs_text
    status_text=$(ctl a status --all) || fail "status --all failed"
    macs_text=$(ctl a macs) || fail "macs without --json failed"
    echo "$status_text" | sed -n '1,9p' | sed 's/^/    /'
    echo "$status_text" | grep -qE "^site-b +$WAN_B:$PORT +$(public_key b | cut -c1-8 | sed "s/+/\\\\+/g")… +up " || fail "the status table does not show the peer, by its key, up"
    echo "$status_text" | grep -qE "^flooded +[0-9]+$" || fail "the status table has no flooded row"
    echo "$status_text" | grep -qE "^framesToPeer +[0-9]+$" || fail "status --all does not name counters by their JSON key"
    echo "$macs_text" | grep -qE "^$host_b +peer site-b " || fail "the MAC table does not show host B behind the peer: $macs_text"
    echo "$macs_text" | grep -qE "^$host_a +local " || fail "the MAC table does not show host A as local: $macs_text"
}

test_ctl_explains_local_remote_and_unknown() {
    start_both
    local host_a host_b
    host_a=$(mac_of "$NS_HA" lan0); host_b=$(mac_of "$NS_HB" lan0)
    expect "a local MAC is suppressed" [ "$(ctl_value a explain "$host_a" 's["verdict"]')" = suppress ]
    expect "a remote MAC goes to the peer" [ "$(ctl_value a explain "$host_b" 's["verdict"]')" = send-to-peer ]
    expect "an unknown MAC is flooded" [ "$(ctl_value a explain 02:00:00:00:99:99 's["verdict"]')" = flood ]
    expect "broadcast is flooded" [ "$(ctl_value a explain ff:ff:ff:ff:ff:ff 's["verdict"]')" = flood ]
    expect "the other side sees host A as remote" [ "$(ctl_value b explain "$host_a" 's["verdict"]')" = send-to-peer ]
    ctl a explain "$host_b" | sed 's/^/    /'
    ctl a explain "$host_b" | grep -q "behind the peer site-b ($WAN_B:$PORT), learned" || fail "the explanation does not say where and when"
    expect_not "a malformed MAC is refused" ctl a explain 02:00:zz 2>/dev/null
}

test_ctl_metrics_parse_and_agree_with_status() {
    start_both
    ip netns exec "$NS_HA" ping -c 3 -i 0.2 "$LAN_B" >/dev/null
    ctl a status --json > "$WORKDIR/before.json" || fail "status"
    ctl a metrics > "$WORKDIR/metrics.txt" || fail "metrics"
    ctl a status --json > "$WORKDIR/after.json" || fail "status"
    grep -q '^# HELP causeway_drops_total ' "$WORKDIR/metrics.txt" || fail "no HELP line for drops"
    grep -q '^causeway_drops_total{instance="site-a",reason="replay"} ' "$WORKDIR/metrics.txt" || fail "no replay drop sample of instance site-a"
    expect "metrics parse with prometheus_client and agree with status" \
        python3 "$HERE/metrics_check.py" "$WORKDIR/metrics.txt" "$WORKDIR/before.json" "$WORKDIR/after.json"
}

# as_user UID GID COMMAND...: runs COMMAND as that user with only that group.
as_user() { local uid=$1 gid=$2; shift 2; setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"; }

test_ctl_socket_mode_owner_and_access() {
    # Reachable by an unprivileged user up to the socket itself, so that the socket's own
    # mode is what decides.
    chmod 711 "$WORKDIR"
    install -m 755 "$CAUSEWAYCTL" "$WORKDIR/causewayctl"
    local socket="$WORKDIR/site-a.sock" output status=0 gid
    write_config a
    daemon_start a
    wait_for 10 test -S "$socket" || fail "no control socket"
    expect "the socket is mode 660, root:root without a causeway group" [ "$(stat -c '%a %u %g' "$socket")" = "660 0 0" ]
    output=$(as_user 65534 65534 "$WORKDIR/causewayctl" status --socket "$socket" 2>&1) || status=$?
    expect "a user outside the group is refused with exit 4 ($status)" [ "$status" = 4 ]
    echo "$output" | grep -q "permission denied on $socket" || fail "the refusal does not say permission denied: $output"
    echo "    $output"
    daemon_stop a

    # With a causeway group (in a private copy of /etc/group, seen only by this daemon).
    gid=$(( 40000 + RANDOM % 20000 ))
    while getent group "$gid" >/dev/null; do gid=$((gid + 1)); done
    { cat /etc/group; echo "causeway:x:$gid:"; } > "$WORKDIR/group"
    unshare --mount --propagation private bash -c 'mount --bind "$1" /etc/group && exec ip netns exec "$2" "$3" run --config "$4"' \
        _ "$WORKDIR/group" "$NS_GA" "$CAUSEWAYD" "$WORKDIR/site-a.toml" >>"$WORKDIR/causewayd-a.log" 2>&1 &
    DAEMON_PID[a]=$!
    wait_for 10 test -S "$socket" || fail "no control socket"
    expect "the socket belongs to root and group causeway ($gid)" [ "$(stat -c '%a %u %g' "$socket")" = "660 0 $gid" ]
    expect "a member of group causeway is served" as_user 65534 "$gid" "$WORKDIR/causewayctl" status --socket "$socket" --json >/dev/null
    status=0; as_user 65534 65534 "$WORKDIR/causewayctl" status --socket "$socket" >/dev/null 2>&1 || status=$?
    expect "a non-member is still refused ($status)" [ "$status" = 4 ]
}

test_ctl_bad_input_leaves_daemon_serving() {
    write_config a
    daemon_start a
    local socket="$WORKDIR/site-a.sock" scenario
    wait_for 10 test -S "$socket" || fail "no control socket"
    for scenario in unknown-request malformed-json oversized silent disconnect-mid-request pipelined full; do
        expect "control client scenario '$scenario'" python3 "$HERE/control_client.py" "$socket" "$scenario" >/dev/null
        expect "the daemon still answers after '$scenario'" ctl a status --json >/dev/null
        echo "    $scenario: handled"
    done
    expect "causewayd is still running" kill -0 "${DAEMON_PID[a]}"
}

test_ctl_socket_lifecycle() {
    local socket="$WORKDIR/site-a.sock" output status=0
    write_config a
    output=$(ctl a status 2>&1) || status=$?
    expect "with no daemon, causewayctl exits 3 ($status)" [ "$status" = 3 ]
    echo "$output" | grep -q "no control socket at $socket" || fail "no-socket message: $output"

    daemon_start a
    wait_for 10 ctl a status || fail "the daemon never answered"
    expect "SIGTERM ends causewayd cleanly" daemon_stop a
    expect_not "the socket is removed on exit" test -e "$socket"

    daemon_start a
    wait_for 10 ctl a status || fail "the daemon never answered after a restart"
    daemon_kill a
    expect "a crash leaves a stale socket file" test -S "$socket"
    status=0; output=$(ctl a status 2>&1) || status=$?
    expect "against a stale socket causewayctl exits 3 ($status)" [ "$status" = 3 ]
    echo "$output" | grep -q "causewayd is not running" || fail "stale-socket message: $output"
    # The crash also left its bridge (the TAP went with the process); a fresh start reclaims it.
    daemon_start a
    expect "a stale socket does not block a restart" wait_for 10 ctl a status

    status=0
    output=$(ip netns exec "$NS_GA" "$CAUSEWAYD" run --config "$WORKDIR/site-a.toml" 2>&1) || status=$?
    expect "a second daemon on a live socket refuses to start ($status)" [ "$status" = 1 ]
    echo "$output" | grep -q "in use by a running causewayd" || fail "second-daemon message: $output"
    echo "    $output"
    expect "the first daemon still answers" ctl a status --json >/dev/null
    expect "the first daemon's TAP is still there" has_link "$NS_GA" cw0
}

test_ctl_idle_clients_give_slots_back() {
    write_config a
    daemon_start a
    local socket="$WORKDIR/site-a.sock"
    wait_for 10 ctl a status || fail "the daemon never answered"
    # 16 silent clients take every slot; each must be answered and closed about a second
    # after it connected, so causewayctl, waiting in the backlog meanwhile, gets through.
    python3 "$HERE/control_client.py" "$socket" idle-slots > "$WORKDIR/idle.out" &
    local holder=$!
    wait_for 5 grep -q holding "$WORKDIR/idle.out" || fail "the idle clients never connected"
    local started=$EPOCHREALTIME elapsed
    expect "causewayctl status answers while idle clients hold the slots" ctl a status --json >/dev/null
    elapsed=$(python3 -c "print(f'{$EPOCHREALTIME - $started:.2f}')")
    echo "    status answered after ${elapsed} s"
    expect "status answered within 2 s of 16 idle clients connecting ($elapsed s)" python3 -c "import sys; sys.exit(not $elapsed < 2)"
    expect "every idle client got a timeout and was closed within ~1 s" wait "$holder"
}

test_ctl_connection_request_budget() {
    write_config a
    daemon_start a
    local socket="$WORKDIR/site-a.sock"
    wait_for 10 ctl a status || fail "the daemon never answered"
    expect "100 requests answered, the 101st refused with an error and the connection closed" \
        python3 "$HERE/control_client.py" "$socket" budget >/dev/null
    expect "a new connection is answered again" ctl a status --json >/dev/null
}

rtt_known() { [ "$(ctl_value a status 's["peers"][0].get("roundTripSeconds") is not None')" = True ]; }
peer_of_a_down() { [ "$(ctl_value a status 's["peers"][0]["up"]')" = False ]; }

test_ctl_status_compact_all_and_check() {
    start_both
    ip netns exec "$NS_HA" ping -c 3 -i 0.2 "$LAN_B" >/dev/null || fail "host A cannot ping host B"
    wait_for 10 rtt_known || fail "no round-trip time measured"
    local text all json output status=0 key
    key=$(public_key a | cut -c1-8)
    text=$(ctl a status) || fail "status failed"
    json=$(ctl a status --json) || fail "status --json failed"
    echo "$text" | sed 's/^/    /'
    expect "status fits in about ten lines ($(echo "$text" | wc -l))" [ "$(echo "$text" | wc -l)" -le 10 ]
    [[ "$(head -1 <<<"$text")" == "gateway site-a: key $key…, listening on $WAN_A:$PORT, causewayd "*" up "* ]] ||
        fail "the gateway line does not name the instance, this site's key and listen"
    expect "the devices in one line" grep -qE "^  bridge br0 up, tap cw0 up, lan lan-a up, [0-9]+ of [0-9]+ MACs$" <<<"$text"
    expect "the peer by name, up" grep -qx "peer site-b: up" <<<"$text"
    expect "its endpoint" grep -qx "  endpoint: $WAN_B:$PORT" <<<"$text"
    expect "its latest handshake and the session's cipher" grep -qE "^  latest handshake: [0-9.]+(ms|s|m[0-9]+s) ago, cipher (aes-256-gcm|chacha20-poly1305)$" <<<"$text"
    expect "transfer in human units" grep -qE "^  transfer: [0-9.]+ (B|KiB|MiB) received, [0-9.]+ (B|KiB|MiB) sent$" <<<"$text"
    expect "rtt and path MTU" grep -qE "^  rtt: ([0-9.]+(µs|ms|s)|-), path MTU: [0-9]+" <<<"$text"
    # Frames the bridge sent before the first session are dropped as no-session, or not,
    # as the start happens to go: the drops line names exactly the peer's non-zero drops.
    local dropped shown
    dropped=$(json_get "$json" '", ".join(sorted(f"{k} {v}" for k, v in s["peers"][0]["counters"]["drops"].items() if v))')
    shown=$(sed -n '/^peer/,$p' <<<"$text" | sed -n 's/^  drops: //p' | tr ',' '\n' | sed 's/^ //' | LC_ALL=C sort | paste -sd, | sed 's/,/, /g')
    if [ -z "$dropped" ]; then
        expect "no drops line when nothing was dropped by the peer ($shown)" [ -z "$shown" ]
    else
        expect "the drops line has the peer's non-zero drops ($dropped), no others ($shown)" [ "$shown" = "$dropped" ]
    fi

    all=$(ctl a status --all) || fail "status --all failed"
    expect "--all has every counter by its key" grep -qE "^sessionsEstablished +[0-9]+$" <<<"$all"
    expect "--all has the drop table" grep -qE "^replay +0$" <<<"$all"
    expect "--all has the peers' ciphers" grep -qE "^PEER .* CIPHER .*" <<<"$all"

    json=$(ctl a status --json) || fail "status --json failed"
    expect_not "JSON escapes no slash" grep -qF '\/' <<<"$json"
    expect_not "JSON has no milliseconds" grep -q Milliseconds <<<"$json"
    expect "JSON: roundTripSeconds, under a second" [ "$(json_get "$json" 's["peers"][0].get("roundTripSeconds", 9) < 1')" = True ]
    expect "JSON: the configuration path as written" [ "$(json_get "$json" 's["configuration"]')" = "$WORKDIR/site-a.toml" ]
    grep -q "\"configuration\" : \"$WORKDIR/site-a.toml\"" <<<"$json" || fail "the path is escaped in the JSON text"

    output=$(ctl a status --check) || status=$?
    expect "--check exits 0 with the peer up ($status)" [ "$status" = 0 ]
    expect "--check says so in one line: $output" [ "$output" = "site-a: OK: 1 of 1 peer up (site-b)" ]

    daemon_stop b
    wait_for 20 peer_of_a_down || fail "the peer never went down"
    status=0; output=$(ctl a status --check) || status=$?
    expect "--check exits 2 with the peer down ($status)" [ "$status" = 2 ]
    expect "--check names the peer that is down: $output" [ "$output" = "site-a: DOWN: site-b down; 0 of 1 peer up" ]
    echo "    $output"
    grep -qx "peer site-b: down" <<<"$(ctl a status)" || fail "status does not show the peer down"
    status=0; ctl a status --check --json >/dev/null 2>&1 || status=$?
    expect "--check with --json is a usage error ($status)" [ "$status" = 64 ]
}

# run_ctl ARGS...: causewayctl with the test's own socket directory, never the host's /run/causeway.
run_ctl() { CAUSEWAY_RUN_DIR="$WORKDIR/run" "$CAUSEWAYCTL" "$@"; }

test_ctl_instance_names_and_several_daemons() {
    local site output status
    for site in a b; do
        write_config $site
        sed -i "s|^control-socket = .*|control-socket = \"run/site-$site.sock\"|" "$WORKDIR/site-$site.toml"
        daemon_start $site
    done
    wait_for 10 test -S "$WORKDIR/run/site-a.sock" || fail "no socket for site-a"
    wait_for 10 test -S "$WORKDIR/run/site-b.sock" || fail "no socket for site-b"

    status=0; output=$(run_ctl status 2>&1) || status=$?
    expect "several daemons and none named is a usage error, exit 64 ($status)" [ "$status" = 64 ]
    expect "the error lists the instances: $output" grep -q "several daemons run here: site-a, site-b " <<<"$output"
    echo "    $output"

    expect "status NAME asks that instance" grep -q "^gateway site-a:" <<<"$(run_ctl status site-a)"
    expect "-i NAME asks that instance" grep -q "^gateway site-b:" <<<"$(run_ctl status -i site-b)"
    expect "--instance before the subcommand" grep -q "^gateway site-b:" <<<"$(run_ctl --instance site-b status)"
    expect "-i before the subcommand (peers)" grep -qE "^site-a " <<<"$(run_ctl -i site-b peers)"
    expect "peers NAME" grep -qE "^site-b " <<<"$(run_ctl peers site-a)"
    expect "--socket before the subcommand" grep -q "^gateway site-a:" <<<"$("$CAUSEWAYCTL" --socket "$WORKDIR/run/site-a.sock" status)"
    expect "macs -i NAME" run_ctl macs -i site-a >/dev/null
    expect "metrics of the named instance" grep -q 'instance="site-b"' <<<"$(run_ctl metrics site-b)"
    status=0; output=$(run_ctl status site-a -i site-b 2>&1) || status=$?
    expect "two different instance names are a usage error ($status)" [ "$status" = 64 ]
    status=0; output=$(run_ctl status ../etc 2>&1) || status=$?
    expect "a path is not an instance name ($status)" [ "$status" = 64 ]
    status=0; output=$(run_ctl status site-x 2>&1) || status=$?
    expect "an instance with no daemon exits 3 ($status)" [ "$status" = 3 ]
    expect "and names the socket it looked for: $output" grep -q "no control socket at $WORKDIR/run/site-x.sock" <<<"$output"

    daemon_stop b
    expect "with one daemon left, no name is needed" grep -q "^gateway site-a:" <<<"$(run_ctl status)"

    : > "$WORKDIR/plain.sock"
    status=0; output=$("$CAUSEWAYCTL" status --socket "$WORKDIR/plain.sock" 2>&1) || status=$?
    expect "a regular file at the path exits 3 ($status)" [ "$status" = 3 ]
    expect "and is named a regular file: $output" grep -q "$WORKDIR/plain.sock is a regular file, not a socket" <<<"$output"
    echo "    $output"
    status=0; output=$("$CAUSEWAYCTL" status --socket "$WORKDIR/run" 2>&1) || status=$?
    expect "a directory is named a directory ($status): $output" grep -q "$WORKDIR/run is a directory, not a socket" <<<"$output"
}

test_ctl_macs_ports_ips_and_explain_by_ip() {
    start_both
    local host_a host_b bridge_mac macs_text macs output status upper
    host_a=$(mac_of "$NS_HA" lan0); host_b=$(mac_of "$NS_HB" lan0)
    # The gateway gets an address on its bridge (in its own namespace) and talks to both
    # hosts, so that its neighbour table knows their IPv4 and IPv6 addresses.
    ip -n "$NS_GA" addr add 198.19.0.254/24 dev br0
    ip -n "$NS_GA" -6 addr add fd00:19::fe/64 dev br0 nodad
    ip netns exec "$NS_GA" ping -c 2 -i 0.2 "$LAN_A" >/dev/null || fail "the gateway cannot ping host A"
    ip netns exec "$NS_GA" ping -c 2 -i 0.2 "$LAN_B" >/dev/null || fail "the gateway cannot ping host B"
    ip netns exec "$NS_GA" ping -6 -c 2 -i 0.2 fd00:19::1 >/dev/null || fail "the gateway cannot ping host A over IPv6"
    ip netns exec "$NS_HB" ping -c 2 -i 0.2 "$LAN_A" >/dev/null || fail "host B cannot ping host A"
    bridge_mac=$(mac_of "$NS_GA" br0)

    macs_text=$(ctl a macs) || fail "macs failed"
    echo "$macs_text" | sed 's/^/    /'
    expect "host A: local, on port lan-a, with its IPv4 and IPv6 addresses" \
        grep -qE "^$host_a +local +lan-a +$LAN_A,fd00:19::1 " <<<"$macs_text"
    expect "host B: behind the peer, PORT its name, its IP" grep -qE "^$host_b +peer site-b +site-b +$LAN_B " <<<"$macs_text"
    # The bridge has the address of one of its ports (the lowest) unless given one of its own.
    expect "the bridge's own MAC is marked as this gateway's" grep -qE "^$bridge_mac +local .*this gateway \((.*, )?bridge br0(, .*)?\)$" <<<"$macs_text"
    macs=$(ctl a macs --json) || fail "macs --json failed"
    expect "JSON: port and ipAddresses of host A" \
        [ "$(json_get "$macs" "[(m.get('port'), m.get('ipAddresses')) for m in s if m['mac']=='$host_a']")" = "[('lan-a', ['$LAN_A', 'fd00:19::1'])]" ]
    expect "JSON: thisGateway of the bridge's MAC" \
        [ "$(json_get "$macs" "['bridge br0' in m.get('thisGateway', '') for m in s if m['mac']=='$bridge_mac']")" = "[True]" ]

    output=$(ctl a explain "$LAN_B") || fail "explain by IP failed"
    echo "$output" | sed 's/^/    /'
    expect "explain IP names the IP, its MAC and the verdict" [ "$(head -1 <<<"$output")" = "$LAN_B ($host_b): send-to-peer" ]
    expect "explain IP in JSON carries the ip" [ "$(ctl_value a explain "$LAN_A" '(s["ip"], s["mac"], s["verdict"], s["entry"]["port"])')" = "('$LAN_A', '$host_a', 'suppress', 'lan-a')" ]
    expect "explain an IPv6 address" [ "$(ctl_value a explain fd00:19::1 's["mac"]')" = "$host_a" ]
    upper=$(tr 'a-f:' 'A-F-' <<<"$host_b")
    expect "explain a MAC written with dashes and capitals ($upper)" [ "$(ctl_value a explain "$upper" 's["verdict"]')" = send-to-peer ]
    status=0; output=$(ctl a explain 198.19.0.77 2>&1) || status=$?
    expect "an IP not in the neighbour table is refused, exit 1 ($status)" [ "$status" = 1 ]
    expect "and the message says so: $output" grep -q "198.19.0.77 is not in this gateway's neighbour table" <<<"$output"
    status=0; ctl a explain not-an-address >/dev/null 2>&1 || status=$?
    expect "neither a MAC nor an IP is a usage error ($status)" [ "$status" = 64 ]
}
