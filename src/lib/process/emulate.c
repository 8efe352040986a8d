/* SPDX-License-Identifier: MIT */
#include "emulate.h"

#include <errno.h>
#include <string.h>

#include "procfs.h"

static unsigned long long *gpr(struct user_regs_struct *r, unsigned n)
{
	switch (n) {
	case 0: return &r->rax;
	case 1: return &r->rcx;
	case 2: return &r->rdx;
	case 3: return &r->rbx;
	case 5: return &r->rbp;
	case 6: return &r->rsi;
	case 7: return &r->rdi;
	case 8: return &r->r8;
	case 9: return &r->r9;
	case 10: return &r->r10;
	case 11: return &r->r11;
	case 12: return &r->r12;
	case 13: return &r->r13;
	case 14: return &r->r14;
	case 15: return &r->r15;
	default: return NULL; /* rsp: pop %rsp is left to the CPU */
	}
}

static int pop64(int memfd, struct user_regs_struct *r, unsigned long long *ret)
{
	uint64_t v;
	int e = proc_mem_read(memfd, r->rsp, &v, sizeof(v));

	if (e < 0)
		return e;
	*ret = v;
	r->rsp += 8;
	return 0;
}

static int emulate_pop(int memfd, struct user_regs_struct *r, unsigned reg, unsigned len)
{
	unsigned long long *dst = gpr(r, reg), v;
	int e;

	if (!dst)
		return 0;
	e = pop64(memfd, r, &v);
	if (e < 0)
		return e;
	*dst = v;
	r->rip += len;
	return 1;
}

int emulate_simple_insn(int memfd, struct user_regs_struct *regs)
{
	struct user_regs_struct r = *regs;
	uint8_t c[4];
	int e = proc_mem_read(memfd, r.rip, c, sizeof(c));

	if (e < 0)
		return e;
	if (c[0] == 0xc3 || (c[0] == 0xf3 && c[1] == 0xc3)) { /* ret, rep ret */
		e = pop64(memfd, &r, &r.rip);
	} else if (c[0] == 0xc9) { /* leave */
		r.rsp = r.rbp;
		e = pop64(memfd, &r, &r.rbp);
		r.rip += 1;
	} else if (c[0] >= 0x58 && c[0] <= 0x5f) {
		e = emulate_pop(memfd, &r, c[0] - 0x58u, 1);
		if (e <= 0)
			return e;
		e = 0;
	} else if (c[0] == 0x41 && c[1] >= 0x58 && c[1] <= 0x5f) {
		e = emulate_pop(memfd, &r, 8u + c[1] - 0x58u, 2);
		if (e <= 0)
			return e;
		e = 0;
	} else if (c[0] == 0x90) {
		r.rip += 1;
	} else if (c[0] == 0x66 && c[1] == 0x90) {
		r.rip += 2;
	} else if (memcmp(c, "\xf3\x0f\x1e\xfa", 4) == 0) { /* endbr64 */
		r.rip += 4;
	} else {
		return 0;
	}
	if (e < 0)
		return e;
	*regs = r;
	return 1;
}
