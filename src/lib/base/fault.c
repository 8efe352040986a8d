/* SPDX-License-Identifier: MIT */
#include "fault.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* In the order a run passes them. */
const char *const fault_points[] = {
	"apply-start",        /* lock taken, nothing read yet */
	"apply-seized",       /* one thread seized for the system calls */
	"remote-in-call",     /* a remote system call entered, registers borrowed */
	"load-mapped",        /* object mapped, not yet relocated */
	"load-done",          /* object relocated and recorded, not active */
	"flip-before-stop",   /* every thread seized, none stopped */
	"stop-boosted",       /* threads still running were boosted (busy hosts) */
	"flip-stopped",       /* every thread stopped, nothing written */
	"evacuate-running",   /* threads inside a changed function let run on */
	"flip-written",       /* jumps written, threads still stopped */
	"apply-done",         /* released, before the report */
	"revert-start",
	"revert-flipped",     /* original bytes back, object still mapped */
	"revert-seized",      /* a thread seized to unmap the object */
	"revert-done",        /* object unmapped */
	"commit-start",       /* commit lock taken, nothing read */
	"commit-backup-saved", /* the original is durable in the store */
	"commit-temp-written", /* fixed file written next to the target, not synced */
	"commit-temp-synced", /* fixed file synced and read back, not renamed */
	"commit-renamed",     /* renamed over the target, directory not synced */
	"commit-dir-synced",  /* directory synced, state not recorded */
	"commit-recorded",    /* state recorded, before the report */
	"rollback-start",
	"rollback-temp-written",
	"rollback-temp-synced",
	"rollback-renamed",
	"rollback-dir-synced",
	"rollback-recorded",  /* state recorded, backup not yet removed */
	"audit-locked",       /* the audit log's lock taken and the log open, line not written */
};
const size_t fault_points_n = sizeof(fault_points) / sizeof(fault_points[0]);

void fault_point(const char *name)
{
	const char *want = getenv("HOTPATCH_FAULT"), *action;

	if (!want || strcmp(want, name) != 0)
		return;
	action = getenv("HOTPATCH_FAULT_ACTION");
	raise(action && strcmp(action, "stop") == 0 ? SIGSTOP : SIGKILL);
}
