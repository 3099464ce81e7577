#!/usr/bin/env bash
# Removes what deploy/install.sh installed, as its manifest lists it (root).
#
#   deploy/uninstall.sh [--prefix DIR] [--destdir DIR] [--purge] [--dry-run]
#
# Configuration and keys in /etc/causeway stay unless --purge, which also removes the
# causeway group if install.sh created it; --purge also works after a plain uninstall, which
# keeps a manifest of what it left. Running instances are stopped first.
set -euo pipefail

PREFIX=/usr/local
DESTDIR=
PURGE=0
DRY_RUN=0
# usage [STATUS]: the comment block at the top of this file, and nothing after it.
usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case $1 in
        --prefix) PREFIX=${2:?--prefix needs a directory}; shift 2 ;;
        --destdir) DESTDIR=${2:?--destdir needs a directory}; shift 2 ;;
        --purge) PURGE=1; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h|--help) usage ;;
        *) echo "uninstall.sh: unknown option '$1'" >&2; usage 2 >&2 ;;
    esac
done
[ "$(id -u)" = 0 ] || [ $DRY_RUN = 1 ] || { echo "uninstall.sh: run as root (or with --dry-run)" >&2; exit 1; }

MANIFEST_PATH=$PREFIX/share/causeway/install-manifest
MANIFEST=$DESTDIR$MANIFEST_PATH
[ -f "$MANIFEST" ] || { echo "uninstall.sh: no manifest at $MANIFEST: nothing installed by install.sh here" >&2; exit 1; }
ENTRIES=$(cat "$MANIFEST")

run() {
    echo "  $*"
    [ $DRY_RUN = 1 ] || "$@"
}
entries() { echo "$ENTRIES" | awk -v kind="$1" '$1 == kind { print $2 }'; }

if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then
    echo "== stopping causeway@ instances"
    run systemctl disable --now 'causeway@*.service' || true
fi

echo "== files"
for path in $(entries file); do
    # Without --purge the manifest stays, for what stays: a later --purge still finds it.
    [ $PURGE = 1 ] || [ "$path" != "$MANIFEST_PATH" ] || continue
    if [ -e "$DESTDIR$path" ]; then run rm -f "$DESTDIR$path"; fi
done

if [ $PURGE = 1 ]; then
    echo "== configuration and keys (--purge)"
    for path in $(entries config); do
        if [ -e "$DESTDIR$path" ]; then run rm -f "$DESTDIR$path"; fi
    done
    for group in $(entries group); do
        if getent group "$group" >/dev/null; then run groupdel "$group"; fi
    done
else
    echo "== configuration and keys stay (--purge removes them):"
    for path in $(entries config); do echo "  $path"; done
fi

echo "== folders install.sh created, if empty"
# Deepest first, so a folder's children go before it.
for path in $(entries dir | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2-); do
    [ -d "$DESTDIR$path" ] || continue
    if [ -z "$(ls -A "$DESTDIR$path")" ]; then
        run rmdir "$DESTDIR$path"
    else
        echo "  $path is not empty; left"
    fi
done
if [ $PURGE = 0 ]; then
    echo "== manifest of what stays, for a later --purge: $MANIFEST_PATH"
    # The configuration, the group, the manifest and the folders that still hold them.
    remaining=$(echo "$ENTRIES" | while read -r kind path; do
        case $kind in
            config|group) echo "$kind $path" ;;
            dir) [ ! -d "$DESTDIR$path" ] || echo "$kind $path" ;;
        esac
    done; echo "file $MANIFEST_PATH")
    if [ $DRY_RUN = 0 ]; then echo "$remaining" | sort -u > "$MANIFEST"; else echo "  (would write it)"; fi
fi
if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then run systemctl daemon-reload; fi
echo "Uninstalled$([ $DRY_RUN = 1 ] && echo " (dry run: nothing was changed)")."
