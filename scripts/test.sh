#!/usr/bin/env bash
# The test command: set up, build with ASan+UBSan, run every test, and end
# with one line "N passed, N failed, N skipped" counted from the results.
#   scripts/test.sh            the default suites (about 15-25 minutes on 2 cores)
#   scripts/test.sh --long     also the long stress and real-world runs
#   scripts/test.sh -- ARGS    extra arguments for `meson test` (e.g. a test name)
set -euo pipefail
cd "$(dirname "$0")/.."

long=false
meson_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--long) long=true ;;
	--) shift; meson_args=("$@"); break ;;
	*) echo "test.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

scripts/setup.sh
builddir=build-test
if [ ! -d "$builddir" ]; then
	meson setup "$builddir" -Db_sanitize=address,undefined -Dstress="$long" >/dev/null
else
	meson configure "$builddir" -Dstress="$long" >/dev/null
fi
meson compile -C "$builddir"

# ASan: fail on the first error, report leaks; UBSan: every finding is fatal.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:halt_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
status=0
meson test -C "$builddir" --print-errorlogs --num-processes 2 "${meson_args[@]}" || status=$?
python3 scripts/test-summary.py "$builddir/meson-logs/testlog.json"
