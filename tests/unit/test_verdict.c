/* SPDX-License-Identifier: MIT */
/* verdict.c: a bundle's refusals and completeness counts survive the trip
 * through the bundle section and come out in info --json as data. */
#include "json.h"
#include "test.h"
#include "verdict.h"

TEST(refusals_and_counts_round_trip_to_json)
{
	struct verdict v = {.checked = true}, back;
	struct refusal r;
	struct buf text = {0};
	struct json j = {0};

	v.funcs = (struct verdict_counts){.compared = 412, .differ = 9, .replaced = 7, .benign = 2};
	v.objects = (struct verdict_counts){.compared = 30, .differ = 1, .carried = 1};
	ASSERT_OK(refusal_init(&r, REFUSAL_LAYOUT, "counter", "hptiny.c",
			       "the fix changes the layout\\tof struct counter\n(hptiny.c)"));
	r.fix = strdup("0003-counter-misses.patch");
	ASSERT_OK(verdict_add_refusal(&v, &r));
	refusal_free(&r);
	ASSERT_OK(refusal_init(&r, REFUSAL_ASM, NULL, "memset.S", "its code changed"));
	r.made_from = calloc(2, sizeof(char *));
	r.made_from[0] = strdup("sysdeps/x86_64/memset.S");
	r.made_from[1] = strdup("sysdeps/x86_64/memset-vec.S");
	r.nmade_from = 2;
	ASSERT_OK(verdict_add_refusal(&v, &r));
	refusal_text(&r, &text);
	ASSERT_STREQ(buf_cstr(&text), "its code changed (made from sysdeps/x86_64/memset.S, "
				      "sysdeps/x86_64/memset-vec.S)");
	refusal_free(&r);
	buf_free(&text);

	ASSERT_OK(verdict_add_fix(&v, "0001-parse.patch",
				  (char *const[]){"CVE-2099-0001", "CVE-2099-0002"}, 2, "live", NULL));
	ASSERT_OK(verdict_add_fix(&v, "0003-counter-misses.patch", NULL, 0, "refused",
				  "the fix changes the layout of struct counter"));

	verdict_encode(&v, &text);
	ASSERT_OK(verdict_decode((const char *)text.data, text.len, &back));
	ASSERT_EQ(back.nrefusals, 2);
	ASSERT_EQ(back.nfixes, 2);
	ASSERT_EQ(back.fixes[0].ncves, 2);
	ASSERT_EQ(back.refusals[1].nmade_from, 2);
	json_obj_begin(&j);
	verdict_json(&back, &j);
	json_obj_end(&j);
	ASSERT_STREQ(json_text(&j),
		     "{\"completeness\":{\"functions\":{\"compared\":412,\"differ\":9,"
		     "\"replaced\":7,\"inlined\":0,\"cold\":0,\"benign\":2,\"refused\":0,"
		     "\"carried\":0,\"only_new\":0},\"objects\":{\"compared\":30,\"differ\":1,"
		     "\"replaced\":0,\"inlined\":0,\"cold\":0,\"benign\":0,\"refused\":0,"
		     "\"carried\":1,\"only_new\":0}},\"refusals\":[{\"kind\":\"struct-layout\","
		     "\"symbol\":\"counter\",\"source\":\"hptiny.c\",\"made_from\":[],"
		     "\"fix\":\"0003-counter-misses.patch\",\"reason\":\"the fix changes the "
		     "layout\\\\tof struct counter (hptiny.c)\"},{\"kind\":\"code-outside-functions\","
		     "\"symbol\":null,\"source\":\"memset.S\",\"made_from\":[\"sysdeps/x86_64/"
		     "memset.S\",\"sysdeps/x86_64/memset-vec.S\"],\"fix\":null,\"reason\":\"its "
		     "code changed\"}],\"fixes\":[{\"name\":\"0001-parse.patch\",\"cves\":"
		     "[\"CVE-2099-0001\",\"CVE-2099-0002\"],\"verdict\":\"live\",\"reason\":null},"
		     "{\"name\":\"0003-counter-misses.patch\",\"cves\":[],\"verdict\":\"refused\","
		     "\"reason\":\"the fix changes the layout of struct counter\"}]}");
	json_free(&j);
	buf_free(&text);
	verdict_free(&back);
	verdict_free(&v);
}

TEST(malformed_section_is_refused)
{
	struct verdict v;

	ASSERT_ERR(verdict_decode("counts\tfunctions\t1\n", 19, &v), -EBADMSG);
	ASSERT_ERR(verdict_decode("refusal\tno-such-kind\t\t\t\t\twhy\n", 29, &v), -EBADMSG);
	/* a newer builder's record is skipped */
	ASSERT_OK(verdict_decode("fixes\tx\n", 8, &v));
	ASSERT_EQ(v.nrefusals, 0);
	verdict_free(&v);
}
