#!/usr/bin/env bash
# Installs Causeway on a gateway host (root; safe to run again).
#
#   deploy/install.sh [--prefix DIR] [--destdir DIR] [--prebuilt DIR] [--dry-run]
#
# Builds release binaries (or takes them from --prebuilt DIR), installs causewayd and
# causewayctl under the prefix (default /usr/local), the systemd unit causeway@.service,
# the documentation, the system group `causeway`, and /etc/causeway/ with a commented
# example configuration and a fresh key -- each only when none exists: an existing
# configuration or key is never touched. --destdir installs into a staging root (packaging,
# tests); --dry-run prints every action without doing any.
set -euo pipefail

PREFIX=/usr/local
DESTDIR=
PREBUILT=
DRY_RUN=0
GROUP=causeway
REPO=$(cd "$(dirname "$0")/.." && pwd)

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case $1 in
        --prefix) PREFIX=${2:?--prefix needs a directory}; shift 2 ;;
        --destdir) DESTDIR=${2:?--destdir needs a directory}; shift 2 ;;
        --prebuilt) PREBUILT=${2:?--prebuilt needs a directory}; shift 2 ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h|--help) usage ;;
        *) echo "install.sh: unknown option '$1'" >&2; usage 2 >&2 ;;
    esac
done
case $PREFIX in /*) ;; *) echo "install.sh: --prefix must be absolute: $PREFIX" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || [ $DRY_RUN = 1 ] || { echo "install.sh: run as root (or with --dry-run)" >&2; exit 1; }

BINDIR=$PREFIX/bin
DOCDIR=$PREFIX/share/doc/causeway
DATADIR=$PREFIX/share/causeway
UNITDIR=/etc/systemd/system
CONFDIR=/etc/causeway
MANIFEST=$DATADIR/install-manifest

# run COMMAND...: prints the action, and does it unless this is a dry run.
run() {
    echo "  $*"
    [ $DRY_RUN = 1 ] || "$@"
}

# Every path install.sh creates is recorded, so that uninstall.sh removes exactly those.
RECORDED=()
record() { RECORDED+=("$1 $2"); }
declare -A CREATED=()  # folders created in this run (a dry run only pretends to)

ensure_dir() { # ensure_dir MODE OWNER:GROUP DIR: creates DIR (and missing parents, 0755)
    if [ -d "$DESTDIR$3" ] || [ -n "${CREATED[$3]:-}" ]; then return 0; fi
    CREATED[$3]=1
    local parent; parent=$(dirname "$3")
    [ "$parent" = / ] || [ "$parent" = "$3" ] || ensure_dir 0755 root:root "$parent"
    run install -d -m "$1" -o "${2%:*}" -g "${2#*:}" "$DESTDIR$3"
    record dir "$3"
}

install_file() { # install_file MODE SOURCE TARGET: replaced only when its content differs
    if ! cmp -s "$2" "$DESTDIR$3"; then
        run install -m "$1" -o root -g root "$2" "$DESTDIR$3"
    fi
    record file "$3"
}

echo "== binaries"
if [ -n "$PREBUILT" ]; then
    BUILT=$(cd "$PREBUILT" && pwd)
else
    echo "  (cd $REPO && swift build -c release --product causewayd --product causewayctl)"
    if [ $DRY_RUN = 0 ]; then
        (cd "$REPO" && swift build -c release --product causewayd && swift build -c release --product causewayctl)
    fi
    BUILT=$REPO/.build/release
fi
for binary in causewayd causewayctl; do
    [ -x "$BUILT/$binary" ] || [ $DRY_RUN = 1 ] || { echo "install.sh: $BUILT/$binary is missing" >&2; exit 1; }
done
ensure_dir 0755 root:root "$BINDIR"
for binary in causewayd causewayctl; do
    install_file 0755 "$BUILT/$binary" "$BINDIR/$binary"
done

echo "== documentation"
ensure_dir 0755 root:root "$DOCDIR"
for doc in README.md docs/*.md examples/site-a.toml examples/site-b.toml; do
    install_file 0644 "$REPO/$doc" "$DOCDIR/$(basename "$doc")"
done

echo "== systemd unit"
UNIT=$(mktemp)
trap 'rm -f "$UNIT"' EXIT
sed -e "s|@BINDIR@|$BINDIR|g" -e "s|@DOCDIR@|$DOCDIR|g" "$REPO/deploy/causeway@.service" > "$UNIT"
ensure_dir 0755 root:root "$UNITDIR"
install_file 0644 "$UNIT" "$UNITDIR/causeway@.service"

echo "== group $GROUP (may use causewayctl)"
if getent group "$GROUP" >/dev/null; then
    echo "  group $GROUP exists"
else
    run groupadd --system "$GROUP"
    record group "$GROUP"
fi

echo "== configuration in $CONFDIR (never overwritten)"
ensure_dir 0750 "root:$GROUP" "$CONFDIR"
if [ -e "$DESTDIR$CONFDIR/site.toml" ]; then
    echo "  $CONFDIR/site.toml exists; left as it is"
else
    run install -m 0640 -o root -g "$GROUP" "$REPO/examples/site-a.toml" "$DESTDIR$CONFDIR/site.toml"
    record config "$CONFDIR/site.toml"
fi
if [ -e "$DESTDIR$CONFDIR/causeway.key" ]; then
    echo "  $CONFDIR/causeway.key exists; left as it is"
else
    run "$DESTDIR$BINDIR/causewayd" genkey "$DESTDIR$CONFDIR/causeway.key"
    record config "$CONFDIR/causeway.key"
fi

echo "== manifest $MANIFEST"
ensure_dir 0755 root:root "$DATADIR"
record file "$MANIFEST"
NEW_MANIFEST=$(mktemp)
trap 'rm -f "$UNIT" "$NEW_MANIFEST"' EXIT
# Merged with an earlier run's: what that run created is still ours to remove.
{ [ -f "$DESTDIR$MANIFEST" ] && cat "$DESTDIR$MANIFEST"; printf '%s\n' "${RECORDED[@]}"; } | sort -u > "$NEW_MANIFEST"
install_file 0644 "$NEW_MANIFEST" "$MANIFEST"

if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then
    run systemctl daemon-reload
fi

cat <<NEXT

Installed$([ $DRY_RUN = 1 ] && echo " (dry run: nothing was changed)"). Next steps (docs/operations.md in $DOCDIR):
  1. This site's public key, for the peer gateway's [peer] public-key (it never leaves
     this host otherwise; the private key $CONFDIR/causeway.key stays here):
       causewayd pubkey $CONFDIR/causeway.key
  2. Edit $CONFDIR/site.toml: lan-interface, listen, and under [peer] the peer's
     public-key (its causewayd pubkey) and endpoint (and migrate-addresses).
  3. causewayd check --config $CONFDIR/site.toml
  4. systemctl enable --now causeway@site
  5. causewayctl status
NEXT
