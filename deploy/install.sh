#!/usr/bin/env bash
# Installs Causeway on a gateway host (root; safe to run again).
#
#   deploy/install.sh [--prefix DIR] [--destdir DIR] [--prebuilt DIR] [--dry-run]
#                     [--key FILE] [--peer NAME=PUBLIC-KEY[@ENDPOINT]]...
#
# Builds self-contained release binaries (deploy/build-release.sh) or takes them from
# --prebuilt DIR, installs causewayd and causewayctl under the prefix (default /usr/local),
# their man pages and bash and zsh completions, the systemd units causeway@.service and
# causeway-metrics@.service/.timer, the documentation, the system group `causeway`, and
# /etc/causeway/ with a commented example configuration and a fresh key -- each only when
# none exists: an existing configuration or key is never touched. --destdir installs into a
# staging root (packaging, tests) and leaves this host's groups alone: the files there get
# group root, and the target needs `groupadd --system causeway` and a chgrp (printed at the
# end). --dry-run prints every action without doing any.
#
# --key FILE installs that private key (causewayd genkey's format) instead of a fresh one: to
# keep a site's identity when a gateway is replaced. --peer (once per peer) writes a [[peer]]
# table with that name, public key and endpoint into a new configuration instead of the
# example's placeholder; ENDPOINT is left out for a peer that only calls in. The last lines
# print this site's public key: every peer must name it.
set -euo pipefail

PREFIX=/usr/local
DESTDIR=
PREBUILT=
DRY_RUN=0
KEY_FILE=
PEERS=()
GROUP=causeway
REPO=$(cd "$(dirname "$0")/.." && pwd)

# usage [STATUS]: the comment block at the top of this file, and nothing after it.
usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case $1 in
        --prefix) PREFIX=${2:?--prefix needs a directory}; shift 2 ;;
        --destdir) DESTDIR=${2:?--destdir needs a directory}; shift 2 ;;
        --prebuilt) PREBUILT=${2:?--prebuilt needs a directory}; shift 2 ;;
        --dry-run) DRY_RUN=1; shift ;;
        --key) KEY_FILE=${2:?--key needs a file}; shift 2 ;;
        --peer) PEERS+=("${2:?--peer needs NAME=PUBLIC-KEY[@ENDPOINT]}"); shift 2 ;;
        -h|--help) usage ;;
        *) echo "install.sh: unknown option '$1'" >&2; usage 2 >&2 ;;
    esac
done
case $PREFIX in /*) ;; *) echo "install.sh: --prefix must be absolute: $PREFIX" >&2; exit 2 ;; esac
if [ -n "$KEY_FILE" ] && [ ! -r "$KEY_FILE" ]; then echo "install.sh: --key $KEY_FILE: no such readable file" >&2; exit 2; fi
for peer in "${PEERS[@]}"; do
    [[ $peer =~ ^[A-Za-z0-9._-]{1,32}=[A-Za-z0-9+/]{43}=(@.+)?$ ]] \
        || { echo "install.sh: --peer '$peer' is not NAME=PUBLIC-KEY[@ENDPOINT] (a name of letters, digits, '.', '_', '-'; a key as causewayd pubkey prints it)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || [ $DRY_RUN = 1 ] || { echo "install.sh: run as root (or with --dry-run)" >&2; exit 1; }

BINDIR=$PREFIX/bin
DOCDIR=$PREFIX/share/doc/causeway
DATADIR=$PREFIX/share/causeway
MANDIR=$PREFIX/share/man
BASH_COMPLETIONS=$PREFIX/share/bash-completion/completions
ZSH_COMPLETIONS=$PREFIX/share/zsh/site-functions
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
    echo "  $REPO/deploy/build-release.sh"
    if [ $DRY_RUN = 0 ]; then
        BUILT=$("$REPO/deploy/build-release.sh")
    else
        BUILT=$REPO/.build/static/release
    fi
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

echo "== man pages"
for page in "$REPO"/docs/man/*.[1-8]; do
    section=${page##*.}
    ensure_dir 0755 root:root "$MANDIR/man$section"
    install_file 0644 "$page" "$MANDIR/man$section/$(basename "$page")"
done

SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
echo "== shell completions (generated by the binaries themselves)"
ensure_dir 0755 root:root "$BASH_COMPLETIONS"
ensure_dir 0755 root:root "$ZSH_COMPLETIONS"
for binary in causewayd causewayctl; do
    if [ -x "$BUILT/$binary" ]; then
        "$BUILT/$binary" --generate-completion-script bash > "$SCRATCH/$binary.bash"
        "$BUILT/$binary" --generate-completion-script zsh > "$SCRATCH/_$binary"
    else # a dry run without binaries
        touch "$SCRATCH/$binary.bash" "$SCRATCH/_$binary"
    fi
    install_file 0644 "$SCRATCH/$binary.bash" "$BASH_COMPLETIONS/$binary"
    install_file 0644 "$SCRATCH/_$binary" "$ZSH_COMPLETIONS/_$binary"
done

echo "== systemd units"
ensure_dir 0755 root:root "$UNITDIR"
for unit in causeway@.service monitoring/causeway-metrics@.service monitoring/causeway-metrics@.timer; do
    sed -e "s|@BINDIR@|$BINDIR|g" -e "s|@DOCDIR@|$DOCDIR|g" "$REPO/deploy/$unit" > "$SCRATCH/unit"
    install_file 0644 "$SCRATCH/unit" "$UNITDIR/$(basename "$unit")"
done

# A staging root is for another host: this host's groups (and their numbers) mean nothing there.
if [ -n "$DESTDIR" ]; then
    CONF_GROUP=root
    echo "== group $GROUP: not created (--destdir); the target needs it"
elif getent group "$GROUP" >/dev/null; then
    CONF_GROUP=$GROUP
    echo "== group $GROUP (may use causewayctl) exists"
else
    CONF_GROUP=$GROUP
    echo "== group $GROUP (may use causewayctl)"
    run groupadd --system "$GROUP"
    record group "$GROUP"
fi

echo "== configuration in $CONFDIR (never overwritten)"
ensure_dir 0750 "root:$CONF_GROUP" "$CONFDIR"
if [ -e "$DESTDIR$CONFDIR/site.toml" ]; then
    echo "  $CONFDIR/site.toml exists; left as it is"
else
    if [ ${#PEERS[@]} -eq 0 ]; then
        run install -m 0640 -o root -g "$CONF_GROUP" "$REPO/examples/site-a.toml" "$DESTDIR$CONFDIR/site.toml"
    else
        # The example up to its peer tables, then one table per --peer.
        configuration=$SCRATCH/site.toml
        awk '/^\[\[peer\]\]/ { exit } { print }' "$REPO/examples/site-a.toml" > "$configuration"
        for peer in "${PEERS[@]}"; do
            name=${peer%%=*}; rest=${peer#*=}; key=${rest%%@*}; endpoint=
            [ "$rest" = "$key" ] || endpoint=${rest#*@}
            printf '[[peer]]\nname = "%s"\npublic-key = "%s"\n' "$name" "$key" >> "$configuration"
            if [ -n "$endpoint" ]; then printf 'endpoint = "%s"\n\n' "$endpoint"; else printf '# no endpoint: this peer calls in\n\n'; fi >> "$configuration"
        done
        run install -m 0640 -o root -g "$CONF_GROUP" "$configuration" "$DESTDIR$CONFDIR/site.toml"
    fi
    record config "$CONFDIR/site.toml"
fi
if [ -e "$DESTDIR$CONFDIR/causeway.key" ]; then
    echo "  $CONFDIR/causeway.key exists; left as it is"
else
    if [ -n "$KEY_FILE" ]; then
        "$DESTDIR$BINDIR/causewayd" pubkey "$KEY_FILE" > /dev/null || { echo "install.sh: --key $KEY_FILE is not a private key (causewayd genkey)" >&2; exit 2; }
        run install -m 0600 -o root -g root "$KEY_FILE" "$DESTDIR$CONFDIR/causeway.key"
    else
        run "$DESTDIR$BINDIR/causewayd" genkey "$DESTDIR$CONFDIR/causeway.key"
    fi
    record config "$CONFDIR/causeway.key"
fi

echo "== manifest $MANIFEST"
ensure_dir 0755 root:root "$DATADIR"
record file "$MANIFEST"
NEW_MANIFEST=$SCRATCH/manifest
# Merged with an earlier run's: what that run created is still ours to remove.
{ [ -f "$DESTDIR$MANIFEST" ] && cat "$DESTDIR$MANIFEST"; printf '%s\n' "${RECORDED[@]}"; } | sort -u > "$NEW_MANIFEST"
install_file 0644 "$NEW_MANIFEST" "$MANIFEST"

if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then
    run systemctl daemon-reload
fi

if [ -n "$DESTDIR" ]; then
    cat <<GROUP

On the target host, as root: groupadd --system $GROUP && chgrp $GROUP $CONFDIR $CONFDIR/site.toml
GROUP
fi

public_key=$([ $DRY_RUN = 1 ] || "$DESTDIR$BINDIR/causewayd" pubkey "$DESTDIR$CONFDIR/causeway.key" 2>/dev/null || true)
cat <<NEXT

Installed$([ $DRY_RUN = 1 ] && echo " (dry run: nothing was changed)"). Next steps (docs/operations.md in $DOCDIR):
  1. This site's public key is ${public_key:-what \`causewayd pubkey $CONFDIR/causeway.key\` prints}
     Every peer gateway must name it as this site's public-key in its [[peer]] table: a
     gateway installed with a fresh key of its own is a new site to its peers until they do.
     (The private key $CONFDIR/causeway.key stays here; --key FILE installs a given one.)
  2. Edit $CONFDIR/site.toml: lan-interface, listen, and one [[peer]] table per peer gateway
     with its name, public-key (its causewayd pubkey) and endpoint (--peer writes them).
  3. causewayd check --config $CONFDIR/site.toml
  4. systemctl enable --now causeway@site
  5. causewayctl status
NEXT
