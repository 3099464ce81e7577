# Running on a real gateway: the LAN NIC's own addresses, systemd's notifications.

# gateway_addresses DEVICE: the global addresses on a device of gateway A, sorted.
gateway_addresses() { ip -n "$NS_GA" -o addr show dev "$1" scope global | awk '{print $4}' | sort | tr '\n' ' '; }

test_lan_addresses_move_to_the_bridge_and_back() {
    ip -n "$NS_GA" link set lan-a up
    ip -n "$NS_GA" addr add 198.19.0.254/24 dev lan-a
    ip -n "$NS_GA" -6 addr add fd00:19::fe/64 dev lan-a nodad
    ip -n "$NS_GA" route add 198.19.5.0/24 via "$LAN_A" dev lan-a
    local before output status=0 nic_mac
    before=$(gateway_addresses lan-a)
    nic_mac=$(mac_of "$NS_GA" lan-a)

    write_config a
    output=$(ip netns exec "$NS_GA" "$CAUSEWAYD" run --config "$WORKDIR/site-a.toml" 2>&1) || status=$?
    expect "a NIC with addresses is refused without migrate-addresses (exit $status)" [ "$status" = 2 ]
    echo "$output" | grep -q "'lan-a' carries 198.19.0.254/24" || fail "the refusal does not name the address: $output"
    echo "$output" | grep -q "migrate-addresses = true" || fail "the refusal does not name the choice: $output"
    echo "$output" | grep -q "move them to 'br0' yourself" || fail "the refusal does not name the other choice: $output"
    expect_not "nothing was created" has_link "$NS_GA" br0
    expect "the addresses stayed on lan-a" [ "$(gateway_addresses lan-a)" = "$before" ]

    write_config a "migrate-addresses = true"
    daemon_start a
    wait_for 10 has_link "$NS_GA" cw0 || fail "cw0 never appeared"
    expect "lan-a's addresses are on br0 ($(gateway_addresses br0))" [ "$(gateway_addresses br0)" = "$before" ]
    expect "lan-a has no address left" [ -z "$(gateway_addresses lan-a)" ]
    expect "the route through lan-a now goes through br0" \
        ip -n "$NS_GA" route show 198.19.5.0/24 | grep -q "via $LAN_A dev br0"
    expect "br0 took lan-a's MAC address" [ "$(mac_of "$NS_GA" br0)" = "$nic_mac" ]
    expect "the gateway reaches host A through the bridge" wait_for 5 ping_ok "$NS_GA" "$LAN_A"
    expect "and over IPv6" wait_for 5 ping_ok "$NS_GA" fd00:19::1
    grep -h "moved to br0" "$WORKDIR/causewayd-a.log" | sed 's/^.*notice causewayd: /    /'

    expect "causewayd stops cleanly" daemon_stop a
    expect_not "br0 is gone" has_link "$NS_GA" br0
    expect "the addresses are back on lan-a" [ "$(gateway_addresses lan-a)" = "$before" ]
    expect "the route is back through lan-a" \
        ip -n "$NS_GA" route show 198.19.5.0/24 | grep -q "via $LAN_A dev lan-a"
    expect "the gateway reaches host A through the NIC" wait_for 5 ping_ok "$NS_GA" "$LAN_A"
    expect "and over IPv6" wait_for 5 ping_ok "$NS_GA" fd00:19::1
}

test_systemd_notifications() {
    local notify="$WORKDIR/notify.sock" log="$WORKDIR/notify.jsonl" listener
    python3 "$HERE/notify_listener.py" "$notify" "$log" "$NS_GA" br0 "$WORKDIR/site-a.sock" > "$WORKDIR/listener.out" &
    listener=$!
    wait_for 5 grep -q listening "$WORKDIR/listener.out" || fail "the notify listener did not start"
    write_config a
    NOTIFY_SOCKET=$notify WATCHDOG_USEC=400000 daemon_start a
    wait_for 10 grep -q '"READY": "1"' "$log" || fail "no READY=1"
    sleep 3
    daemon_stop a || fail "causewayd did not stop cleanly"
    wait "$listener" || true
    python3 - "$log" <<'PY' || fail "notifications were not as systemd expects"
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
ready = [r for r in records if r["fields"].get("READY") == "1"]
assert len(ready) == 1, f"READY=1 sent {len(ready)} times"
assert ready[0]["bridge_existed"], "READY=1 came before the bridge existed"
assert ready[0]["control_socket_existed"], "READY=1 came before the control socket existed"
start = ready[0]["at"]
stopping = [r for r in records if r["fields"].get("STOPPING") == "1"]
assert len(stopping) == 1, "no STOPPING=1 on SIGTERM"
watchdog = [r["at"] for r in records if r["fields"].get("WATCHDOG") == "1"]
span = stopping[0]["at"] - start
# WATCHDOG_USEC=400000: a keep-alive every 200 ms, half the period.
rate = len(watchdog) / span
assert 3.5 <= rate <= 6.5, f"{len(watchdog)} WATCHDOG=1 in {span:.1f} s ({rate:.1f}/s, expected 5/s)"
gaps = [b - a for a, b in zip(watchdog, watchdog[1:])]
assert max(gaps) < 0.4, f"a watchdog gap of {max(gaps):.2f} s exceeds the 0.4 s period"
status = [r["fields"]["STATUS"] for r in records if "STATUS" in r["fields"]]
assert any("peer site-b down" in s for s in status), status[:3]
print(f"    READY=1 after bridge and socket; {len(watchdog)} WATCHDOG=1 in {span:.1f} s; STOPPING=1; status: {status[-2]}")
PY
}

# in_private_root COMMAND...: runs COMMAND in a private mount namespace in which /etc and
# /usr/local are overlays kept in $WORKDIR: groupadd, /etc/causeway, the unit and the
# binaries land there, never on the host.
in_private_root() {
    mkdir -p "$WORKDIR"/overlay/{etc,etc-work,usr-local,usr-local-work}
    unshare --mount --propagation private bash -c '
        o=$1; shift
        mount -t overlay overlay -o "lowerdir=/etc,upperdir=$o/etc,workdir=$o/etc-work" /etc &&
        mount -t overlay overlay -o "lowerdir=/usr/local,upperdir=$o/usr-local,workdir=$o/usr-local-work" /usr/local &&
        exec "$@"' _ "$WORKDIR/overlay" "$@"
}

# tree DIR: every path below DIR with its mode, owner, size and modification time.
tree() { (cd "$1" && find . -printf '%p %m %u:%g %s %T@\n' | sort); }
# shape DIR: every path below DIR with its mode and owner (a folder's time changes with its files).
shape() { (cd "$1" && find . -printf '%p %m %u:%g\n' | sort); }

test_install_into_a_staging_root() {
    local stage="$WORKDIR/stage" before pristine after gid
    mkdir -p "$stage/usr/local/bin" && echo unrelated > "$stage/usr/local/bin/other"
    before=$(tree "$stage"); pristine=$(shape "$stage")
    in_private_root "$ROOT/deploy/install.sh" --destdir "$stage" --prebuilt "$BIN" --dry-run > "$WORKDIR/dry-run.out" \
        || fail "--dry-run failed: $(cat "$WORKDIR/dry-run.out")"
    expect "--dry-run changes nothing in the staging root" [ "$(tree "$stage")" = "$before" ]
    expect_not "--dry-run creates no group" in_private_root getent group causeway
    grep -q "groupadd --system causeway" "$WORKDIR/dry-run.out" || fail "--dry-run does not print the group it would create"

    in_private_root "$ROOT/deploy/install.sh" --destdir "$stage" --prebuilt "$BIN" > "$WORKDIR/install.out" \
        || fail "install failed: $(cat "$WORKDIR/install.out")"
    # A staging root is for another host: this one's groups stay as they were.
    expect "--destdir runs no groupadd on the build host" [ ! -e "$WORKDIR/overlay/etc/group" ]
    expect_not "--destdir creates no group" in_private_root getent group causeway
    expect "--destdir says what the target needs" grep -q "groupadd --system causeway && chgrp causeway" "$WORKDIR/install.out"
    gid=0
    mode() { stat -c '%a %u:%g' "$stage$1"; }
    expect "causewayd is 0755 root:root" [ "$(mode /usr/local/bin/causewayd)" = "755 0:0" ]
    expect "causewayctl is 0755 root:root" [ "$(mode /usr/local/bin/causewayctl)" = "755 0:0" ]
    expect "the unit is 0644" [ "$(mode /etc/systemd/system/causeway@.service)" = "644 0:0" ]
    expect "/etc/causeway is 0750 root:root" [ "$(mode /etc/causeway)" = "750 0:$gid" ]
    expect "the configuration is 0640 root:root" [ "$(mode /etc/causeway/site.toml)" = "640 0:$gid" ]
    expect "the man pages are installed" test -f "$stage/usr/local/share/man/man5/causeway.toml.5"
    expect "the completions are installed" test -s "$stage/usr/local/share/bash-completion/completions/causewayctl"
    expect "the key is 0600 root:root" [ "$(mode /etc/causeway/causeway.key)" = "600 0:0" ]
    expect "the key is 32 random bytes" [ "$(base64 -d < "$stage/etc/causeway/causeway.key" | wc -c)" = 32 ]
    expect "the unit runs the installed binary" \
        grep -q '^ExecStart=/usr/local/bin/causewayd run --config /etc/causeway/%i.toml$' "$stage/etc/systemd/system/causeway@.service"
    expect "the operations guide is installed" test -f "$stage/usr/local/share/doc/causeway/operations.md"
    grep -A6 "Next steps" "$WORKDIR/install.out" | sed 's/^/    /'

    echo "# edited by the operator" >> "$stage/etc/causeway/site.toml"
    local key_before installed; key_before=$(cat "$stage/etc/causeway/causeway.key")
    installed=$(tree "$stage")
    in_private_root "$ROOT/deploy/install.sh" --destdir "$stage" --prebuilt "$BIN" > "$WORKDIR/install2.out" || fail "second install failed"
    expect "a second run changes nothing" [ "$(tree "$stage")" = "$installed" ]
    expect "the edited configuration is kept" grep -q "edited by the operator" "$stage/etc/causeway/site.toml"
    expect "the key is kept" [ "$(cat "$stage/etc/causeway/causeway.key")" = "$key_before" ]

    in_private_root "$ROOT/deploy/uninstall.sh" --destdir "$stage" > "$WORKDIR/uninstall.out" || fail "uninstall failed"
    after=$(cd "$stage" && find . | sort | tr '\n' ' ')
    expect "uninstall removes all but the configuration, the key and the manifest of them ($after)" \
        [ "$after" = ". ./etc ./etc/causeway ./etc/causeway/causeway.key ./etc/causeway/site.toml ./usr ./usr/local ./usr/local/bin ./usr/local/bin/other ./usr/local/share ./usr/local/share/causeway ./usr/local/share/causeway/install-manifest " ]

    # --purge after the plain uninstall: the rest goes.
    in_private_root "$ROOT/deploy/uninstall.sh" --destdir "$stage" --purge > "$WORKDIR/purge.out" || fail "uninstall --purge failed: $(cat "$WORKDIR/purge.out")"
    expect "uninstall --purge after uninstall leaves the staging root as it was" [ "$(shape "$stage")" = "$pristine" ]
}

test_install_help_prints_only_help() {
    local script output status
    for script in install.sh uninstall.sh; do
        status=0; output=$("$ROOT/deploy/$script" --help 2>&1) || status=$?
        expect "$script --help exits 0 ($status)" [ "$status" = 0 ]
        expect "$script --help starts with its usage" grep -q "deploy/$script \[--prefix DIR\]" <<< "$output"
        expect "$script --help prints no code ($output)" bash -c '! grep -Eq "set -euo|^[A-Z_]+=|usage\(\)" <<< "$1"' _ "$output"
        expect "$script --help is its header and nothing more" \
            [ "$(wc -l <<< "$output")" = "$(awk 'NR > 1 && !/^#/ { print NR - 2; exit }' "$ROOT/deploy/$script")" ]
    done
}

test_uninstall_purge_after_plain_uninstall() {
    # A real install (no --destdir) into the private /etc and /usr/local: the group too.
    in_private_root bash -c '
        "$1/deploy/install.sh" --prebuilt "$2" >/dev/null || exit 10
        getent group causeway >/dev/null || exit 11
        [ "$(stat -c %G /etc/causeway/site.toml)" = causeway ] || exit 12
        "$1/deploy/uninstall.sh" >/dev/null || exit 13
        [ ! -e /usr/local/bin/causewayd ] && [ -e /etc/causeway/causeway.key ] && getent group causeway >/dev/null || exit 14
        "$1/deploy/uninstall.sh" --purge > "$3" 2>&1 || exit 15
        [ ! -e /etc/causeway ] || exit 16
        ! getent group causeway >/dev/null || exit 17
        [ ! -e /usr/local/share/causeway ] || exit 18
    ' _ "$ROOT" "$BIN" "$WORKDIR/purge.out"
    local status=$?
    [ $status = 0 ] || fail "step $status failed: $(cat "$WORKDIR/purge.out" 2>/dev/null)"
    expect_not "nothing reached the host's /usr/local" test -e /usr/local/share/causeway/install-manifest
}

test_systemd_unit_verifies_once_installed() {
    # A real install (no --destdir) into the private /etc and /usr/local, then systemd's own check.
    in_private_root bash -c '
        "$1/deploy/install.sh" --prebuilt "$2" >/dev/null || exit 10
        systemd-analyze verify /etc/systemd/system/causeway@.service causeway@site.service \
            causeway-metrics@site.service causeway-metrics@site.timer > "$3" 2>&1 || exit 11
        "$1/deploy/uninstall.sh" --purge >/dev/null || exit 12
        [ ! -e /usr/local/bin/causewayd ] && [ ! -e /etc/systemd/system/causeway@.service ] || exit 13
    ' _ "$ROOT" "$BIN" "$WORKDIR/verify.out"
    local status=$?
    [ $status = 0 ] || fail "install/verify/uninstall step failed ($status): $(cat "$WORKDIR/verify.out")"
    expect "systemd-analyze verify has nothing to say ($(cat "$WORKDIR/verify.out"))" [ ! -s "$WORKDIR/verify.out" ]
    expect_not "nothing reached the host's /usr/local" test -e /usr/local/share/causeway/install-manifest
}

test_runs_with_only_cap_net_admin() {
    write_config a; write_config b
    # The unit's CapabilityBoundingSet: root's uid, but no capability except CAP_NET_ADMIN.
    ip netns exec "$NS_GA" setpriv --bounding-set=-all,+net_admin --inh-caps=-all \
        "$CAUSEWAYD" run --config "$WORKDIR/site-a.toml" >>"$WORKDIR/causewayd-a.log" 2>&1 &
    DAEMON_PID[a]=$!
    daemon_start b
    expect "hosts talk through a daemon holding only CAP_NET_ADMIN" wait_for 15 ping_ok "$NS_HA" "$LAN_B"
    expect "its capabilities really were bounded" \
        grep -q '^CapBnd:\s*0000000000001000$' "/proc/${DAEMON_PID[a]}/status"
    expect "causewayctl answers" ctl a status --json >/dev/null
    expect "it stops cleanly" daemon_stop a
    expect_not "and removes its devices" has_link "$NS_GA" br0

    local output status=0
    output=$(ip netns exec "$NS_GA" setpriv --bounding-set=-all --inh-caps=-all \
        "$CAUSEWAYD" run --config "$WORKDIR/site-a.toml" 2>&1) || status=$?
    expect "without CAP_NET_ADMIN it refuses to start ($status)" [ "$status" = 1 ]
    echo "    without CAP_NET_ADMIN: $output"
    expect_not "and leaves nothing behind" has_link "$NS_GA" br0
    expect_not "not even its socket" test -e "$WORKDIR/site-a.sock"
}

# A gateway that replaces another keeps its site's key; its peers are written in at install.
test_install_with_a_given_key_and_peers() {
    local stage="$WORKDIR/stage-peers"
    mkdir -p "$stage"
    local key_b key_c; key_b=$(public_key b)
    "$CAUSEWAYD" genkey "$WORKDIR/site-c.key"; key_c=$("$CAUSEWAYD" pubkey "$WORKDIR/site-c.key")
    in_private_root "$ROOT/deploy/install.sh" --destdir "$stage" --prebuilt "$BIN" --key "$WORKDIR/site-a.key" \
        --peer "site-b=$key_b@198.18.0.2:61820" --peer "site-c=$key_c" > "$WORKDIR/install-peers.out" \
        || fail "install failed: $(cat "$WORKDIR/install-peers.out")"
    expect "the given key is installed" cmp -s "$WORKDIR/site-a.key" "$stage/etc/causeway/causeway.key"
    expect "the last lines name this site's public key" grep -q "public key is $(public_key a)" "$WORKDIR/install-peers.out"
    local config="$stage/etc/causeway/site.toml"
    # The example's LAN NIC is eth1; this gateway's is lan-a.
    sed -i 's|^lan-interface = .*|lan-interface = "lan-a"|' "$config"
    expect "the configuration lists both peers" bash -c "grep -A3 '^\[\[peer\]\]' '$config' | grep -q 'name = \"site-c\"' && grep -q '^endpoint = \"198.18.0.2:61820\"' '$config'"
    local parsed
    parsed=$(ip netns exec "$NS_GA" "$CAUSEWAYD" check --config "$config" 2>&1) || true
    echo "$parsed" | grep -i "peer" | sed 's/^/    /'
    expect "causewayd reads both peers from it" grep -q "peer site-c: calls in" <<<"$parsed"
    local status=0
    in_private_root "$ROOT/deploy/install.sh" --destdir "$stage-bad" --prebuilt "$BIN" --peer "site b=nonsense" > /dev/null 2>&1 || status=$?
    expect "a malformed --peer is refused (exit 2)" [ "$status" = 2 ]
}
