#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every benchmark and print the tables; see bench/README.md.
#   bench/run.sh [--quick]
# Figures go to bench/results/latest.{txt,json} (and a dated copy of the JSON).
set -eu
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
	meson setup build
fi
# Always bring the build up to date: the figures are for the code as it is.
meson compile -C build >/dev/null
export PYTHONDONTWRITEBYTECODE=1

# A PID namespace with its own /proc: `apply --all` then sees only the
# benchmark's processes, not whatever else runs on the host (another
# hotpatch holding a process, a test suite), and every process started
# here dies with the run. The network namespace keeps hotpatch's per-pid
# locks (abstract sockets named after the pid) apart from the host's.
if unshare --pid --fork --mount-proc --net true 2>/dev/null; then
	exec unshare --pid --fork --kill-child --mount-proc --net python3 bench/bench.py "$@"
fi
echo "bench: cannot create a PID namespace; running among the host's processes" >&2
exec python3 bench/bench.py "$@"
