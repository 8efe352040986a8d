/* SPDX-License-Identifier: MIT */
/* minisign.c against the real minisign tool: minisign.h promises that
 * `minisign` can sign what hotpatch verifies and verify what hotpatch signs,
 * with keys made by either side. Skipped when minisign is not installed. */
#include "minisign.h"

#include "test.h"

static const char file_body[] = "bundle payload bytes\n";

struct files {
	char key[PATH_MAX], pub[PATH_MAX], file[PATH_MAX], sig[PATH_MAX];
};

static void need_minisign(void)
{
	char *argv[] = {"minisign", "-v", NULL};

	if (test_spawn(argv) != 0)
		TEST_SKIP("the minisign tool is not installed");
}

/* A temp dir with the file to sign; the key paths are only named. */
static void setup(struct files *f)
{
	const char *dir;

	need_minisign();
	dir = test_tmpdir();
	snprintf(f->key, sizeof(f->key), "%s/k.key", dir);
	snprintf(f->pub, sizeof(f->pub), "%s/k.pub", dir);
	snprintf(f->file, sizeof(f->file), "%s/payload", dir);
	snprintf(f->sig, sizeof(f->sig), "%s/payload.minisig", dir);
	test_write_file(f->file, file_body, strlen(file_body));
}

/* Key pair made by hotpatch, written as files. */
static void hotpatch_keys(const struct files *f, struct minisign_pub *pub)
{
	struct minisign_sec sec;
	char *t;

	ASSERT_OK(minisign_keygen(pub, &sec));
	t = minisign_format_sec(&sec);
	test_write_file(f->key, t, strlen(t));
	free(t);
	t = minisign_format_pub(pub);
	test_write_file(f->pub, t, strlen(t));
	free(t);
}

/* Key pair made by `minisign -G -W` (unencrypted, like hotpatch's). */
static void tool_keys(const struct files *f)
{
	char *argv[] = {"minisign", "-G", "-W", "-p", (char *)f->pub, "-s", (char *)f->key, NULL};

	ASSERT_EQ(test_spawn(argv), 0);
}

static int read_pub(const char *path, struct minisign_pub *ret)
{
	size_t len;
	char *t = test_read_file(path, &len);
	int r = minisign_parse_pub(t, len, ret);

	free(t);
	return r;
}

/* Parses @path as a signature and verifies it over file_body. */
static int verify_sig_file(const char *path, const struct minisign_pub *pub,
			   struct minisign_sig *ret)
{
	size_t len;
	char *t = test_read_file(path, &len);
	int r = minisign_parse_sig(t, len, ret);

	free(t);
	if (r < 0)
		return r;
	return minisign_verify(pub, ret, (const uint8_t *)file_body, strlen(file_body));
}

static int tool_sign(const struct files *f, const char *extra)
{
	char *argv[] = {"minisign", "-S", "-s", (char *)f->key, "-m", (char *)f->file,
			(char *)extra, NULL};

	return test_spawn(argv);
}

static int tool_verify(const struct files *f)
{
	char *argv[] = {"minisign", "-V", "-p", (char *)f->pub, "-m", (char *)f->file, NULL};

	return test_spawn(argv);
}

TEST(tool_signs_with_hotpatch_key)
{
	struct minisign_pub pub;
	struct minisign_sig sig;
	struct files f;

	setup(&f);
	hotpatch_keys(&f, &pub);
	ASSERT_EQ(tool_sign(&f, NULL), 0);
	ASSERT_OK(verify_sig_file(f.sig, &pub, &sig));
	ASSERT_TRUE(sig.prehashed);
	ASSERT_CONTAINS(sig.trusted, "file:payload");
	/* -W says explicitly that the key is not encrypted: same result. */
	ASSERT_EQ(tool_sign(&f, "-W"), 0);
	ASSERT_OK(verify_sig_file(f.sig, &pub, &sig));
}

TEST(tool_legacy_signature_verifies)
{
	struct minisign_pub pub;
	struct minisign_sig sig;
	struct files f;

	setup(&f);
	hotpatch_keys(&f, &pub);
	ASSERT_EQ(tool_sign(&f, "-l"), 0);
	ASSERT_OK(verify_sig_file(f.sig, &pub, &sig));
	ASSERT_FALSE(sig.prehashed);
}

TEST(tool_verifies_hotpatch_signature)
{
	struct minisign_pub pub;
	struct minisign_sec sec;
	struct files f;
	char *key, *sig;
	size_t len;

	setup(&f);
	hotpatch_keys(&f, &pub);
	key = test_read_file(f.key, &len);
	ASSERT_OK(minisign_parse_sec(key, len, NULL, &sec));
	sig = minisign_sign(&sec, (const uint8_t *)file_body, strlen(file_body),
			    "timestamp:1700000000\tfile:payload");
	test_write_file(f.sig, sig, strlen(sig));
	ASSERT_EQ(tool_verify(&f), 0);
	/* And the tool really checks: a changed file fails. */
	test_write_file(f.file, "tampered\n", 9);
	ASSERT_NE(tool_verify(&f), 0);
	free(key);
	free(sig);
}

TEST(hotpatch_verifies_tool_key_and_signature)
{
	struct minisign_pub pub;
	struct minisign_sig sig;
	struct files f;

	setup(&f);
	tool_keys(&f);
	ASSERT_OK(read_pub(f.pub, &pub));
	ASSERT_EQ(tool_sign(&f, NULL), 0);
	ASSERT_OK(verify_sig_file(f.sig, &pub, &sig));
}

/* `minisign -G -W` writes an unencrypted secret key whose checksum field is
 * all zeros (minisign checks it only when decrypting). hotpatch must read
 * such a key, sign with it, and `minisign -V` must accept the result. */
TEST(hotpatch_signs_with_tool_key)
{
	struct minisign_pub pub;
	struct minisign_sec sec;
	struct files f;
	char *key, *sig;
	size_t len;
	int r;

	setup(&f);
	tool_keys(&f);
	ASSERT_OK(read_pub(f.pub, &pub));
	key = test_read_file(f.key, &len);
	hp_err_clear();
	r = minisign_parse_sec(key, len, NULL, &sec);
	free(key);
	ASSERT_OK(r);
	ASSERT_MEMEQ(sec.keyid, pub.keyid, MINISIGN_KEYID_LEN);
	sig = minisign_sign(&sec, (const uint8_t *)file_body, strlen(file_body), "t");
	test_write_file(f.sig, sig, strlen(sig));
	free(sig);
	ASSERT_EQ(tool_verify(&f), 0);
}
