/* SPDX-License-Identifier: MIT */
/* hotpatch build, from patch sources: compile each source, then the common
 * phases (patchlink.c). */
#include <stdio.h>
#include <stdlib.h>

#include "error.h"
#include "patchlink.h"

static int compile_sources(struct build *b, const struct build_source_opts *o)
{
	char out[PATH_MAX + 32];
	int r;

	for (size_t i = 0; i < o->nsources; i++) {
		snprintf(out, sizeof(out), "%s/src%zu.o", b->tmp, i);
		r = build_compile(b, o->sources[i], out);
		if (r < 0)
			return hp_err_prefix(r, "compiling %s: ", o->sources[i]);
		r = build_add_obj(b, out);
		if (r < 0)
			return r;
	}
	return 0;
}

int build_from_source(const struct build_source_opts *o)
{
	struct build b;
	int r;

	r = build_begin(&b, &o->c);
	/* Test only: what a refused replacement would do (test_ipa_ra). */
	b.check_regs = !getenv("HOTPATCH_TEST_NO_REGCHECK");
	if (r == 0)
		r = compile_sources(&b, o);
	if (r == 0)
		r = build_finish(&b);
	build_end(&b);
	return r;
}
