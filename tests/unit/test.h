/* SPDX-License-Identifier: MIT */
/*
 * A tiny unit test framework in the spirit of systemd's TEST()/ASSERT_*.
 *
 *   TEST(name) { ... }     defines a test; it registers itself at start-up
 *   ASSERT_*(...)          on failure: print file:line and the values, and
 *                          end the current test (the others still run)
 *   TEST_SKIP("why")       end the current test as skipped
 *
 * This header defines main(), so each test program is exactly one .c file
 * that includes it. Tests run in the order they appear in the file; a test
 * name given on the command line runs only that test. Exit code: 0 when all
 * passed, 1 when any failed, 77 when every test skipped.
 *
 * A failed assertion longjmp()s out of the test, so cleanups in the test are
 * skipped: leaks after a failure are expected and harmless (the run failed
 * anyway). Temp dirs made with test_tmpdir() are removed by the runner after
 * every test, pass or fail.
 */
#pragma once

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"

struct test {
	const char *name;
	void (*fn)(void);
	int line;
	struct test *next;
};

enum { TEST_JMP_FAIL = 1, TEST_JMP_SKIP = 2 };
#define TEST_TMPDIRS_MAX 8

static struct test *test_list;
static jmp_buf test_jmp;
static char test_tmpdirs[TEST_TMPDIRS_MAX][PATH_MAX];
static size_t test_ntmpdirs;

static inline void test_register(struct test *t)
{
	t->next = test_list;
	test_list = t;
}

#define TEST(n)                                                                                    \
	static void test_##n(void);                                                                \
	static struct test test_entry_##n = {#n, test_##n, __LINE__, NULL};                        \
	__attribute__((constructor)) static void test_register_##n(void)                           \
	{                                                                                          \
		test_register(&test_entry_##n);                                                    \
	}                                                                                          \
	static void test_##n(void)

__attribute__((format(printf, 3, 4), noreturn)) static inline void
test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: assertion failed: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	longjmp(test_jmp, TEST_JMP_FAIL);
}

#define TEST_SKIP(...)                                                                             \
	do {                                                                                       \
		fprintf(stderr, "%s:%d: skipped: ", __FILE__, __LINE__);                           \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fputc('\n', stderr);                                                               \
		longjmp(test_jmp, TEST_JMP_SKIP);                                                  \
	} while (0)

#define ASSERT_TRUE(e)                                                                             \
	do {                                                                                       \
		if (!(e))                                                                          \
			test_fail(__FILE__, __LINE__, "expected true: %s", #e);                    \
	} while (0)

#define ASSERT_FALSE(e)                                                                            \
	do {                                                                                       \
		if (e)                                                                             \
			test_fail(__FILE__, __LINE__, "expected false: %s", #e);                   \
	} while (0)

#define ASSERT_NULL(p) ASSERT_TRUE((p) == NULL)
#define ASSERT_NOT_NULL(p) ASSERT_TRUE((p) != NULL)

/* Integers of any width and signedness; both values printed in decimal and
 * hex. Not for pointers. */
#define ASSERT_EQ(a, b)                                                                            \
	do {                                                                                       \
		unsigned long long _ta = (unsigned long long)(a);                                  \
		unsigned long long _tb = (unsigned long long)(b);                                  \
		if (_ta != _tb)                                                                    \
			test_fail(__FILE__, __LINE__, "%s == %s: %lld (0x%llx) != %lld (0x%llx)", \
				  #a, #b, (long long)_ta, _ta, (long long)_tb, _tb);               \
	} while (0)

#define ASSERT_NE(a, b)                                                                            \
	do {                                                                                       \
		unsigned long long _ta = (unsigned long long)(a);                                  \
		unsigned long long _tb = (unsigned long long)(b);                                  \
		if (_ta == _tb)                                                                    \
			test_fail(__FILE__, __LINE__, "%s != %s: both are %lld (0x%llx)", #a, #b,  \
				  (long long)_ta, _ta);                                            \
	} while (0)

#define ASSERT_STREQ(a, b)                                                                         \
	do {                                                                                       \
		const char *_ta = (a), *_tb = (b);                                                 \
		if (!_ta || !_tb || strcmp(_ta, _tb) != 0)                                         \
			test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,        \
				  _ta ? _ta : "(null)", _tb ? _tb : "(null)");                     \
	} while (0)

/* Substring check, for error messages. */
#define ASSERT_CONTAINS(hay, needle)                                                               \
	do {                                                                                       \
		const char *_th = (hay), *_tn = (needle);                                          \
		if (!_th || !strstr(_th, _tn))                                                     \
			test_fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"",            \
				  _th ? _th : "(null)", _tn);                                      \
	} while (0)

#define ASSERT_MEMEQ(a, b, n)                                                                      \
	do {                                                                                       \
		const unsigned char *_ta = (const void *)(a), *_tb = (const void *)(b);            \
		size_t _tn = (n);                                                                  \
		for (size_t _ti = 0; _ti < _tn; _ti++)                                             \
			if (_ta[_ti] != _tb[_ti])                                                  \
				test_fail(__FILE__, __LINE__,                                      \
					  "%s == %s (%zu bytes): differ at %zu: 0x%02x != 0x%02x", \
					  #a, #b, _tn, _ti, _ta[_ti], _tb[_ti]);                   \
	} while (0)

/* r >= 0; on failure also prints the library's last error message. */
#define ASSERT_OK(expr)                                                                            \
	do {                                                                                       \
		long _tr = (long)(expr);                                                           \
		if (_tr < 0)                                                                       \
			test_fail(__FILE__, __LINE__, "%s: %ld (%s): %s", #expr, _tr,              \
				  strerror((int)-_tr), hp_err_msg((int)_tr));                      \
	} while (0)

/* expr must return exactly @err (a negative errno). */
#define ASSERT_ERR(expr, err)                                                                      \
	do {                                                                                       \
		long _tr = (long)(expr), _te = (long)(err);                                        \
		if (_tr != _te)                                                                    \
			test_fail(__FILE__, __LINE__, "%s: got %ld (%s), expected %ld (%s)",       \
				  #expr, _tr, _tr < 0 ? strerror((int)-_tr) : "success", _te,      \
				  strerror((int)-_te));                                            \
	} while (0)

static inline int test_rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static inline void test_rm_rf(const char *path)
{
	nftw(path, test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory under $TMPDIR (or /tmp), removed after the test. */
static inline const char *test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p;

	if (test_ntmpdirs == TEST_TMPDIRS_MAX)
		test_fail(__FILE__, __LINE__, "too many temp dirs in one test");
	p = test_tmpdirs[test_ntmpdirs];
	snprintf(p, PATH_MAX, "%s/hp-unit-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(p))
		test_fail(__FILE__, __LINE__, "mkdtemp(%s): %s", p, strerror(errno));
	test_ntmpdirs++;
	return p;
}

static inline void test_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "we");

	if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0)
		test_fail(__FILE__, __LINE__, "cannot write %s: %s", path, strerror(errno));
}

/* Whole file, NUL-terminated; caller frees. */
static inline char *test_read_file(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "re");
	char *data = NULL;
	size_t len = 0;

	if (!f)
		test_fail(__FILE__, __LINE__, "cannot open %s: %s", path, strerror(errno));
	for (;;) {
		char *nd = realloc(data, len + 4097);

		if (!nd)
			test_fail(__FILE__, __LINE__, "out of memory");
		data = nd;
		size_t n = fread(data + len, 1, 4096, f);
		len += n;
		if (n < 4096)
			break;
	}
	fclose(f);
	data[len] = '\0';
	if (ret_len)
		*ret_len = len;
	return data;
}

/* Runs @argv (stdin and stdout on /dev/null, stderr inherited so errors land
 * in the test log); returns the exit status, or -1 if it did not exit
 * normally. */
static inline int test_spawn(char *const argv[])
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		test_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
	if (pid == 0) {
		if (!freopen("/dev/null", "re", stdin) || !freopen("/dev/null", "we", stdout))
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		test_fail(__FILE__, __LINE__, "waitpid: %s", strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs @script with sh -c. Exit 77 skips the test (the script found a tool
 * it needs missing: `command -v cc >/dev/null || exit 77`); any other
 * failure fails it, saying @what could not be made. */
static inline void test_sh(const char *script, const char *what)
{
	char *argv[] = {"sh", "-c", (char *)script, NULL};

	switch (test_spawn(argv)) {
	case 0:
		return;
	case 77:
		TEST_SKIP("a tool to make %s is missing", what);
	default:
		test_fail(__FILE__, __LINE__, "cannot make %s", what);
	}
}

static inline int test_cmp_line(const void *a, const void *b)
{
	const struct test *x = *(struct test *const *)a, *y = *(struct test *const *)b;

	return (x->line > y->line) - (x->line < y->line);
}

static int test_passed, test_failed_n, test_skipped;

static inline void test_run_one(struct test *t)
{
	int r;

	hp_err_clear();
	r = setjmp(test_jmp);
	if (r == 0) {
		t->fn();
		test_passed++;
		printf("ok      %s\n", t->name);
	} else if (r == TEST_JMP_SKIP) {
		test_skipped++;
		printf("skipped %s\n", t->name);
	} else {
		test_failed_n++;
		printf("FAIL    %s\n", t->name);
	}
	fflush(stdout);
	for (size_t i = 0; i < test_ntmpdirs; i++)
		test_rm_rf(test_tmpdirs[i]);
	test_ntmpdirs = 0;
}

int main(int argc, char **argv)
{
	struct test *v[1024];
	size_t n = 0;

	for (struct test *t = test_list; t && n < 1024; t = t->next)
		v[n++] = t;
	qsort(v, n, sizeof(v[0]), test_cmp_line);
	for (size_t i = 0; i < n; i++)
		if (argc < 2 || strcmp(argv[1], v[i]->name) == 0)
			test_run_one(v[i]);
	printf("%d passed, %d failed, %d skipped\n", test_passed, test_failed_n, test_skipped);
	if (test_failed_n)
		return 1;
	if (test_skipped && !test_passed)
		return 77;
	return 0;
}
