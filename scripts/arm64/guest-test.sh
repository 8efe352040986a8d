#!/usr/bin/env bash
# Inside the arm64 guest (scripts/test.sh --arm64 starts it through run.sh):
# build with ASan+UBSan in build-arm64/ (kept on the shared tree, so a rerun
# compiles only what changed), run the arm64 subset (the tests named in
# scripts/arm64/subset, or ARGS for `meson test` when given) and write the
# closing "N passed, N failed, N skipped" line to build-arm64/summary.txt
# as well as to the console. A build that fails counts as one failed result.
set -uo pipefail
cd "$(dirname "$0")/../.."
builddir=build-arm64
extra="$builddir/extra-results.json"
# A tree that never finished its setup is started again from nothing.
[ -f "$builddir/build.ninja" ] || rm -rf "$builddir"
mkdir -p "$builddir"
rm -f "$extra" "$builddir/summary.txt" "$builddir/meson-logs/testlog.json"
stamp() { echo "[guest $(cut -d' ' -f1 /proc/uptime) s] $*"; }

start=$SECONDS
result=OK
if [ ! -f "$builddir/build.ninja" ]; then
	meson setup "$builddir" -Db_sanitize=address,undefined >"$builddir/setup.log" 2>&1 ||
		{ tail -n 30 "$builddir/setup.log"; result=FAIL; }
fi
if [ $# -eq 0 ]; then
	mapfile -t tests < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' scripts/arm64/subset)
	set -- "${tests[@]}"
fi
# Only what the tests need when they are all unit tests (one program each):
# under TCG every object costs seconds.
targets=()
for t in "$@"; do
	if [ -f "tests/unit/test_$t.c" ]; then targets+=("test_$t"); else targets=(); break; fi
done
if [ "$result" = OK ]; then
	# -k 0: every object that compiles is built, the report lists all
	# that do not.
	meson compile -C "$builddir" --ninja-args=-k0 "${targets[@]}" >"$builddir/compile.log" 2>&1 ||
		{ grep -E -A6 'error:|FAILED' "$builddir/compile.log" | head -n 80; result=FAIL; }
fi
stamp "build arm64: $result ($((SECONDS - start)) s)"
printf '{"name": "build arm64", "result": "%s"}\n' "$result" >"$extra"

export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:halt_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
start=$SECONDS
if [ "$result" = OK ]; then
	# Through cat: the serial console is a terminal, and meson's progress
	# spinner would fill the log.
	meson test -C "$builddir" --no-rebuild --print-errorlogs --num-processes 2 "$@" | cat
fi
stamp "tests: $((SECONDS - start)) s"
logs=("$extra")
[ -f "$builddir/meson-logs/testlog.json" ] && logs+=("$builddir/meson-logs/testlog.json")
python3 scripts/test-summary.py "${logs[@]}" | tee "$builddir/summary.txt"
exit "${PIPESTATUS[0]}"
