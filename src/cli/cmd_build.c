/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "cli.h"
#include "error.h"

static void usage(void)
{
	printf("Usage: hotpatch build --target FILE -o OUT.hpb [options] PATCH.c...\n\n"
	       "Compile patch sources into a bundle for FILE (an executable or a shared\n"
	       "library). The bundle records FILE's path, build-id and the exact bytes of\n"
	       "every function it replaces.\n\n"
	       "  --target FILE      the file the patch is for\n"
	       "  -o, --output OUT   the bundle to write\n"
	       "  --debuginfo FILE   separate debuginfo for FILE (default: found by build-id)\n"
	       "  --cc CC            compiler (default: $CC or cc)\n"
	       "  -I DIR, -D DEF     passed to the compiler\n"
	       "  --cflag FLAG       any other compiler flag (repeatable)\n"
	       "  --name NAME        patch name (default: OUT without .hpb)\n"
	       "  --description TXT  overrides HOTPATCH_DESCRIPTION\n"
	       "  --keep-tmp         keep the intermediate files\n");
}

static int push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return -1;
	*v = nv;
	nv[(*n)++] = (char *)s;
	return 0;
}

int cmd_build(int argc, char **argv)
{
	static const struct option opts[] = {
		{"target", required_argument, NULL, 't'},
		{"output", required_argument, NULL, 'o'},
		{"debuginfo", required_argument, NULL, 'g'},
		{"cc", required_argument, NULL, 'c'},
		{"cflag", required_argument, NULL, 'f'},
		{"name", required_argument, NULL, 'n'},
		{"description", required_argument, NULL, 'd'},
		{"keep-tmp", no_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct build_source_opts o = {0};
	char *flag;
	int c, r;

	while ((c = getopt_long(argc, argv, "o:I:D:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			o.target = optarg;
			break;
		case 'o':
			o.output = optarg;
			break;
		case 'g':
			o.debuginfo = optarg;
			break;
		case 'c':
			o.cc = optarg;
			break;
		case 'I':
		case 'D':
			if (asprintf(&flag, "-%c%s", c, optarg) < 0 ||
			    push(&o.cflags, &o.ncflags, flag) < 0)
				return cli_usage("out of memory");
			break;
		case 'f':
			push(&o.cflags, &o.ncflags, optarg);
			break;
		case 'n':
			o.name = optarg;
			break;
		case 'd':
			o.description = optarg;
			break;
		case 'k':
			o.keep_tmp = true;
			break;
		case 'h':
			usage();
			return EXIT_OK;
		default:
			return EXIT_REFUSED;
		}
	}
	if (!o.target || !o.output)
		return cli_usage("build needs --target FILE and -o OUT.hpb");
	for (int i = optind; i < argc; i++)
		push(&o.sources, &o.nsources, argv[i]);
	if (!o.nsources)
		return cli_usage("build needs at least one patch source (PATCH.c)");
	r = build_from_source(&o);
	free(o.sources);
	free(o.cflags);
	if (r < 0)
		return cli_refuse(r);
	printf("wrote %s\n", o.output);
	return EXIT_OK;
}
