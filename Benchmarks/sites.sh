#!/usr/bin/env bash
# make bench-sites: what more sites cost. For 2, 4 and 8 sites in a full mesh on this
# machine (the test bed of Tests/netns/multisite_tests.sh: one WAN switch, a gateway and a
# LAN host per site), with every gateway running causewayd:
#   - TCP throughput from site A's host to site B's while the other sites idle (iperf3, one
#     stream, DURATION seconds);
#   - how long one broadcast from A's host takes to reach every other site's host: 200
#     numbered broadcasts 20 ms apart, the median and 99th percentile of the time until the
#     last host had each one.
#
#   Benchmarks/sites.sh [COUNT...]      default: 2 4 8
#
# Root only. Each count gets namespaces of its own, removed afterwards.
set -uo pipefail
source "$(dirname "$0")/setup.sh"
fail() { echo "    FAILED: $*" >&2; exit 1; }
expect() { local what=$1; shift; "$@" || fail "$what"; }

counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(2 4 8)
LETTERS=(a b c d e f g h)
RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT

for count in "${counts[@]}"; do
    [ "$count" -ge 2 ] && [ "$count" -le ${#LETTERS[@]} ] || { echo "between 2 and ${#LETTERS[@]} sites"; exit 64; }
    echo "--- $count sites"
    (
        SUFFIX=$(printf 'b%03x%04x' $RANDOM $RANDOM)
        source "$ROOT/Tests/netns/lib.sh"
        source "$ROOT/Tests/netns/multisite_tests.sh"
        trap 'sites_teardown' EXIT
        sites_create
        sites=("${LETTERS[@]:0:$count}")
        start_mesh "${sites[@]}"
        wait_for 10 reach_each_other a b || fail "A and B do not reach each other"
        ip netns exec "$(host_ns b)" iperf3 -s -1 -D -p 5201
        sleep 0.5
        gbps=$(ip netns exec "$(host_ns a)" iperf3 -c 198.19.0.2 -p 5201 -t "$DURATION" -J \
            | python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))')
        listeners=()
        for site in "${sites[@]:1}"; do
            ip netns exec "$(host_ns "$site")" python3 "$HERE/flood_time.py" listen lan0 7 "$WORKDIR/flood-$site.json" &
            listeners+=($!)
        done
        sleep 1
        ip netns exec "$(host_ns a)" python3 "$HERE/flood_time.py" send lan0 200 0.02 "$WORKDIR/flood-sent.json"
        for pid in "${listeners[@]}"; do wait "$pid"; done
        received=()
        for site in "${sites[@]:1}"; do received+=("$WORKDIR/flood-$site.json"); done
        flood=$(python3 "$HERE/flood_time.py" report "$WORKDIR/flood-sent.json" "${received[@]}")
        echo "$count $gbps $flood" >> "$RESULTS"
        echo "    $gbps Gbit/s A to B; broadcasts reaching all $((count - 1)) other sites, median and p99 ms: $flood"
    )
done

echo
echo "sites  TCP A->B Gbit/s  broadcasts complete  to all: median ms  p99 ms"
while read -r count gbps complete median p99; do
    printf '%5s  %15s  %19s  %17s  %6s\n' "$count" "$gbps" "$complete" "$median" "$p99"
done < "$RESULTS"
