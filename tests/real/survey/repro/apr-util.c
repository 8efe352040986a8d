/* SPDX-License-Identifier: MIT */
/* fixes: CVE-2026-32327.patch
 * files: libaprutil-1.so.0.6.3
 * libs: -L{libdir} -l:{file} -l:libapr-1.so.0
 * fixed-package: libaprutil1
 *
 * CVE-2026-32327 (apr-util 1.6.3-1+deb12u1), the fix's own regression test
 * (test_nesting_limit) with the library's prototypes (the root has no
 * libapr1-dev): a document nested 2000 elements deep is refused by the
 * fixed parser ("The maximum element nesting limit (256) was exceeded");
 * the older one builds the whole tree, which apr_xml_quote_elem() and the
 * other walkers then recurse through without a bound.
 *
 * Says "ready", waits for a line on stdin (the survey applies the live
 * patch in between), then prints "fixed" when the parser refuses the
 * document, and exits 1 when it accepts it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int apr_status_t;
typedef struct apr_pool_t apr_pool_t;
typedef struct apr_xml_parser apr_xml_parser;
typedef struct apr_xml_doc apr_xml_doc;

apr_status_t apr_initialize(void);
apr_status_t apr_pool_create_ex(apr_pool_t **pool, apr_pool_t *parent, void *abort_fn,
				void *allocator);
apr_xml_parser *apr_xml_parser_create(apr_pool_t *pool);
apr_status_t apr_xml_parser_feed(apr_xml_parser *parser, const char *data, size_t len);
apr_status_t apr_xml_parser_done(apr_xml_parser *parser, apr_xml_doc **pdoc);
char *apr_xml_parser_geterror(apr_xml_parser *parser, char *errbuf, size_t errbufsize);

#define DEPTH 2000

int main(void)
{
	static char doc[32 + DEPTH * 8];
	char line[16], err[256];
	apr_pool_t *pool;
	apr_xml_doc *tree;
	size_t n;

	n = (size_t)sprintf(doc, "<?xml version=\"1.0\"?>\n");
	for (int i = 0; i < DEPTH; i++)
		n += (size_t)sprintf(doc + n, "<n>");
	for (int i = 0; i < DEPTH; i++)
		n += (size_t)sprintf(doc + n, "</n>");

	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 3;

	if (apr_initialize() != 0 || apr_pool_create_ex(&pool, NULL, NULL, NULL) != 0)
		return 3;
	apr_xml_parser *parser = apr_xml_parser_create(pool);

	if (!parser)
		return 3;
	apr_status_t fed = apr_xml_parser_feed(parser, doc, n);

	if (fed == 0 && apr_xml_parser_done(parser, &tree) == 0) {
		fprintf(stderr, "a document %d elements deep was accepted\n", DEPTH);
		return 1;
	}
	apr_xml_parser_geterror(parser, err, sizeof(err));
	if (!strstr(err, "nesting limit")) {
		fprintf(stderr, "refused, but not for its depth: %s\n", err);
		return 2;
	}
	printf("fixed\n");
	return 0;
}
