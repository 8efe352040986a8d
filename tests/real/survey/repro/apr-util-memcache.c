/* SPDX-License-Identifier: MIT */
/* fixes: CVE-2026-34502.patch
 * files: libaprutil-1.so.0.6.3
 * libs: -L{libdir} -l:{file} -l:libapr-1.so.0 -pthread
 * fixed-package: libaprutil1
 *
 * CVE-2026-34502 (apr-util 1.6.3-1+deb12u1): the memcache client took a
 * server's line as ending in CRLF without looking, and subtracted 2 from
 * its length. A server that answers `version` with a bare "VERSION" and
 * closes made apr_memcache_version() copy (7 - 7 - 2) bytes, a length near
 * 2^64: the older library dies (the pool cannot allocate it, or the copy
 * runs off the heap); the fixed one refuses the line (an error status).
 *
 * The server is a thread of this program on 127.0.0.1. Says "ready", waits
 * for a line on stdin (the survey applies the live patch in between), then
 * prints "fixed" or dies. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef int apr_status_t;
typedef struct apr_pool_t apr_pool_t;
typedef struct apr_memcache_server_t apr_memcache_server_t;

apr_status_t apr_initialize(void);
apr_status_t apr_pool_create_ex(apr_pool_t **pool, apr_pool_t *parent, void *abort_fn,
				void *allocator);
apr_status_t apr_memcache_server_create(apr_pool_t *p, const char *host, uint16_t port,
					uint32_t min, uint32_t smax, uint32_t max, uint32_t ttl,
					apr_memcache_server_t **ns);
apr_status_t apr_memcache_version(apr_memcache_server_t *ms, apr_pool_t *p, char **baton);

/* Answers one connection's request with "VERSION" and no line end. */
static void *serve(void *arg)
{
	int lfd = *(int *)arg;
	char req[256];
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0)
		return NULL;
	if (read(fd, req, sizeof(req)) > 0 && write(fd, "VERSION", 7) != 7)
		perror("write");
	shutdown(fd, SHUT_WR);
	sleep(5); /* the client reads to the end before it fails or returns */
	close(fd);
	return NULL;
}

int main(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	apr_memcache_server_t *ms;
	apr_pool_t *pool;
	pthread_t th;
	char line[16], *version = NULL;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 4) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) != 0)
		return 3;
	if (apr_initialize() != 0 || apr_pool_create_ex(&pool, NULL, NULL, NULL) != 0 ||
	    apr_memcache_server_create(pool, "127.0.0.1", ntohs(a.sin_port), 0, 1, 1, 60, &ms) != 0)
		return 3;

	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 3;
	pthread_create(&th, NULL, serve, &lfd);

	apr_status_t rv = apr_memcache_version(ms, pool, &version);

	if (rv == 0) {
		fprintf(stderr, "a version line with no CRLF was taken (%zu bytes)\n",
			version ? strlen(version) : 0);
		return 1;
	}
	printf("fixed\n");
	fflush(stdout);
	_exit(0); /* the server thread may still sleep */
}
