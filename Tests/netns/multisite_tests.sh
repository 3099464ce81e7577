# More than two sites on one port: a full mesh and a hub with spokes, on one WAN switch.
#
#   hX ─ gX (bridge: lan-x + TAP) ─ wan-x ┐
#                                         ├─ ns wan (a bridge: the WAN)
#   hY ─ gY (…)                  ─ wan-y ┘
#
# Sites a, b, c, d: gateway 198.18.0.N, LAN host 198.19.0.N (a = 1, b = 2, …).

site_number() { printf '%d' "$(( $(printf '%d' "'$1") - 96 ))"; }
host_ns() { case $1 in a) echo "$NS_HA" ;; b) echo "$NS_HB" ;; *) echo "cw-h${1^^}-$SUFFIX" ;; esac; }

# many_sites_create SITES...: the sites beyond a and b get namespaces, a LAN host and a key;
# every gateway's WAN moves onto one switch.
many_sites_create() {
    NS_WAN=cw-wan-$SUFFIX
    ip netns add "$NS_WAN"; EXTRA_NS+=("$NS_WAN")
    ip -n "$NS_WAN" link add wan type bridge
    ip -n "$NS_WAN" link set wan up
    ip -n "$NS_GA" link del wan0  # the two-site bed's point-to-point WAN
    local site gateway host number
    for site in "$@"; do
        gateway=$(gateway_ns "$site"); host=$(host_ns "$site"); number=$(site_number "$site")
        if [ "$site" != a ] && [ "$site" != b ]; then
            ip netns add "$gateway"; EXTRA_NS+=("$gateway")
            ip netns add "$host"; EXTRA_NS+=("$host")
            ip -n "$gateway" link set lo up; ip -n "$host" link set lo up
            ip -n "$host" link add lan0 type veth peer name "lan-$site" netns "$gateway"
            ip -n "$host" addr add "198.19.0.$number/24" dev lan0
            ip -n "$host" link set lan0 up
            "$CAUSEWAYD" genkey "$WORKDIR/site-$site.key"
        fi
        ip -n "$NS_WAN" link add "wan-$site" type veth peer name wan0 netns "$gateway"
        ip -n "$NS_WAN" link set "wan-$site" master wan up
        ip -n "$gateway" addr add "198.18.0.$number/24" dev wan0
        ip -n "$gateway" link set wan0 up
    done
}

# write_site_config SITE "PEERS" [extra top-level lines...]: SITE's configuration, one
# [[peer]] table for each site in PEERS (a "+" after a site: that peer is a hub).
write_site_config() {
    local site=$1 peers=$2; shift 2
    {
        echo "bridge = \"br0\""
        echo "lan-interface = \"lan-$site\""
        echo "tap = \"cw0\""
        echo "listen = \"198.18.0.$(site_number "$site"):$PORT\""
        echo "private-key-file = \"site-$site.key\""
        echo "keepalive-interval = 1"
        echo "control-socket = \"site-$site.sock\""
        local line peer
        for line in "$@"; do echo "$line"; done
        for peer in $peers; do
            echo
            echo "[[peer]]"
            echo "name = \"site-${peer%+}\""
            echo "public-key = \"$(public_key "${peer%+}")\""
            echo "endpoint = \"198.18.0.$(site_number "${peer%+}"):$PORT\""
            [ "${peer%+}" = "$peer" ] || echo "hub = true"
        done
    } > "$WORKDIR/site-$site.toml"
}

# reaches FROM TO: host FROM pings host TO.
reaches() { ip netns exec "$(host_ns "$1")" ping -c 1 -W 1 "198.19.0.$(site_number "$2")" >/dev/null 2>&1; }

reach_each_other() { reaches "$1" "$2" && reaches "$2" "$1"; }

# transfer_intact FROM TO MEGABYTES: sends random bytes over TCP between the two hosts and
# succeeds when what arrived hashes as what was sent.
transfer_intact() {
    local from=$1 to=$2 megabytes=$3
    ip netns exec "$(host_ns "$to")" python3 -c '
import hashlib, socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 5010)); s.listen(1)
c, _ = s.accept(); h = hashlib.sha256()
while True:
    b = c.recv(1 << 20)
    if not b: break
    h.update(b)
print(h.hexdigest())' > "$WORKDIR/received-$from-$to" &
    local sink=$!
    sleep 0.5
    local sent
    sent=$(ip netns exec "$(host_ns "$from")" python3 -c '
import hashlib, os, socket, sys
n = int(sys.argv[2]) << 20; h = hashlib.sha256(); s = socket.create_connection((sys.argv[1], 5010), timeout=30)
while n > 0:
    b = os.urandom(min(n, 1 << 20)); s.sendall(b); h.update(b); n -= len(b)
s.close(); print(h.hexdigest())' "198.19.0.$(site_number "$to")" "$megabytes")
    wait "$sink"
    [ -n "$sent" ] && [ "$sent" = "$(cat "$WORKDIR/received-$from-$to")" ]
}

# broadcast_copies FROM SITES...: host FROM sends one unique tagged broadcast; prints, for
# each of SITES, how many copies its host captured.
broadcast_copies() {
    local from=$1 site; shift
    declare -A captures=()
    for site in "$@"; do
        ip netns exec "$(host_ns "$site")" tcpdump -i lan0 --immediate-mode -U -n -w "$WORKDIR/bcast-$site.pcap" "vlan 100" 2>/dev/null &
        captures[$site]=$!
    done
    sleep 1
    ip netns exec "$(host_ns "$from")" python3 "$HERE/frames.py" send lan0 "$WORKDIR/bcast.frame" 1
    sleep 1.5
    for site in "$@"; do kill "${captures[$site]}"; wait "${captures[$site]}" 2>/dev/null || true; done
    for site in "$@"; do printf '%s ' "$(python3 "$HERE/frames.py" count "$WORKDIR/bcast-$site.pcap")"; done
    echo
}

# datagrams_into SITE: datagrams SITE's gateway received on its WAN, from the kernel's count.
datagrams_into() { ip -n "$(gateway_ns "$1")" -s -j link show wan0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'; }

all_peers_up() { [ "$(json_get "$(daemon_status "$1")" 'all(p["up"] for p in s["peers"])')" = True ]; }

# start_mesh SITES...: the sites on one WAN switch, each peering with every other, daemons
# started; returns once every site has all its peers up (fails otherwise).
start_mesh() {
    many_sites_create "$@"
    local site others
    for site in "$@"; do
        others=$(printf '%s\n' "$@" | grep -vx "$site" | tr '\n' ' ')
        write_site_config "$site" "$others"
        daemon_start "$site"
    done
    for site in "$@"; do expect "site $site has all its peers up" wait_for 30 all_peers_up "$site"; done
}

# learned_behind SITE MAC: the names of the peers SITE's MAC table has MAC behind, as a list.
learned_behind() { json_get "$(daemon_macs "$1")" "[m.get('peerName') for m in s if m['mac']=='$2']"; }

test_three_sites_in_a_full_mesh() {
    start_mesh a b c
    local pair
    for pair in "a b" "a c" "b c" "b a" "c a" "c b"; do
        expect "host ${pair% *} reaches host ${pair#* }" wait_for 10 reaches $pair
    done
    for pair in "a b" "b c" "c a"; do
        expect "20 MB from ${pair% *} to ${pair#* } arrive intact" transfer_intact $pair 20
    done
    local copies; copies=$(broadcast_copies a b c)
    echo "    a broadcast from A: copies at B and C: $copies"
    expect "a broadcast from A arrives exactly once at B and at C" [ "$copies" = "1 1 " ]
    # Unicast from A to B, once both are learned: C's WAN sees none of it.
    reaches a b; reaches b a
    local into_c; into_c=$(datagrams_into c)
    expect "20 MB from A to B" transfer_intact a b 20
    local grew=$(( $(datagrams_into c) - into_c ))
    echo "    datagrams into C's WAN during 20 MB from A to B: $grew (keepalives only)"
    expect "C's WAN saw only keepalives while A sent to B ($grew datagrams)" [ "$grew" -lt 100 ]
    expect "status names every peer" [ "$(json_get "$(daemon_status a)" '[p["name"] for p in s["peers"]]')" = "['site-b', 'site-c']" ]
    ctl a peers | sed 's/^/    /'
    expect "peers lists both" bash -c "ctl() { \"$CAUSEWAYCTL\" \"\$@\" --socket \"$WORKDIR/site-a.sock\"; }; ctl peers | grep -q '^site-b ' && ctl peers | grep -q '^site-c '"
    expect "macs names the peer a host is behind" [ "$(json_get "$(daemon_macs a)" "sorted(set(m.get('peerName') for m in s if m['location']=='peer'))")" = "['site-b', 'site-c']" ]
}

test_a_hub_joins_spokes_that_peer_only_with_it() {
    many_sites_create a b c d
    write_site_config a "b c d" "hub = true"
    write_site_config b "a+"; write_site_config c "a+"; write_site_config d "a+"
    local site
    for site in a b c d; do daemon_start "$site"; done
    for site in a b c d; do expect "site $site has its peers up" wait_for 15 all_peers_up "$site"; done
    local pair
    for pair in "a b" "a c" "a d" "b c" "b d" "c d"; do
        expect "host ${pair% *} reaches host ${pair#* } and back" wait_for 10 reach_each_other $pair
        expect "20 MB from ${pair% *} to ${pair#* } arrive intact" transfer_intact $pair 20
    done
    local copies; copies=$(broadcast_copies b a c d)
    echo "    a broadcast from spoke B: copies at A, C, D: $copies"
    expect "a broadcast from spoke B arrives exactly once at the hub and at each other spoke" [ "$copies" = "1 1 1 " ]
    expect "the hub says so" [ "$(json_get "$(daemon_status a)" 's["hub"]')" = True ]
}

# A host moves from site B's LAN to site C's: it takes its MAC and address along, and says so
# with a gratuitous ARP, as a migrated VM does. A learns it behind C at once (a move), and
# traffic follows; without a frame from the host, the old entry would age out
# (mac-aging-time) before traffic followed.
test_a_host_that_moves_between_sites_is_learned_at_its_new_site() {
    start_mesh a b c
    local host_b mac; host_b=$(host_ns b)
    mac=$(ip -n "$host_b" -j link show lan0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
    expect "A reaches the host at site B" wait_for 10 reaches a b
    expect "A learned it behind B" [ "$(learned_behind a "$mac")" = "['site-b']" ]
    local moves; moves=$(json_get "$(daemon_status a)" 's["counters"]["macMoves"]')
    # The move: B's interface goes down; a new one on site C's LAN (a port of C's bridge)
    # takes the MAC and the address.
    ip -n "$host_b" link set lan0 down
    local host_c; host_c=$(host_ns c)
    ip -n "$host_c" link add roamer type veth peer name roamer-lan netns "$(gateway_ns c)"
    ip -n "$(gateway_ns c)" link set roamer-lan master br0 up
    ip -n "$host_c" link set roamer address "$mac"
    ip -n "$host_c" addr add 198.19.0.2/32 dev roamer
    ip -n "$host_c" link set roamer up
    ip netns exec "$host_c" arping -q -U -c 2 -I roamer 198.19.0.2 || true
    learned_behind_c() { [ "$(learned_behind a "$mac")" = "['site-c']" ]; }
    expect "A learns the host behind C" wait_for 5 learned_behind_c
    expect "counted as a move" [ "$(json_get "$(daemon_status a)" 's["counters"]["macMoves"]')" -gt "$moves" ]
    expect "traffic from A follows the host to site C" wait_for 5 ip netns exec "$(host_ns a)" ping -c 1 -W 1 198.19.0.2
}

test_one_peer_stopped_leaves_the_others_alone_and_comes_back() {
    start_mesh a b c
    local sessions; sessions=$(json_get "$(daemon_status a)" '[p["counters"]["sessionsEstablished"] for p in s["peers"] if p["name"]=="site-b"][0]')
    daemon_stop c
    expect "A sees C down" wait_for 10 bash -c "[ \"\$(\"$CAUSEWAYCTL\" status --json --socket \"$WORKDIR/site-a.sock\" | python3 -c 'import json,sys; print([p[\"up\"] for p in json.load(sys.stdin)[\"peers\"] if p[\"name\"]==\"site-c\"][0])')\" = False ]"
    expect "A and B keep talking" transfer_intact a b 20
    daemon_start c
    expect "C comes back" wait_for 15 all_peers_up c
    expect "C reaches A again" wait_for 10 reaches c a
    expect "A kept its session with B throughout" [ "$(json_get "$(daemon_status a)" '[p["counters"]["sessionsEstablished"] for p in s["peers"] if p["name"]=="site-b"][0]')" = "$sessions" ]
}

test_reload_adds_and_removes_peers_while_a_transfer_runs() {
    many_sites_create a b c d
    # A, B and C in a mesh; D is known to nobody yet.
    write_site_config a "b c"; write_site_config b "a c"; write_site_config c "a b"; write_site_config d "a b"
    daemon_start a; daemon_start b; daemon_start c
    local site
    for site in a b c; do expect "site $site has both peers up" wait_for 15 all_peers_up "$site"; done
    # A transfer between A and B runs while both take D in and drop C.
    transfer_intact a b 200 & local transfer=$!
    sleep 0.5
    # A also turns on debug logging and shortens MAC aging: both apply live.
    write_site_config a "b d" 'log-level = "debug"' "mac-aging-time = 120"; write_site_config b "a d"
    local reloaded; reloaded=$("$CAUSEWAYCTL" reload --socket "$WORKDIR/site-a.sock")
    echo "    causewayctl reload: $reloaded"
    expect "causewayctl reload applies A's new peers" [ "$reloaded" = "reloaded: added site-d; removed site-c; now in effect: mac-aging-time, log-level" ]
    kill -HUP "${DAEMON_PID[b]}"
    daemon_start d
    expect "the transfer between A and B was not interrupted" wait "$transfer"
    for site in a b d; do expect "site $site has its peers up" wait_for 15 all_peers_up "$site"; done
    expect "D reaches A" wait_for 10 reaches d a
    expect "A no longer lists C" [ "$(json_get "$(daemon_status a)" '[p["name"] for p in s["peers"]]')" = "['site-b', 'site-d']" ]
    expect "A logs at debug level now (its session with D)" grep -q "peer=site-d.*session established" "$WORKDIR/causewayd-a.log"
    expect "A ages MACs out after 120 s now" [ "$(json_get "$(daemon_status a)" 's["macTable"]["agingSeconds"] == 120')" = True ]
    expect "SIGHUP was logged on B" grep -q "configuration reloaded: added site-d; removed site-c" "$WORKDIR/causewayd-b.log"
    # An invalid file is refused, said so, and the running peers stay.
    echo "hub = maybe" >> "$WORKDIR/site-a.toml"  # after the last [[peer]]: its key, and invalid
    expect_not "an invalid reload is refused" "$CAUSEWAYCTL" reload --socket "$WORKDIR/site-a.sock" 2>/dev/null
    expect "the refusal is logged" grep -q "reload refused, the running configuration stays" "$WORKDIR/causewayd-a.log"
    expect "A still has B and D" [ "$(json_get "$(daemon_status a)" '[p["name"] for p in s["peers"]]')" = "['site-b', 'site-d']" ]
    write_site_config a "b d" 'log-level = "debug"' "mac-aging-time = 120"
    sed -i 's/^listen = .*/listen = "198.18.0.1:51999"/' "$WORKDIR/site-a.toml"
    expect_not "a reload that moves the listen address is refused" "$CAUSEWAYCTL" reload --socket "$WORKDIR/site-a.sock" 2>/dev/null
    expect "it names what needs a restart" grep -q "'listen' cannot change while causewayd runs" "$WORKDIR/causewayd-a.log"
}

test_peer_configuration_errors_are_refused() {
    write_config a
    local key_b key_a; key_b=$(public_key b); key_a=$(public_key a)
    bad() {
        local name=$1 message=$2; shift 2
        { grep -v '^\[\[peer\]\]\|^name\|^public-key\|^endpoint' "$WORKDIR/site-a.toml"; printf '%s\n' "$@"; } > "$WORKDIR/$name.toml"
        local out status=0
        out=$(ip netns exec "$NS_GA" "$CAUSEWAYD" check --config "$WORKDIR/$name.toml" 2>&1) || status=$?
        echo "    $name: $out"
        expect "$name exits 2" [ "$status" = 2 ]
        expect "$name names the problem" grep -qF -- "$message" <<<"$out"
    }
    bad duplicate-key "is also the public key of peer 'b'" \
        '[[peer]]' 'name = "b"' "public-key = \"$key_b\"" '[[peer]]' 'name = "c"' "public-key = \"$key_b\""
    bad duplicate-name "'b' is also the name of peer 1" \
        '[[peer]]' 'name = "b"' "public-key = \"$key_b\"" '[[peer]]' 'name = "b"' "public-key = \"$("$CAUSEWAYD" genkey "$WORKDIR/x.key" >/dev/null; "$CAUSEWAYD" pubkey "$WORKDIR/x.key")\""
    bad own-key "is this site's own public key" '[[peer]]' 'name = "self"' "public-key = \"$key_a\""
    bad two-hubs "two hubs forward each other's floods" 'hub = true' '[[peer]]' 'name = "b"' "public-key = \"$key_b\"" 'hub = true'
}
