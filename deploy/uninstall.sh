#!/usr/bin/env bash
# Removes what deploy/install.sh installed, as its manifest lists it (root).
#
#   deploy/uninstall.sh [--prefix DIR] [--destdir DIR] [--purge] [--dry-run]
#
# Configuration and keys in /etc/causeway stay unless --purge, which also removes the
# causeway group if install.sh created it. Running instances are stopped first.
set -euo pipefail

PREFIX=/usr/local
DESTDIR=
PURGE=0
DRY_RUN=0
usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
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

MANIFEST=$DESTDIR$PREFIX/share/causeway/install-manifest
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
if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then run systemctl daemon-reload; fi
echo "Uninstalled$([ $DRY_RUN = 1 ] && echo " (dry run: nothing was changed)")."
