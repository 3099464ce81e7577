#!/usr/bin/env bash
# The network-namespace tests: real kernel devices, real daemons, two simulated sites.
# Each test builds its own namespaces (lib.sh) and tears them down, also on failure.
# Usage: run.sh [TEST_NAME...]   (root only)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${BIN:-$ROOT/.build/debug}
export CAUSEWAYD=$BIN/causewayd
export CAUSEWAYCTL=$BIN/causewayctl
# Python packages the Makefile installed for the tests (Prometheus's text parser).
export PYTHONPATH=$ROOT/.build/python${PYTHONPATH:+:$PYTHONPATH}
TESTPEER=$BIN/causeway-testpeer

[ "$(id -u)" = 0 ] || { echo "netns tests need root"; exit 1; }
[ -x "$CAUSEWAYD" ] || { echo "build first: $CAUSEWAYD is missing"; exit 1; }

# fail MESSAGE: ends the current test (each test runs in its own subshell).
fail() { echo "    FAILED: $*" >&2; exit 1; }
# expect DESCRIPTION COMMAND...: the command must succeed.
expect() { local what=$1; shift; "$@" || fail "$what"; }
# expect_not DESCRIPTION COMMAND...: the command must fail.
expect_not() { local what=$1; shift; ! "$@" || fail "$what"; }

for tests_file in "$HERE"/*_tests.sh; do source "$tests_file"; done

tests=("$@")
[ ${#tests[@]} -gt 0 ] || mapfile -t tests < <(declare -F | awk '{print $3}' | grep '^test_')
passed=0; failed=0
for test in "${tests[@]}"; do
    echo "--- $test"
    # Each test runs in a subshell with its own namespaces, torn down by its trap.
    if ( SUFFIX=$(printf '%04x%04x' $RANDOM $RANDOM); source "$HERE/lib.sh"
         trap 'status=$?; [ $status = 0 ] || tail -n 20 "$WORKDIR"/causewayd-*.log 2>/dev/null; sites_teardown' EXIT
         sites_create; "$test" ); then
        echo "ok - $test"; passed=$((passed + 1))
    else
        echo "not ok - $test"; failed=$((failed + 1))
    fi
done
echo
echo "netns: $passed passed, $failed failed"
[ $failed = 0 ]
