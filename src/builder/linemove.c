/* SPDX-License-Identifier: MIT */
#include "linemove.h"

#include <capstone/capstone.h>
#include <string.h>

#include "diffparse.h"

static uint32_t imm_value(const uint8_t *p, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

/* Two decoded instructions of the same length that differ: only in a 2- or
 * 4-byte immediate, which is a line the diff moved? */
static bool only_line_differs(const cs_insn *ia, const uint8_t *a, const uint8_t *b,
			      const struct diff_info *d)
{
	const cs_x86_encoding *enc = &ia->detail->x86.encoding;
	unsigned off = enc->imm_offset, size = enc->imm_size;

	if (!off || (size != 2 && size != 4) || off + size > ia->size)
		return false;
	if (memcmp(a, b, off) != 0 || memcmp(a + off + size, b + off + size, ia->size - off - size))
		return false;
	return diff_moves_line(d, imm_value(a + off, size), imm_value(b + off, size));
}

static bool walk(csh cs, cs_insn *ia, cs_insn *ib, const uint8_t *a, const uint8_t *b,
		 size_t len, const struct diff_info *d)
{
	const uint8_t *pa = a, *pb = b;
	size_t na = len, nb = len;
	uint64_t addr_a = 0, addr_b = 0;
	bool moved = false;

	while (na) {
		const uint8_t *at_a = pa, *at_b = pb;

		if (!cs_disasm_iter(cs, &pa, &na, &addr_a, ia) ||
		    !cs_disasm_iter(cs, &pb, &nb, &addr_b, ib) || ia->size != ib->size ||
		    ia->id != ib->id)
			return false;
		if (memcmp(at_a, at_b, ia->size) == 0)
			continue;
		if (!only_line_differs(ia, at_a, at_b, d))
			return false;
		moved = true;
	}
	return moved;
}

bool linemove_only(const uint8_t *a, const uint8_t *b, size_t len, const struct diff_info *d)
{
	cs_insn *ia = NULL, *ib = NULL;
	bool same = false;
	csh cs;

	if (!d || !a || !b || !len || cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return false;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	ia = cs_malloc(cs);
	ib = cs_malloc(cs);
	if (ia && ib)
		same = walk(cs, ia, ib, a, b, len, d);
	if (ia)
		cs_free(ia, 1);
	if (ib)
		cs_free(ib, 1);
	cs_close(&cs);
	return same;
}
