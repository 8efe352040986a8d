/* SPDX-License-Identifier: MIT */
/* fixes: CVE-2026-63381.patch
 * libs: -L{libdir} -l:{file}
 * fixed-package: libevent-2.1-7 libevent-core-2.1-7
 *
 * CVE-2026-63381 (libevent 2.1.12-stable-8+deb12u1), the regression test
 * the fix adds (test_evbuffer_multicast_empty_chain), with no test harness
 * and the library's own prototypes (the root has no libevent-dev):
 * evbuffer_add_buffer_reference() to a buffer holding only an empty chain
 * freed that chain and kept pointing at it, then appended through it;
 * freeing the buffer frees the chain again (glibc aborts on the double
 * free) or the data read back is not the data.
 *
 * Says "ready", waits for a line on stdin (the survey applies the live
 * patch in between), then prints "fixed" or dies. */
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

struct evbuffer;
struct evbuffer *evbuffer_new(void);
void evbuffer_free(struct evbuffer *buf);
int evbuffer_add(struct evbuffer *buf, const void *data, size_t len);
int evbuffer_add_reference(struct evbuffer *buf, const void *data, size_t len,
			   void (*cleanup)(const void *, size_t, void *), void *arg);
int evbuffer_add_buffer_reference(struct evbuffer *out, struct evbuffer *in);
size_t evbuffer_get_length(const struct evbuffer *buf);
unsigned char *evbuffer_pullup(struct evbuffer *buf, ssize_t size);

int main(void)
{
	const char chunk[] = "If you have found the answer to such a problem";
	size_t len = strlen(chunk);
	char line[16];

	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 3;

	struct evbuffer *buf1 = evbuffer_new(), *buf2 = evbuffer_new();

	if (!buf1 || !buf2)
		return 3;
	evbuffer_add_reference(buf2, "", 0, NULL, NULL);
	if (evbuffer_get_length(buf2) != 0)
		return 4;
	evbuffer_add(buf1, chunk, len);
	if (evbuffer_add_buffer_reference(buf2, buf1) != 0)
		return 5;
	if (evbuffer_get_length(buf2) != len)
		return 6;
	if (strncmp((char *)evbuffer_pullup(buf2, -1), chunk, len) != 0)
		return 7;
	evbuffer_free(buf1);
	evbuffer_free(buf2);
	/* a second round on the heap the first left: a chain freed twice
	 * shows here if glibc did not see it at the free */
	for (int i = 0; i < 64; i++) {
		struct evbuffer *b = evbuffer_new();

		evbuffer_add(b, chunk, len);
		evbuffer_free(b);
	}
	printf("fixed\n");
	return 0;
}
