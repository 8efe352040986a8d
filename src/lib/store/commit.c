/* SPDX-License-Identifier: MIT */
#include "commit.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "commitstate.h"
#include "dpkg.h"
#include "fault.h"
#include "fileattrs.h"
#include "fileio.h"
#include "fixedfile.h"
#include "hex.h"
#include "macro.h"
#include "paths.h"

/* The largest target file: the bound the builder uses too. */
#define TARGET_MAX (1ULL << 31)
#define READBACK_CHUNK (1u << 20)

/* The target file, opened through its directory so that every later step
 * (temp file, rename, fsync) acts on the same directory even if a path
 * component is swapped meanwhile. */
struct target {
	char path[PATH_MAX]; /* real path */
	char base[NAME_MAX + 1];
	int dirfd;
	int fd;
	struct stat st;
	uint8_t *data;
	size_t len;
	uint8_t sha[32];
};

const char *commit_outcome_name(enum commit_outcome o, bool rollback)
{
	switch (o) {
	case CO_DONE:
		return rollback ? "rolled-back" : "committed";
	case CO_ALREADY:
		return rollback ? "already-rolled-back" : "already-committed";
	case CO_SUPERSEDED:
		return "superseded";
	case CO_REFUSED:
		return "refused";
	case CO_FAILED:
		break;
	}
	return "failed";
}

static void target_close(struct target *t)
{
	if (t->fd >= 0)
		close(t->fd);
	if (t->dirfd >= 0)
		close(t->dirfd);
	free(t->data);
	*t = (struct target){.dirfd = -1, .fd = -1};
}

static int read_fd(int fd, size_t len, uint8_t **ret)
{
	_cleanup_free_ uint8_t *data = malloc(len ? len : 1);
	size_t got = 0;

	if (!data)
		return hp_err(-ENOMEM, "out of memory");
	while (got < len) {
		ssize_t n = pread(fd, data + got, len - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		got += (size_t)n;
	}
	*ret = TAKE_PTR(data);
	return 0;
}

static int split_path(const char *path, struct target *t)
{
	_cleanup_free_ char *real = realpath(path, NULL);
	_cleanup_free_ char *d = NULL, *b = NULL;

	if (!real)
		return hp_err(-errno, "cannot find the target file %s: %m", path);
	snprintf(t->path, sizeof(t->path), "%s", real);
	d = strdup(real);
	b = strdup(real);
	if (!d || !b)
		return hp_err(-ENOMEM, "out of memory");
	snprintf(t->base, sizeof(t->base), "%s", basename(b));
	t->dirfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->dirfd < 0)
		return hp_err(-errno, "cannot open the directory of %s: %m", t->path);
	return 0;
}

static int target_open(const char *path, struct target *t)
{
	int r = split_path(path, t);

	if (r < 0)
		return r;
	t->fd = openat(t->dirfd, t->base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (t->fd < 0)
		return hp_err(-errno, "cannot open %s: %m", t->path);
	if (fstat(t->fd, &t->st) < 0)
		return hp_err(-errno, "cannot stat %s: %m", t->path);
	if (!S_ISREG(t->st.st_mode))
		return hp_err(-EINVAL, "%s is not a regular file", t->path);
	if ((uint64_t)t->st.st_size > TARGET_MAX)
		return hp_err(-EFBIG, "%s is too large", t->path);
	t->len = (size_t)t->st.st_size;
	r = read_fd(t->fd, t->len, &t->data);
	if (r < 0)
		return hp_err(r, "cannot read %s: %s", t->path, strerror(-r));
	crypto_hash_sha256(t->sha, t->data, t->len);
	return 0;
}

/* The name still leads to the inode we read: nobody (a package manager,
 * say) replaced or rewrote the file while we prepared its successor. */
static int target_unchanged(const struct target *t)
{
	struct stat now;

	if (fstatat(t->dirfd, t->base, &now, AT_SYMLINK_NOFOLLOW) < 0)
		return hp_err(-errno, "%s vanished during the operation: %m", t->path);
	if (now.st_dev != t->st.st_dev || now.st_ino != t->st.st_ino ||
	    now.st_size != t->st.st_size || now.st_mtim.tv_sec != t->st.st_mtim.tv_sec ||
	    now.st_mtim.tv_nsec != t->st.st_mtim.tv_nsec)
		return hp_err(-EAGAIN, "%s changed during the operation; run it again", t->path);
	return 0;
}

static void temp_name(const char *id, char *ret, size_t len)
{
	/* One name per bundle and directory: a rerun finds (and replaces) the
	 * leftover of a killed run instead of leaving litter. */
	snprintf(ret, len, ".hotpatch-%s.tmp", id);
}

/* Reads the temp file back from the file system (not from our buffer) and
 * checks its digest: what gets renamed is exactly what was promised. */
static int verify_written(int fd, size_t len, const uint8_t want[32])
{
	_cleanup_free_ uint8_t *chunk = malloc(READBACK_CHUNK);
	crypto_hash_sha256_state st;
	uint8_t got[32];
	size_t off = 0;

	if (!chunk)
		return hp_err(-ENOMEM, "out of memory");
	crypto_hash_sha256_init(&st);
	while (off < len) {
		ssize_t n = pread(fd, chunk, MIN(READBACK_CHUNK, len - off), (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return hp_err(n < 0 ? -errno : -EIO, "cannot read the new file back");
		crypto_hash_sha256_update(&st, chunk, (size_t)n);
		off += (size_t)n;
	}
	crypto_hash_sha256_final(&st, got);
	if (sodium_memcmp(got, want, 32) != 0)
		return hp_err(-EIO, "the new file read back differs from what was written");
	return 0;
}

static void fault_step(const char *op, const char *step)
{
	char name[64];

	snprintf(name, sizeof(name), "%s-%s", op, step);
	fault_point(name);
}

/* Writes the temp file: data first, then the old file's attributes (a
 * write would clear security.capability and the set-id bits), then fsync
 * and read back. Returns its fd. */
static int temp_write(const struct target *t, const char *tmp, const uint8_t *data, size_t len,
		      const uint8_t sha[32], const char *op)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (unlinkat(t->dirfd, tmp, 0) < 0 && errno != ENOENT)
		return hp_err(-errno, "cannot remove the leftover %s: %m", tmp);
	fd = openat(t->dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return hp_err(-errno, "cannot create a temp file next to %s: %m", t->path);
	r = write_full(fd, data, len);
	if (r < 0)
		return hp_err(r, "cannot write the new %s: %s", t->path, strerror(-r));
	r = fileattrs_copy(t->fd, fd);
	if (r < 0)
		return hp_err_prefix(r, "%s: ", t->path);
	fault_step(op, "temp-written");
	if (fsync(fd) < 0)
		return hp_err(-errno, "cannot sync the new %s: %m", t->path);
	r = verify_written(fd, len, sha);
	if (r < 0)
		return r;
	fault_step(op, "temp-synced");
	return 0;
}

/* The crash-safe swap: temp file, fsync, rename, fsync of the directory. */
static int target_replace(const struct target *t, const char *id, const uint8_t *data, size_t len,
			  const uint8_t sha[32], const char *op)
{
	char tmp[NAME_MAX + 1];
	int r;

	temp_name(id, tmp, sizeof(tmp));
	r = temp_write(t, tmp, data, len, sha, op);
	if (r == 0)
		r = target_unchanged(t);
	if (r == 0 && renameat(t->dirfd, tmp, t->dirfd, t->base) < 0)
		r = hp_err(-errno, "cannot rename the new file over %s: %m", t->path);
	if (r < 0) {
		unlinkat(t->dirfd, tmp, 0);
		return r;
	}
	fault_step(op, "renamed");
	if (fsync(t->dirfd) < 0)
		return hp_err(-errno, "cannot sync the directory of %s: %m", t->path);
	fault_step(op, "dir-synced");
	return 0;
}

/* Commit and rollback of any bundle serialise on one lock: the boot unit
 * and an administrator must not swap the same file at once. */
static int take_lock(void)
{
	char path[PATH_MAX];
	int fd, r = commitstate_ensure_dirs();

	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/commit/.lock", paths()->state);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return hp_err(-errno, "cannot open %s: %m", path);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			r = hp_err(-errno, "cannot lock %s: %m", path);
			close(fd);
			return r;
		}
	return fd;
}

static void sha_prefix(const uint8_t sha[32], char out[17])
{
	char full[65];

	hex_encode(sha, 32, full);
	snprintf(out, 17, "%s", full);
}

static void report(struct commit_report *rep, enum commit_outcome o, int err)
{
	rep->outcome = o;
	rep->err = err;
	if (err < 0)
		snprintf(rep->reason, sizeof(rep->reason), "%s", hp_err_msg(err));
}

static void superseded(const struct bundle *b, const struct target *t, struct commit_report *rep)
{
	char got[17], orig[17], fixed[17];

	sha_prefix(t->sha, got);
	sha_prefix(b->manifest.file_sha_orig, orig);
	sha_prefix(b->manifest.file_sha_fixed, fixed);
	snprintf(rep->reason, sizeof(rep->reason),
		 "%s is neither the original this patch was built for (sha256 %s...) nor its fix "
		 "(%s...) but %s...: it was replaced since (a package upgrade?); left alone",
		 t->path, orig, fixed, got);
	rep->outcome = CO_SUPERSEDED;
	commitstate_set(b->id, CS_SUPERSEDED, t->path);
}

static int save_backup(const struct target *t, struct commit_report *rep)
{
	int r = file_write_atomic(rep->backup, t->data, t->len, 0600);

	if (r < 0)
		return hp_err_prefix(r, "cannot back up %s: ", t->path);
	rep->have_backup = true;
	fault_step("commit", "backup-saved");
	return 0;
}

static void dpkg_note(struct commit_report *rep, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void dpkg_note(struct commit_report *rep, const char *fmt, ...)
{
	size_t n = strlen(rep->dpkg);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rep->dpkg + n, sizeof(rep->dpkg) - n, fmt, ap);
	va_end(ap);
}

/* The file a dpkg run left at @t's path is the fixed file. */
static int check_installed(const struct bundle *b, const struct target *t)
{
	struct target now = {.dirfd = -1, .fd = -1};
	int r = target_open(t->path, &now);

	if (r == 0 && sodium_memcmp(now.sha, b->manifest.file_sha_fixed, 32) != 0)
		r = hp_err(-EBADMSG, "dpkg installed %s %s, but %s is not the fixed file the "
				     "bundle names",
			   b->debref.package, b->debref.version, t->path);
	target_close(&now);
	return r;
}

/* Commit as an upgrade would: dpkg installs the package version whose file
 * is the fixed file, from a .deb found here with the bundle's checksum.
 * False when that cannot be (said in rep->dpkg): the file is then
 * replaced instead. */
static bool commit_by_dpkg(const struct bundle *b, struct target *t, struct commit_report *rep)
{
	const struct debref *d = &b->debref;
	char deb[PATH_MAX], have[256] = "";
	int r = dpkg_installed_version(d->package, d->arch, have, sizeof(have));

	if (r < 0 || strcmp(have, d->from_version) != 0) {
		dpkg_note(rep, "dpkg has no %s %s installed, so it was not upgraded; ", d->package,
			  d->from_version);
		return false;
	}
	r = dpkg_find_deb(d, deb, sizeof(deb));
	if (r < 0) {
		dpkg_note(rep, "%s, so %s was not upgraded; ", hp_err_msg(r), d->package);
		hp_err_clear();
		return false;
	}
	r = save_backup(t, rep);
	if (r == 0)
		r = dpkg_install(deb);
	if (r == 0)
		r = check_installed(b, t);
	if (r == 0)
		r = commitstate_set_note(b->id, CS_COMMITTED, t->path, "dpkg-installed");
	if (r == 0)
		dpkg_note(rep, "installed %s %s with dpkg (%s)", d->package, d->version, deb);
	report(rep, r < 0 ? CO_FAILED : CO_DONE, r);
	return true;
}

/* After a rename over a package's file: what dpkg --verify now says. */
static const char *note_owner(const struct target *t, struct commit_report *rep)
{
	char pkg[256];

	if (dpkg_owner(t->path, pkg, sizeof(pkg)) < 0)
		return NULL;
	dpkg_note(rep, "%s is package %s's file: `dpkg --verify %s` reports it changed, and dpkg "
		       "still lists the version it shipped",
		  t->path, pkg, pkg);
	return "dpkg-modified";
}

static void do_commit(const struct bundle *b, struct target *t, struct commit_report *rep)
{
	const struct manifest *m = &b->manifest;
	_cleanup_free_ uint8_t *fixed = NULL;
	size_t len;
	int r;

	if (sodium_memcmp(t->sha, m->file_sha_fixed, 32) == 0) {
		rep->have_backup = access(rep->backup, F_OK) == 0;
		r = commitstate_set(b->id, CS_COMMITTED, t->path);
		report(rep, r < 0 ? CO_FAILED : CO_ALREADY, r);
		return;
	}
	if (sodium_memcmp(t->sha, m->file_sha_orig, 32) != 0) {
		superseded(b, t, rep);
		return;
	}
	if (b->has_debref && commit_by_dpkg(b, t, rep))
		return;
	r = fixedfile_build(b, t->data, t->len, &fixed, &len);
	if (r < 0) {
		report(rep, CO_REFUSED, r);
		return;
	}
	r = save_backup(t, rep);
	if (r == 0)
		r = target_replace(t, b->id, fixed, len, m->file_sha_fixed, "commit");
	if (r == 0)
		r = commitstate_set_note(b->id, CS_COMMITTED, t->path, note_owner(t, rep));
	if (r == 0)
		fault_step("commit", "recorded");
	report(rep, r < 0 ? CO_FAILED : CO_DONE, r);
}

/* Returns the lock fd. */
static int begin(const struct bundle *b, struct commit_report *rep, const char *op)
{
	int r;

	*rep = (struct commit_report){0};
	commitstate_backup_path(b->id, rep->backup, sizeof(rep->backup));
	r = take_lock();
	if (r < 0)
		return r;
	fault_step(op, "start");
	if (!fixedfile_present(b)) {
		close(r);
		return hp_err(-ENODATA, "patch %s carries no fixed file (it was built from patch "
					"source): it stays live-only",
			      b->id);
	}
	return r;
}

void commit_bundle(const struct bundle *b, struct commit_report *rep)
{
	struct target t = {.dirfd = -1, .fd = -1};
	int lock = begin(b, rep, "commit"), r;

	if (lock < 0) {
		report(rep, lock == -ENODATA ? CO_REFUSED : CO_FAILED, lock);
		return;
	}
	r = target_open(b->manifest.target_path, &t);
	snprintf(rep->target, sizeof(rep->target), "%s", t.path[0] ? t.path
								     : b->manifest.target_path);
	if (r < 0)
		report(rep, CO_FAILED, r);
	else
		do_commit(b, &t, rep);
	target_close(&t);
	close(lock);
}

/* The backup, checked: it must be the very original the bundle names. */
static int load_backup(const struct bundle *b, const char *path, uint8_t **ret, size_t *ret_len)
{
	uint8_t sha[32];
	int r;

	if (access(path, F_OK) < 0)
		return hp_err(-ENOENT, "there is no backup of the original (%s): this file was not "
				       "committed by hotpatch, so there is nothing to roll back to",
			      path);
	r = file_read_all(path, TARGET_MAX, ret, ret_len);
	if (r < 0)
		return r;
	crypto_hash_sha256(sha, *ret, *ret_len);
	if (sodium_memcmp(sha, b->manifest.file_sha_orig, 32) != 0) {
		free(*ret);
		*ret = NULL;
		return hp_err(-EBADMSG, "the backup %s is not the original file (SHA-256 mismatch): "
					"it is damaged; refusing to restore it",
			      path);
	}
	return 0;
}

static void do_rollback(const struct bundle *b, struct target *t, struct commit_report *rep)
{
	const struct manifest *m = &b->manifest;
	_cleanup_free_ uint8_t *orig = NULL;
	size_t len;
	int r;

	if (sodium_memcmp(t->sha, m->file_sha_orig, 32) == 0) {
		r = commitstate_set(b->id, CS_ROLLED_BACK, t->path);
		unlink(rep->backup);
		report(rep, r < 0 ? CO_FAILED : CO_ALREADY, r);
		return;
	}
	if (sodium_memcmp(t->sha, m->file_sha_fixed, 32) != 0) {
		superseded(b, t, rep);
		return;
	}
	r = load_backup(b, rep->backup, &orig, &len);
	if (r < 0) {
		report(rep, CO_REFUSED, r);
		return;
	}
	rep->have_backup = true;
	r = target_replace(t, b->id, orig, len, m->file_sha_orig, "rollback");
	if (r == 0)
		r = commitstate_set(b->id, CS_ROLLED_BACK, t->path);
	if (r == 0) {
		fault_step("rollback", "recorded");
		/* Its job is done: the original is on disk again. */
		unlink(rep->backup);
		note_owner(t, rep);
	}
	report(rep, r < 0 ? CO_FAILED : CO_DONE, r);
}

void commit_rollback(const struct bundle *b, struct commit_report *rep)
{
	struct target t = {.dirfd = -1, .fd = -1};
	int lock = begin(b, rep, "rollback"), r;

	if (lock < 0) {
		report(rep, lock == -ENODATA ? CO_REFUSED : CO_FAILED, lock);
		return;
	}
	r = target_open(b->manifest.target_path, &t);
	snprintf(rep->target, sizeof(rep->target), "%s", t.path[0] ? t.path
								     : b->manifest.target_path);
	if (r < 0)
		report(rep, CO_FAILED, r);
	else
		do_rollback(b, &t, rep);
	target_close(&t);
	close(lock);
}
