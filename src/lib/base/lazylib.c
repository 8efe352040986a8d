/* SPDX-License-Identifier: MIT */
#include "lazylib.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "error.h"

int lazy_open(struct lazy_lib *l)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

	/* Taken only on the first call of each forwarder, which then keeps
	 * the function's address. */
	pthread_mutex_lock(&lock);
	if (!l->tried) {
		l->tried = true;
		l->handle = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
		if (!l->handle)
			snprintf(l->error, sizeof(l->error), "%s", dlerror());
	}
	pthread_mutex_unlock(&lock);
	if (!l->handle)
		return hp_err(-ENOENT, "cannot load %s (package %s): %s", l->soname, l->package,
			      l->error);
	return 0;
}

void *lazy_sym(struct lazy_lib *l, const char *name)
{
	const char *why;
	char line[512];
	void *p;
	int n;

	if (lazy_open(l) < 0)
		why = hp_err_msg(-ENOENT);
	else if ((p = dlsym(l->handle, name)))
		return p;
	else
		why = dlerror() ?: "a symbol is missing";
	n = snprintf(line, sizeof(line),
		     "hotpatch: %s; reinstall the package %s, which hotpatch depends on\n", why,
		     l->package);
	/* Not library code's usual way out: the dynamic linker would have
	 * stopped the program before main() the same way. */
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0)
		n = 0;
	_exit(127);
}
