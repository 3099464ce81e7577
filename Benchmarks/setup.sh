# Sourced by the benchmarks: where the tree and the release binaries are, the seconds each
# measurement runs, and the root check (they create network namespaces).
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
export CAUSEWAYD=${CAUSEWAYD:-$ROOT/.build/release/causewayd}
export CAUSEWAYCTL=${CAUSEWAYCTL:-$ROOT/.build/release/causewayctl}
DURATION=${DURATION:-10}
[ "$(id -u)" = 0 ] || { echo "the benchmark creates network namespaces: run it as root"; exit 1; }
