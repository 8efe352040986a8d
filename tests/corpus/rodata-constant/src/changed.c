int scale_changed(int n)
{
	return (int)((float)n * 2.7f);
}
