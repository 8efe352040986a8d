#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The README's demo, in one command on a fresh Debian 12 machine:
#
#     sudo scripts/demo.sh
#
# It builds hotpatch, starts a small TCP server with a Heartbleed-style leak
# (demo/server.c), shows the leak, fixes the running server with a signed
# live patch (demo/fix.c) while a client keeps it busy, shows the leak gone
# with no request lost and no restart, then reverts the patch and shows the
# leak back. Every step is checked: exit 0 means all of them behaved as
# expected. hotpatch runs with --root in a temporary directory, so nothing
# in /etc or /var is touched; the directory is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

color=
if [ -t 1 ]; then color=--color; fi

step() { printf '\n==> %s\n' "$*"; }
pass() { printf '  ok: %s\n' "$*"; }
fail() {
	printf '\ndemo: FAILED: %s\n' "$*" >&2
	exit 1
}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root: sudo scripts/demo.sh (it installs packages and uses ptrace)" >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hotpatch-demo.XXXXXX")
root=$tmp/root
mkdir "$root"
server_pid=
load_pid=

# Background processes must not outlive the demo, whatever way it ends.
cleanup() {
	local rc=$?

	for pid in $load_pid $server_pid; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# quietly LOG CMD...: run CMD with its output in LOG; show LOG only if it fails.
quietly() {
	local log=$1
	shift
	if ! "$@" >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		fail "'$*' failed (last lines of its output above)"
	fi
}

# Show a command as a reader would type it (paths relative to $tmp and the
# repository), run it, and indent its output.
show() {
	local line="$*"

	if [ "$1" = hotpatch ]; then line="hotpatch --root $root ${*:2}"; fi
	line=${line//$tmp\//}
	line=${line//$repo\//}
	printf '  $ %s\n' "$line"
	"$@" 2>&1 | sed -e "s|$tmp/||g" -e 's/^/    /'
	return "${PIPESTATUS[0]}"
}

hotpatch() { "$repo/build/src/cli/hotpatch" --root "$root" "$@"; }

# jq-like query on JSON from stdin: jget 'PYTHON EXPRESSION OVER d'
jget() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

# The start time of a process (field 22 of /proc/PID/stat): a restarted
# server would have a new one, even if it got the same pid back.
start_time() {
	local stat fields

	stat=$(cat "/proc/$1/stat") || return 1
	read -r -a fields <<<"${stat##*) }"
	echo "${fields[19]}"
}

probe() {
	python3 demo/client.py probe "$port" "$1" "$2" $color || fail "no reply from the server"
}

# The load client's counters: sets served, failed, reconnects.
read_load() {
	local a b c

	read -r a b c <"$tmp/load.stats" || fail "cannot read the load client's counters"
	served=${a#ok=} failed=${b#fail=} reconnects=${c#reconnects=}
}

check_load() {
	if [ "$failed" -ne 0 ] || [ "$reconnects" -ne 0 ]; then
		fail "the load client saw $failed failures and $reconnects reconnects"
	fi
}

# ---------------------------------------------------------------------------
step "Preparing: build dependencies (scripts/setup.sh) and hotpatch (meson)"
echo "  (the first run installs packages with apt-get and can take minutes)"
quietly "$tmp/setup.log" scripts/setup.sh
if [ ! -d build ]; then
	quietly "$tmp/meson-setup.log" meson setup build
fi
quietly "$tmp/meson-compile.log" meson compile -C build
[ -x build/src/cli/hotpatch ] || fail "build/src/cli/hotpatch was not built"
pass "built $(build/src/cli/hotpatch --version)"
echo "  work directory: $tmp (paths below are relative to it;"
echo "  hotpatch --root root keeps keys, store and logs in it)"

# ---------------------------------------------------------------------------
step "Starting the vulnerable server (demo/server.c)"
# Built like a hardened release: -O2, and -z now (Debian's bindnow) so that
# libc's memcpy, which the fix calls, is bound before the first request;
# hotpatch will not run an IFUNC resolver inside the target for it.
cc -std=gnu17 -O2 -g -pthread -Wall -Wextra -Wl,-z,now -o "$tmp/demo-server" demo/server.c ||
	fail "cannot compile demo/server.c"
"$tmp/demo-server" 0 >"$tmp/server.log" 2>&1 &
server_pid=$!
# Port 0: the kernel picks a free port and the server prints it once it
# accepts connections.
for _ in $(seq 100); do
	grep -q '^listening on' "$tmp/server.log" && break
	kill -0 "$server_pid" 2>/dev/null || fail "the server exited: $(cat "$tmp/server.log")"
	sleep 0.05
done
port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/server.log")
[ -n "$port" ] || fail "the server did not start listening within 5 s"
server_start=$(start_time "$server_pid")
pass "demo-server pid $server_pid listening on 127.0.0.1:$port"

# ---------------------------------------------------------------------------
step "The bug: a request that lies about its length leaks memory"
out=$(probe 5 hello)
printf '%s\n' "$out"
grep -q 'reply: *5 bytes: hello$' <<<"$out" || fail "a well-formed request got a wrong reply"
out=$(probe 160 hi)
printf '%s\n' "$out"
grep -q 'LEAKED:' <<<"$out" || fail "the unpatched server did not leak the secret"
pass "sent 2 bytes, asked for 160: the reply leaks the API key"

# ---------------------------------------------------------------------------
step "Starting a load client: well-formed requests back to back, one connection"
python3 demo/client.py load "$port" "$tmp/load.stats" &
load_pid=$!
for _ in $(seq 100); do
	if [ -s "$tmp/load.stats" ]; then
		read_load
		[ "$served" -ge 200 ] && break
	fi
	kill -0 "$load_pid" 2>/dev/null || fail "the load client exited"
	sleep 0.05
done
[ "${served:-0}" -ge 200 ] || fail "the load client got no replies"
pass "load client pid $load_pid: $served requests served so far, $failed failed"

# ---------------------------------------------------------------------------
step "Building and signing the live patch (demo/fix.c)"
show hotpatch build --target "$tmp/demo-server" -o "$tmp/fix.hpb" "$repo/demo/fix.c" ||
	fail "hotpatch build failed"
show hotpatch keygen -k "$tmp/demo.key" || fail "hotpatch keygen failed"
# Only keys in trusted.d are accepted, and only if root owns them and no one
# else can write them.
printf '  $ install -m 0644 -o root -g root demo.key.pub root/etc/hotpatch/trusted.d/\n'
install -d -m 0755 "$root/etc/hotpatch/trusted.d"
install -m 0644 -o root -g root "$tmp/demo.key.pub" "$root/etc/hotpatch/trusted.d/demo.pub"
show hotpatch sign "$tmp/fix.hpb" -k "$tmp/demo.key" || fail "hotpatch sign failed"
show hotpatch info "$tmp/fix.hpb" || fail "hotpatch info failed"
info=$(hotpatch info --json "$tmp/fix.hpb") || fail "hotpatch info --json failed"
patch_id=$(jget 'd["id"]' <<<"$info")
[ "$(jget 'd["signature"]' <<<"$info")" = valid ] ||
	fail "the bundle's signature does not verify against trusted.d"
pass "bundle $patch_id is signed by a trusted key"

# ---------------------------------------------------------------------------
step "Applying the fix to the running server (signature checked, no --insecure)"
read_load
before=$served
show hotpatch apply "$tmp/fix.hpb" --pid "$server_pid" || fail "hotpatch apply failed"
sleep 0.3 # let the load client run on the patched code for a while
read_load
[ "$served" -gt "$before" ] || fail "no request was served after the apply"
state=$(hotpatch status --pid "$server_pid" --json |
	jget "[p['state'] for x in d['patches'] if x['id'] == '$patch_id' for p in x['processes'] if p['pid'] == $server_pid]")
[ "$state" = "['applied']" ] || fail "status does not show the patch applied (got $state)"

# ---------------------------------------------------------------------------
step "The same attack on the patched server"
out=$(probe 160 hi)
printf '%s\n' "$out"
grep -q 'LEAKED:' <<<"$out" && fail "the patched server still leaks"
grep -q 'reply: *2 bytes: hi$' <<<"$out" || fail "the patched server did not echo just the text"
pass "the reply is clamped to the 2 bytes sent: no secret"
show hotpatch status --pid "$server_pid" || fail "hotpatch status failed"
read_load
now_start=$(start_time "$server_pid") || fail "the server is gone"
[ "$now_start" = "$server_start" ] || fail "the server was restarted"
check_load
pass "load: $((served - before)) requests served since the apply began, $served in all," \
	"0 failed, same connection throughout"
pass "server pid $server_pid, same process since the start: no restart"

# ---------------------------------------------------------------------------
step "Reverting: the patch was live, and it comes out as cleanly"
show hotpatch revert "$patch_id" --pid "$server_pid" || fail "hotpatch revert failed"
out=$(probe 160 hi)
printf '%s\n' "$out"
grep -q 'LEAKED:' <<<"$out" || fail "the bug did not come back after the revert"
pass "the original echo_reply() runs again: the leak is back"
left=$(hotpatch status --pid "$server_pid" --json | jget "len(d['patches'])")
[ "$left" = 0 ] || fail "status still lists $left patch(es) after the revert"

# ---------------------------------------------------------------------------
step "Stopping the load client and the server"
kill -TERM "$load_pid"
wait "$load_pid" || fail "the load client failed"
load_pid=
read_load
check_load
[ "$(start_time "$server_pid")" = "$server_start" ] || fail "the server was restarted"
kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=
pass "load client: $served requests, 0 failed, 0 reconnects, through apply and revert"

printf '\ndemo: every step behaved as expected\n'
