/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "macro.h"

#define CVES_MAX 16

static bool to_journal;

/* systemd sets $JOURNAL_STREAM to the device and inode of the stream it
 * connected stdout and stderr to; a stderr redirected since is no longer
 * it (sd_journal_stream_fd(3), "Environment variables" in systemd.exec(5)). */
void log_init(void)
{
	const char *s = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	to_journal = s && sscanf(s, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
		     st.st_dev == dev && st.st_ino == ino;
}

/* @line: "MESSAGE=..." */
static int journal_send(int prio, const char *msgid, const struct log_about *a, const char *line)
{
	char f[5][300], cve[CVES_MAX][80];
	struct iovec iov[1 + 5 + CVES_MAX];
	size_t n = 0, k = 0;

	snprintf(f[k++], sizeof(f[0]), "PRIORITY=%d", prio);
	snprintf(f[k++], sizeof(f[0]), "SYSLOG_IDENTIFIER=hotpatchd");
	if (msgid)
		snprintf(f[k++], sizeof(f[0]), "MESSAGE_ID=%s", msgid);
	if (a && a->patch_id)
		snprintf(f[k++], sizeof(f[0]), "HOTPATCH_PATCH_ID=%s", a->patch_id);
	if (a && a->pid > 0)
		snprintf(f[k++], sizeof(f[0]), "HOTPATCH_PID=%d", (int)a->pid);
	iov[n++] = (struct iovec){(char *)line, strlen(line)};
	for (size_t i = 0; i < k; i++)
		iov[n++] = (struct iovec){f[i], strlen(f[i])};
	/* (A field may repeat: one HOTPATCH_CVE= per CVE.) */
	for (size_t c = 0; a && c < MIN(a->ncves, (size_t)CVES_MAX); c++) {
		snprintf(cve[c], sizeof(cve[c]), "HOTPATCH_CVE=%s", a->cves[c]);
		iov[n++] = (struct iovec){cve[c], strlen(cve[c])};
	}
	return sd_journal_sendv(iov, (int)n);
}

void log_event(int prio, const char *msgid, const struct log_about *about, const char *fmt, ...)
{
	static const char prefix[] = "MESSAGE=";
	char line[2048] = "MESSAGE=";
	const char *msg = line + sizeof(prefix) - 1;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line + sizeof(prefix) - 1, sizeof(line) - sizeof(prefix) + 1, fmt, ap);
	va_end(ap);
	if (to_journal && journal_send(prio, msgid, about, line) >= 0)
		return;
	fprintf(stderr, "%s%s\n",
		prio <= LOG_ERR ? "error: " : prio == LOG_WARNING ? "warning: " : "", msg);
}
