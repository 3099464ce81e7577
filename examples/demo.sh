#!/usr/bin/env bash
# make demo: two sites in network namespaces, joined by causewayd over a 1500-byte "WAN".
# Host A (198.19.0.1, site A) and host B (198.19.0.2, site B) share one subnet; the gateways
# talk UDP over 198.18.0.0/24. Everything is torn down on exit, Ctrl-C or failure.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../Tests/netns/lib.sh"
[ "$(id -u)" = 0 ] || { echo "the demo creates network namespaces: run it as root"; exit 1; }
trap sites_teardown EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Creating site A (host $LAN_A, gateway $WAN_A) and site B (host $LAN_B, gateway $WAN_B)"
sites_create 1500
write_config a
write_config b
echo "  namespaces: $NS_HA $NS_GA $NS_GB $NS_HB"
echo "  site A's configuration:"; sed 's/^/    /' "$WORKDIR/site-a.toml"

say "Starting causewayd in both gateways"
daemon_start a
daemon_start b
wait_for 15 ip netns exec "$NS_HA" ping -c 1 -W 1 "$LAN_B" || {
    echo "the sites did not join; daemon logs:"; cat "$WORKDIR"/causewayd-*.log; exit 1; }
sleep 1
grep -h 'bridging\|session established\|path MTU' "$WORKDIR"/causewayd-*.log | sed 's/^/  /'

say "Host A ($LAN_A) pings host B ($LAN_B) across the WAN"
ip netns exec "$NS_HA" ping -c 4 -i 0.3 "$LAN_B" | sed 's/^/  /'
say "A full-size 1500-byte IP packet, don't-fragment bit set, crosses the 1500-byte WAN"
echo "  (Causeway splits its 1514-byte frame into two fragments of its own; the WAN sees no IP fragment)"
ip netns exec "$NS_HA" ping -c 2 -i 0.3 -M do -s 1472 "$LAN_B" | sed 's/^/  /'

say "ARP resolved host B's own MAC address on host A"
echo "  host A's neighbour table: $(ip -n "$NS_HA" neigh show "$LAN_B")"
echo "  host B's lan0 MAC:         $(ip -n "$NS_HB" -br link show lan0 | awk '{print $3}')"

say "causewayctl status on gateway A"
ctl a status | sed 's/^/  /'
say "causewayctl macs on each gateway"
echo "  site A:"; ctl a macs | sed 's/^/    /'
echo "  site B:"; ctl b macs | sed 's/^/    /'
say "causewayctl explain: where would gateway A send a frame for host B?"
ctl a explain "$(ip -n "$NS_HB" -br link show lan0 | awk '{print $3}')" | sed 's/^/  /'

say "Done: tearing both sites down"
