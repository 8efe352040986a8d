#!/usr/bin/env bash
# The arm64 guest, built once and cached: a Debian 12 arm64 root made by
# mmdebstrap (its second stage runs under qemu-user through binfmt_misc),
# with the build dependencies from debian/control and Debian's arm64 kernel,
# turned into a raw ext4 disk image, with the kernel and a small initramfs
# of our own (init.c) beside it.
#   scripts/arm64/root.sh        build what is missing, print the cache path
#   scripts/arm64/root.sh --rebuild   start again from nothing
# Each stage writes its result under a temporary name and renames it when it
# is complete, so an interrupted run resumes at the stage it was in.
# The cache: $HOTPATCH_TEST_CACHE/arm64 (default /var/cache/hotpatch-test).
set -euo pipefail
cd "$(dirname "$0")/../.."

cache="${HOTPATCH_TEST_CACHE:-/var/cache/hotpatch-test}/arm64"
suite=bookworm

# mmdebstrap killed mid-way leaves its mounts (proc, sys, dev/pts, dev/shm)
# inside the root it was making: undo them, deepest first, before deleting.
unmount_under() {
	awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r m; do umount -l "$m"; done
}

if [ "${1:-}" = --rebuild ]; then
	unmount_under "$cache"
	rm -rf "$cache"
elif [ $# -gt 0 ]; then
	echo "root.sh: unknown option $1 (only --rebuild)" >&2
	exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "root.sh: run as root (mmdebstrap, binfmt_misc and loop-free mkfs need it)" >&2
	exit 2
fi
mkdir -p "$cache"
log() { echo "[$(date +%H:%M:%S)] arm64: $*" >&2; }

# The Debian mirror this host's apt uses (the only one reachable here).
mirror() {
	local url
	url=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
		grep -v security | head -n1 | sed -E 's/^URIs:[[:space:]]*//; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//; s/[[:space:]].*//')
	echo "${url:-http://deb.debian.org/debian}"
}

# binfmt_misc lets the host run the root's arm64 maintainer scripts through
# qemu-aarch64-static (mmdebstrap's second stage; ptrace is not needed there).
binfmt() {
	[ -e /proc/sys/fs/binfmt_misc/register ] ||
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
	[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64
	if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
		echo "root.sh: binfmt_misc has no qemu-aarch64 entry: apt-get install qemu-user-static binfmt-support" >&2
		exit 1
	fi
}

# Build-Depends of debian/control by name, without the packages that only
# the x86-64 host needs to run the arm64 guest (qemu itself, binfmt).
build_deps() {
	python3 - <<'PY'
import re
text = "".join(l for l in open("debian/control") if not l.startswith("#"))
m = re.search(r"^Build-Depends:(.*?)(?=^\S)", text, re.S | re.M)
host_only = {"qemu-system-arm", "qemu-user-static", "binfmt-support", "arch-test",
             "gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross", "cpio"}
names = []
for dep in m.group(1).split(","):
    dep = re.sub(r"#.*", "", dep).strip()
    if not dep:
        continue
    name = dep.split()[0]
    if name not in host_only and name != "debhelper-compat":
        names.append(name)
print(",".join(names + ["debhelper"]))
PY
}

# Stage 1: the root as a directory.
root="$cache/root"
if [ ! -d "$root" ]; then
	binfmt
	url=$(mirror)
	unmount_under "$root.tmp"
	rm -rf "$root.tmp"
	log "mmdebstrap --arch=arm64 $suite from $url (first run only; about 30-60 min under qemu-user)"
	mkdir -p "$cache/apt-archives"
	nice -n 19 ionice -c3 mmdebstrap --arch=arm64 --variant=apt --mode=root \
		--include="$(build_deps),linux-image-arm64,initramfs-tools,kmod,iproute2,procps,sudo,zstd" \
		--aptopt='Acquire::Retries "3"' \
		--skip=essential/unlink \
		--setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
		--setup-hook="sync-in $cache/apt-archives /var/cache/apt/archives/" \
		--customize-hook="sync-out /var/cache/apt/archives $cache/apt-archives" \
		--customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb' \
		--format=directory "$suite" "$root.tmp" \
		"deb $url $suite main" "deb $url $suite-updates main" "deb $url-security $suite-security main"
	mv "$root.tmp" "$root"
fi

# Stage 2: the disk image (raw ext4 made from the directory, without a loop
# device), the kernel taken out of it, and an initramfs of our own: init.c
# built statically with the cross compiler, and the modules that reach the
# disk (virtio_pci, virtio_blk, ext4 and what they need, from modules.dep).
image="$cache/root.img"
if [ ! -f "$image" ] || [ ! -f "$cache/vmlinuz" ] || [ ! -f "$cache/initramfs.cpio" ]; then
	log "making the disk image, kernel and initramfs"
	kernel=$(ls "$root"/boot/vmlinuz-* | sort -V | tail -n1)
	kver=${kernel##*/vmlinuz-}
	initrd="$cache/initramfs.tmp"
	rm -rf "$initrd" && mkdir -p "$initrd"/{dev,root,proc,lib/modules}
	aarch64-linux-gnu-gcc -static -O2 -Wall -Wextra -o "$initrd/init" scripts/arm64/init.c
	python3 - "$root/usr/lib/modules/$kver" "$initrd/lib/modules" <<'PY'
import os, shutil, sys
src, dst = sys.argv[1:]
deps = {}
for line in open(os.path.join(src, "modules.dep")):
    mod, _, rest = line.partition(":")
    deps[os.path.basename(mod).split(".ko")[0]] = (mod, rest.split())
order = []
def want(name):
    mod, needs = deps[name]
    for d in reversed(needs):
        want(os.path.basename(d).split(".ko")[0])
    if mod not in order:
        order.append(mod)
for name in ("crc32c_generic", "ext4", "virtio_pci", "virtio_blk"):
    want(name)
with open(os.path.join(dst, "order"), "w") as f:
    for mod in order:
        shutil.copy(os.path.join(src, mod), os.path.join(dst, os.path.basename(mod)))
        f.write("/lib/modules/" + os.path.basename(mod) + "\n")
PY
	(cd "$initrd" && find . | cpio -o -H newc --quiet) >"$cache/initramfs.cpio.tmp"
	rm -rf "$initrd"
	cp "$kernel" "$cache/vmlinuz.tmp"
	install -m 0755 scripts/arm64/guest-boot "$root/sbin/hp-guest-boot"
	echo hotpatch-arm64 >"$root/etc/hostname"
	printf '127.0.0.1 localhost\n127.0.1.1 hotpatch-arm64\n::1 localhost\n' >"$root/etc/hosts"
	rm -f "$image.tmp"
	truncate -s 12G "$image.tmp"
	mkfs.ext4 -q -L hp-arm64 -d "$root" "$image.tmp"
	mv "$cache/vmlinuz.tmp" "$cache/vmlinuz"
	mv "$cache/initramfs.cpio.tmp" "$cache/initramfs.cpio"
	mv "$image.tmp" "$image"
fi
echo "$cache"
