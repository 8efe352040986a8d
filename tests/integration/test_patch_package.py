#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""hotpatch package: a signed bundle becomes a .deb; dpkg -i of it patches a
running process (without the daemon, and with it), dpkg -r reverts it and
removes it from the store. A host that does not trust the signer refuses
the package. dpkg runs with --root in the test's directory and its scripts
outside a chroot (--force-script-chrootless, so they see DPKG_ROOT), which
keeps dpkg's database, the package's files and hotpatch's store out of the
host's /var and /usr."""
import glob
import subprocess
import time
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from hptest import *
from daemon import Daemon


def dpkg_env(env, hotpatch_root=None):
    """PATH finds the hotpatch under test first, as /usr/sbin would."""
    bindir = os.path.join(env.dir, "bin")
    if not os.path.exists(bindir):
        os.makedirs(bindir)
        os.symlink(HOTPATCH, os.path.join(bindir, "hotpatch"))
    e = {k: v for k, v in os.environ.items() if k != "HOTPATCH_ROOT"}
    e["PATH"] = bindir + ":" + e.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    if hotpatch_root:
        e["HOTPATCH_ROOT"] = hotpatch_root
    return e


def dpkg(env, root, *args, hotpatch_root=None, check=True):
    admin = os.path.join(root, "var/lib/dpkg")
    if not os.path.exists(admin):
        for d in ("info", "updates", "triggers"):
            os.makedirs(os.path.join(admin, d))
        open(os.path.join(admin, "status"), "w").close()
    # --force-depends: this root has no dpkg record of hotpatch itself (the
    # Depends is checked below and resolved for real in test_deb_install).
    cmd = ["dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180,
                       env=dpkg_env(env, hotpatch_root))
    if check and r.returncode != 0:
        raise Failure(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r


def field(deb, name):
    return subprocess.run(["dpkg-deb", "-f", deb, name], capture_output=True, text=True,
                          check=True).stdout.strip()


def stored(env, bid):
    return os.path.exists(os.path.join(env.root, f"var/lib/hotpatch/bundles/{bid}.hpb"))


def install_and_remove(env, v, deb, pkg, bid, daemon):
    r = dpkg(env, env.root, "-i", deb)
    if daemon:
        wait_for(lambda: v.call(100) == -1, timeout=20, what="hotpatchd to apply the patch")
    else:
        expect(f"pid {v.pid} (victim): patched" in r.stdout, r.stdout)
    expect_eq(v.call(100), -1, "check_len(100) once the package is installed")
    expect_eq(v.call(10), 10, "check_len(10) once the package is installed")
    expect(stored(env, bid), "the package installed the bundle into the store")
    enabled = os.path.join(env.root, f"var/lib/hotpatch/state/enabled/{bid}")
    expect(os.path.exists(enabled), "the package enabled the patch")
    st = env.hp_json("status", "--pid", v.pid)
    expect_eq([p["id"] for p in st["patches"]], [bid], "status after dpkg -i")

    r = dpkg(env, env.root, "-r", pkg)
    expect_eq(v.call(100), 100, "check_len(100) after dpkg -r: the bug is back")
    expect_eq(v.maps_objects(), [], "no patch object left mapped after dpkg -r")
    expect(not stored(env, bid), "dpkg -r removed the bundle from the store")
    expect(not os.path.exists(enabled), "dpkg -r disabled the patch")
    r = dpkg(env, env.root, "-s", pkg, check=False)
    expect(r.returncode != 0 or "deinstall" in r.stdout, f"package still installed: {r.stdout}")


def upgrade(env, v, exe, key, deb, pkg, bid):
    """A rebuilt fix, packaged under the same name, upgrades the package: the
    new patch supersedes the old one in the running process in one flip, and
    the old one leaves the store."""
    dpkg(env, env.root, "-i", deb)
    expect_eq(v.call(100), -1, "the first version's fix")
    time.sleep(1.1)  # a later creation time: a higher package version
    bundle2 = signed_bundle(env, exe, check_len_patch(50, -2, name="v2"), key, name="Len_Fix")
    bid2 = env.bundle_id(bundle2)
    out = os.path.join(env.dir, "debs2")
    os.makedirs(out)
    env.hp("package", bundle2, "-o", out, "--maintainer", "Security Team <sec@example.org>")
    deb2 = glob.glob(os.path.join(out, "*.deb"))[0]
    expect_eq(field(deb2, "Package"), pkg, "the rebuilt fix keeps the package name")
    expect(subprocess.run(["dpkg", "--compare-versions", field(deb2, "Version"), "gt",
                           field(deb, "Version")]).returncode == 0, "a higher version")
    dpkg(env, env.root, "-i", deb2)
    expect_eq(v.call(100), -2, "the second version's fix after the upgrade")
    expect_eq(v.call(60), -2, "the second version's fix after the upgrade")
    st = env.hp_json("status", "--pid", v.pid)
    expect_eq([p["id"] for p in st["patches"]], [bid2], "only the new patch is applied")
    expect(not stored(env, bid), "the previous patch left the store")
    expect_eq(len(set(v.maps_objects())), 1, "one patch object mapped")
    dpkg(env, env.root, "-r", pkg)
    expect_eq(v.call(100), 100, "check_len(100) after dpkg -r of the upgraded package")
    expect_eq(v.maps_objects(), [], "no patch object left mapped")


def subscription(env, v, deb, pkg, bid):
    """--subscribe: version 0 of the package, with no patch, patches nothing
    and lintian finds nothing to say; the real package upgrades it, and the
    upgrade applies the patch."""
    out = os.path.join(env.dir, "sub")
    os.makedirs(out)
    r = env.hp("package", "--subscribe", "len_fix", "-o", out,
               "--maintainer", "Security Team <sec@example.org>")
    sub, = glob.glob(os.path.join(out, "*.deb"))
    expect(f"as {sub}" in r.stdout, r.stdout)
    expect_eq((field(sub, "Package"), field(sub, "Version")), (pkg, "0"),
              "the subscription is version 0 of the stream's package")
    r = subprocess.run(["lintian", "--fail-on", "error,warning", sub], capture_output=True,
                       text=True)
    expect_eq(r.returncode, 0, f"lintian on the subscription:\n{r.stdout}{r.stderr}")
    dpkg(env, env.root, "-i", sub)
    expect_eq(v.call(100), 100, "the subscription patches nothing")
    dpkg(env, env.root, "-i", deb)
    expect_eq(v.call(100), -1, "the first patch arrives as an upgrade, and applies")
    dpkg(env, env.root, "-r", pkg)
    expect_eq(v.call(100), 100, "removed: reverted")
    expect(not stored(env, bid), "removed from the store")


def test(env):
    # The fixture under its own build-id: --all (what enable does without
    # the daemon) then touches only the process this test starts.
    exe = unique_copy(env, "victim")
    v = env.victim(exe)
    expect_eq(v.call(100), 100, "unpatched check_len(100)")

    key = trust_key(env)
    unsigned = env.build(exe, FIX_CHECK_LEN, name="unsigned")
    r = env.hp("package", unsigned, "-o", env.dir, check=False)
    expect_eq(r.returncode, 2, "package of an unsigned bundle")
    expect(not glob.glob(os.path.join(env.dir, "*.deb")), "no .deb for an unsigned bundle")

    bundle = signed_bundle(env, exe, FIX_CHECK_LEN, key, name="Len_Fix")
    bid = env.bundle_id(bundle)
    out = os.path.join(env.dir, "debs")
    os.makedirs(out)
    r = env.hp("package", bundle, "-o", out,
               env_vars={"DEBFULLNAME": "Security Team", "DEBEMAIL": "sec@example.org"})
    debs = glob.glob(os.path.join(out, "*.deb"))
    expect_eq(len(debs), 1, "one .deb written")
    deb = debs[0]
    expect(f"as {deb}" in r.stdout, r.stdout)
    pkg = "hotpatch-patch-len-fix"
    expect_eq(field(deb, "Package"), pkg, "package name")
    expect(os.path.basename(deb).startswith(pkg + "_"), deb)
    expect(field(deb, "Depends") == "hotpatch", "depends on hotpatch")
    expect_eq(field(deb, "Architecture"), "amd64", "architecture")
    expect_eq(field(deb, "Maintainer"), "Security Team <sec@example.org>",
              "maintainer from DEBFULLNAME and DEBEMAIL")
    created = env.hp_json("info", bundle)["created"]
    expect_eq(field(deb, "Version"), time.strftime("%Y%m%d.%H%M%S", time.gmtime(created)),
              "version from the bundle's creation time")
    expect("CVE-2099-0001" in field(deb, "Description"), field(deb, "Description"))
    listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True,
                             check=True).stdout
    expect(f"./usr/lib/hotpatch/bundles/{bid}.hpb" in listing, listing)
    expect(listing.splitlines()[0].startswith("drwxr-xr-x root/root"), listing)
    expect_eq(open(bundle, "rb").read(),
              subprocess.run(f"dpkg-deb --fsys-tarfile {deb} | tar -xO "
                             f"./usr/lib/hotpatch/bundles/{bid}.hpb", shell=True,
                             capture_output=True, check=True).stdout,
              "the packaged bundle is the signed bundle, byte for byte")

    # Debian's own checker finds nothing to say (it used to find four errors:
    # root@localhost as the maintainer, no changelog, no copyright file).
    r = subprocess.run(["lintian", "--fail-on", "error,warning", deb], capture_output=True,
                       text=True)
    expect_eq(r.returncode, 0, f"lintian on the package:\n{r.stdout}{r.stderr}")
    r = env.hp("package", bundle, "-o", env.dir, check=False,
               env_vars={"DEBEMAIL": "", "DEBFULLNAME": ""})
    expect_eq(r.returncode, 2, "package with nobody to name as its maintainer")
    expect("--maintainer" in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr)

    # No daemon: the maintainer scripts apply and revert themselves.
    install_and_remove(env, v, deb, pkg, bid, daemon=False)

    upgrade(env, v, exe, key, deb, pkg, bid)
    subscription(env, v, deb, pkg, bid)

    # With hotpatchd: it applies and reverts, asynchronously; prerm waits.
    d = Daemon(env)
    install_and_remove(env, v, deb, pkg, bid, daemon=True)
    d.stop()

    # A host that does not trust the signer: the install fails, nothing is
    # patched, and the half-installed package can still be purged.
    other = os.path.join(env.dir, "other-root")
    os.makedirs(os.path.join(other, "etc/hotpatch/trusted.d"))
    r = dpkg(env, other, "-i", deb, hotpatch_root=other, check=False)
    expect(r.returncode != 0, f"dpkg -i on a host without the key:\n{r.stdout}{r.stderr}")
    expect("trusted" in r.stderr, r.stderr)
    expect_eq(v.call(100), 100, "check_len(100) on a host that refused the package")
    expect(not os.path.exists(os.path.join(other, f"var/lib/hotpatch/bundles/{bid}.hpb")),
           "nothing stored on a host that refused the package")
    dpkg(env, other, "--purge", pkg, hotpatch_root=other)


if __name__ == "__main__":
    main(test)
