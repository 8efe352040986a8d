#!/usr/bin/env bash
# On the host: cross-compile the tree for arm64 into build-arm64/ (ASan+UBSan)
# with gcc-aarch64-linux-gnu, the guest's root (root.sh) as the sysroot, so
# that the emulated machine only runs the tests. Building inside the guest
# took 25 minutes under TCG for the unit subset; here it is about 45 s of CPU.
#   scripts/arm64/build.sh [TEST...]
# Builds the programs of the named tests (default: scripts/arm64/subset), or
# everything when one of them is not a unit test. Writes the result, as one
# line in testlog.json's form named "build arm64", to
# build-arm64/extra-results.json for the closing count, and exits non-zero
# when the build failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
builddir=build-arm64
log() { echo "[$(date +%H:%M:%S)] arm64: $*" >&2; }

# binfmt_misc runs what meson's setup runs of arm64 (its compiler checks)
# through qemu-aarch64-static; ptrace is not needed there.
binfmt() {
	[ -e /proc/sys/fs/binfmt_misc/register ] ||
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
	[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64
	[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] ||
		{ echo "build.sh: binfmt_misc has no qemu-aarch64 entry: apt-get install qemu-user-static binfmt-support" >&2; return 1; }
}

cache="$(scripts/arm64/root.sh)" || exit 1
root="$cache/root"
command -v aarch64-linux-gnu-gcc >/dev/null ||
	{ echo "build.sh: no aarch64-linux-gnu-gcc: apt-get install gcc-aarch64-linux-gnu (or scripts/setup.sh)" >&2; exit 2; }

# A build tree made for another root (or inside the guest, as before) is
# started again from nothing: its paths would point elsewhere.
cross="$builddir/cross-$(echo "$root" | md5sum | cut -c1-12).ini"
[ -f "$builddir/build.ninja" ] && [ -f "$cross" ] || rm -rf "$builddir"
mkdir -p "$builddir"
extra="$builddir/extra-results.json"
rm -f "$extra"

if [ $# -eq 0 ]; then
	mapfile -t tests < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' scripts/arm64/subset)
	set -- "${tests[@]}"
fi
# Only what the tests need when they are all unit tests (one program each).
targets=()
for t in "$@"; do
	if [ -f "tests/unit/test_$t.c" ]; then targets+=("test_$t"); else targets=(); break; fi
done

start=$SECONDS
result=OK
if [ ! -f "$builddir/build.ninja" ]; then
	# needs_exe_wrapper = false: the tests run in the guest, natively. What
	# meson runs at setup (its compiler checks) runs here through
	# binfmt_misc's qemu-aarch64, finding the loader in the root.
	cat >"$cross" <<EOF
[binaries]
c = 'aarch64-linux-gnu-gcc'
ar = 'aarch64-linux-gnu-ar'
strip = 'aarch64-linux-gnu-strip'
pkgconfig = 'pkg-config'

[built-in options]
c_args = ['--sysroot=$root']
c_link_args = ['--sysroot=$root']

[properties]
sys_root = '$root'
pkg_config_libdir = ['$root/usr/lib/aarch64-linux-gnu/pkgconfig', '$root/usr/share/pkgconfig']
needs_exe_wrapper = false

[host_machine]
system = 'linux'
cpu_family = 'aarch64'
cpu = 'aarch64'
endian = 'little'
EOF
	if ! binfmt; then
		result=FAIL
	elif ! QEMU_LD_PREFIX="$root" meson setup "$builddir" --cross-file "$cross" \
		-Db_sanitize=address,undefined >"$builddir/setup.log" 2>&1; then
		tail -n 30 "$builddir/setup.log"
		result=FAIL
	fi
fi
if [ "$result" = OK ]; then
	# -k 0: every object that compiles is built, the report lists all
	# that do not. (A changed meson.build reconfigures: the prefix again.)
	QEMU_LD_PREFIX="$root" nice -n 19 meson compile -C "$builddir" --ninja-args=-k0 "${targets[@]}" \
		>"$builddir/compile.log" 2>&1 ||
		{ grep -E -A6 'error:|FAILED' "$builddir/compile.log" | head -n 80; result=FAIL; }
fi
log "cross build: $result ($((SECONDS - start)) s)"
printf '{"name": "build arm64", "result": "%s"}\n' "$result" >"$extra"
[ "$result" = OK ]
