#!/bin/bash
# The arm64 guest's set-up and run, started by hp-guest-boot as PID 1 with
# the tree's path: a system much like the host's for the tests (proc, sys,
# cgroup2, devpts, tmpfs /tmp, /run and /dev/shm, loopback up), then the
# command the host left in /mnt/hprun/cmd, run from /mnt/hprun/cwd with its
# output on the serial console. Its exit status goes to /mnt/hprun/rc, and
# the machine powers off (qemu exits). No systemd: under TCG its boot would
# cost minutes, and nothing the tests run needs it as PID 1.
tree="$1"
run=/mnt/hprun
exec </dev/null >/dev/console 2>&1
mnt() { mountpoint -q "$3" || { mkdir -p "$3" && mount -t "$1" -o "$2" "$1" "$3"; }; }
mnt devpts gid=5,mode=620,ptmxmode=666 /dev/pts
mnt tmpfs mode=1777 /dev/shm
# A tree under /tmp (a clone there) is already mounted at its path: a tmpfs
# over /tmp would hide it, and the root is writable anyway.
case "$tree" in /tmp/*) ;; *) mnt tmpfs mode=1777 /tmp ;; esac
mnt tmpfs mode=755 /run
mnt cgroup2 nsdelegate /sys/fs/cgroup
mnt debugfs mode=700 /sys/kernel/debug
mnt tracefs mode=700 /sys/kernel/tracing
mount -o remount,rw / 2>/dev/null
ln -sfn /proc/self/fd /dev/fd
hostname hotpatch-arm64
ip link set lo up
modprobe virtio-rng 2>/dev/null
mkdir -p /run/lock /var/tmp
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb
# The host's variables that the command asked for (KEY=VALUE lines).
if [ -f "$run/env" ]; then
	while IFS= read -r line; do [ -z "$line" ] || export "$line"; done <"$run/env"
fi
echo "guest: up $(cut -d' ' -f1 /proc/uptime) s after the kernel started; $(nproc) cpus, $(uname -m) $(uname -r)"
echo "$(cut -d' ' -f1 /proc/uptime)" >"$run/booted"
cd "$(cat "$run/cwd")" || cd "$tree"
rc=0
bash "$run/cmd" || rc=$?
echo "$rc" >"$run/rc.tmp" && mv "$run/rc.tmp" "$run/rc"
sync
umount "$run" 2>/dev/null
echo o >/proc/sysrq-trigger
sleep 60
