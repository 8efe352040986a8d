#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""commit and rollback, killed at every step, and power-cut at every step.

1. SIGKILL (HOTPATCH_FAULT=<point>) at each of commit's and rollback's
   fault points, with a process of the target running throughout: the file
   is always the whole original or the whole fixed file (which one is fixed
   by the step), and a second run converges (file, backup, record, no temp
   file left).

2. A power cut at each step, on a real ext4 file system in a loop-mounted
   image (mounted with commit=300, so nothing reaches the "disk" unless it is
   fsynced or written back): the tool freezes itself at the step
   (HOTPATCH_FAULT_ACTION=stop), the image is copied as the disk is at that
   instant, and the tool is killed. The copy is then mounted (ext4 replays
   its journal, as after a reboot): the file must be wholly old or wholly
   new, everything fsynced before the step must be there (after the
   directory fsync the fixed file is durable; from the backup step on, the
   backup is), and a rerun on the "rebooted" disk converges.
"""
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
from commitlib import (build_tree, diff_bundle, hp_at, sha256, state,  # noqa: E402
                       temp_files)
from hptest import Failure, expect, expect_eq, main, trust_key, wait_for  # noqa: E402

COMMIT_POINTS = ["commit-start", "commit-backup-saved", "commit-temp-written",
                 "commit-temp-synced", "commit-renamed", "commit-dir-synced", "commit-recorded"]
ROLLBACK_POINTS = ["rollback-start", "rollback-temp-written", "rollback-temp-synced",
                   "rollback-renamed", "rollback-dir-synced", "rollback-recorded"]
IMAGE_MB = 32


def before(points, point, step):
    """@point comes before @step in the operation's order."""
    return points.index(point) < points.index(step)


def expected_after_kill(points, point, old, new):
    """What the file may be after the tool died at @point: the old file up to
    the rename, the new one after it."""
    op = point.split("-")[0]
    if before(points, point, f"{op}-renamed"):
        return {old}
    return {new}


def put_back(path, data):
    """The original in place again (a new inode, like a package would)."""
    with open(path + ".reset", "wb") as f:
        f.write(data)
    os.chmod(path + ".reset", 0o755)
    os.rename(path + ".reset", path)


class Store:
    """What one root's store says about bundle @bid."""

    def __init__(self, root, bid):
        self.root, self.bid = root, bid
        self.backup = os.path.join(root, "var/lib/hotpatch/backups", bid)
        self.record = os.path.join(root, "var/lib/hotpatch/state/commit", bid)

    def forget(self):
        for p in (self.backup, self.record):
            if os.path.exists(p):
                os.unlink(p)


def converged_commit(env, root, bid, target, orig, fixed):
    r = hp_at(root, "commit", bid)
    expect("committed" in r.stdout, f"rerun of commit: {r.stdout}")
    expect_eq(sha256(target), fixed, "after the rerun: the fixed file")
    expect_eq(temp_files(os.path.dirname(target)), [], "no temp file left")
    expect_eq(sha256(Store(root, bid).backup), orig, "the backup is the original")
    expect_eq(state(env, bid, root), "committed", "status after the rerun")


def converged_rollback(env, root, bid, target, orig_bytes):
    r = hp_at(root, "rollback", bid, "--no-apply")
    expect("rolled back" in r.stdout, f"rerun of rollback: {r.stdout}")
    with open(target, "rb") as f:
        expect(f.read() == orig_bytes, "after the rerun: byte-identical to the original")
    expect_eq(temp_files(os.path.dirname(target)), [], "no temp file left")
    expect_eq(state(env, bid, root), "rolled-back", "status after the rerun")


def kill_every_step(env, key):
    tree = build_tree(env, "killed")
    target = os.path.join(tree, "server")
    orig_bytes = open(target, "rb").read()
    orig = sha256(target)
    bundle = diff_bundle(env, tree, key, name="killed")
    bid = env.bundle_id(bundle)
    env.hp("install", bundle)
    store = Store(env.root, bid)
    v = env.victim(target)
    env.hp("commit", bid)  # once, undisturbed, to know the fixed file
    fixed = sha256(target)

    for point in COMMIT_POINTS:
        print("commit killed at", point, flush=True)
        put_back(target, orig_bytes)
        store.forget()
        r = env.hp("commit", bid, env_vars={"HOTPATCH_FAULT": point}, check=False)
        expect_eq(r.returncode, -signal.SIGKILL, f"{point}: killed ({r.stdout}{r.stderr})")
        expect(sha256(target) in expected_after_kill(COMMIT_POINTS, point, orig, fixed),
               f"{point}: the file is the whole old or new one as the step says")
        converged_commit(env, env.root, bid, target, orig, fixed)

    for point in ROLLBACK_POINTS:
        print("rollback killed at", point, flush=True)
        env.hp("commit", bid)
        expect_eq(sha256(target), fixed, f"{point}: committed before the rollback")
        r = env.hp("rollback", bid, "--no-apply", env_vars={"HOTPATCH_FAULT": point},
                   check=False)
        expect_eq(r.returncode, -signal.SIGKILL, f"{point}: killed ({r.stdout}{r.stderr})")
        expect(sha256(target) in expected_after_kill(ROLLBACK_POINTS, point, fixed, orig),
               f"{point}: the file is the whole old or new one as the step says")
        converged_rollback(env, env.root, bid, target, orig_bytes)
    expect(v.alive(), "the process of the target ran through all of it")


# --- power cuts ------------------------------------------------------------


def sh(*cmd):
    r = subprocess.run(list(map(str, cmd)), capture_output=True, text=True)
    if r.returncode != 0:
        raise Failure(f"{' '.join(map(str, cmd))}: {r.stdout}{r.stderr}")
    return r.stdout


class Disk:
    """An ext4 image, loop-mounted at @mnt at most once at a time."""

    def __init__(self, env):
        self.mnt = os.path.join(env.dir, "mnt")
        os.makedirs(self.mnt)
        self.mounted = False

    def mount(self, image):
        # commit=300: the journal commits only when someone fsyncs, so only
        # what the tool made durable survives a cut.
        sh("mount", "-o", "loop,commit=300", image, self.mnt)
        self.mounted = True

    def umount(self):
        if self.mounted:
            sh("umount", self.mnt)
            self.mounted = False


def copy_image(src, dst):
    sh("cp", "--sparse=always", src, dst)


def frozen_at(env, root, point, *args):
    """Runs hotpatch until it freezes itself at @point; returns the process."""
    e = dict(os.environ, HOTPATCH_FAULT=point, HOTPATCH_FAULT_ACTION="stop")
    from hptest import HOTPATCH
    p = subprocess.Popen([HOTPATCH, "--root", root, *map(str, args)], env=e,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env.procs.append(p)

    def stopped():
        if p.poll() is not None:
            raise Failure(f"{point}: the tool ended ({p.returncode}) instead of stopping")
        with open(f"/proc/{p.pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "T"
    wait_for(stopped, timeout=30, what=f"the tool to freeze at {point}")
    return p


def power_cut(env, disk, image, point, root, *args):
    """Runs hotpatch on @image until @point, cuts the power there, and
    "reboots": the disk as it was at the cut is mounted again."""
    work = os.path.join(env.dir, "work.img")
    cut = os.path.join(env.dir, "cut.img")
    copy_image(image, work)
    disk.mount(work)
    p = frozen_at(env, root, point, *args)
    copy_image(work, cut)  # the disk, as it is at the cut
    p.kill()
    p.wait()
    disk.umount()
    disk.mount(cut)  # the reboot: ext4 replays its journal


def prepare_images(env, key, disk):
    """An image with a store (bundle installed, key trusted) and the target;
    and a copy of it after a commit. Returns their paths and facts."""
    tree = build_tree(env, "cut")
    image = os.path.join(env.dir, "fresh.img")
    with open(image, "wb") as f:
        f.truncate(IMAGE_MB << 20)
    sh("mkfs.ext4", "-q", "-F", image)
    disk.mount(image)
    root = os.path.join(disk.mnt, "root")
    target = os.path.join(disk.mnt, "app", "server")
    os.makedirs(os.path.dirname(target))
    shutil.copy2(os.path.join(tree, "server"), target)
    tdir = os.path.join(root, "etc/hotpatch/trusted.d")
    os.makedirs(tdir)
    shutil.copy(key + ".pub", tdir)
    os.chmod(os.path.join(tdir, os.path.basename(key) + ".pub"), 0o644)
    bundle = diff_bundle(env, tree, key, target=target, name="cut")
    bid = env.bundle_id(bundle)
    hp_at(root, "install", bundle)
    facts = {"root": root, "target": target, "bid": bid, "orig": sha256(target),
             "orig_bytes": open(target, "rb").read()}
    disk.umount()
    committed = os.path.join(env.dir, "committed.img")
    copy_image(image, committed)
    disk.mount(committed)
    hp_at(root, "commit", bid)
    facts["fixed"] = sha256(target)
    disk.umount()
    return image, committed, facts


def cut_every_step(env, key):
    disk = Disk(env)
    try:
        image, committed, f = prepare_images(env, key, disk)
        root, target, bid = f["root"], f["target"], f["bid"]
        store = Store(root, bid)
        for point in COMMIT_POINTS:
            print("power cut during commit at", point, flush=True)
            power_cut(env, disk, image, point, root, "commit", bid)
            got = sha256(target)
            may = {f["orig"], f["fixed"]} if point == "commit-renamed" else \
                expected_after_kill(COMMIT_POINTS, point, f["orig"], f["fixed"])
            expect(got in may, f"{point}: after the cut the file is wholly old or new as the "
                   f"step says ({got[:16]})")
            if not before(COMMIT_POINTS, point, "commit-backup-saved"):
                expect_eq(sha256(store.backup), f["orig"], f"{point}: the backup survived")
            if point == "commit-recorded":
                expect_eq(state(env, bid, root), "committed", f"{point}: the record survived")
            converged_commit(env, root, bid, target, f["orig"], f["fixed"])
            disk.umount()
        for point in ROLLBACK_POINTS:
            print("power cut during rollback at", point, flush=True)
            power_cut(env, disk, committed, point, root, "rollback", bid, "--no-apply")
            got = sha256(target)
            may = {f["orig"], f["fixed"]} if point == "rollback-renamed" else \
                expected_after_kill(ROLLBACK_POINTS, point, f["fixed"], f["orig"])
            expect(got in may, f"{point}: after the cut the file is wholly old or new as the "
                   f"step says ({got[:16]})")
            if got == f["fixed"]:
                expect_eq(sha256(store.backup), f["orig"], f"{point}: the backup is still there")
            converged_rollback(env, root, bid, target, f["orig_bytes"])
            disk.umount()
    finally:
        disk.umount()


def test(env):
    points = [p for p in env.hp("--fault-points").stdout.split()
              if p.startswith(("commit-", "rollback-"))]
    expect_eq(points, COMMIT_POINTS + ROLLBACK_POINTS, "this test covers every commit point")
    key = trust_key(env)
    t0 = time.time()
    kill_every_step(env, key)
    t1 = time.time()
    cut_every_step(env, key)
    print(f"kills: {t1 - t0:.1f} s, power cuts: {time.time() - t1:.1f} s")


if __name__ == "__main__":
    main(test)
