/* SPDX-License-Identifier: MIT */
/*
 * libcapstone, loaded the first time the builder disassembles, not at every
 * start of hotpatch. Its tables carry some 80 000 relocations, which cost
 * 1.1 ms of every exec on the test VM: a fifth of an `apply --pid`, which
 * never disassembles (README, performance). The functions here stand in for
 * the library's under the same names and forward to it, so callers use the
 * real API unchanged.
 */
#include <capstone/capstone.h>
#include <dlfcn.h>
#include <pthread.h>

#include "error.h"

static struct {
	cs_err (*open)(cs_arch, cs_mode, csh *);
	cs_err (*option)(csh, cs_opt_type, size_t);
	cs_insn *(*malloc_insn)(csh);
	bool (*disasm_iter)(csh, const uint8_t **, size_t *, uint64_t *, cs_insn *);
	void (*free_insn)(cs_insn *, size_t);
	cs_err (*close)(csh *);
	bool ok;
} cs;
static pthread_once_t cs_once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *h = dlopen(CAPSTONE_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!h)
		return;
	cs.open = (cs_err (*)(cs_arch, cs_mode, csh *))dlsym(h, "cs_open");
	cs.option = (cs_err (*)(csh, cs_opt_type, size_t))dlsym(h, "cs_option");
	cs.malloc_insn = (cs_insn * (*)(csh)) dlsym(h, "cs_malloc");
	cs.disasm_iter = (bool (*)(csh, const uint8_t **, size_t *, uint64_t *,
				   cs_insn *))dlsym(h, "cs_disasm_iter");
	cs.free_insn = (void (*)(cs_insn *, size_t))dlsym(h, "cs_free");
	cs.close = (cs_err (*)(csh *))dlsym(h, "cs_close");
	cs.ok = cs.open && cs.option && cs.malloc_insn && cs.disasm_iter && cs.free_insn &&
		cs.close;
}

/* The only entry point that can fail to load: the others are reached only
 * with a handle that cs_open() gave. */
cs_err cs_open(cs_arch arch, cs_mode mode, csh *handle)
{
	pthread_once(&cs_once, load);
	if (!cs.ok) {
		hp_err(-ENOENT, "cannot load %s (package libcapstone4): %s", CAPSTONE_SONAME,
		       dlerror() ?: "missing symbols");
		return CS_ERR_MEM;
	}
	return cs.open(arch, mode, handle);
}

cs_err cs_option(csh handle, cs_opt_type type, size_t value)
{
	return cs.option(handle, type, value);
}

cs_insn *cs_malloc(csh handle)
{
	return cs.malloc_insn(handle);
}

bool cs_disasm_iter(csh handle, const uint8_t **code, size_t *size, uint64_t *address,
		    cs_insn *insn)
{
	return cs.disasm_iter(handle, code, size, address, insn);
}

void cs_free(cs_insn *insn, size_t count)
{
	cs.free_insn(insn, count);
}

cs_err cs_close(csh *handle)
{
	return cs.close(handle);
}
