/* SPDX-License-Identifier: MIT */
/*
 * hotpatchd: keeps every enabled patch applied, in every process that maps
 * its target build, including processes started (or libraries loaded) later.
 *
 * One thread, one epoll loop. Wakes on: process exec and exit events
 * (netlink), opens of target files (fanotify: a dlopen in a running process),
 * changes to the store (inotify), the control socket, signals (SIGHUP
 * reloads hotpatch.conf, SIGTERM stops), worker reports, and timers for
 * pending processes and a periodic rescan that catches anything missed.
 * Work that touches a process runs in forked workers (workers.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "bundle.h"
#include "clients.h"
#include "clock.h"
#include "config.h"
#include "control.h"
#include "debug.h"
#include "elffile.h"
#include "engine.h"
#include "error.h"
#include "exclude.h"
#include "fileio.h"
#include "json.h"
#include "log.h"
#include "macro.h"
#include "metrics.h"
#include "module.h"
#include "patches.h"
#include "paths.h"
#include "procevents.h"
#include "procfs.h"
#include "seccomp.h"
#include "store.h"
#include "trust.h"
#include "view.h"
#include "watch.h"
#include "workers.h"

#define RESCAN_NS (10 * NSEC_PER_SEC)
/* How long after an exec (or an open) a process may take to map a target
 * library before it is taken to be a process that never will: the dynamic
 * linker maps DT_NEEDED libraries within milliseconds of the exec, and a
 * later dlopen shows up as an open of the file. */
#define YOUNG_NS (200 * NSEC_PER_MSEC)
/* Every wakeup of the daemon costs the process that caused it (on a small
 * VM, 15-20 us of an exec's time: bench/daemon.py, 6b). An event that comes
 * alone is read at once; once they come faster than this, they are read
 * once per this period instead of one wakeup each. */
#define QUIET_NS (5 * NSEC_PER_MSEC)
#define EVENTS_MAX 64
#define PUBLISH_NS NSEC_PER_SEC

struct daemon {
	struct hp_config conf;
	struct view view;
	struct clients clients;
	struct workers *workers;
	struct engine_opts eo;
	int ep, proc_fd, store_fd, open_fd, ctl_fd, sig_fd;
	int64_t next_rescan_ns;
	int64_t proc_last_ns, proc_rearm_ns; /* see QUIET_NS */
	int64_t publish_ns; /* when to refresh STATUS= and the textfile; 0: nothing changed */
	struct stat root; /* our "/", to tell a process in a container */
	struct stat sock; /* the control socket we bound: removed on exit if still ours */
	struct health health;
	char status[512];  /* the last STATUS= sent */
	char *prom;        /* the last textfile written */
	int lock_fd;
	bool permanent;    /* the error that stops it will not go away by itself */
	bool stop;
	bool ready;
	unsigned jobs;
};

/* Something in the view may have changed: STATUS= and the textfile are
 * refreshed within PUBLISH_NS, once for a burst of changes, and an idle
 * daemon is not woken for them. */
static void changed(struct daemon *d)
{
	if (!d->publish_ns)
		d->publish_ns = now_ns() + PUBLISH_NS;
}

/* Already applied (a restart, or the CLI did it)? The process says. */
static bool applied_in(const struct patch *p, pid_t pid, const struct proc_maps *maps)
{
	struct loaded_patch *lp = NULL, *mine;
	size_t n = 0;
	bool yes = false;
	int memfd = proc_mem_open(pid, false);

	if (memfd < 0)
		return false;
	if (patches_scan(pid, memfd, maps, &lp, &n) == 0) {
		mine = patches_find(lp, n, p->id);
		yes = mine && patches_applied(mine);
	}
	patches_free(lp, n);
	close(memfd);
	hp_err_clear();
	return yes;
}

/* Just after its exec (or open): a failure then is retried (job_done). */
static bool young(const struct pentry *e)
{
	return e->since_ns && now_ns() - e->since_ns < YOUNG_NS;
}

static void dispatch(struct daemon *d, struct patch *p, struct pentry *e, enum job_op op)
{
	int r = workers_start(d->workers, op, p->id, e->pid, young(e), p->b, &d->eo);

	e->queued = r == -EAGAIN;
	if (r == -EAGAIN) {
		/* (Not a failed try: the backoff of later ones stays short.) */
		e->st = PS_PENDING;
		snprintf(e->reason, sizeof(e->reason), "queued: every worker is busy");
		e->next_ns = now_ns() + NSEC_PER_MSEC;
	} else if (r < 0) {
		view_pend(e, hp_err_msg(r), false);
	} else {
		e->st = PS_PENDING;
		snprintf(e->reason, sizeof(e->reason), "%s", op == JOB_APPLY ? "applying"
									   : "reverting");
		e->next_ns = 0;
	}
}

/* Look at one process for one patch, and act. */
static void consider(struct daemon *d, struct patch *p, pid_t pid, bool young)
{
	struct proc_maps maps = {0};
	struct proc_module mod;
	struct pentry *e;
	char rule[256];

	if (pid == getpid() || p->draining || workers_busy(d->workers, p->id, pid))
		return;
	e = view_entry(p, pid, true);
	if (!e)
		return;
	if (young && !e->since_ns)
		e->since_ns = now_ns();
	if (proc_maps_read(pid, &maps) < 0) {
		hp_err_clear();
		view_drop(p, pid);
		return;
	}
	if (module_find(pid, &maps, p->b->manifest.build_id, p->b->manifest.build_id_len,
			&mod) < 0) {
		/* Just after an exec or an open, the target may not be mapped
		 * yet: the dynamic linker maps a library after opening it, and
		 * an exec-open comes before the exec replaces the old image. */
		if (e->since_ns && now_ns() - e->since_ns < YOUNG_NS) {
			char why[300];

			snprintf(why, sizeof(why), "waiting for %s to be mapped",
				 p->b->manifest.target_path);
			view_pend(e, why, true);
		} else {
			view_drop(p, pid);
		}
	} else if (applied_in(p, pid, &maps)) {
		e->st = PS_PATCHED;
		e->reason[0] = '\0';
	} else if (exclude_match(&d->conf, pid, rule, sizeof(rule))) {
		/* (Only here: a rule added later does not undo a patch already
		 * in place, and only processes that map the target are listed.) */
		e->st = PS_EXCLUDED;
		snprintf(e->reason, sizeof(e->reason), "%s", rule);
	} else {
		dispatch(d, p, e, JOB_APPLY);
	}
	proc_maps_free(&maps);
}

static void rescan(struct daemon *d)
{
	pid_t *pids = NULL;
	size_t n = 0;

	d->next_rescan_ns = now_ns() + RESCAN_NS;
	changed(d);
	if (proc_list_pids(&pids, &n) < 0)
		return;
	for (size_t k = 0; k < d->view.n; k++) {
		struct patch *p = &d->view.p[k];

		if (p->draining)
			continue;
		for (size_t i = 0; i < n; i++) {
			struct pentry *e = view_entry(p, pids[i], false);

			/* Known entries follow their own schedule; an excluded
			 * one is looked at again in case the rules changed. */
			if (!e || e->st == PS_PATCHED || e->st == PS_EXCLUDED)
				consider(d, p, pids[i], false);
		}
	}
	free(pids);
}

/* Disabled or removed: revert wherever the object is still mapped. */
static void drain(struct daemon *d, struct patch *p)
{
	pid_t *pids = NULL;
	size_t n = 0;
	bool any = false;

	if (proc_list_pids(&pids, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct proc_maps maps = {0};
		char id[BUNDLE_ID_LEN + 1];
		bool mapped = false;

		if (proc_maps_read(pids[i], &maps) < 0)
			continue;
		for (size_t m = 0; m < maps.n && !mapped; m++)
			mapped = patches_is_object_path(maps.v[m].path, id) && !strcmp(id, p->id);
		proc_maps_free(&maps);
		if (!mapped)
			continue;
		any = true;
		if (!workers_busy(d->workers, p->id, pids[i])) {
			struct pentry *e = view_entry(p, pids[i], true);

			if (e)
				dispatch(d, p, e, JOB_REVERT);
		}
	}
	hp_err_clear();
	free(pids);
	if (!any && !workers_running(d->workers))
		view_remove(&d->view, p);
}

/* Programs have an interpreter (PT_INTERP) or are ET_EXEC; libraries not. A
 * target only a container has counts as a library: the cautious guess. */
static bool is_program(const char *path)
{
	struct elf_file *ef;
	GElf_Phdr ph;
	bool yes;

	if (elf_file_open(path, &ef) < 0) {
		hp_err_clear();
		return false;
	}
	yes = elf_file_ehdr(ef)->e_type == ET_EXEC || elf_file_phdr(ef, PT_INTERP, &ph) == 0;
	elf_file_close(ef);
	return yes;
}

/* A dlopen of the target library shows up as an open of its file, and an
 * exec of the target program as an exec-open: both wake the daemon at once,
 * with the process's pid, while the process events of the rest of the host
 * are read in batches (QUIET_NS). The mark follows the inode, and a commit,
 * a rollback or a package reinstall puts a new inode at the target's path:
 * marked again whenever that happened. */
static void mark_target(struct daemon *d, struct patch *p)
{
	struct stat st;

	if (d->open_fd < 0 || stat(p->b->manifest.target_path, &st) < 0 ||
	    (st.st_dev == p->mark_dev && st.st_ino == p->mark_ino))
		return;
	if (watch_opens_add(d->open_fd, p->b->manifest.target_path, p->program) < 0) {
		hp_err_clear();
		return;
	}
	p->mark_dev = st.st_dev;
	p->mark_ino = st.st_ino;
}

/* The journal fields of an event about @p (and process @pid). */
static const struct log_about *about(const struct patch *p, pid_t pid)
{
	static struct log_about a;

	a = (struct log_about){.patch_id = p ? p->id : NULL, .pid = pid};
	if (p && p->b) {
		a.cves = (const char *const *)p->b->manifest.cves;
		a.ncves = p->b->manifest.ncves;
	}
	return &a;
}

static int load_patch(struct daemon *d, const char *id)
{
	struct bundle_load_opts lo = {.verify = trust_verify_bundle}; /* never insecure */
	char path[PATH_MAX];
	struct patch *p;
	int r = store_lookup(id, path, sizeof(path));

	if (r == 0) {
		p = view_add(&d->view, id);
		if (!p)
			return hp_err(-ENOMEM, "out of memory");
		r = bundle_load(path, &lo, &p->b);
		if (r == 0)
			r = store_object(p->b, p->objpath, sizeof(p->objpath));
		if (r < 0) {
			log_event(LOG_ERR, LOG_ID_UNUSABLE, &(struct log_about){.patch_id = id},
				  "patch %s is enabled but unusable: %s", id, hp_err_msg(r));
			view_remove(&d->view, p);
			return r;
		}
		p->program = is_program(p->b->manifest.target_path);
		mark_target(d, p);
		log_event(LOG_NOTICE, LOG_ID_ENABLED, about(p, 0), "patch %s (%s) enabled for %s", id,
			  p->b->manifest.name, p->b->manifest.target_path);
	}
	return r;
}

static void reconcile(struct daemon *d)
{
	char **ids = NULL;
	size_t n = 0;

	if (store_enabled(&ids, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct patch *p = view_patch(&d->view, ids[i]);

		if (p && p->draining)
			p->draining = false;
		else if (!p)
			load_patch(d, ids[i]);
		else if (p->b)
			mark_target(d, p);
	}
	for (size_t k = d->view.n; k-- > 0;) {
		struct patch *p = &d->view.p[k];
		bool keep = false;

		for (size_t i = 0; i < n && !keep; i++)
			keep = strcmp(ids[i], p->id) == 0;
		if (!keep && !p->draining) {
			log_event(LOG_NOTICE, LOG_ID_DISABLED, about(p, 0),
				  "patch %s disabled: reverting it everywhere", p->id);
			p->draining = true;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	hp_err_clear();
	rescan(d);
}

static void job_done(const struct job_result *res, void *arg)
{
	struct daemon *d = arg;
	struct patch *p = view_patch(&d->view, res->id);
	struct pentry *e = p ? view_entry(p, res->target, false) : NULL;
	const struct engine_report *rep = &res->rep;

	if (rep->outcome == OUTCOME_PATCHED)
		d->health.last_apply_s = time(NULL);
	if (rep->outcome == OUTCOME_PATCHED || rep->outcome == OUTCOME_REVERTED)
		log_event(LOG_NOTICE, rep->outcome == OUTCOME_PATCHED ? LOG_ID_PATCHED : LOG_ID_REVERTED,
			  about(p, rep->pid), "pid %d (%s): %s %s, pause %lld us", rep->pid, rep->comm,
			  outcome_name(rep->outcome), res->id,
			  (long long)(rep->flip.pause_ns / NSEC_PER_USEC));
	if (!e)
		return;
	if (res->op == JOB_REVERT || rep->outcome == OUTCOME_SKIPPED || rep->err == -ESRCH)
		view_drop(p, res->target);
	else if (!view_settle(e, rep, res->retry_on_failure))
		log_event(LOG_ERR, LOG_ID_FAILED, about(p, rep->pid), "pid %d (%s): %s failed: %s",
			  rep->pid, rep->comm, res->id, rep->reason);
}

static bool in_our_root(const struct daemon *d, pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	return stat(path, &st) == 0 && st.st_dev == d->root.st_dev && st.st_ino == d->root.st_ino;
}

/* A process in another root (a container) loads its own copy of a target
 * library: watch that copy's opens too, so a dlopen there is seen at once. */
static void watch_container_copy(struct daemon *d, const struct patch *p, pid_t pid)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "/proc/%d/root%s", pid, p->b->manifest.target_path);
	if (d->open_fd >= 0 && access(path, F_OK) == 0 && watch_opens_add(d->open_fd, path, false) < 0)
		hp_err_clear();
}

/* The first look at an exec: can it concern @p? Most execs on a host have
 * nothing to do with any patch and must not pay for one, so this costs a
 * stat or two and reads nothing of the process (bench/daemon.py, 6b). */
static bool exec_concerns(struct daemon *d, struct patch *p, pid_t pid)
{
	uint8_t id[HP_BUILD_ID_MAX];
	size_t len;

	if (!p->b)
		return false;
	if (p->program)
		return module_exe_build_id(pid, id, &len) == 0 &&
		       len == p->b->manifest.build_id_len &&
		       memcmp(id, p->b->manifest.build_id, len) == 0;
	/* A library is mapped after the exec, by the dynamic linker, which
	 * opens it first: the open is reported (on_open). A process in
	 * another root opens its own copy, watched from now on; it may have
	 * opened it already, so it is looked at now as well. */
	mark_target(d, p);
	if (in_our_root(d, pid))
		return false;
	watch_container_copy(d, p, pid);
	return true;
}

static void on_proc_event(const struct proc_ev *ev, void *arg)
{
	struct daemon *d = arg;
	enum proc_event_kind kind = ev->kind;
	pid_t pid = ev->pid;

	if (pid == 0) { /* events lost: look at everything */
		rescan(d);
		return;
	}
	if (kind == PROC_EV_EXIT) {
		view_drop_pid(&d->view, pid, ev->t_ns);
		return;
	}
	for (size_t k = 0; k < d->view.n; k++) {
		struct patch *p = &d->view.p[k];

		/* A child has its parent's code, patched or not: only the children
		 * of processes the patch concerns need a look (one forked in the
		 * middle of its parent's apply, say). */
		if (kind == PROC_EV_FORK && !view_entry(p, ev->parent, false))
			continue;
		/* (An entry of the image the exec replaced is stale.) */
		if (kind == PROC_EV_EXEC && !exec_concerns(d, p, pid)) {
			view_drop_before(p, pid, ev->t_ns);
			continue;
		}
		consider(d, p, pid, kind == PROC_EV_EXEC);
	}
}

static void arm_proc_events(struct daemon *d)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.fd = d->proc_fd};

	d->proc_rearm_ns = 0;
	if (d->proc_fd >= 0)
		epoll_ctl(d->ep, EPOLL_CTL_MOD, d->proc_fd, &ev);
}

/* An open of a target file: a dynamic linker about to map it, a dlopen, or
 * the exec of a target program, whose exec event (it is mapped) should then
 * wake the daemon at once even in a quiet period. */
static void on_open(pid_t pid, void *arg)
{
	struct daemon *d = arg;

	if (d->proc_rearm_ns)
		arm_proc_events(d);
	for (size_t k = 0; k < d->view.n; k++)
		consider(d, &d->view.p[k], pid, true);
}

static void handle_request(const char *req, int fd, void *arg)
{
	struct daemon *d = arg;
	struct json j = {0};

	if (strcmp(req, "status-text") == 0) {
		struct buf out = {0};

		health_text(&d->health, &out);
		view_text(&d->view, &out);
		control_reply(fd, buf_cstr(&out));
		buf_free(&out);
		return;
	}
	json_obj_begin(&j);
	if (strcmp(req, "status") == 0) {
		health_json(&d->health, &j);
		view_json(&d->view, &j);
	} else if (strcmp(req, "reconcile") == 0) {
		reconcile(d);
		json_kv_bool(&j, "ok", true);
	} else if (strcmp(req, "ping") == 0) {
		json_kv_bool(&j, "ok", true);
		json_kv_int(&j, "pid", getpid());
	} else {
		json_kv_str(&j, "error",
			    "unknown request (status, status-text, reconcile or ping)");
	}
	json_obj_end(&j);
	control_reply(fd, json_text(&j));
	json_free(&j);
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			struct hp_config c;

			if (config_load(&c) < 0) {
				log_event(LOG_ERR, LOG_ID_CONFIG, NULL, "keeping the old configuration: %s",
					  hp_err_msg(-EINVAL));
				continue;
			}
			config_free(&d->conf);
			d->conf = c;
			d->eo.boost = c.boost;
			d->eo.boost_grace_ns = c.boost_grace_ns;
			log_event(LOG_INFO, LOG_ID_CONFIG, NULL, "configuration reloaded");
			reconcile(d);
		} else if (si.ssi_signo != SIGCHLD) {
			d->stop = true;
		}
	}
}

/* Read the queued process events. @woken: the socket woke the loop; else the
 * quiet period is over. Events close together leave the socket disarmed for
 * QUIET_NS, and it is read then; an event alone re-arms it at once. */
static void read_proc_events(struct daemon *d, bool woken)
{
	int64_t now = now_ns();
	int n = procevents_read(d->proc_fd, on_proc_event, d);

	if (woken ? now - d->proc_last_ns < QUIET_NS : n > 0)
		d->proc_rearm_ns = now + QUIET_NS;
	else
		arm_proc_events(d);
	d->proc_last_ns = now;
}

static int64_t next_wakeup(struct daemon *d)
{
	int64_t next = d->next_rescan_ns;

	if (d->publish_ns && d->publish_ns < next)
		next = d->publish_ns;

	if (d->proc_rearm_ns && d->proc_rearm_ns < next)
		next = d->proc_rearm_ns;
	for (size_t k = 0; k < d->view.n; k++)
		for (size_t i = 0; i < d->view.p[k].n; i++) {
			const struct pentry *e = &d->view.p[k].v[i];

			/* (A queued one waits for a worker's report.) */
			if (e->st == PS_PENDING && e->next_ns && e->next_ns < next &&
			    !(e->queued && workers_full(d->workers)))
				next = e->next_ns;
		}
	return next;
}

static void run_due(struct daemon *d)
{
	int64_t now = now_ns();

	for (size_t k = d->view.n; k-- > 0;) {
		struct patch *p = &d->view.p[k];

		if (p->draining) {
			drain(d, p);
			continue;
		}
		for (size_t i = 0; i < p->n; i++) {
			struct pentry *e = &p->v[i];

			/* Looking again at a queued process while every worker
			 * is still busy would only read its /proc again: with a
			 * thousand queued, that was most of the daemon's CPU. */
			if (e->st == PS_PENDING && e->next_ns && e->next_ns <= now &&
			    !(e->queued && workers_full(d->workers))) {
				e->next_ns = 0;
				changed(d);
				consider(d, p, e->pid, e->since_ns != 0);
			}
		}
	}
	if (d->proc_rearm_ns && now >= d->proc_rearm_ns)
		read_proc_events(d, false);
	if (now >= d->next_rescan_ns)
		rescan(d);
}

static int add_fd(struct daemon *d, int fd)
{
	/* Process events wake the loop once, then are re-armed (QUIET_NS). */
	struct epoll_event ev = {.events = EPOLLIN | (fd == d->proc_fd ? EPOLLONESHOT : 0),
				 .data.fd = fd};

	return epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? hp_err(-errno, "epoll: %m") : 0;
}

/* A container or a sandbox may refuse these: the daemon then runs without
 * them (degraded), says so, and does not fail, so it is not restarted in a
 * loop that could never succeed. */
static void open_facilities(struct daemon *d)
{
	struct health *h = &d->health;
	int r;

	/* (Each message is taken before the next call can replace it.) */
	d->proc_fd = procevents_open();
	if (d->proc_fd < 0)
		snprintf(h->blocked[FAC_CONNECTOR], sizeof(h->blocked[0]), "%s",
			 hp_err_msg(d->proc_fd));
	d->open_fd = watch_opens_open();
	if (d->open_fd < 0)
		snprintf(h->blocked[FAC_FANOTIFY], sizeof(h->blocked[0]), "%s",
			 hp_err_msg(d->open_fd));
	r = seccomp_filters_readable();
	if (r < 0)
		snprintf(h->blocked[FAC_FILTERS], sizeof(h->blocked[0]), "%s", hp_err_msg(r));
	hp_err_clear();
	for (int f = 0; f < FAC_COUNT; f++)
		if (d->health.blocked[f][0])
			log_event(LOG_WARNING, LOG_ID_DEGRADED, NULL,
				  "degraded mode: %s blocked (%s), so %s; see `hotpatch doctor`",
				  facility_name(f), d->health.blocked[f], facility_fallback(f));
}

/* One daemon per root: a second one would take the control socket over
 * and remove it on exit while the first still runs. A POSIX record lock,
 * not flock(): it is not inherited by the workers, which may outlive a
 * killed daemon, so a restart is never refused because of them. */
static int take_lock(struct daemon *d)
{
	char path[PATH_MAX + 16], pid[32];
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	snprintf(path, sizeof(path), "%s/hotpatchd.lock", paths()->run);
	mkdir_p(paths()->run, 0755);
	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lock_fd < 0)
		return hp_err(-errno, "cannot open %s: %m", path);
	if (fcntl(d->lock_fd, F_SETLK, &fl) < 0) {
		int err = errno;

		d->permanent = true;
		if (fcntl(d->lock_fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
			return hp_err(-err, "another hotpatchd (pid %d) already runs for %s; stop it "
					    "first (systemctl stop hotpatchd)",
				      (int)fl.l_pid, paths()->root);
		return hp_err(-err, "cannot lock %s: %s", path, strerror(err));
	}
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(d->lock_fd, 0) < 0 || pwrite(d->lock_fd, pid, strlen(pid), 0) < 0)
		return hp_err(-errno, "cannot write %s: %m", path);
	return 0;
}

static int setup(struct daemon *d)
{
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	/* Every socket write is MSG_NOSIGNAL; this covers any other pipe. */
	signal(SIGPIPE, SIG_IGN);
	d->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->ep = epoll_create1(EPOLL_CLOEXEC);
	d->clients.ep = d->ep;
	if (d->sig_fd < 0 || d->ep < 0)
		return hp_err(-errno, "cannot set up the event loop: %m");
	if (stat("/", &d->root) < 0)
		return hp_err(-errno, "cannot stat /: %m");
	r = take_lock(d);
	if (r < 0)
		return r;
	r = config_load(&d->conf);
	if (r < 0) {
		d->permanent = true;
		return r;
	}
	d->eo = (struct engine_opts){.timeout_ns = 10 * NSEC_PER_SEC,
				     .stop_budget_ns = 100 * NSEC_PER_MSEC,
				     .boost = d->conf.boost,
				     .boost_grace_ns = d->conf.boost_grace_ns};
	r = workers_new(d->jobs, &d->workers);
	if (r < 0)
		return r;
	open_facilities(d);
	d->store_fd = watch_store_open();
	if (d->store_fd < 0)
		return d->store_fd;
	d->ctl_fd = control_open(paths()->socket);
	if (d->ctl_fd < 0 || stat(paths()->socket, &d->sock) < 0)
		return d->ctl_fd < 0 ? d->ctl_fd : hp_err(-errno, "%s: %m", paths()->socket);
	r = add_fd(d, d->sig_fd);
	if (r == 0 && d->proc_fd >= 0)
		r = add_fd(d, d->proc_fd);
	if (r == 0)
		r = add_fd(d, d->store_fd);
	if (r == 0 && d->open_fd >= 0)
		r = add_fd(d, d->open_fd);
	if (r == 0)
		r = add_fd(d, d->ctl_fd);
	if (r == 0)
		r = add_fd(d, workers_fd(d->workers));
	return r;
}

static void dispatch_event(struct daemon *d, int fd)
{
	if (fd != d->sig_fd)
		changed(d);
	if (fd == d->proc_fd)
		read_proc_events(d, true);
	else if (fd == d->open_fd)
		watch_opens_read(fd, on_open, d);
	else if (fd == d->store_fd) {
		if (watch_store_read(fd))
			reconcile(d);
	} else if (fd == d->ctl_fd)
		clients_accept(&d->clients, fd);
	else if (clients_owns(&d->clients, fd))
		clients_read(&d->clients, fd, handle_request, d);
	else if (fd == d->sig_fd)
		on_signal(d);
	else if (fd == workers_fd(d->workers))
		workers_collect(d->workers, job_done, d);
}

/* The textfile, rewritten (atomically: node_exporter may read it at any
 * time) when its content changed. Its directory is made if missing, as
 * node_exporter may be installed after hotpatch. */
static void publish_metrics(struct daemon *d)
{
	struct buf out = {0};
	const char *text;
	_cleanup_free_ char *dir = strdup(paths()->metrics);

	metrics_prom(&d->view, &d->health, &out);
	text = buf_cstr(&out);
	if (text && dir && (!d->prom || strcmp(d->prom, text) != 0)) {
		*strrchr(dir, '/') = '\0';
		if (mkdir_p(dir, 0755) < 0 ||
		    file_write_atomic(paths()->metrics, text, strlen(text), 0644) < 0) {
			/* Said once: it is retried each second, quietly. */
			if (!d->prom || d->prom[0])
				log_event(LOG_WARNING, NULL, NULL, "%s", hp_err_msg(-EIO));
			free(d->prom);
			d->prom = strdup("");
		} else {
			free(d->prom);
			d->prom = strdup(text);
		}
	}
	hp_err_clear();
	buf_free(&out);
}

/* STATUS= (systemctl status) and the textfile, kept current. */
static void publish(struct daemon *d)
{
	char status[sizeof(d->status)];

	metrics_status(&d->view, &d->health, status, sizeof(status));
	if (strcmp(status, d->status) != 0) {
		sd_notifyf(0, "STATUS=%s", status);
		memcpy(d->status, status, sizeof(status));
	}
	publish_metrics(d);
}

static void loop(struct daemon *d)
{
	int64_t last_sync = now_ns();

	while (!d->stop) {
		struct epoll_event ev[EVENTS_MAX];
		int64_t wait = clients_expire(&d->clients, next_wakeup(d)) - now_ns();
		int n = epoll_wait(d->ep, ev, EVENTS_MAX,
				   wait <= 0 ? 0 : (int)MIN(wait / NSEC_PER_MSEC + 1, 10000));

		for (int i = 0; i < n; i++)
			dispatch_event(d, ev[i].data.fd);
		workers_collect(d->workers, job_done, d);
		run_due(d);
		if (d->publish_ns && now_ns() >= d->publish_ns) {
			d->publish_ns = 0;
			publish(d);
		}
		if (now_ns() - last_sync > NSEC_PER_SEC) {
			audit_sync();
			last_sync = now_ns();
		}
	}
}

static int usage(int status)
{
	printf("Usage: hotpatchd [--root DIR] [--jobs N] [--version]\n\n"
	       "Keep every enabled patch of the store applied, in every process that maps\n"
	       "its target build, including processes started later and libraries loaded\n"
	       "later. Runs in the foreground (systemd Type=notify). See hotpatchd(8).\n");
	return status;
}

/* Exit status 2 (bad usage, not root, a bad configuration, another daemon
 * running) is one a restart cannot cure: the unit's RestartPreventExitStatus=. */
static int fail(struct daemon *d, int r)
{
	log_event(LOG_ERR, LOG_ID_STOPPED, NULL, "cannot start: %s", hp_err_msg(r));
	sd_notifyf(0, "STATUS=failed: %s", hp_err_msg(r));
	workers_free(d->workers);
	config_free(&d->conf);
	return d->permanent ? 2 : 1;
}

/* The socket is removed only if it is still the one we bound: never one
 * another daemon (or a test) put at the path since. */
static void remove_socket(const struct daemon *d)
{
	struct stat st;

	if (stat(paths()->socket, &st) == 0 && st.st_dev == d->sock.st_dev &&
	    st.st_ino == d->sock.st_ino)
		unlink(paths()->socket);
}

/* HOTPATCH_DEBUG=1: the engine's trace on stderr, one write per line
 * (worker threads trace at once). */
static void debug_line(const char *line)
{
	fprintf(stderr, "hotpatchd[debug]: %s\n", line);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"root", required_argument, NULL, 'r'},
		{"jobs", required_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	struct daemon d = {.proc_fd = -1, .store_fd = -1, .open_fd = -1, .ctl_fd = -1,
			   .lock_fd = -1};
	const char *root = NULL;
	int c, r;

	hp_debug_set_sink(debug_line);
	log_init();
	d.jobs = (unsigned)sysconf(_SC_NPROCESSORS_ONLN) * 2;
	while ((c = getopt_long(argc, argv, "hj:V", opts, NULL)) != -1) {
		if (c == 'r') {
			root = optarg;
		} else if (c == 'j') {
			d.jobs = (unsigned)atoi(optarg);
		} else if (c == 'V') {
			printf("hotpatchd %s\n", HP_VERSION);
			return 0;
		} else {
			return usage(c == 'h' ? 0 : 2);
		}
	}
	if (geteuid() != 0) {
		fprintf(stderr, "hotpatchd: must run as root (it patches other users' processes)\n");
		return 2;
	}
	r = paths_init(root);
	d.permanent = r < 0;
	if (r == 0)
		r = setup(&d);
	if (r < 0)
		return fail(&d, r);
	reconcile(&d);
	publish(&d);
	sd_notify(0, "READY=1");
	log_event(LOG_INFO, LOG_ID_STARTED, NULL,
		  "hotpatchd ready: %zu patch%s enabled, control socket %s%s (version %s)",
		  d.view.n, d.view.n == 1 ? "" : "es", paths()->socket,
		  health_degraded(&d.health) ? ", degraded mode" : "", HP_VERSION);
	loop(&d);
	sd_notify(0, "STOPPING=1");
	clients_close_all(&d.clients);
	workers_free(d.workers);
	remove_socket(&d);
	view_free(&d.view);
	config_free(&d.conf);
	free(d.prom);
	audit_sync();
	log_event(LOG_INFO, LOG_ID_STOPPED, NULL, "hotpatchd stopped");
	return 0;
}
