/* SPDX-License-Identifier: MIT */
/* struct-layout-FAIL: the fix adds a member in the middle of a struct the
 * code uses. The live objects (on the heap: no variable changes size) keep
 * the old layout, so the build must refuse.
 *   login ID NAME -> session_login()    who ID -> session_who()
 *   hit ID        -> one more hit */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct session {
	int id;
	char user[16];
	int hits;
};

#define NSESSIONS 4
static struct session *sessions; /* allocated at first use */

__attribute__((noinline)) static struct session *session_get(int id)
{
	if (!sessions)
		sessions = calloc(NSESSIONS, sizeof(*sessions));
	if (!sessions || id < 0 || id >= NSESSIONS)
		return NULL;
	sessions[id].id = id;
	return &sessions[id];
}

__attribute__((noinline)) static const char *session_login(struct session *s, const char *user)
{
	snprintf(s->user, sizeof(s->user), "%s", user);
	s->hits = 0;
	return "ok";
}

__attribute__((noinline)) static const char *session_who(const struct session *s)
{
	static char out[64];

	snprintf(out, sizeof(out), "%d %s %d", s->id, s->user[0] ? s->user : "-", s->hits);
	return out;
}

const char *respond(const char *line)
{
	char user[16];
	int id;
	struct session *s;

	if (sscanf(line, "login %d %15s", &id, user) == 2 && (s = session_get(id)))
		return session_login(s, user);
	if (sscanf(line, "who %d", &id) == 1 && (s = session_get(id)))
		return session_who(s);
	if (sscanf(line, "hit %d", &id) == 1 && (s = session_get(id))) {
		s->hits++;
		return "ok";
	}
	return "unknown";
}
