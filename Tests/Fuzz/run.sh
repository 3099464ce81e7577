#!/usr/bin/env bash
# Runs each libFuzzer target for a set time from the committed seeds, and fails on the first
# crash, leak of memory past the limit, or hang.
# Usage: run.sh SECONDS WORK_DIR BIN_DIR TARGET...
# The seeds are copied into WORK_DIR/corpus/<target>, which keeps what the fuzzer finds
# between runs; Tests/Fuzz/Corpus stays as committed. A crashing input is left in
# WORK_DIR/crashes/ for a regression test.
set -euo pipefail
# libFuzzer, not the Swift runtime's backtracer, must see a crash: it saves the input.
export SWIFT_BACKTRACE=enable=no
here=$(cd "$(dirname "$0")" && pwd)
# Leaks in dependencies, reported upstream rather than failing every run.
export LSAN_OPTIONS=suppressions=$here/lsan-suppressions.txt
seconds=$1
build=$2
bin=$3
shift 3
mkdir -p "$build/crashes" "$build/logs"
total=0
status=0
printf '%-18s %14s %10s %s\n' target executions exec/s result
for target in "$@"; do
	corpus="$build/corpus/$target"
	mkdir -p "$corpus"
	cp -n "$here/Corpus/$target/"* "$corpus/" 2>/dev/null || true
	# Frames with segmentation offload and datagram sequences need room; the others take
	# libFuzzer's default. TOMLKit leaks on every parse (lsan-suppressions.txt): checking for
	# leaks after each input would then cost a whole LeakSanitizer scan each time, and the
	# leak grows the process (1.6 GB after 2.6 million inputs), hence more room.
	rss_limit=2048
	case $target in
	fuzz-frame | fuzz-datagram) options=-max_len=20000 ;;
	fuzz-config)
		options=-detect_leaks=0
		rss_limit=4096
		;;
	*) options= ;;
	esac
	log="$build/logs/$target.log"
	result=passed
	if ! "$bin/$target" "$corpus" $options -max_total_time="$seconds" -timeout=10 \
		-rss_limit_mb=$rss_limit -print_final_stats=1 -artifact_prefix="$build/crashes/$target-" >"$log" 2>&1; then
		result="FAILED (see $log)"
		status=1
	fi
	executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	total=$((total + ${executions:-0}))
	printf '%-18s %14s %10s %s\n' "$target" "${executions:-?}" "${rate:-?}" "$result"
done
printf '%-18s %14s\n' total "$total"
if [ $status -ne 0 ]; then
	grep -h -A20 'ERROR: libFuzzer\|Fatal error\|==ERROR' "$build"/logs/*.log | head -60 >&2 || true
fi
exit $status
