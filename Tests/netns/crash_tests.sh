# A daemon that dies without undoing (SIGKILL, OOM) must not leave its devices for good:
# the next start recognises the bridge it created by the mark in the bridge's alias.

alias_of() { ip -n "$1" -d link show "$2" | sed -n 's/^ *alias //p'; }
is_up() { ip -n "$1" -o link show "$2" | grep -q '[<,]UP[,>]'; }

# crash_and_restart SITE: SIGKILL the running daemon, check what the crash left, start again.
crash_and_restart() {
    daemon_kill a
    expect "the crash left br0 behind" has_link "$NS_GA" br0
    expect_not "the TAP went with the process" has_link "$NS_GA" cw0
    expect "the crash left the control socket file" test -S "$WORKDIR/site-a.sock"
    daemon_start a
    wait_for 10 ctl a status || fail "the restarted daemon never answered"
    expect "the restart reclaimed br0 as its own" grep -q "left by a causewayd that did not stop, reclaimed" "$WORKDIR/causewayd-a.log"
    expect "cw0 is a port of br0 again" [ "$(master_of "$NS_GA" cw0)" = br0 ]
    expect "lan-a is still a port of br0" [ "$(master_of "$NS_GA" lan-a)" = br0 ]
}

# nothing_left: after the final stop, gateway A is as before the first start.
nothing_left() {
    expect_not "no bridge left" has_link "$NS_GA" br0
    expect_not "no TAP left" has_link "$NS_GA" cw0
    expect_not "no control socket left" test -e "$WORKDIR/site-a.sock"
    expect "lan-a is out of any bridge" [ -z "$(master_of "$NS_GA" lan-a)" ]
}

test_sigkill_restart_sigterm_leaves_nothing() {
    expect_not "lan-a starts down" is_up "$NS_GA" lan-a
    write_config a
    daemon_start a
    wait_for 10 has_link "$NS_GA" cw0 || fail "cw0 never appeared"
    expect "br0 carries causewayd's mark ($(alias_of "$NS_GA" br0))" [ "$(alias_of "$NS_GA" br0)" = "causeway: created for cw0; lan-a was down" ]
    crash_and_restart
    expect "causewayd exited 0 on SIGTERM" daemon_stop a
    nothing_left
    expect_not "lan-a is down again, as before the first start" is_up "$NS_GA" lan-a

    # An operator's bridge with an alias of its own is still left alone.
    ip -n "$NS_GA" link add br0 type bridge
    ip -n "$NS_GA" link set br0 alias "office LAN"
    daemon_start a
    wait_for 10 has_link "$NS_GA" cw0 || fail "cw0 never appeared on the operator's bridge"
    daemon_kill a
    daemon_start a
    wait_for 10 ctl a status || fail "the restarted daemon never answered"
    expect "causewayd exited 0 on SIGTERM" daemon_stop a
    expect "the operator's bridge is still there" has_link "$NS_GA" br0
    expect "with its alias untouched" [ "$(alias_of "$NS_GA" br0)" = "office LAN" ]
}

test_sigkill_restart_sigterm_returns_migrated_addresses() {
    ip -n "$NS_GA" link set lan-a up
    ip -n "$NS_GA" addr add 198.19.0.254/24 dev lan-a
    ip -n "$NS_GA" route add 198.19.5.0/24 via "$LAN_A" dev lan-a
    local before; before=$(gateway_addresses lan-a)
    write_config a "migrate-addresses = true"
    daemon_start a
    wait_for 10 has_link "$NS_GA" cw0 || fail "cw0 never appeared"
    expect "br0 carries causewayd's mark" [ "$(alias_of "$NS_GA" br0)" = "causeway: created for cw0" ]
    expect "lan-a's address is on br0" [ "$(gateway_addresses br0)" = "$before" ]
    crash_and_restart
    expect "the address is still on br0 after the restart" [ "$(gateway_addresses br0)" = "$before" ]
    expect "causewayd exited 0 on SIGTERM" daemon_stop a
    nothing_left
    expect "the address is back on lan-a ($(gateway_addresses lan-a))" [ "$(gateway_addresses lan-a)" = "$before" ]
    expect "the route is back through lan-a" ip -n "$NS_GA" route show 198.19.5.0/24 | grep -q "via $LAN_A dev lan-a"
    expect "lan-a stayed up, as it was" is_up "$NS_GA" lan-a
    expect "the gateway reaches host A through the NIC" wait_for 5 ping_ok "$NS_GA" "$LAN_A"
}
