/* SPDX-License-Identifier: MIT */
/* hotpatch keygen / sign: minisign-compatible keys and bundle signatures. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "cli.h"
#include "error.h"
#include "fileio.h"
#include "macro.h"
#include "minisign.h"

#define KEY_FILE_MAX 4096

static int write_new(const char *path, const char *text, unsigned mode, bool force)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), mode);
	size_t len = strlen(text);

	if (fd < 0)
		return hp_err(-errno, "cannot create %s: %m%s", path,
			      errno == EEXIST ? " (use --force to overwrite)" : "");
	if (write(fd, text, len) != (ssize_t)len || fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		close(fd);
		return hp_err(-EIO, "cannot write %s", path);
	}
	close(fd);
	return 0;
}

int cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{"key", required_argument, NULL, 'k'},
		{"force", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *key = "hotpatch.key";
	struct minisign_pub pub;
	struct minisign_sec sec;
	_cleanup_free_ char *pubpath = NULL, *pubtext = NULL, *sectext = NULL;
	char hex[MINISIGN_KEYID_HEX_LEN + 1];
	bool force = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "k:fh", opts, NULL)) != -1) {
		if (c == 'k')
			key = optarg;
		else if (c == 'f')
			force = true;
		else if (c == 'h') {
			printf("Usage: hotpatch keygen [-k KEY] [--force]\n\n"
			       "Make an Ed25519 key pair in minisign's format: KEY (secret, mode 0600,\n"
			       "unencrypted like `minisign -G -W`) and KEY.pub (public; install it in\n"
			       "trusted.d on the hosts that should accept bundles signed with KEY).\n");
			return EXIT_OK;
		} else
			return EXIT_REFUSED;
	}
	if (asprintf(&pubpath, "%s.pub", key) < 0)
		return cli_usage("out of memory");
	r = minisign_keygen(&pub, &sec);
	if (r < 0)
		return cli_refuse(r);
	pubtext = minisign_format_pub(&pub);
	sectext = minisign_format_sec(&sec);
	sodium_memzero(&sec, sizeof(sec));
	if (!pubtext || !sectext)
		return cli_usage("out of memory");
	r = write_new(key, sectext, 0600, force);
	if (r == 0)
		r = write_new(pubpath, pubtext, 0644, force);
	sodium_memzero(sectext, strlen(sectext));
	if (r < 0)
		return cli_refuse(r);
	minisign_keyid_hex(pub.keyid, hex);
	printf("key %s: secret key %s, public key %s\n", hex, key, pubpath);
	return EXIT_OK;
}

static int load_secret(const char *path, struct minisign_sec *ret)
{
	_cleanup_free_ uint8_t *text = NULL;
	size_t len;
	int r = file_read_all(path, KEY_FILE_MAX, &text, &len);

	if (r < 0)
		return r;
	r = minisign_parse_sec((const char *)text, len, getenv("HOTPATCH_KEY_PASSWORD"), ret);
	sodium_memzero(text, len);
	return r < 0 ? hp_err_prefix(r, "%s: ", path) : 0;
}

struct sign_opts {
	const char *bundle;
	const char *key;
	const char *out;
	const char *attach;
	bool detach;
};

static int write_detached(const struct sign_opts *o, const uint8_t *payload, size_t n,
			  const char *sig)
{
	_cleanup_free_ char *sigpath = NULL;
	int r;

	if (asprintf(&sigpath, "%s.minisig", o->out) < 0)
		return hp_err(-ENOMEM, "out of memory");
	r = file_write_atomic(o->out, payload, n, 0644);
	if (r == 0)
		r = file_write_atomic(sigpath, sig, strlen(sig), 0644);
	if (r == 0)
		printf("wrote %s and %s (verify with: minisign -Vm %s -p KEY.pub)\n", o->out,
		       sigpath, o->out);
	return r;
}

static int make_signature(const struct sign_opts *o, const uint8_t *payload, size_t n,
			  char **ret)
{
	_cleanup_free_ uint8_t *text = NULL;
	_cleanup_free_ char *copy = NULL, *trusted = NULL;
	struct minisign_sec sec;
	struct minisign_sig parsed;
	size_t len;
	int r;

	if (o->attach) {
		/* Made elsewhere (`minisign -S` over the unsigned bundle):
		 * check it is one, the trust check happens on apply. */
		r = file_read_all(o->attach, KEY_FILE_MAX, &text, &len);
		if (r == 0)
			r = minisign_parse_sig((const char *)text, len, &parsed);
		if (r < 0)
			return r;
		*ret = strndup((const char *)text, len);
		return *ret ? 0 : hp_err(-ENOMEM, "out of memory");
	}
	r = load_secret(o->key, &sec);
	if (r < 0)
		return r;
	copy = strdup(o->bundle);
	if (!copy || asprintf(&trusted, "timestamp:%lld\tfile:%s\thashed", (long long)time(NULL),
			      basename(copy)) < 0) {
		sodium_memzero(&sec, sizeof(sec));
		return hp_err(-ENOMEM, "out of memory");
	}
	*ret = minisign_sign(&sec, payload, n, trusted);
	sodium_memzero(&sec, sizeof(sec));
	return *ret ? 0 : hp_err(-ENOMEM, "out of memory");
}

static int sign(const struct sign_opts *o)
{
	_cleanup_free_ uint8_t *data = NULL;
	_cleanup_free_ char *sig = NULL;
	const uint8_t *oldsig;
	size_t size, payload, oldlen;
	int r;

	r = file_read_all(o->bundle, BUNDLE_MAX_SIZE, &data, &size);
	if (r == 0)
		r = bundle_split(data, size, &payload, &oldsig, &oldlen);
	if (r < 0)
		return r;
	if (payload < 8 || memcmp(data, BUNDLE_MAGIC, 8) != 0)
		return hp_err(-EINVAL, "%s is not a hotpatch bundle", o->bundle);
	r = make_signature(o, data, payload, &sig);
	if (r < 0)
		return r;
	if (o->detach)
		return write_detached(o, data, payload, sig);
	r = bundle_write_signed(o->out, data, payload, sig, strlen(sig));
	if (r == 0)
		printf("signed %s%s\n", o->out, oldsig ? " (replaced its old signature)" : "");
	return r;
}

int cmd_sign(int argc, char **argv)
{
	static const struct option opts[] = {
		{"key", required_argument, NULL, 'k'},
		{"output", required_argument, NULL, 'o'},
		{"detach", no_argument, NULL, 'd'},
		{"attach", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct sign_opts o = {0};
	int c, r;

	while ((c = getopt_long(argc, argv, "k:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			o.key = optarg;
			break;
		case 'o':
			o.out = optarg;
			break;
		case 'd':
			o.detach = true;
			break;
		case 'a':
			o.attach = optarg;
			break;
		case 'h':
			printf("Usage: hotpatch sign BUNDLE -k KEY [-o OUT]\n"
			       "       hotpatch sign BUNDLE --attach SIG.minisig [-o OUT]\n"
			       "       hotpatch sign BUNDLE -k KEY --detach -o PAYLOAD\n\n"
			       "Sign a bundle with a minisign secret key (the signature is attached\n"
			       "to the bundle; OUT defaults to BUNDLE). --attach takes a signature\n"
			       "made by `minisign -S -m BUNDLE` over the unsigned bundle. --detach\n"
			       "writes the unsigned payload and PAYLOAD.minisig, which `minisign -V`\n"
			       "checks. Encrypted keys read their password from\n"
			       "$HOTPATCH_KEY_PASSWORD.\n");
			return EXIT_OK;
		default:
			return EXIT_REFUSED;
		}
	}
	if (optind + 1 != argc)
		return cli_usage("sign needs exactly one bundle");
	o.bundle = argv[optind];
	if (!o.out)
		o.out = o.bundle;
	if (!o.key == !o.attach)
		return cli_usage("sign needs either -k KEY or --attach SIG");
	if (o.detach && (o.attach || o.out == o.bundle))
		return cli_usage("--detach needs -k KEY and -o PAYLOAD");
	r = sign(&o);
	return r < 0 ? cli_refuse(r) : EXIT_OK;
}
