/* SPDX-License-Identifier: MIT */
/*
 * hotpatch doctor: what this host allows and what blocks patching. Beyond
 * reading settings, it proves the mechanisms on a child process of its own:
 * attach, write to its code through /proc/PID/mem, fetch one of its fds.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"
#include "paths.h"
#include "procevents.h"
#include "seccomp.h"
#include "trust.h"

struct report {
	int fails;
	int warns;
};

static void line(struct report *rep, const char *level, const char *fmt, ...)
{
	va_list ap;

	if (strcmp(level, "FAIL") == 0)
		rep->fails++;
	else if (strcmp(level, "warn") == 0)
		rep->warns++;
	printf("%-5s", level);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int read_int_file(const char *path, int *ret)
{
	FILE *f = fopen(path, "re");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%d", ret) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static bool has_cap(int cap)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {0};

	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[cap / 32].effective & (1u << (cap % 32));
}

static void check_privileges(struct report *rep)
{
	if (has_cap(CAP_SYS_PTRACE))
		line(rep, "ok", "CAP_SYS_PTRACE: present (may patch other users' processes)");
	else
		line(rep, "FAIL", "CAP_SYS_PTRACE: missing; run hotpatch as root");
	if (has_cap(CAP_SYS_NICE))
		line(rep, "ok", "CAP_SYS_NICE: present (real-time boost during the stop)");
	else
		line(rep, "warn", "CAP_SYS_NICE: missing; stops fall back to the plain, slower "
				  "stop on busy hosts");
}

static void check_yama(struct report *rep)
{
	int scope;

	if (read_int_file("/proc/sys/kernel/yama/ptrace_scope", &scope) < 0)
		line(rep, "ok", "Yama: not active");
	else if (scope == 3)
		line(rep, "FAIL", "Yama ptrace_scope is 3: no process may ever be traced until "
				  "reboot; hotpatch cannot work on this boot");
	else
		line(rep, "ok", "Yama ptrace_scope is %d: root with CAP_SYS_PTRACE may attach",
		     scope);
}

static void check_lockdown_and_seccomp(struct report *rep)
{
	char buf[256] = "", *sel;
	FILE *f = fopen("/sys/kernel/security/lockdown", "re");

	if (f && fgets(buf, sizeof(buf), f) && (sel = strchr(buf, '['))) {
		buf[strcspn(buf, "\n")] = '\0';
		line(rep, "ok", "kernel lockdown: %s (it does not restrict ptrace of user "
				"processes)",
		     sel);
	} else {
		line(rep, "ok", "kernel lockdown: not available");
	}
	if (f)
		fclose(f);
	f = fopen("/proc/self/status", "re");
	while (f && fgets(buf, sizeof(buf), f))
		if (strncmp(buf, "Seccomp:", 8) == 0) {
			int mode = atoi(buf + 8);

			line(rep, mode ? "warn" : "ok",
			     mode ? "seccomp: hotpatch itself runs under a seccomp filter (mode %d); "
				    "ptrace or pidfd_getfd may be blocked"
				  : "seccomp: hotpatch runs unfiltered",
			     mode);
		}
	if (f)
		fclose(f);
}

static void check_kernel(struct report *rep)
{
	struct utsname u;
	int major = 0, minor = 0;

	uname(&u);
	sscanf(u.release, "%d.%d", &major, &minor);
	if (major > 5 || (major == 5 && minor >= 6))
		line(rep, "ok", "kernel %s: pidfd_getfd and PTRACE_SEIZE available", u.release);
	else
		line(rep, "FAIL", "kernel %s is older than 5.6 (no pidfd_getfd)", u.release);
}

/* A child to practise on: writes, attaches and fd fetching must all work. */
static void check_mechanisms(struct report *rep)
{
	char path[64], byte;
	int status, pidfd, fd = -1;
	long addr = (long)&check_mechanisms;
	pid_t child = fork();

	if (child == 0) {
		for (;;)
			pause();
	}
	if (child < 0) {
		line(rep, "FAIL", "cannot fork a test process");
		return;
	}
	if (ptrace(PTRACE_SEIZE, child, NULL, NULL) < 0)
		line(rep, "FAIL", "ptrace attach to a test process: %s", strerror(errno));
	else
		line(rep, "ok", "ptrace attach (PTRACE_SEIZE) works");
	snprintf(path, sizeof(path), "/proc/%d/mem", child);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || pread(fd, &byte, 1, addr) != 1 || pwrite(fd, &byte, 1, addr) != 1)
		line(rep, "FAIL", "writing code through /proc/PID/mem: %s", strerror(errno));
	else
		line(rep, "ok", "code writes through /proc/PID/mem work (W^X kept)");
	if (fd >= 0)
		close(fd);
	pidfd = (int)syscall(SYS_pidfd_open, child, 0);
	fd = pidfd >= 0 ? (int)syscall(SYS_pidfd_getfd, pidfd, 0, 0) : -1;
	if (fd < 0)
		line(rep, "FAIL", "pidfd_getfd: %s (patch objects cannot be passed to targets)",
		     strerror(errno));
	else
		line(rep, "ok", "pidfd_getfd works (patch objects reach targets in containers)");
	if (fd >= 0)
		close(fd);
	if (pidfd >= 0)
		close(pidfd);
	kill(child, SIGKILL);
	waitpid(child, &status, __WALL);
}

/* What hotpatchd needs beyond ptrace: a container's seccomp filter or a
 * unit's sandbox may refuse each, and the daemon then runs degraded
 * (hotpatchd(8), "Containers"). Warnings: patching itself still works. */
static void check_daemon_facilities(struct report *rep)
{
	int fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY | O_CLOEXEC);

	if (fd >= 0)
		line(rep, "ok", "fanotify works (hotpatchd sees a library loaded later at once)");
	else
		line(rep, "warn", "fanotify: %s; hotpatchd finds libraries loaded later only by its "
				  "rescan every 10 s. Remedy: allow fanotify_init and fanotify_mark "
				  "and keep CAP_SYS_ADMIN (systemd-nspawn: "
				  "--system-call-filter='fanotify_init fanotify_mark')",
		     strerror(errno));
	if (fd >= 0)
		close(fd);
	fd = procevents_open();
	if (fd >= 0)
		line(rep, "ok", "the process events connector works (hotpatchd sees new processes "
				"at once)");
	else
		line(rep, "warn", "process events connector: %s; hotpatchd finds new processes only "
				  "by its rescan every 10 s. Remedy: run hotpatchd on the host, not "
				  "in the container (it patches the containers' processes too)",
		     hp_err_msg(fd));
	if (fd >= 0)
		close(fd);
	fd = seccomp_filters_readable();
	if (fd == 0)
		line(rep, "ok", "seccomp filters of other processes can be read (filtered processes "
				"can be patched)");
	else
		line(rep, "warn", "seccomp filter reading: %s", hp_err_msg(fd));
	hp_err_clear();
}

static void check_trust(struct report *rep)
{
	struct minisign_pub *keys = NULL;
	size_t n = 0;
	int r = trust_load_keys(&keys, &n);

	free(keys);
	if (r < 0)
		line(rep, "FAIL", "trusted keys: %s", hp_err_msg(r));
	else if (!n)
		line(rep, "warn", "no trusted keys in %s: only --insecure bundles can be applied",
		     paths()->trusted);
	else
		line(rep, "ok", "%zu trusted key%s in %s", n, n == 1 ? "" : "s", paths()->trusted);
}

static void check_compiler(struct report *rep)
{
	if (system("cc --version >/dev/null 2>&1") == 0)
		line(rep, "ok", "a C compiler (cc) is available for `hotpatch build`");
	else
		line(rep, "warn", "no C compiler: `hotpatch build` will not work on this host "
				  "(apply, revert and status do)");
}

int cmd_doctor(int argc, char **argv)
{
	struct report rep = {0};

	if (argc > 1) {
		bool help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;

		if (!help)
			return cli_usage("doctor takes no arguments ('%s'); see hotpatch doctor --help",
					 argv[1]);
		printf("Usage: hotpatch doctor\n\nReport what this host allows and what blocks "
		       "patching.\n");
		return EXIT_OK;
	}
	check_privileges(&rep);
	check_yama(&rep);
	check_lockdown_and_seccomp(&rep);
	check_kernel(&rep);
	if (has_cap(CAP_SYS_PTRACE))
		check_mechanisms(&rep);
	check_daemon_facilities(&rep);
	check_trust(&rep);
	check_compiler(&rep);
	printf("%d problem%s, %d warning%s\n", rep.fails, rep.fails == 1 ? "" : "s", rep.warns,
	       rep.warns == 1 ? "" : "s");
	return rep.fails ? EXIT_FAILED : EXIT_OK;
}
