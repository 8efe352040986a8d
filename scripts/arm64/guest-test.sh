#!/usr/bin/env bash
# Inside the arm64 guest (scripts/test.sh --arm64 starts it through run.sh,
# after scripts/arm64/build.sh cross-compiled build-arm64/ on the host): run
# the arm64 subset (the tests named in scripts/arm64/subset, or ARGS for
# `meson test` when given) and write the closing "N passed, N failed,
# N skipped" line, counting the host's build result too, to
# build-arm64/summary.txt as well as to the console.
set -uo pipefail
cd "$(dirname "$0")/../.."
builddir=build-arm64
extra="$builddir/extra-results.json"
rm -f "$builddir/summary.txt" "$builddir/meson-logs/testlog.json"
stamp() { echo "[guest $(cut -d' ' -f1 /proc/uptime) s] $*"; }

if [ $# -eq 0 ]; then
	mapfile -t tests < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' scripts/arm64/subset)
	set -- "${tests[@]}"
fi
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:halt_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
start=$SECONDS
if grep -q '"result": "OK"' "$extra" 2>/dev/null; then
	# Through cat: the serial console is a terminal, and meson's progress
	# spinner would fill the log. --no-rebuild: the host built it. Four
	# times the time limits: under TCG on a busy host a unit test took up
	# to 130 s (38 s on a quiet one), past its 120.
	meson test -C "$builddir" --no-rebuild --print-errorlogs --num-processes 2 \
		--timeout-multiplier 4 "$@" | cat
fi
stamp "tests: $((SECONDS - start)) s"
[ -f "$extra" ] || echo '{"name": "build arm64", "result": "FAIL"}' >"$extra"
logs=("$extra")
[ -f "$builddir/meson-logs/testlog.json" ] && logs+=("$builddir/meson-logs/testlog.json")
python3 scripts/test-summary.py "${logs[@]}" | tee "$builddir/summary.txt"
exit "${PIPESTATUS[0]}"
