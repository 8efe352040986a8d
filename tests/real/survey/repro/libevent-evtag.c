/* SPDX-License-Identifier: MIT */
/* fixes: CVE-2026-63383.patch
 * files: libevent-2.1.so.7.0.1
 * libs: -L{libdir} -l:{file}
 * fixed-package: libevent-2.1-7
 *
 * CVE-2026-63383 (libevent 2.1.12-stable-8+deb12u1): decode_tag_internal()
 * pulled up at most 5 bytes of the buffer but went on decoding as many as
 * the whole buffer held, reading past the pulled-up chain. Here the first
 * chain is a reference to 5 bytes that end where an inaccessible page
 * begins, each with the continuation bit, and a second chain follows: the
 * older library reads the 6th byte from that page (SIGSEGV), the fixed one
 * stops after 5 and refuses the tag (-1). evtag_peek() is in libevent_extra,
 * so only libevent-2.1.so (everything) has it, not libevent_core.
 *
 * Says "ready", waits for a line on stdin (the survey applies the live
 * patch in between), then prints "fixed" or dies. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct evbuffer;
struct evbuffer *evbuffer_new(void);
int evbuffer_add(struct evbuffer *buf, const void *data, size_t len);
int evbuffer_add_reference(struct evbuffer *buf, const void *data, size_t len,
			   void (*cleanup)(const void *, size_t, void *), void *arg);
int evtag_peek(struct evbuffer *evbuf, uint32_t *ptag);

int main(void)
{
	static const uint8_t tag[5] = {0x80, 0x80, 0x80, 0x80, 0x8f};
	long page = sysconf(_SC_PAGESIZE);
	char line[16];
	uint32_t t;

	uint8_t *map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED || mprotect(map + page, page, PROT_NONE) != 0)
		return 3;
	memcpy(map + page - sizeof(tag), tag, sizeof(tag));
	struct evbuffer *buf = evbuffer_new();

	if (!buf || evbuffer_add_reference(buf, map + page - sizeof(tag), sizeof(tag), NULL,
					   NULL) != 0 ||
	    evbuffer_add(buf, "tail of the buffer", 18) != 0)
		return 3;

	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 3;

	int r = evtag_peek(buf, &t);

	if (r != -1) {
		fprintf(stderr, "a tag of more than 5 bytes was decoded (%d)\n", r);
		return 1;
	}
	printf("fixed\n");
	return 0;
}
