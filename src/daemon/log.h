/* SPDX-License-Identifier: MIT */
/*
 * hotpatchd's messages. Under systemd (stderr is the journal's stream, as
 * $JOURNAL_STREAM says) each one goes to the journal natively, with its
 * PRIORITY, a MESSAGE_ID per kind of event and the fields HOTPATCH_PATCH_ID=,
 * HOTPATCH_CVE= (one per CVE), HOTPATCH_PID=, so `journalctl -p err -u
 * hotpatchd` and `journalctl HOTPATCH_CVE=CVE-...` find them. Anywhere else
 * (a terminal, a test, a container without journald) they are lines on
 * stderr, and so is any message the journal refused.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>
#include <syslog.h>

/* MESSAGE_ID= of each kind of event (docs/daemon.md lists them). */
#define LOG_ID_STARTED "e975b94b879947e78251d6923676d09a"
#define LOG_ID_STOPPED "fa15f621e41d48a78e0771db45f2c963"
#define LOG_ID_DEGRADED "5734bf5b6319405392d28ce07a39288a"
#define LOG_ID_ENABLED "8f779c4ac58d4b4d850afa83580d7d2c"
#define LOG_ID_DISABLED "08926a1d72c34dd58069d92cd8d3a026"
#define LOG_ID_PATCHED "6e29672b87484e04ab258dad4d09179d"
#define LOG_ID_REVERTED "210b131d9f6b4a2d85db33040367cdf4"
#define LOG_ID_FAILED "5b1427a852c64cb096445d41d26a27ff"
#define LOG_ID_UNUSABLE "6146a4a42a8243a69111f993cff3f29a"
#define LOG_ID_CONFIG "b048f96e50ed4090a8bc6be216a647ab"

/* What an event is about; every member may be left empty. */
struct log_about {
	const char *patch_id;
	const char *const *cves;
	size_t ncves;
	pid_t pid;
};

/* Decides once where messages go: the journal or stderr. */
void log_init(void);
/* @prio: LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO. @msgid: a LOG_ID_*,
 * or NULL for a message that is no event of its own. */
void log_event(int prio, const char *msgid, const struct log_about *about, const char *fmt,
	       ...) __attribute__((format(printf, 4, 5)));
