#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds libexpat from a Debian expat source tree (the current directory),
# with Debian's own compiler flags, into build directory $1 (default
# _hp_build). Used both for the target and as `hotpatch build --build`.
# dpkg-buildflags maps the current directory to "." in debug info and
# __FILE__, so every copy of the tree compiles to the same bytes.
set -e
out=${1:-_hp_build}
flags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
cmake -S expat -B "$out" -DCMAKE_BUILD_TYPE=None "-DCMAKE_C_FLAGS=$flags" \
	-DEXPAT_BUILD_TESTS=OFF -DEXPAT_BUILD_TOOLS=OFF -DEXPAT_BUILD_EXAMPLES=OFF \
	-DEXPAT_BUILD_DOCS=OFF -DEXPAT_BUILD_PKGCONFIG=OFF >/dev/null
cmake --build "$out" >/dev/null
