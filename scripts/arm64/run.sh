#!/usr/bin/env bash
# Run one command inside the emulated arm64 machine and return its exit
# status: qemu-system-aarch64 (TCG: this host is x86-64) boots Debian's arm64
# kernel on the cached root image (root.sh builds it once), with the source
# tree shared over virtio-9p at the same path as here. The root disk is
# opened copy-on-write (snapshot=on): every run starts from the same image,
# and what must outlive a run belongs in the tree (build-arm64/).
#   scripts/arm64/run.sh [--timeout SECONDS] [--env KEY=VALUE]... -- COMMAND [ARGS]...
# The command runs as root from the current directory (it must be inside
# the tree); its output comes back on the serial console, i.e. this stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tree="$(cd "$here/../.." && pwd)"

timeout=10800
envs=()
while [ $# -gt 0 ]; do
	case "$1" in
	--timeout) timeout="$2"; shift ;;
	--env) envs+=("$2"); shift ;;
	--) shift; break ;;
	*) echo "run.sh: unknown option $1 (usage: run.sh [--timeout S] [--env K=V]... -- COMMAND...)" >&2; exit 2 ;;
	esac
	shift
done
if [ $# -eq 0 ]; then
	echo "run.sh: no command (usage: run.sh [--timeout S] [--env K=V]... -- COMMAND...)" >&2
	exit 2
fi
case "$PWD/" in
"$tree"/*) ;;
*) echo "run.sh: run it from inside the tree $tree (the guest sees only that)" >&2; exit 2 ;;
esac
command -v qemu-system-aarch64 >/dev/null ||
	{ echo "run.sh: no qemu-system-aarch64: apt-get install qemu-system-arm (or scripts/setup.sh)" >&2; exit 2; }

cache="$("$here/root.sh")"
rundir="$(mktemp -d /tmp/hp-arm64.XXXXXX)"
trap 'rm -rf "$rundir"' EXIT
printf '%q ' "$@" >"$rundir/cmd"
echo >>"$rundir/cmd"
echo "$PWD" >"$rundir/cwd"
printf '%s\n' "${envs[@]}" >"$rundir/env"

# -cpu max: every feature the guest kernel may use (PAC, BTI; the virt
# machine leaves MTE off); pauth-impdef: QEMU's cheap PAC hash instead of
# QARMA, the same semantics at a fraction of the emulation cost. The
# virtio-rng (loaded by guest-init.sh) feeds the guest's entropy pool.
start=$SECONDS
status=0
timeout --foreground -k 30 "$timeout" \
	qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on -smp 2 -m 4G \
	-kernel "$cache/vmlinuz" -initrd "$cache/initramfs.cpio" \
	-append "console=ttyAMA0 quiet loglevel=3 panic=-1 hp.tree=$tree" \
	-drive file="$cache/root.img",format=raw,if=virtio,snapshot=on \
	-virtfs local,path="$tree",mount_tag=hptree,security_model=passthrough,id=hptree \
	-virtfs local,path="$rundir",mount_tag=hprun,security_model=passthrough,id=hprun \
	-device virtio-rng-pci -nic none \
	-no-reboot -display none -monitor none -serial stdio </dev/null || status=$?
if [ ! -f "$rundir/rc" ]; then
	echo "run.sh: the guest did not finish the command (qemu exited $status after $((SECONDS - start)) s)" >&2
	exit 1
fi
echo "run.sh: guest booted in $(cat "$rundir/booted" 2>/dev/null || echo '?') s, ran for $((SECONDS - start)) s in all" >&2
exit "$(cat "$rundir/rc")"
