#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds libexpat in a Debian expat source tree (the current directory) the
# way debian/rules does: autotools, Debian's compiler and linker flags. Used
# for the target and as `hotpatch build --build`. The tree's configure was
# made beforehand by expat's buildconf.sh (run_expat.py does it once per
# source package). dpkg-buildflags maps the current directory to "." in
# debug info and __FILE__, so every copy of the tree builds the same bytes.
set -e
cflags="$(dpkg-buildflags --get CFLAGS) -Wall"
cppflags="$(dpkg-buildflags --get CPPFLAGS)"
ldflags="-Wl,-Bsymbolic-functions $(dpkg-buildflags --get LDFLAGS)"
cd expat
./configure --disable-static --without-docbook --without-examples --without-tests \
	CFLAGS="$cflags" CPPFLAGS="$cppflags" LDFLAGS="$ldflags" >/dev/null
make -C lib >/dev/null
