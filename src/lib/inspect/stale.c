/* SPDX-License-Identifier: MIT */
#include "stale.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "error.h"
#include "module.h"
#include "procfs.h"

static bool same_file(const struct map_entry *a, const struct map_entry *b)
{
	return a->inode == b->inode && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor;
}

static bool is_inode(const struct map_entry *e, const struct stat *st)
{
	return e->inode == st->st_ino && e->dev_major == major(st->st_dev) &&
	       e->dev_minor == minor(st->st_dev);
}

/* The mapping that covers @e's file at offset 0 (the ELF header), if the
 * file has an executable mapping at all: data files (locale archives,
 * fonts, caches) are not code a fix changes. */
static bool code_file(const struct proc_maps *m, const struct map_entry *e)
{
	if (!e->path || e->path[0] != '/' || !e->inode || e->offset != 0)
		return false;
	for (size_t i = 0; i < m->n; i++)
		if (same_file(&m->v[i], e) && (m->v[i].prot & PROT_EXEC))
			return true;
	return false;
}

/* Was this file already looked at (its first mapping came earlier)? */
static bool seen_before(const struct proc_maps *m, size_t idx)
{
	for (size_t i = 0; i < idx; i++)
		if (same_file(&m->v[i], &m->v[idx]) && m->v[i].offset == 0)
			return true;
	return false;
}

static int add_file(struct stale_process *p, const struct stale_file *f)
{
	struct stale_file *nv = realloc(p->files, (p->n + 1) * sizeof(*nv));

	if (!nv)
		return hp_err(-ENOMEM, "out of memory");
	p->files = nv;
	nv[p->n] = *f;
	nv[p->n].path = strdup(f->path);
	if (!nv[p->n].path)
		return hp_err(-ENOMEM, "out of memory");
	p->n++;
	return 0;
}

/* Looks at one mapped code file; adds it to @p when it is stale. */
static int check_file(pid_t tid, const struct map_entry *e, const struct stat *exe,
		      struct stale_process *p)
{
	struct stale_file f = {.path = e->path, .deleted = e->deleted};
	char where[4200];
	struct stat st;

	/* The usual case, and the cheap one: the path still names the
	 * mapped inode. */
	snprintf(where, sizeof(where), "/proc/%d/root%s", tid, e->path);
	if (!e->deleted && stat(where, &st) == 0 && is_inode(e, &st))
		return 0;
	if (module_map_build_id(tid, e, f.running_id, &f.running_len) < 0 || !f.running_len) {
		hp_err_clear();
		return 0; /* gone meanwhile, or no build-id to tell builds apart */
	}
	if (module_path_build_id(where, f.installed_id, &f.installed_len) < 0)
		f.installed_len = 0;
	hp_err_clear();
	if (f.installed_len == f.running_len &&
	    memcmp(f.installed_id, f.running_id, f.running_len) == 0)
		return 0;
	f.exe = exe && is_inode(e, exe);
	return add_file(p, &f);
}

int stale_scan(pid_t pid, struct stale_process *ret)
{
	struct stale_process p = {.pid = pid};
	struct proc_maps maps = {0};
	pid_t tid = proc_live_tid(pid);
	char exe_path[64];
	struct stat exe;
	bool have_exe;
	int r;

	r = proc_maps_read(pid, &maps);
	if (r < 0)
		return r;
	snprintf(exe_path, sizeof(exe_path), "/proc/%d/exe", tid);
	have_exe = stat(exe_path, &exe) == 0;
	proc_comm(pid, p.comm, sizeof(p.comm));
	for (size_t i = 0; i < maps.n && r == 0; i++)
		if (code_file(&maps, &maps.v[i]) && !seen_before(&maps, i))
			r = check_file(tid, &maps.v[i], have_exe ? &exe : NULL, &p);
	proc_maps_free(&maps);
	if (r < 0) {
		stale_process_free(&p);
		return r;
	}
	*ret = p;
	return 0;
}

void stale_process_free(struct stale_process *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->files[i].path);
	free(p->files);
	p->files = NULL;
	p->n = 0;
}
