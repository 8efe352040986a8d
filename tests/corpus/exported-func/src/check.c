/* SPDX-License-Identifier: MIT */
/* exported-func: the bug is in an exported function, called from another
 * file (proto.c), so it cannot have been inlined there. */

long checks; /* how many lengths were checked */

/* The length to echo back for a request that claims @claimed bytes and
 * carries @actual. The bug: it trusts the claim. */
int check_len(int claimed, int actual)
{
	checks++;
	(void)actual;
	return claimed;
}
