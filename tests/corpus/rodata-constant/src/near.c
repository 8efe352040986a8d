/* A function the fix does not change that reads a 4-byte constant (1.1f)
 * from the merged constant section: the linker puts changed.c's constant
 * right after it, and the fix changes that one. */
int scale_near(int n)
{
	return (int)((float)n * 1.1f);
}
