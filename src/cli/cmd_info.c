/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundle.h"
#include "cli.h"
#include "elffile.h"
#include "error.h"
#include "hex.h"
#include "json.h"
#include "trust.h"
#include "verdict.h"

static const char *sig_state(const struct bundle *b, int vr)
{
	if (!b->sig)
		return "none";
	if (vr == 0)
		return "valid";
	if (vr == -ENOKEY)
		return "untrusted";
	if (vr == -EPERM)
		return "unchecked";
	return "INVALID";
}

static void print_text(const struct bundle *b, int vr, const char *why)
{
	const struct manifest *m = &b->manifest;
	char hex[2 * HP_BUILD_ID_MAX + 1];

	hex_encode(m->build_id, m->build_id_len, hex);
	printf("id:          %s\n", b->id);
	printf("name:        %s\n", m->name);
	if (m->description[0])
		printf("description: %s\n", m->description);
	for (size_t i = 0; i < m->ncves; i++)
		printf("cve:         %s\n", m->cves[i]);
	printf("target:      %s\n", m->target_path);
	printf("build-id:    %s\n", hex);
	printf("signature:   %s", sig_state(b, vr));
	if (b->sig && vr == 0)
		printf(" (key %s)", b->signer);
	else if (b->sig)
		printf(" (%s)", why);
	printf("\n");
	printf("file update: %s\n", m->flags & MANIFEST_HAS_FILE_UPDATE
					    ? "yes (hotpatch commit can make it permanent)"
					    : "none (live-only)");
	if (b->has_debref)
		printf("package:     %s %s (%s), from %s: commit installs it with dpkg\n",
		       b->debref.package, b->debref.version, b->debref.arch,
		       b->debref.from_version);
	printf("object:      %zu bytes\n", b->object_size);
	printf("functions:   %zu\n", m->nfuncs);
	for (size_t i = 0; i < m->nfuncs; i++) {
		const struct manifest_func *f = &m->funcs[i];

		printf("  %s%s%s%s -> %s (%" PRIu64 " bytes at 0x%" PRIx64 ")\n", f->name,
		       f->file[0] ? " [" : "", f->file, f->file[0] ? "]" : "", f->new_name, f->size,
		       f->vaddr);
	}
	if (m->nsyms) {
		printf("symbols:     %zu\n", m->nsyms);
		for (size_t i = 0; i < m->nsyms; i++) {
			const struct manifest_sym *s = &m->syms[i];

			if (s->kind == SYM_TARGET)
				printf("  %s: target +0x%" PRIx64 "\n", s->name, s->vaddr);
			else
				printf("  %s%s%s: external%s\n", s->name, s->version[0] ? "@" : "",
				       s->version, s->weak ? " (weak)" : "");
		}
	}
	/* What the builder found: why each function changed, per-fix verdicts. */
	if (b->explain_len)
		printf("explain:\n%.*s", (int)b->explain_len, b->explain);
}

/* The builder's decisions as data: the completeness check's counts (null
 * for a bundle made from patch sources, which it does not check) and the
 * refusals. A section that does not decode is said so, not hidden. */
static void json_verdict(struct json *j, const struct bundle *b)
{
	struct verdict v = {0};

	if (b->verdict_len && verdict_decode(b->verdict, b->verdict_len, &v) < 0) {
		json_kv_str(j, "verdict_error", hp_err_msg(-EBADMSG));
		return;
	}
	verdict_json(&v, j);
	verdict_free(&v);
}

static void print_json(const struct bundle *b, int vr)
{
	const struct manifest *m = &b->manifest;
	char hex[2 * HP_BUILD_ID_MAX + 1];
	struct json j = {0};

	hex_encode(m->build_id, m->build_id_len, hex);
	json_obj_begin(&j);
	json_kv_str(&j, "id", b->id);
	json_kv_str(&j, "name", m->name);
	json_kv_str(&j, "description", m->description);
	json_key(&j, "cves");
	json_arr_begin(&j);
	for (size_t i = 0; i < m->ncves; i++)
		json_str(&j, m->cves[i]);
	json_arr_end(&j);
	json_kv_str(&j, "target", m->target_path);
	json_kv_str(&j, "build_id", hex);
	json_kv_str(&j, "signature", sig_state(b, vr));
	if (b->sig && vr == 0)
		json_kv_str(&j, "signer", b->signer);
	json_kv_bool(&j, "file_update", m->flags & MANIFEST_HAS_FILE_UPDATE);
	if (m->flags & MANIFEST_HAS_FILE_UPDATE) {
		char sha[2 * sizeof(m->file_sha_fixed) + 1];

		/* what an administrator compares with the archive's file */
		hex_encode(m->file_sha_fixed, sizeof(m->file_sha_fixed), sha);
		json_kv_str(&j, "file_sha_fixed", sha);
	}
	if (b->has_debref) {
		char sha[2 * sizeof(b->debref.sha256) + 1];

		hex_encode(b->debref.sha256, sizeof(b->debref.sha256), sha);
		json_key(&j, "package");
		json_obj_begin(&j);
		json_kv_str(&j, "name", b->debref.package);
		json_kv_str(&j, "version", b->debref.version);
		json_kv_str(&j, "from_version", b->debref.from_version);
		json_kv_str(&j, "architecture", b->debref.arch);
		json_kv_str(&j, "deb_sha256", sha);
		json_kv_int(&j, "deb_size", (int64_t)b->debref.size);
		json_obj_end(&j);
	}
	json_kv_int(&j, "object_size", (int64_t)b->object_size);
	json_key(&j, "functions");
	json_arr_begin(&j);
	for (size_t i = 0; i < m->nfuncs; i++) {
		json_obj_begin(&j);
		json_kv_str(&j, "name", m->funcs[i].name);
		json_kv_str(&j, "file", m->funcs[i].file);
		json_kv_str(&j, "replacement", m->funcs[i].new_name);
		json_kv_int(&j, "size", (int64_t)m->funcs[i].size);
		json_kv_int(&j, "vaddr", (int64_t)m->funcs[i].vaddr);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "symbols");
	json_arr_begin(&j);
	for (size_t i = 0; i < m->nsyms; i++) {
		json_obj_begin(&j);
		json_kv_str(&j, "name", m->syms[i].name);
		json_kv_str(&j, "kind", m->syms[i].kind == SYM_TARGET ? "target"
					: m->syms[i].kind == SYM_TARGET_IFUNC ? "target-ifunc"
									     : "external");
		if (m->syms[i].version[0])
			json_kv_str(&j, "version", m->syms[i].version);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_kv_int(&j, "created", (int64_t)m->created);
	json_kv_str(&j, "tool_version", m->tool_version);
	if (b->explain_len) {
		char *text = strndup(b->explain, b->explain_len);

		if (text)
			json_kv_str(&j, "explain", text);
		free(text);
	}
	json_verdict(&j, b);
	json_obj_end(&j);
	printf("%s\n", json_text(&j));
	json_free(&j);
}

int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct bundle_load_opts lo = {.insecure = true};
	struct bundle *b = NULL;
	char why[HP_ERR_MAX] = "";
	bool json = false;
	int c, r, vr = -1;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'h') {
			printf("Usage: hotpatch info BUNDLE [--json]\n");
			return EXIT_OK;
		} else
			return EXIT_REFUSED;
	}
	if (optind + 1 != argc)
		return cli_usage("info needs exactly one bundle");
	/* Inspection only: the payload is shown even when the signature does
	 * not verify, and the signature's state is shown with it. */
	r = bundle_load(argv[optind], &lo, &b);
	if (r < 0)
		return cli_refuse(r);
	if (b->sig) {
		char signer[MINISIGN_KEYID_HEX_LEN + 1];

		vr = trust_verify_bundle(b->data, b->payload_size, b->sig, b->sig_len, signer, NULL);
		snprintf(why, sizeof(why), "%s", vr < 0 ? hp_err_msg(vr) : "");
		if (vr == 0)
			memcpy(b->signer, signer, sizeof(signer));
	}
	if (json)
		print_json(b, vr);
	else
		print_text(b, vr, why);
	bundle_free(b);
	return EXIT_OK;
}
