#!/usr/bin/env bash
# Builds the release binaries a gateway runs, and prints the folder that holds them.
#
#   deploy/build-release.sh
#
# Swift's runtime and Foundation are linked in (--static-swift-stdlib), so the binaries need
# no Swift toolchain on the gateway, only libc, libstdc++ and libnl (docs/operations.md).
# No RUNPATH either (--disable-local-rpath drops SwiftPM's $ORIGIN): nothing is loaded from
# beside the binary. A scratch folder of their own: the unit tests' release build uses other
# flags, and sharing one folder would rebuild everything each time either runs.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SCRATCH=$REPO/.build/static
FLAGS=(-c release --static-swift-stdlib --disable-local-rpath --scratch-path "$SCRATCH")
cd "$REPO"
swift build "${FLAGS[@]}" --product causewayd >&2
swift build "${FLAGS[@]}" --product causewayctl >&2
swift build "${FLAGS[@]}" --show-bin-path
