/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "cli.h"
#include "error.h"
#include "progress.h"

static void usage(void)
{
	printf("Usage: hotpatch build --target FILE -o OUT.hpb [options] PATCH.c...\n"
	       "       hotpatch build --target FILE --source DIR --diff FIX.patch -o OUT.hpb "
	       "[options]\n"
	       "       hotpatch build --target FILE --upgrade-to VERSION [--sysroot DIR] "
	       "-o OUT.hpb [options]\n\n"
	       "From patch sources: compile them into a bundle for FILE (an executable or a\n"
	       "shared library). From a source diff: build DIR (the tree FILE was built from)\n"
	       "twice, without and with FIX.patch, on copies; compare the objects function\n"
	       "by function, and make a bundle that replaces every function the fix changed\n"
	       "(and every caller it was inlined into), with the fully fixed FILE inside for\n"
	       "`hotpatch commit`. Either way the bundle records FILE's path, build-id and\n"
	       "the exact bytes of every function it replaces.\n\n"
	       "  --target FILE      the file the patch is for\n"
	       "  -o, --output OUT   the bundle to write\n"
	       "  --source DIR       (diff) the source tree FILE was built from\n"
	       "  --diff FIX.patch   (diff) the fix, a unified diff against DIR\n"
	       "  --build CMD        (diff) how to build DIR (default: meson, cmake,\n"
	       "                     configure+make or make, whichever DIR has)\n"
	       "  --built-file PATH  (diff) FILE's path in the build tree (default: found by\n"
	       "                     name)\n"
	       "  --explain          (diff) print which functions changed and why\n"
	       "  --no-file-update   (diff, upgrade) no fixed file in the bundle (skips a\n"
	       "                     build)\n"
	       "  --debuginfo FILE   separate debuginfo for FILE (default: found by build-id)\n"
	       "  --cc CC            compiler (default: $CC or cc)\n"
	       "  -I DIR, -D DEF     passed to the compiler (patch sources)\n"
	       "  --cflag FLAG       any other compiler flag (repeatable)\n"
	       "  --name NAME        patch name (default: OUT without .hpb)\n"
	       "  --description TXT  overrides HOTPATCH_DESCRIPTION or the diff's subject\n"
	       "  --keep-tmp         keep the intermediate files\n"
	       "  --upgrade-to VER   (upgrade) FILE belongs to an installed Debian package:\n"
	       "                     patch in the fixes between its version and VER, built\n"
	       "                     from both source packages in a clean build root\n"
	       "  --sysroot DIR      (upgrade) the root FILE's system lives in (default /)\n"
	       "  --diff FIX.patch   (upgrade) instead of VER, this fix to the installed source\n"
	       "  --cache DIR        (upgrade) sources, build roots and builds (default\n"
	       "                     <root>/var/cache/hotpatch)\n"
	       "  --build-root DIR   (upgrade) build in this root; / builds on the host\n"
	       "                     (default: a cached mmdebstrap root of FILE's release)\n"
	       "  --sources DIR      (upgrade) take source packages (.dsc) from DIR, not apt\n"
	       "  --build-profiles P (upgrade) Debian build profiles for every build, e.g.\n"
	       "                     nobiarch (glibc: the native flavour only); the twin\n"
	       "                     check still proves the build reproduces FILE\n"
	       "  --no-fix-record F  (upgrade) when no fix changes FILE's code, write that\n"
	       "                     verdict to F (for `hotpatch package --no-fix`) and exit 0\n");
}

static int push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[(*n)++] = (char *)s;
	return 0;
}

struct args {
	struct build_common c;
	char **sources;
	size_t nsources;
	struct build_diff_opts d;
	struct build_upgrade_opts u;
};

static int parse(struct args *a, int argc, char **argv)
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
		{"source", required_argument, NULL, 'S'},
		{"diff", required_argument, NULL, 'P'},
		{"build", required_argument, NULL, 'B'},
		{"built-file", required_argument, NULL, 'F'},
		{"explain", no_argument, NULL, 'E'},
		{"no-file-update", no_argument, NULL, 'N'},
		{"upgrade-to", required_argument, NULL, 'U'},
		{"sysroot", required_argument, NULL, 'R'},
		{"cache", required_argument, NULL, 'C'},
		{"build-root", required_argument, NULL, 'O'},
		{"sources", required_argument, NULL, 'Z'},
		{"build-profiles", required_argument, NULL, 'W'},
		{"no-fix-record", required_argument, NULL, 'X'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	char *flag;
	int c;

	while ((c = getopt_long(argc, argv, "o:I:D:h", opts, NULL)) != -1) {
		switch (c) {
		case 't': a->c.target = optarg; break;
		case 'o': a->c.output = optarg; break;
		case 'g': a->c.debuginfo = optarg; break;
		case 'c': a->c.cc = optarg; break;
		case 'I':
		case 'D':
			if (asprintf(&flag, "-%c%s", c, optarg) < 0 ||
			    push(&a->c.cflags, &a->c.ncflags, flag) < 0)
				return cli_usage("out of memory");
			break;
		case 'f': push(&a->c.cflags, &a->c.ncflags, optarg); break;
		case 'n': a->c.name = optarg; break;
		case 'd': a->c.description = optarg; break;
		case 'k': a->c.keep_tmp = true; break;
		case 'S': a->d.source_dir = optarg; break;
		case 'P': a->d.diff = optarg; break;
		case 'B': a->d.build_cmd = optarg; break;
		case 'F': a->d.built_file = optarg; break;
		case 'E': a->d.explain = true; break;
		case 'N': a->d.no_file_update = true; break;
		case 'U': a->u.version = optarg; break;
		case 'R': a->u.sysroot = optarg; break;
		case 'C': a->u.cache = optarg; break;
		case 'O': a->u.build_root = optarg; break;
		case 'Z': a->u.sources = optarg; break;
		case 'W': a->u.profiles = optarg; break;
		case 'X': a->u.no_fix_record = optarg; break;
		case 'h':
			usage();
			return CLI_DONE;
		default:
			return EXIT_REFUSED;
		}
	}
	for (int i = optind; i < argc; i++)
		push(&a->sources, &a->nsources, argv[i]);
	return 0;
}

/* The builder's progress on stderr, its --explain text on stdout. */
static void show_progress(enum progress_kind kind, const char *text, void *arg)
{
	(void)arg;
	if (kind == PROGRESS_EXPLAIN)
		fputs(text, stdout);
	else
		fprintf(stderr, "hotpatch: %s\n", text);
	fflush(kind == PROGRESS_EXPLAIN ? stdout : stderr);
}

int cmd_build(int argc, char **argv)
{
	struct args a = {0};
	int r;

	progress_set(show_progress, NULL);
	r = parse(&a, argc, argv);
	if (r)
		return r == CLI_DONE ? EXIT_OK : r;
	if (!a.c.target || !a.c.output)
		return cli_usage("build needs --target FILE and -o OUT.hpb");
	/* --diff without --source: the fix is for an installed package's file. */
	if (a.u.version || a.u.sysroot || a.u.build_root || a.u.sources || a.u.profiles ||
	    a.u.no_fix_record || (a.d.diff && !a.d.source_dir)) {
		if (a.d.source_dir || a.nsources)
			return cli_usage("--upgrade-to builds from the package's own sources; "
					 "drop --source and patch sources");
		if (!a.u.version == !a.d.diff)
			return cli_usage("give --upgrade-to VERSION or --diff FIX.patch, not both");
		a.u.c = a.c;
		a.u.diff = a.d.diff;
		a.u.explain = a.d.explain;
		if (a.u.no_fix_record && !a.u.version)
			return cli_usage("--no-fix-record goes with --upgrade-to");
		a.u.no_file_update = a.d.no_file_update;
		r = build_from_upgrade(&a.u);
		if (r == BUILD_NO_FIX) {
			printf("nothing to patch: wrote the no-fix record %s (no bundle)\n",
			       a.u.no_fix_record);
			r = 0;
			a.c.output = NULL;
		}
		goto done;
	}
	if (!a.d.source_dir != !a.d.diff)
		return cli_usage("--source DIR and --diff FIX.patch go together");
	if (a.d.source_dir && a.nsources)
		return cli_usage("give either patch sources or --source/--diff, not both");
	if (a.d.source_dir) {
		a.d.c = a.c;
		r = build_from_diff(&a.d);
	} else if (a.nsources) {
		r = build_from_source(&(struct build_source_opts){.c = a.c, .sources = a.sources,
								   .nsources = a.nsources});
	} else {
		return cli_usage("build needs patch sources (PATCH.c) or --source DIR --diff FIX");
	}
done:
	free(a.sources);
	free(a.c.cflags);
	if (r < 0)
		return cli_refuse(r);
	if (a.c.output)
		printf("wrote %s\n", a.c.output);
	return EXIT_OK;
}
