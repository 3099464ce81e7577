# `causewayd check`: as strict as `run`, and usable on a live gateway before a reload.

# check_site SITE [CONFIG]: runs check in the site's gateway namespace; output in CHECK_OUT,
# exit status returned.
check_site() {
    local ns; ns=$(gateway_ns "$1")
    CHECK_OUT=$(ip netns exec "$ns" "$CAUSEWAYD" check --config "${2:-$WORKDIR/site-$1.toml}" 2>&1)
}

test_check_accepts_a_live_gateway_and_its_edited_file() {
    start_both
    local status=0
    check_site a || status=$?
    echo "$CHECK_OUT" | sed 's/^/    /'
    expect "check passes while A runs (exit $status)" [ "$status" = 0 ]
    expect "it says the running causewayd holds the devices" grep -q "a causewayd of this configuration runs now" <<<"$CHECK_OUT"
    # Edit, check, reload: the cycle an operator runs on a live gateway.
    sed -i 's/^keepalive-interval = .*/keepalive-interval = 2/' "$WORKDIR/site-a.toml"
    expect "the edited file passes check" check_site a
    expect "and reloads live" [ "$(ctl a reload)" = "reloaded: no peer changed; now in effect: keepalive-interval" ]
}

test_check_refuses_a_listen_address_it_cannot_bind() {
    write_config a
    sed -i 's/^listen = .*/listen = "198.18.0.77:51820"/' "$WORKDIR/site-a.toml"
    local status=0
    check_site a || status=$?
    echo "    $CHECK_OUT"
    expect "exit 2" [ "$status" = 2 ]
    expect "it names the key and the address" grep -q "key 'listen': cannot bind 198.18.0.77:51820" <<<"$CHECK_OUT"
}

test_check_and_run_without_cap_net_admin_say_so() {
    write_config a
    local status=0 out
    out=$(ip netns exec "$NS_GA" setpriv --inh-caps=-all --bounding-set=-net_admin -- "$CAUSEWAYD" check --config "$WORKDIR/site-a.toml" 2>&1) || status=$?
    echo "    $out"
    expect "check exits 1" [ "$status" = 1 ]
    expect "it names CAP_NET_ADMIN, root and the unit" grep -q "needs CAP_NET_ADMIN.*run it as root.*causeway@.service" <<<"$out"
    status=0
    out=$(ip netns exec "$NS_GA" setpriv --inh-caps=-all --bounding-set=-net_admin -- "$CAUSEWAYD" run --config "$WORKDIR/site-a.toml" 2>&1) || status=$?
    expect "run exits 1 before touching a device" [ "$status" = 1 ] && ! ip -n "$NS_GA" link show br0 >/dev/null 2>&1
    expect "run says why" grep -q "needs CAP_NET_ADMIN" <<<"$out"
}
