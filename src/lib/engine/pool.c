/* SPDX-License-Identifier: MIT */
/*
 * Work across cores: each worker OS thread takes the next pid and runs the
 * whole operation on it. ptrace ties a tracee to the OS thread that seized
 * it, and every wait in the engine names its tid, so workers never see each
 * other's tracees.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "pool.h"

#include "engine.h"
#include "error.h"

struct pool {
	const pid_t *pids;
	size_t n;
	size_t next;
	pool_fn fn;
	pool_done_fn done;
	void *arg;
	pthread_mutex_t lock;
};

static void *worker(void *p)
{
	struct pool *pool = p;

	for (;;) {
		struct engine_report rep;
		size_t i;

		pthread_mutex_lock(&pool->lock);
		i = pool->next++;
		pthread_mutex_unlock(&pool->lock);
		if (i >= pool->n)
			return NULL;
		pool->fn(pool->pids[i], pool->arg, &rep);
		pthread_mutex_lock(&pool->lock);
		pool->done(&rep, pool->arg);
		pthread_mutex_unlock(&pool->lock);
	}
}

unsigned pool_default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	/* Much of the work is waiting for the target's threads to stop. */
	return n > 0 ? (unsigned)n * 2 : 2;
}

int pool_run(const pid_t *pids, size_t n, unsigned jobs, pool_fn fn, pool_done_fn done, void *arg)
{
	struct pool pool = {.pids = pids, .n = n, .fn = fn, .done = done, .arg = arg};
	pthread_t *tids;
	unsigned started = 0;

	if (jobs == 0)
		jobs = 1;
	if (jobs > n)
		jobs = n ? (unsigned)n : 1;
	pthread_mutex_init(&pool.lock, NULL);
	if (jobs == 1) {
		worker(&pool);
		pthread_mutex_destroy(&pool.lock);
		return 0;
	}
	tids = calloc(jobs, sizeof(*tids));
	if (!tids)
		return hp_err(-ENOMEM, "out of memory");
	for (unsigned i = 0; i < jobs; i++)
		if (pthread_create(&tids[i], NULL, worker, &pool) == 0)
			started++;
	if (!started)
		worker(&pool);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	pthread_mutex_destroy(&pool.lock);
	return 0;
}
