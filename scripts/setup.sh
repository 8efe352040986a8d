#!/usr/bin/env bash
# Install everything hotpatch needs to build and test, from the one place it
# is declared: debian/control (Build-Depends, test tools marked <!nocheck>).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "setup: run as root (installs build dependencies with apt-get)" >&2
	exit 2
fi
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists unless they are recent.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -360 2>/dev/null | head -n1)" ]; then
	apt-get update -q
fi
apt-get build-dep -y -q ./ >/dev/null
# Daemons the packages start on install are not ours to keep running.
for svc in redis-server nginx; do
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q "$svc" 2>/dev/null; then
		systemctl stop "$svc" || true
	fi
done
