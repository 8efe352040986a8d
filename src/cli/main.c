/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cli.h"
#include "debug.h"
#include "error.h"
#include "fault.h"
#include "paths.h"

static const struct subcommand commands[] = {
	{"build", NULL, "turn a patch source or a fix into a bundle (hotpatch-build)"},
	{"info", cmd_info, "show what a bundle holds"},
	{"apply", cmd_apply, "apply a bundle to running processes"},
	{"revert", cmd_revert, "undo a bundle in running processes"},
	{"status", cmd_status, "show which patches are applied where"},
	{"keygen", cmd_keygen, "make a signing key pair (minisign format)"},
	{"sign", cmd_sign, "sign a bundle (or attach a minisign signature)"},
	{"install", cmd_install, "verify a bundle and copy it into the store"},
	{"remove", cmd_remove, "delete a bundle from the store"},
	{"enable", cmd_enable, "keep a patch applied everywhere, now and later (hotpatchd)"},
	{"disable", cmd_disable, "stop keeping a patch applied, revert it everywhere"},
	{"commit", cmd_commit, "make a patch permanent: put its fixed file on disk"},
	{"rollback", cmd_rollback, "undo a commit: put the original file back"},
	{"audit", cmd_audit, "verify the audit log (`hotpatch audit verify`)"},
	{"doctor", cmd_doctor, "report what this host allows and what blocks patching"},
	{"package", cmd_package, "wrap a signed bundle in a Debian package (.deb)"},
	{"catch-up", cmd_catchup, "after apt upgrade: catch running processes up, or list them"},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: hotpatch [--root DIR] COMMAND [ARGS...]\n\n"
		   "Live security patches for running processes.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nOptions:\n"
		   "  --root DIR   use DIR instead of / for config, keys, store and logs\n"
		   "               (also $HOTPATCH_ROOT)\n"
		   "  --version    print the version\n"
		   "  -h, --help   this help; `hotpatch COMMAND --help` for a command\n");
}

/* HOTPATCH_DEBUG=1: the engine's trace on stderr, one write per line
 * (worker threads trace at once). */
static void debug_line(const char *line)
{
	fprintf(stderr, "hotpatch[debug]: %s\n", line);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"root", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"fault-points", no_argument, NULL, 'F'},
		{0},
	};
	const char *root = NULL;
	int c, r;

	hp_debug_set_sink(debug_line);
	/* Global options come before the command; "+" stops at the first
	 * non-option so each command parses its own. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			root = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("hotpatch %s\n", HP_VERSION);
			return EXIT_OK;
		case 'F':
			/* For the fault-injection harness (docs/testing.md). */
			for (size_t i = 0; i < fault_points_n; i++)
				printf("%s\n", fault_points[i]);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_REFUSED;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_REFUSED;
	}
	r = paths_init(root);
	if (r < 0)
		return cli_refuse(r);
	/* `hotpatch help` is the usage; `hotpatch help CMD` is `CMD --help`. */
	if (strcmp(argv[optind], "help") == 0) {
		static char help_opt[] = "--help";
		static char *sub[3];

		if (optind + 1 >= argc) {
			usage(stdout);
			return EXIT_OK;
		}
		sub[0] = argv[optind + 1];
		sub[1] = help_opt;
		argv = sub;
		argc = 2;
		optind = 0;
	}
	for (int i = optind + 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			cli_json = true;
	if (strcmp(argv[optind], "build") == 0)
		return cmd_build_exec(argc - optind, argv + optind, root);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i].name) == 0) {
			argv += optind;
			argc -= optind;
			optind = 0;
			r = commands[i].run(argc, argv);
			/* The audit lines of this command, to disk, once
			 * (for every process of an --all together). */
			if (audit_written())
				audit_sync();
			if (audit_trouble())
				fprintf(stderr, "hotpatch: warning: could not write the audit log: %s\n",
					audit_trouble());
			return r;
		}
	return cli_usage("unknown command '%s'", argv[optind]);
}
