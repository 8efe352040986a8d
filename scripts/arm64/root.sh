#!/usr/bin/env bash
# The arm64 guest, built once and cached: a Debian 12 arm64 root unpacked by
# mmdebstrap (the libraries the tree links against, what the tests run, and
# Debian's arm64 kernel), turned into a raw ext4 disk image, with the kernel
# and a small initramfs of our own (init.c) beside it. It is also the
# sysroot build.sh cross-compiles against.
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
	echo "root.sh: run as root (mmdebstrap and loop-free mkfs need it)" >&2
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

# What the guest holds: the arm64 libraries the tree links against, with
# their headers (the host cross-compiles against this root as its sysroot),
# the sanitizers' runtimes, what running the tests there takes (python3 and
# meson for `meson test`, minisign for test_minisign_tool), and what
# guest-boot and guest-init.sh run. No compiler: under TCG it took 25
# minutes to build what the host cross-compiles in one.
packages="bash,dash,coreutils,util-linux,mount,base-files,base-passwd,hostname,sed,grep"
packages="$packages,findutils,kmod,iproute2,procps,zstd,linux-image-arm64"
packages="$packages,libelf-dev,libdw-dev,libsodium-dev,zlib1g-dev,libzstd-dev,libsystemd-dev"
packages="$packages,libcapstone-dev,libasan8,libubsan1,python3,meson,ninja-build,minisign"

# Stage 1: the root as a directory. The packages (and what they depend on)
# are only unpacked, never configured: no maintainer script runs, so no
# qemu-user is needed. Installing them properly took 29 minutes under
# qemu-user here (dpkg and its scripts emulated), unpacking takes about
# 3. The little the guest needs of their scripts is done after: the
# accounts, /bin/sh, and the kernel modules' index (the host's depmod).
root="$cache/root"
if [ ! -d "$root" ]; then
	url=$(mirror)
	unmount_under "$root.tmp"
	rm -rf "$root.tmp"
	log "mmdebstrap --variant=extract --arch=arm64 $suite from $url (first run only; about 3 min)"
	mkdir -p "$cache/apt-archives"
	nice -n 19 ionice -c3 mmdebstrap --arch=arm64 --variant=extract --mode=root \
		--include="$packages" \
		--aptopt='Acquire::Retries "3"' \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-include=/usr/share/doc/*/copyright' \
		--setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
		--setup-hook="sync-in $cache/apt-archives /var/cache/apt/archives/" \
		--customize-hook="sync-out /var/cache/apt/archives $cache/apt-archives" \
		--customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb' \
		--format=directory "$suite" "$root.tmp" \
		"deb $url $suite main" "deb $url $suite-updates main" "deb $url-security $suite-security main"
	cp "$root.tmp/usr/share/base-passwd/passwd.master" "$root.tmp/etc/passwd"
	cp "$root.tmp/usr/share/base-passwd/group.master" "$root.tmp/etc/group"
	[ -e "$root.tmp/bin/sh" ] || ln -s dash "$root.tmp/bin/sh"
	for kdir in "$root.tmp"/lib/modules/*; do
		depmod -b "$root.tmp" "${kdir##*/}"
	done
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
	python3 - "$root/lib/modules/$kver" "$initrd/lib/modules" <<'PY'
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
