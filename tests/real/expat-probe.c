/* SPDX-License-Identifier: MIT */
/*
 * The long-running libexpat user for tests/real: the corpus line server
 * (tests/corpus/common/server.c) around this respond().
 *
 *   version        XML_ExpatVersion() of the libexpat the process runs
 *   parse DOC      parse DOC (C escapes \n, \xHH allowed) as one final
 *                  buffer: "ok ELEMENTS" or "error CODE LINE:COLUMN"
 *   run NAME       run regression probe NAME in this process
 *   fork NAME      run it in a forked child, so that a crash of the
 *                  vulnerable code is reported instead of ending the server
 *
 * A probe answers "pass", "fail: WHY", and, when forked, "crash: signal N"
 * or "hang". Each probe is the regression test that came with a fix in
 * expat's tests/runtests.c, rewritten against the public API only, so that
 * it runs the live process's libexpat code and nothing else.
 */
#define _GNU_SOURCE
#include <expat.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXPAT_AT_LEAST(a, b) (XML_MAJOR_VERSION * 100 + XML_MINOR_VERSION >= (a) * 100 + (b))

/* Probe results: a static buffer, written out before the next request. */
static char result[512];

static const char *failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *failf(const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(result, sizeof(result), "fail: ");

	va_start(ap, fmt);
	vsnprintf(result + n, sizeof(result) - (size_t)n, fmt, ap);
	va_end(ap);
	return result;
}

/* CVE-2024-45490: XML_ParseBuffer must refuse a negative length. */
static const char *probe_parse_buffer_negative_len(void)
{
	static const char doc[] = "<root/>";

	for (int final = 0; final < 2; final++) {
		XML_Parser p = XML_ParserCreate(NULL);
		enum XML_Status st;
		enum XML_Error err;

		if (!XML_GetBuffer(p, (int)strlen(doc))) {
			XML_ParserFree(p);
			return failf("XML_GetBuffer failed");
		}
		st = XML_ParseBuffer(p, -2, final);
		err = XML_GetErrorCode(p);
		XML_ParserFree(p);
		if (st != XML_STATUS_ERROR || err != XML_ERROR_INVALID_ARGUMENT)
			return failf("XML_ParseBuffer(len=-2, isFinal=%d) gave status %d, error %d",
				     final, st, err);
	}
	return "pass";
}

/* CVE-2024-50602: XML_StopParser must refuse a parser that never started
 * (resuming it afterwards crashed). */
static const char *probe_stop_unstarted(void)
{
#if EXPAT_AT_LEAST(2, 4)
	/* XML_ERROR_NOT_STARTED is new with the fix: the code after the last
	 * one this expat.h knows. */
	const int not_started = XML_ERROR_AMPLIFICATION_LIMIT_BREACH + 1;
#else
	const int not_started = -1;
#endif
	for (int resumable = 1; resumable >= 0; resumable--) {
		XML_Parser p = XML_ParserCreate(NULL);
		enum XML_Status st = XML_StopParser(p, (XML_Bool)resumable);
		int err = (int)XML_GetErrorCode(p);

		XML_ParserFree(p);
		if (st != XML_STATUS_ERROR || err != not_started)
			return failf("XML_StopParser(unstarted, resumable=%d) gave status %d, "
				     "error %d",
				     resumable, st, err);
	}
	{
		XML_Parser p = XML_ParserCreate(NULL);

		XML_GetBuffer(p, 1);
		XML_StopParser(p, XML_TRUE);
		XML_ResumeParser(p);
		XML_ParserFree(p);
	}
	return "pass";
}

/* CVE-2022-23852: XML_GetBuffer must not overflow the size it needs. */
static const char *probe_get_buffer_overflow(void)
{
	XML_Parser p = XML_ParserCreate(NULL);
	const char *text = "\n";
	void *buf;

	if (XML_Parse(p, text, (int)strlen(text), XML_FALSE) == XML_STATUS_ERROR) {
		XML_ParserFree(p);
		return failf("parsing a newline failed");
	}
	/* One byte is kept as context: this request overflows an int. */
	buf = XML_GetBuffer(p, INT_MAX - (int)strlen(text) + 1);
	XML_ParserFree(p);
	return buf ? failf("XML_GetBuffer(INT_MAX) returned a buffer") : "pass";
}

struct utf8_case {
	bool good_name, good_start;
	const char *bytes;
};

/* CVE-2022-25235: bytes outside UTF-8 in a tag name must be refused. The
 * valid sequences are names (or name starts), each flipped bit not. */
static const struct utf8_case utf8_cases[] = {
	{true, true, "\x3A"},         {false, false, "\xBA"},       {true, false, "\x39"},
	{false, false, "\xB9"},       {true, true, "\xDB\xA5"},     {false, false, "\x9B\xA5"},
	{false, false, "\xDB\x25"},   {false, false, "\xDB\xE5"},   {true, false, "\xCC\x81"},
	{false, false, "\x8C\x81"},   {false, false, "\xCC\x01"},   {false, false, "\xCC\xC1"},
	{true, true, "\xE0\xA4\x85"}, {false, false, "\xA0\xA4\x85"}, {false, false, "\xE0\x24\x85"},
	{false, false, "\xE0\xE4\x85"}, {false, false, "\xE0\xA4\x05"}, {false, false, "\xE0\xA4\xC5"},
	{true, false, "\xE0\xA4\x81"}, {false, false, "\xA0\xA4\x81"}, {false, false, "\xE0\x24\x81"},
	{false, false, "\xE0\xE4\x81"}, {false, false, "\xE0\xA4\x01"}, {false, false, "\xE0\xA4\xC1"},
};

static bool utf8_tag_ok(const struct utf8_case *c, bool at_start)
{
	char doc[64];
	XML_Parser p = XML_ParserCreate(NULL);
	enum XML_Status st;
	bool want = at_start ? c->good_start : c->good_name, ok;

	snprintf(doc, sizeof(doc), "<%s%s><!--", at_start ? "" : "a", c->bytes);
	st = XML_Parse(p, doc, (int)strlen(doc), XML_FALSE);
	ok = (st == XML_STATUS_OK) == want &&
	     (st != XML_STATUS_ERROR || XML_GetErrorCode(p) == XML_ERROR_INVALID_TOKEN);
	XML_ParserFree(p);
	return ok;
}

static const char *probe_utf8_names(void)
{
	static const char doctype[] = "<!DOCTYPE \xDB\x25"
				      "doc><doc/>";
	unsigned bad = 0, n = sizeof(utf8_cases) / sizeof(utf8_cases[0]);
	XML_Parser p;
	enum XML_Error err;

	for (unsigned i = 0; i < n; i++)
		bad += !utf8_tag_ok(&utf8_cases[i], true) + !utf8_tag_ok(&utf8_cases[i], false);
	p = XML_ParserCreate(NULL);
	XML_Parse(p, doctype, (int)strlen(doctype), XML_TRUE);
	err = XML_GetErrorCode(p);
	XML_ParserFree(p);
	if (bad || err != XML_ERROR_INVALID_TOKEN)
		return failf("%u of %u tag names misjudged; bad UTF-8 in DOCTYPE gave error %d",
			     bad, 2 * n, err);
	return "pass";
}

/* CVE-2022-25236: a namespace URI must not smuggle in the separator. */
static const char *probe_ns_separator_in_uri(void)
{
	static const struct {
		enum XML_Status want;
		const char *doc;
	} cases[] = {
		{XML_STATUS_OK, "<doc xmlns='one_two' />"},
		{XML_STATUS_ERROR, "<doc xmlns='one&#x0A;two' />"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		XML_Parser p = XML_ParserCreateNS(NULL, '\n');
		enum XML_Status st = XML_Parse(p, cases[i].doc, (int)strlen(cases[i].doc), XML_TRUE);

		XML_ParserFree(p);
		if (st != cases[i].want)
			return failf("%s parsed with status %d", cases[i].doc, st);
	}
	return "pass";
}

/* An allocator that fails once a budget of allocations is spent (-1: none). */
static int alloc_budget = -1;

static void *budget_malloc(size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	return malloc(n);
}

static void *budget_realloc(void *p, size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	return realloc(p, n);
}

static int XMLCALL ext_create_fails(XML_Parser parser, const XML_Char *context,
				     const XML_Char *base, const XML_Char *system_id,
				     const XML_Char *public_id)
{
	XML_Parser ext;

	(void)base, (void)system_id, (void)public_id;
	/* The third allocation from here is the encoding name's copy in
	 * parserInit: make it fail. */
	alloc_budget = 3;
	ext = XML_ExternalEntityParserCreate(parser, context, "UTF-8");
	alloc_budget = -1;
	if (ext)
		XML_ParserFree(ext);
	return XML_STATUS_ERROR;
}

/* CVE-2022-43680: a failed XML_ExternalEntityParserCreate must not free the
 * DTD it shares with its parent (the parent used it after free). */
static const char *probe_ext_parser_create_fail(void)
{
	static const char doc[] = "<!DOCTYPE doc SYSTEM 'foo'><doc/>";
	const XML_Memory_Handling_Suite mem = {budget_malloc, budget_realloc, free};
	XML_Parser p = XML_ParserCreate_MM(NULL, &mem, NULL);
	enum XML_Status st;
	enum XML_Error err;

	XML_SetExternalEntityRefHandler(p, ext_create_fails);
	XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_ALWAYS);
	st = XML_Parse(p, doc, (int)strlen(doc), XML_TRUE);
	err = XML_GetErrorCode(p);
	XML_ParserReset(p, NULL);
	/* Parse again with the reset parser: its DTD must still be its own. */
	XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_ALWAYS);
	if (XML_Parse(p, "<!DOCTYPE d [<!ENTITY e 'x'>]><d>&e;</d>", 40, XML_TRUE) !=
	    XML_STATUS_OK)
		err = (enum XML_Error)-1;
	XML_ParserFree(p);
	if (st != XML_STATUS_ERROR || err != XML_ERROR_EXTERNAL_ENTITY_HANDLING)
		return failf("parse status %d, error %d", st, err);
	return "pass";
}

/* free() that first overwrites the block, so that a use after free reads
 * garbage instead of the old bytes (what ASan would catch). */
static void poison_free(void *p)
{
	if (p)
		memset(p, 0xA5, malloc_usable_size(p));
	free(p);
}

static void XMLCALL stop_on_comment(void *user, const XML_Char *data)
{
	(void)data;
	XML_StopParser((XML_Parser)user, XML_TRUE);
}

/* CVE-2022-40674: resuming inside an internal entity must keep the names
 * of open tags (they pointed into a freed buffer). */
static const char *probe_suspend_in_entity(void)
{
	char text[2200];
	const int first = 54;
	const XML_Memory_Handling_Suite mem = {malloc, realloc, poison_free};
	XML_Parser p = XML_ParserCreate_MM(NULL, &mem, NULL);
	enum XML_Status a, b, c;
	size_t n;

	n = (size_t)snprintf(text, sizeof(text),
			     "<!DOCTYPE a [<!ENTITY e '<!--COMMENT-->a'>]><a>&e;<b>\n<");
	memset(text + n, 'a', 2000);
	snprintf(text + n + 2000, sizeof(text) - n - 2000, "/></b></a>");
	XML_SetUserData(p, p);
	XML_SetCommentHandler(p, stop_on_comment);
	a = XML_Parse(p, text, first, XML_FALSE);
	b = a == XML_STATUS_SUSPENDED ? XML_ResumeParser(p) : XML_STATUS_ERROR;
	c = b == XML_STATUS_OK ? XML_Parse(p, text + first, (int)strlen(text) - first, XML_TRUE)
			       : XML_STATUS_ERROR;
	XML_ParserFree(p);
	if (a != XML_STATUS_SUSPENDED || b != XML_STATUS_OK || c != XML_STATUS_OK)
		return failf("suspend %d, resume %d, rest %d", a, b, c);
	return "pass";
}

/* CVE-2024-8176: a long chain of entities must not exhaust the stack. */
static const char *probe_deep_entities(void)
{
	const unsigned lines = 60000;
	size_t cap = (size_t)(lines + 4) * 50, at = 0;
	char *text = malloc(cap);
	XML_Parser p;
	enum XML_Status st;

	if (!text)
		return failf("out of memory");
	at += (size_t)snprintf(text + at, cap - at, "<!DOCTYPE foo [\n<!ENTITY s0 'deepText'>\n");
	for (unsigned i = 1; i < lines; i++)
		at += (size_t)snprintf(text + at, cap - at, "<!ENTITY s%u '&s%u;'>\n", i, i - 1);
	snprintf(text + at, cap - at, "]> <foo>&s%u;</foo>\n", lines - 1);
	p = XML_ParserCreate(NULL);
	st = XML_Parse(p, text, (int)strlen(text), XML_TRUE);
	free(text);
	if (st != XML_STATUS_OK) {
		failf("parse error %d", XML_GetErrorCode(p));
		XML_ParserFree(p);
		return result;
	}
	XML_ParserFree(p);
	return "pass";
}

static void XMLCALL free_model(void *user, const XML_Char *name, XML_Content *model)
{
	(void)name;
	XML_FreeContentModel((XML_Parser)user, model);
}

/* CVE-2022-25313: a deeply nested content model must not exhaust the stack
 * when it is handed to an element declaration handler. */
static const char *probe_deep_content_model(void)
{
	const size_t depth = 500000;
	static const char head[] = "<!DOCTYPE e [<!ELEMENT e ", tail[] = ">]><e/>";
	size_t len = sizeof(head) - 1 + 2 * depth + 1 + sizeof(tail);
	char *text = malloc(len), *at = text;
	XML_Parser p;
	enum XML_Status st;

	if (!text)
		return failf("out of memory");
	at = stpcpy(at, head);
	memset(at, '(', depth);
	at += depth;
	*at++ = 'a';
	memset(at, ')', depth);
	strcpy(at + depth, tail);
	p = XML_ParserCreate(NULL);
	XML_SetUserData(p, p);
	XML_SetElementDeclHandler(p, free_model);
	st = XML_Parse(p, text, (int)strlen(text), XML_TRUE);
	free(text);
	if (st != XML_STATUS_OK)
		failf("parse error %d", XML_GetErrorCode(p));
	XML_ParserFree(p);
	return st == XML_STATUS_OK ? "pass" : result;
}

static const struct {
	const char *name;
	const char *(*run)(void);
} probes[] = {
	{"parse-buffer-negative-len", probe_parse_buffer_negative_len},
	{"stop-unstarted", probe_stop_unstarted},
	{"get-buffer-overflow", probe_get_buffer_overflow},
	{"utf8-names", probe_utf8_names},
	{"ns-separator-in-uri", probe_ns_separator_in_uri},
	{"ext-parser-create-fail", probe_ext_parser_create_fail},
	{"suspend-in-entity", probe_suspend_in_entity},
	{"deep-entities", probe_deep_entities},
	{"deep-content-model", probe_deep_content_model},
};

static const char *(*find_probe(const char *name))(void)
{
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		if (strcmp(probes[i].name, name) == 0)
			return probes[i].run;
	return NULL;
}

/* The child writes its answer to a pipe: a crash leaves it empty. */
static const char *run_forked(const char *(*probe)(void))
{
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe(fds) < 0)
		return "fail: pipe";
	pid = fork();
	if (pid < 0)
		return "fail: fork";
	if (pid == 0) {
		const char *out;

		alarm(20);
		out = probe();
		if (write(fds[1], out, strlen(out)) < 0)
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	n = read(fds[0], result, sizeof(result) - 1);
	close(fds[0]);
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status)) {
		snprintf(result, sizeof(result), "%s: signal %d",
			 WTERMSIG(status) == SIGALRM ? "hang" : "crash", WTERMSIG(status));
		return result;
	}
	result[n > 0 ? n : 0] = '\0';
	return n > 0 ? result : "fail: no answer";
}

static size_t unescape(const char *in, char *out, size_t cap)
{
	size_t n = 0;

	while (*in && n + 1 < cap) {
		unsigned v;

		if (in[0] == '\\' && in[1] == 'n') {
			out[n++] = '\n';
			in += 2;
		} else if (in[0] == '\\' && in[1] == 'x' && sscanf(in + 2, "%2x", &v) == 1) {
			out[n++] = (char)v;
			in += 4;
		} else {
			out[n++] = *in++;
		}
	}
	out[n] = '\0';
	return n;
}

static void XMLCALL count_start(void *user, const XML_Char *name, const XML_Char **atts)
{
	(void)name, (void)atts;
	++*(unsigned *)user;
}

static const char *parse(const char *escaped)
{
	char doc[4096];
	size_t len = unescape(escaped, doc, sizeof(doc));
	unsigned elements = 0;
	XML_Parser p = XML_ParserCreate(NULL);

	XML_SetUserData(p, &elements);
	XML_SetStartElementHandler(p, count_start);
	if (XML_Parse(p, doc, (int)len, XML_TRUE) == XML_STATUS_OK)
		snprintf(result, sizeof(result), "ok %u", elements);
	else
		snprintf(result, sizeof(result), "error %d %lu:%lu", XML_GetErrorCode(p),
			 (unsigned long)XML_GetCurrentLineNumber(p),
			 (unsigned long)XML_GetCurrentColumnNumber(p));
	XML_ParserFree(p);
	return result;
}

const char *respond(const char *line)
{
	const char *(*probe)(void);

	if (strcmp(line, "version") == 0)
		return XML_ExpatVersion();
	if (strncmp(line, "parse ", 6) == 0)
		return parse(line + 6);
	if (strncmp(line, "run ", 4) == 0 || strncmp(line, "fork ", 5) == 0) {
		bool forked = line[0] == 'f';

		probe = find_probe(line + (forked ? 5 : 4));
		if (!probe)
			return "unknown probe";
		return forked ? run_forked(probe) : probe();
	}
	return "unknown request";
}
