#!/bin/sh
# SPDX-License-Identifier: MIT
# Real security fixes, live-patched from Debian's own patches (README.md).
#
#   sudo tests/real/run.sh [--keep] [--results FILE] [CVE...]
#
# Builds hotpatch in build/ if it is not built yet, then runs every fix of
# tests/real/expat-fixes (or those named). Needs root (it patches running
# processes) and the Debian mirror (apt-get source, cached in
# $HP_REAL_CACHE, default /var/tmp/hotpatch-real-expat). Not part of
# scripts/test.sh: it takes about 15 minutes on 2 cores.
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "$HOTPATCH" ]; then
	[ -f "$top/build/build.ninja" ] || meson setup "$top/build" >/dev/null
	ninja -C "$top/build" >/dev/null
	export HOTPATCH="$top/build/src/cli/hotpatch"
fi
exec python3 "$top/tests/real/run_expat.py" "$@"
