# What an operator meets besides the link: man pages, completions, the alert rules, the log
# format under systemd, the command lines' exit codes.

test_man_pages_render_without_warnings() {
    local page warnings
    for page in "$ROOT"/docs/man/*.[1-8]; do
        warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
        expect "$(basename "$page") renders without warnings: $warnings" [ -z "$warnings" ]
        expect "$(basename "$page") renders" bash -c 'MANWIDTH=80 man -l "$1" | grep -q NAME' _ "$page"
    done
    # Every key the example configuration shows, set or commented out, is in causeway.toml(5).
    local key rendered missing=""
    rendered=$(MANWIDTH=200 man -l "$ROOT/docs/man/causeway.toml.5" 2>/dev/null)
    for key in $(sed -n 's/^#\{0,1\} \{0,1\}\([a-z][a-z-]*\) = .*/\1/p' "$ROOT/examples/site-a.toml" | sort -u) name hub; do
        grep -Eq "^ {7}$key \(" <<< "$rendered" || missing+=" $key"
    done
    expect "causeway.toml(5) documents every key; missing:$missing" [ -z "$missing" ]
}

test_bash_completions_load() {
    local stage=$WORKDIR/stage binary
    in_private_root "$ROOT/deploy/install.sh" --destdir "$stage" --prebuilt "$BIN" > "$WORKDIR/install.out" \
        || fail "install failed: $(cat "$WORKDIR/install.out")"
    for binary in causewayd causewayctl; do
        expect "the bash completion of $binary defines it" \
            bash -c 'source "$1" && complete -p "$2" >/dev/null' _ "$stage/usr/local/share/bash-completion/completions/$binary" "$binary"
        expect "the zsh completion of $binary is installed" \
            grep -q "#compdef $binary" "$stage/usr/local/share/zsh/site-functions/_$binary"
    done
}

test_monitoring_rules_pass_promtool() {
    local promtool=${PROMTOOL:-$ROOT/.build/prometheus/usr/bin/promtool} output
    [ -x "$promtool" ] || fail "no promtool at $promtool: make $ROOT/.build/prometheus/usr/bin/promtool"
    output=$(cd "$ROOT/deploy/monitoring" && "$promtool" check rules causeway.rules.yml 2>&1) || fail "promtool check rules: $output"
    output=$(cd "$ROOT/deploy/monitoring" && "$promtool" test rules causeway.rules.test.yml 2>&1) || fail "promtool test rules: $output"
    expect "the dashboard is JSON" python3 -m json.tool "$ROOT/deploy/monitoring/grafana-dashboard.json" >/dev/null
}

test_journal_log_format() {
    write_config a
    JOURNAL_STREAM=8:12345 daemon_start a
    wait_for 10 grep -q "bridging" "$WORKDIR/causewayd-a.log" || fail "no bridging line: $(cat "$WORKDIR/causewayd-a.log")"
    daemon_stop a || fail "causewayd did not stop cleanly"
    local line
    line=$(grep "bridging" "$WORKDIR/causewayd-a.log")
    echo "    $line"
    expect "a notice starts <5>, then the message, no timestamp or label" grep -Eq '^<5>bridging( |$)' <<< "$line"
    expect "every line has a priority prefix" bash -c '! grep -Ev "^<[2-7]>" "$1"' _ "$WORKDIR/causewayd-a.log"
}

test_command_line_exit_codes() {
    local status output
    status=0; output=$("$CAUSEWAYD" 2>&1) || status=$?
    expect "causewayd without arguments exits 64 ($status)" [ "$status" = 64 ]
    expect "and prints its usage" grep -q "USAGE: causewayd" <<< "$output"
    expect "causewayd --version prints the version" [ "$("$CAUSEWAYD" --version)" = "$(sed -n 's/.*current = "\(.*\)".*/\1/p' "$ROOT/Sources/CausewayCore/Version.swift")" ]
    status=0; output=$("$CAUSEWAYD" chek --config x 2>&1) || status=$?
    expect "a mistyped causewayd subcommand exits 64 ($status)" [ "$status" = 64 ]
    expect "and names the nearest ($output)" grep -q "Did you mean 'check'?" <<< "$output"
    status=0; output=$("$CAUSEWAYCTL" stauts 2>&1) || status=$?
    expect "a mistyped causewayctl subcommand exits 64 ($status)" [ "$status" = 64 ]
    expect "and names the nearest ($output)" grep -q "Did you mean 'status'?" <<< "$output"
    write_config a "mac-aging-tme = 60"
    status=0; output=$("$CAUSEWAYD" check --config "$WORKDIR/site-a.toml" 2>&1) || status=$?
    expect "a mistyped key exits 2 ($status)" [ "$status" = 2 ]
    expect "and names the nearest ($output)" grep -q "did you mean 'mac-aging-time'?" <<< "$output"
}
