# The Debian package (make deb; $DEB): it runs where no Swift toolchain is, it installs,
# keeps an edited configuration and purges cleanly. Nothing reaches the host: the package
# runs in a chroot built in $WORKDIR, or is installed through overlays in a private mount
# namespace.

# deb_file: the package under test, or the test fails saying how to make it.
deb_file() {
    local deb=${DEB:-}
    [ -n "$deb" ] || deb=$(ls "$ROOT"/.build/causeway_*.deb 2>/dev/null | head -n 1)
    [ -f "$deb" ] || fail "no .deb: run make deb (or set DEB=path)"
    echo "$deb"
}

# package_closure PACKAGE...: the packages named and, recursively, what they depend on
# (the first installed alternative of each), one per line.
package_closure() {
    declare -A seen=()
    local queue=("$@") package fields alternative name
    while [ ${#queue[@]} -gt 0 ]; do
        package=${queue[0]}; queue=("${queue[@]:1}")
        [ -z "${seen[$package]:-}" ] || continue
        seen[$package]=1
        echo "$package"
        fields=$(dpkg-query -W -f='${Pre-Depends}, ${Depends}' "$package" 2>/dev/null) || continue
        while IFS= read -r alternative; do
            for name in ${alternative//|/ }; do
                name=${name%%:*}
                case $name in ''|\(*|*\)|'>='*|'<='*|'='*|'<<'*|'>>'*) continue ;; esac
                if dpkg-query -W "$name" >/dev/null 2>&1; then queue+=("$name"); break; fi
            done
        done < <(echo "$fields" | tr ',' '\n' | sed 's/([^)]*)//g')
    done
}

# root_from_dependencies ROOT DEB: a root holding only the files of the package's
# dependencies, copied from this host (libc, libstdc++, libnl, ...), and the package itself.
root_from_dependencies() {
    local root=$1 deb=$2 depends package
    depends=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/([^)]*)//; s/|.*//; s/ //g')
    mkdir -p "$root"
    # Each file where it really lies (on a merged-/usr host /lib/x/libc.so.6 is
    # /usr/lib/x/libc.so.6), and the host's top-level links (/lib -> usr/lib) as they are.
    local top
    for top in /bin /sbin /lib /lib64; do
        if [ -L "$top" ]; then cp -a "$top" "$root$top"; fi
    done
    for package in $(package_closure $depends); do
        dpkg -L "$package" 2>/dev/null | while read -r path; do
            [ -L "$path" ] || [ -f "$path" ] || continue
            local folder; folder=$(readlink -f "$(dirname "$path")")
            mkdir -p "$root$folder"
            cp -a "$path" "$root$folder/" 2>/dev/null || true
        done
    done
    # As dpkg does on a merged-/usr host: the package's /lib goes through the link.
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$root" --keep-directory-symlink
}

test_deb_runs_in_a_root_without_the_toolchain() {
    local deb root=$WORKDIR/root version output toolchain
    deb=$(deb_file)
    version=$(dpkg-deb -f "$deb" Version)
    expect "the package depends on libnl ($(dpkg-deb -f "$deb" Depends))" \
        bash -c 'dpkg-deb -f "$1" Depends | grep -q "libnl-3-200" && dpkg-deb -f "$1" Depends | grep -q "libnl-route-3-200"' _ "$deb"
    expect "the configuration is a conffile" bash -c 'dpkg-deb -I "$1" conffiles | grep -qx /etc/causeway/site.toml' _ "$deb"

    root_from_dependencies "$root" "$deb"
    toolchain=$(dirname "$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")")
    expect "no toolchain ($toolchain) in the root" [ ! -e "$root$toolchain" ]
    expect "no Swift runtime library in the root" [ -z "$(find "$root" -name 'libswift*' -print -quit)" ]
    local binary
    for binary in causewayd causewayctl; do
        expect "$binary has no RUNPATH or RPATH" bash -c '! readelf -d "$1" | grep -Eq "RUNPATH|RPATH"' _ "$root/usr/bin/$binary"
        expect "$binary needs no Swift library" bash -c '! readelf -d "$1" | grep NEEDED | grep -Eqi "swift|Foundation|dispatch"' _ "$root/usr/bin/$binary"
    done
    expect "the man pages are in the package" test -f "$root/usr/share/man/man5/causeway.toml.5.gz"
    expect "the bash completions are in the package" test -s "$root/usr/share/bash-completion/completions/causewayctl"
    expect "the zsh completions are in the package" test -s "$root/usr/share/zsh/vendor-completions/_causewayd"

    # In a network namespace of this test's own, so check sees only the devices made here,
    # and with /proc mounted (in a private mount namespace) as on any host: Swift's runtime
    # reads the command line from /proc/self/cmdline, and without it sees no arguments.
    mkdir -p "$root/proc"
    inroot() {
        ip netns exec "$NS_GA" unshare --mount --propagation private \
            bash -c 'mount -t proc proc "$1/proc" && exec chroot "$@"' _ "$root" "$@"
    }
    output=$(inroot /usr/bin/causewayd --version 2>&1) || fail "causewayd --version in the root: $output"
    expect "causewayd --version says $version ($output)" [ "$output" = "$version" ]
    output=$(inroot /usr/bin/causewayctl --help 2>&1) || fail "causewayctl in the root: $output"

    inroot /usr/bin/causewayd genkey /etc/causeway/causeway.key || fail "genkey in the root"
    local peer_key
    peer_key=$("$CAUSEWAYD" genkey | "$CAUSEWAYD" pubkey)
    sed -i "s|REPLACE-WITH-SITE-B-PUBLIC-KEY|$peer_key|" "$root/etc/causeway/site.toml"
    # The example names lan-interface eth1: a veth of that name, in the namespace only.
    ip -n "$NS_GA" link add eth1 type veth peer name eth1-far
    output=$(inroot /usr/bin/causewayd check --config /etc/causeway/site.toml 2>&1) \
        || fail "causewayd check in the root: $output"
    echo "$output" | sed 's/^/    /'
    expect "check says OK" grep -q ": OK" <<< "$output"
}

# in_package_root COMMAND...: runs COMMAND in a private mount namespace in which /etc, /usr
# and /var are overlays kept in $WORKDIR, and systemd's runtime folder is hidden: dpkg's
# database, the installed files, the group and the maintainer scripts' work land there.
in_package_root() {
    local o=$WORKDIR/pkg-overlay
    mkdir -p "$o"/{etc,etc-work,usr,usr-work,var,var-work}
    unshare --mount --propagation private bash -c '
        o=$1; shift
        for d in etc usr var; do
            mount -t overlay overlay -o "lowerdir=/$d,upperdir=$o/$d,workdir=$o/$d-work" "/$d" || exit 99
        done
        if [ -d /run/systemd ]; then mount -t tmpfs tmpfs /run/systemd || exit 99; fi
        exec "$@"' _ "$o" "$@"
}

test_deb_installs_keeps_an_edited_configuration_and_purges() {
    local deb out=$WORKDIR/dpkg.out host_group host_package
    deb=$(deb_file)
    host_group=$(getent group causeway || true); host_package=$(dpkg-query -W causeway 2>/dev/null || true)
    in_package_root bash -c '
        set -e
        deb=$1
        dpkg -i "$deb" > /dev/null
        getent group causeway > /dev/null || { echo "no causeway group"; exit 1; }
        [ "$(stat -c "%a %U:%G" /etc/causeway)" = "750 root:causeway" ] || { echo "/etc/causeway: $(stat -c "%a %U:%G" /etc/causeway)"; exit 1; }
        [ "$(stat -c "%a %U:%G" /etc/causeway/site.toml)" = "640 root:causeway" ] || { echo "site.toml: $(stat -c "%a %U:%G" /etc/causeway/site.toml)"; exit 1; }
        [ "$(stat -c "%a %U:%G" /etc/causeway/causeway.key)" = "600 root:root" ] || { echo "the key: $(stat -c "%a %U:%G" /etc/causeway/causeway.key)"; exit 1; }
        [ "$(causewayd --version)" = "$(dpkg-query -W -f="\${Version}" causeway)" ] || { echo "version differs"; exit 1; }
        man -w causewayd causewayctl causeway.toml > /dev/null || { echo "man pages not found"; exit 1; }
        key=$(cat /etc/causeway/causeway.key)

        echo "# edited by the operator" >> /etc/causeway/site.toml
        dpkg -i "$deb" > /dev/null
        grep -q "edited by the operator" /etc/causeway/site.toml || { echo "reinstalling overwrote the edited configuration"; exit 1; }
        [ "$(cat /etc/causeway/causeway.key)" = "$key" ] || { echo "reinstalling replaced the key"; exit 1; }
        [ "$(stat -c "%G" /etc/causeway/site.toml)" = causeway ] || { echo "reinstalling lost the group"; exit 1; }

        dpkg -r causeway > /dev/null
        [ ! -e /usr/bin/causewayd ] || { echo "remove left the binary"; exit 1; }
        grep -q "edited by the operator" /etc/causeway/site.toml || { echo "remove took the configuration"; exit 1; }
        [ -e /etc/causeway/causeway.key ] || { echo "remove took the key"; exit 1; }

        dpkg -P causeway > /dev/null
        [ ! -e /etc/causeway ] || { echo "purge left: $(ls -A /etc/causeway)"; exit 1; }
        ! getent group causeway > /dev/null || { echo "purge left the group"; exit 1; }
        [ ! -e /var/lib/causeway ] || { echo "purge left /var/lib/causeway"; exit 1; }
        [ -z "$(dpkg-statoverride --list | grep causeway)" ] || { echo "purge left statoverrides"; exit 1; }
        echo "installed, reinstalled over an edited configuration, removed, purged"
    ' _ "$deb" > "$out" 2>&1
    local status=$?
    [ $status = 0 ] || fail "($status) $(cat "$out")"
    sed 's/^/    /' "$out"
    expect "the host's packages are as they were" [ "$(dpkg-query -W causeway 2>/dev/null || true)" = "$host_package" ]
    expect "the host's groups are as they were" [ "$(getent group causeway || true)" = "$host_group" ]
}
