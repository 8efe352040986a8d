#!/usr/bin/env bash
# The test command: set up, build with ASan+UBSan, run every test, and end
# with one line "N passed, N failed, N skipped" counted from the results.
# Two more builds, compiled but not run, each counted as one result: a gcc
# release build (-O3, where gcc's flow warnings differ) and a clang build
# (-Wall -Wextra -Werror on both, as meson.build sets).
#   scripts/test.sh            the default suites (about 15-25 minutes on 2 cores)
#   scripts/test.sh --long     also the long stress and real-world runs
#   scripts/test.sh -- ARGS    extra arguments for `meson test` (e.g. a test name)
#   scripts/test.sh --arm64    the arm64 subset (scripts/arm64/subset), cross-compiled
#                              here and run inside an emulated arm64 machine (scripts/arm64/)
set -euo pipefail
cd "$(dirname "$0")/.."

long=false
arm64=false
meson_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--long) long=true ;;
	--arm64) arm64=true ;;
	--) shift; meson_args=("$@"); break ;;
	*) echo "test.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

scripts/setup.sh

# The guest prints its own closing line; it is printed again last, after
# what the host adds (boot and run times), or one failure if it never came.
if $arm64; then
	rm -f build-arm64/summary.txt
	status=0
	# Cross-compiled here, run there: a failed build boots nothing.
	if scripts/arm64/build.sh "${meson_args[@]}"; then
		scripts/arm64/run.sh --timeout 3300 -- bash scripts/arm64/guest-test.sh "${meson_args[@]}" ||
			status=$?
	else
		status=1
	fi
	if [ -f build-arm64/summary.txt ]; then
		tail -n 1 build-arm64/summary.txt
	else
		echo "0 passed, 1 failed, 0 skipped"
	fi
	exit "$status"
fi

builddir=build-test
if [ ! -d "$builddir" ]; then
	meson setup "$builddir" -Db_sanitize=address,undefined -Dstress="$long" >/dev/null
else
	meson configure "$builddir" -Dstress="$long" >/dev/null
fi
meson compile -C "$builddir"

# compile_only NAME DIR SETUP-ARGS...: build DIR, log to DIR/compile.log, and
# append one result line in testlog.json's form for test-summary.py.
extra="$builddir/meson-logs/extra-builds.json"
compile_only() {
	local name="$1" dir="$2" result=OK start=$SECONDS
	shift 2
	[ -f "$dir/build.ninja" ] || { rm -rf "$dir" && mkdir -p "$dir"; }
	if { [ -f "$dir/build.ninja" ] || meson setup "$dir" "$@"; } >"$dir/compile.log" 2>&1 &&
		meson compile -C "$dir" >>"$dir/compile.log" 2>&1; then :; else
		result=FAIL
		grep -E -A6 'error:|FAILED' "$dir/compile.log" | head -n 60 >&2 ||
			tail -n 40 "$dir/compile.log" >&2
	fi
	echo "$name: $result ($((SECONDS - start)) s)"
	printf '{"name": "%s", "result": "%s"}\n' "$name" "$result" >>"$extra"
}
rm -f "$extra"
compile_only "build gcc release" build-release --buildtype=release
CC=clang compile_only "build clang" build-clang --buildtype=debug

# ASan: fail on the first error, report leaks; UBSan: every finding is fatal.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:halt_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
status=0
meson test -C "$builddir" --print-errorlogs --num-processes 2 "${meson_args[@]}" || status=$?
python3 scripts/test-summary.py "$builddir/meson-logs/testlog.json" "$extra"
