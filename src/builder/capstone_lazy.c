/* SPDX-License-Identifier: MIT */
/*
 * libcapstone, loaded the first time the builder disassembles, not at every
 * start of hotpatch (lazylib.h). Its tables carry some 80 000 relocations,
 * which cost 1.1 ms of every exec on the test VM: a fifth of an `apply
 * --pid`, which never disassembles (README, performance).
 */
#include <capstone/capstone.h>

#include "lazylib.h"

static struct lazy_lib cs = LAZY_LIB(CAPSTONE_SONAME, "libcapstone4");

/* The only entry point that reports a missing library as an error (the
 * builder's jump-window check then says so): the others are reached only
 * with a handle that cs_open() gave. */
cs_err cs_open(cs_arch arch, cs_mode mode, csh *handle)
{
	if (lazy_open(&cs) < 0)
		return CS_ERR_MEM;
	LAZY_FORWARD(cs, cs_open, (arch, mode, handle));
}

cs_err cs_option(csh handle, cs_opt_type type, size_t value)
{
	LAZY_FORWARD(cs, cs_option, (handle, type, value));
}

cs_insn *cs_malloc(csh handle)
{
	LAZY_FORWARD(cs, cs_malloc, (handle));
}

bool cs_disasm_iter(csh handle, const uint8_t **code, size_t *size, uint64_t *address,
		    cs_insn *insn)
{
	LAZY_FORWARD(cs, cs_disasm_iter, (handle, code, size, address, insn));
}

cs_err cs_regs_access(csh handle, const cs_insn *insn, cs_regs regs_read, uint8_t *regs_read_count,
		      cs_regs regs_write, uint8_t *regs_write_count)
{
	LAZY_FORWARD(cs, cs_regs_access,
		     (handle, insn, regs_read, regs_read_count, regs_write, regs_write_count));
}

void cs_free(cs_insn *insn, size_t count)
{
	LAZY_FORWARD_VOID(cs, cs_free, (insn, count));
}

cs_err cs_close(csh *handle)
{
	LAZY_FORWARD(cs, cs_close, (handle));
}
