// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_relabel.c - relabel rules against Prometheus's documented semantics, table-driven
 *
 * Each case: up to three rules, an input set, and the set expected after
 * them (names sorted, "name=value" joined by ",") or DROP. Cases marked
 * "prometheus" are taken from Prometheus's own model/relabel tests.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "caps.h"
#include "relabel.h"

#define DROP "<dropped>"
#define SRC(...)                                \
	((const char *const[]){ __VA_ARGS__ }), \
		(sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

struct relabel_case {
	const char *what;
	struct relabel_spec rules[3];
	const char *input[16]; /* name, value, ..., NULL */
	const char *want;
};

static const struct relabel_case cases[] = {
	{ "replace with the defaults copies the source (prometheus)",
	  { { .source_labels = SRC("a"), .target_label = "d" } },
	  { "a", "foo", "b", "bar", NULL },
	  "a=foo,b=bar,d=foo" },
	{ "replace: regex groups and separator (prometheus)",
	  { { .source_labels = SRC("a", "b"),
	      .regex = "f(.*);(.*)r",
	      .target_label = "a",
	      .replacement = "ch${1}-ch${2}" } },
	  { "a", "foo", "b", "bar", "c", "baz", NULL },
	  "a=choo-chba,b=bar,c=baz" },
	{ "replace: no match leaves the set alone",
	  { { .source_labels = SRC("a"), .regex = "x.*", .target_label = "d" } },
	  { "a", "foo", NULL },
	  "a=foo" },
	{ "replace: the regex is anchored at both ends (prometheus)",
	  { { .source_labels = SRC("a"),
	      .regex = "o",
	      .target_label = "d",
	      .replacement = "hit" } },
	  { "a", "foo", NULL },
	  "a=foo" },
	{ "replace: alternation is anchored as a whole",
	  { { .source_labels = SRC("a"),
	      .regex = "f|foo",
	      .target_label = "d",
	      .replacement = "hit" } },
	  { "a", "foo", NULL },
	  "a=foo,d=hit" },
	{ "replace: $ does not match before a trailing newline (Go semantics)",
	  { { .source_labels = SRC("a"),
	      .regex = "foo",
	      .target_label = "d",
	      .replacement = "hit" } },
	  { "a", "foo\n", NULL },
	  "a=foo\n" },
	{ "replace: a missing source label reads as empty and matches (.*)",
	  { { .source_labels = SRC("nothere"), .target_label = "d", .replacement = "x${1}x" } },
	  { "a", "foo", NULL },
	  "a=foo,d=xx" },
	{ "replace: missing sources still get their separators",
	  { { .source_labels = SRC("a", "nothere", "b"), .target_label = "d" } },
	  { "a", "1", "b", "2", NULL },
	  "a=1,b=2,d=1;;2" },
	{ "replace: a replacement that expands to empty deletes the target (prometheus)",
	  { { .source_labels = SRC("a"),
	      .regex = "(f).*",
	      .target_label = "b",
	      .replacement = "$2" } },
	  { "a", "foo", "b", "bar", NULL },
	  "a=foo" },
	{ "replace: empty source value with default regex deletes the target",
	  { { .source_labels = SRC("empty"), .target_label = "a" } },
	  { "a", "foo", NULL },
	  "" },
	{ "replace: ${name} and $name refer to named groups",
	  { { .source_labels = SRC("a"),
	      .regex = "(?<first>.)(?<rest>.*)",
	      .target_label = "d",
	      .replacement = "${rest}-$first" } },
	  { "a", "foo", NULL },
	  "a=foo,d=oo-f" },
	{ "replace: $1x is the group named 1x, which does not exist (Go Expand)",
	  { { .source_labels = SRC("a"),
	      .regex = "(.*)",
	      .target_label = "d",
	      .replacement = "$1x|${1}x" } },
	  { "a", "foo", NULL },
	  "a=foo,d=|foox" },
	{ "replace: $$ is a literal dollar, a lone $ stays",
	  { { .source_labels = SRC("a"), .target_label = "d", .replacement = "$$1 $ ${" } },
	  { "a", "foo", NULL },
	  "a=foo,d=$1 $ ${" },
	{ "replace: the target label is itself a template (prometheus)",
	  { { .source_labels = SRC("a"),
	      .regex = "some-([^-]+)-(.*)",
	      .target_label = "${1}",
	      .replacement = "${2}" } },
	  { "a", "some-name-value", NULL },
	  "a=some-name-value,name=value" },
	{ "replace: a template target that expands to an invalid name is skipped (prometheus)",
	  { { .source_labels = SRC("a"),
	      .regex = "some-([^-]+)-(.*)",
	      .target_label = "${1}",
	      .replacement = "${2}" } },
	  { "a", "some-2name-value", NULL },
	  "a=some-2name-value" },
	{ "replace: rules run in order, each sees the previous one's result",
	  { { .source_labels = SRC("a"), .target_label = "b", .replacement = "x$1" },
	    { .source_labels = SRC("b"), .target_label = "c", .replacement = "y$1" } },
	  { "a", "1", NULL },
	  "a=1,b=x1,c=yx1" },
	{ "keep: matching set is kept",
	  { { .action = "keep", .source_labels = SRC("a"), .regex = "f.*" } },
	  { "a", "foo", NULL },
	  "a=foo" },
	{ "keep: non-matching set is dropped (prometheus)",
	  { { .action = "keep", .source_labels = SRC("a"), .regex = "f" } },
	  { "a", "foo", NULL },
	  DROP },
	{ "keep: a missing label is empty, which a non-empty regex does not match",
	  { { .action = "keep", .source_labels = SRC("nothere"), .regex = ".+" } },
	  { "a", "foo", NULL },
	  DROP },
	{ "drop: matching set is dropped (prometheus)",
	  { { .action = "drop", .source_labels = SRC("a"), .regex = "f.+" } },
	  { "a", "foo", NULL },
	  DROP },
	{ "drop: partial match does not drop (anchored)",
	  { { .action = "drop", .source_labels = SRC("a"), .regex = "f" } },
	  { "a", "foo", NULL },
	  "a=foo" },
	{ "drop: a missing label matches an empty regex",
	  { { .action = "drop", .source_labels = SRC("nothere"), .regex = "" } },
	  { "a", "foo", NULL },
	  DROP },
	{ "drop after replace sees the new value",
	  { { .source_labels = SRC("a"), .target_label = "a", .replacement = "bad" },
	    { .action = "drop", .source_labels = SRC("a"), .regex = "bad" } },
	  { "a", "foo", NULL },
	  DROP },
	{ "labelmap: copies matching names, keeps the originals (prometheus)",
	  { { .action = "labelmap", .regex = "__meta_(.+)", .replacement = "meta_$1" } },
	  { "__meta_my_label", "foo", "a", "1", NULL },
	  "__meta_my_label=foo,a=1,meta_my_label=foo" },
	{ "labelmap: default replacement $1",
	  { { .action = "labelmap", .regex = "__meta_process_(.+)" } },
	  { "__meta_process_comm", "nginx", "__meta_process_pid", "7", NULL },
	  "__meta_process_comm=nginx,__meta_process_pid=7,comm=nginx,pid=7" },
	{ "labelmap: sees the set as it was when the rule started",
	  { { .action = "labelmap", .regex = "(.*)", .replacement = "x$1" } },
	  { "a", "1", NULL },
	  "a=1,xa=1" },
	{ "labelmap: an invalid produced name is set; the caller filters names",
	  { { .action = "labelmap", .regex = "a(.*)", .replacement = "9$1" } },
	  { "ab", "1", NULL },
	  "9b=1,ab=1" },
	{ "labeldrop: drops matching names (prometheus)",
	  { { .action = "labeldrop", .regex = "a.*" } },
	  { "a", "foo", "aa", "bar", "b", "baz", NULL },
	  "b=baz" },
	{ "labeldrop: anchored: does not drop names containing the pattern",
	  { { .action = "labeldrop", .regex = "a" } },
	  { "a", "foo", "ba", "bar", NULL },
	  "ba=bar" },
	{ "labelkeep: keeps only matching names (prometheus)",
	  { { .action = "labelkeep", .regex = "(b|c)" } },
	  { "a", "foo", "b", "bar", "c", "baz", NULL },
	  "b=bar,c=baz" },
	{ "hashmod: md5 low 64 bits modulo (prometheus: baz % 1000 = 976)",
	  { { .action = "hashmod",
	      .source_labels = SRC("c"),
	      .target_label = "d",
	      .modulus = 1000 } },
	  { "c", "baz", NULL },
	  "c=baz,d=976" },
	{ "hashmod: joined sources",
	  { { .action = "hashmod",
	      .source_labels = SRC("a", "b"),
	      .target_label = "h",
	      .modulus = 8 } },
	  { "a", "foo", "b", "bar", NULL },
	  "a=foo,b=bar,h=6" },
	{ "hashmod: empty value still hashes (md5 of \"\" % 10 = 8)",
	  { { .action = "hashmod",
	      .source_labels = SRC("nothere"),
	      .target_label = "h",
	      .modulus = 10 } },
	  { "a", "foo", NULL },
	  "a=foo,h=8" },
	{ "hashmod then keep: sharding by a hash",
	  { { .action = "hashmod",
	      .source_labels = SRC("c"),
	      .target_label = "__tmp_hash",
	      .modulus = 1000 },
	    { .action = "keep", .source_labels = SRC("__tmp_hash"), .regex = "975" } },
	  { "c", "baz", NULL },
	  DROP },
	{ "lowercase (prometheus)",
	  { { .action = "lowercase", .source_labels = SRC("foo"), .target_label = "foo" } },
	  { "foo", "bAr123Foo", NULL },
	  "foo=bar123foo" },
	{ "uppercase of joined sources",
	  { { .action = "uppercase",
	      .source_labels = SRC("a", "b"),
	      .target_label = "u",
	      .separator = "-" } },
	  { "a", "x", "b", "y", NULL },
	  "a=x,b=y,u=X-Y" },
	{ "lowercase of an empty value deletes the target",
	  { { .action = "lowercase", .source_labels = SRC("nothere"), .target_label = "a" } },
	  { "a", "foo", NULL },
	  "" },
	{ "UTF-8: . matches one character, not one byte",
	  { { .source_labels = SRC("a"), .regex = "(.)(.*)", .target_label = "d" } },
	  { "a", "\xc3\xa9t\xc3\xa9", NULL },
	  "a=\xc3\xa9t\xc3\xa9,d=\xc3\xa9" },
};

static int cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct label *)a)->name, ((const struct label *)b)->name);
}

static void render(const struct relabel_set *s, char *out, size_t len)
{
	struct label *v = calloc(s->n + 1, sizeof(*v));
	size_t i, off = 0;

	assert_non_null(v);
	memcpy(v, s->v, s->n * sizeof(*v));
	qsort(v, s->n, sizeof(*v), cmp_label);
	out[0] = '\0';
	for (i = 0; i < s->n; i++)
		off += snprintf(out + off, len - off, "%s%s=%s", i ? "," : "", v[i].name,
				v[i].value);
	free(v);
}

static void test_table(void **state)
{
	size_t c, i;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct relabel_case *tc = &cases[c];
		struct arena arena = { 0 };
		struct relabel_set set = { .arena = &arena };
		struct relabel *rl = relabel__new();
		char why[256] = "", got[1024];
		int ret;

		assert_non_null(rl);
		for (i = 0; i < 3 && (tc->rules[i].action || tc->rules[i].target_label ||
				      tc->rules[i].regex);
		     i++) {
			if (relabel__add(rl, &tc->rules[i], why, sizeof(why)))
				fail_msg("case '%s': rule %zu refused: %s", tc->what, i, why);
		}
		for (i = 0; tc->input[i]; i += 2)
			assert_int_equal(relabel_set_put(&set, tc->input[i], tc->input[i + 1]), 0);
		ret = relabel__apply(rl, &set);
		if (ret < 0)
			fail_msg("case '%s': apply failed %d", tc->what, ret);
		if (ret == 0)
			snprintf(got, sizeof(got), "%s", DROP);
		else
			render(&set, got, sizeof(got));
		if (strcmp(got, tc->want))
			fail_msg("case '%s': got '%s', want '%s'", tc->what, got, tc->want);
		relabel_set_release(&set);
		arena_release(&arena);
		relabel__free(rl);
	}
}

struct bad_case {
	struct relabel_spec spec;
	const char *why; /* a substring of the reason */
};

static const struct bad_case bad_cases[] = {
	{ { .action = "rename", .target_label = "a" }, "unknown relabel action 'rename'" },
	{ { .source_labels = SRC("a"), .regex = "(" }, "needs target_label" },
	{ { .source_labels = SRC("a"), .regex = "(", .target_label = "b" },
	  "regex '(' does not compile" },
	{ { .source_labels = SRC("a"), .regex = "a{2,1}", .target_label = "b" },
	  "does not compile" },
	{ { .action = "hashmod", .source_labels = SRC("a"), .target_label = "b" },
	  "needs a modulus" },
	{ { .source_labels = SRC("a"), .target_label = "b", .modulus = 3 },
	  "only for the hashmod" },
	{ { .action = "labeldrop", .regex = "a", .target_label = "b" }, "takes only regex" },
	{ { .action = "labelkeep", .regex = "a", .separator = "," }, "takes only regex" },
	{ { .source_labels = SRC("a"), .target_label = "1abc" }, "not a valid label name" },
	{ { .source_labels = SRC("a"), .target_label = "a-b" }, "not a valid label name" },
	{ { .action = "lowercase", .source_labels = SRC("a"), .target_label = "${1}" },
	  "not a valid label name" },
	{ { .source_labels = SRC("a.b"), .target_label = "c" }, "source label 'a.b'" },
	{ { .action = "labelmap", .regex = "a", .target_label = "c" }, "takes no target_label" },
	{ { .source_labels = SRC("a"), .target_label = "b", .replacement = "\xff" },
	  "must be UTF-8" },
	{ { .source_labels = SRC("a"), .regex = "\xc3(", .target_label = "b" },
	  "does not compile" },
};

static void test_refused(void **state)
{
	size_t c;

	for (c = 0; c < sizeof(bad_cases) / sizeof(bad_cases[0]); c++) {
		struct relabel *rl = relabel__new();
		char why[256] = "";

		assert_non_null(rl);
		assert_int_equal(relabel__add(rl, &bad_cases[c].spec, why, sizeof(why)), -EINVAL);
		if (!strstr(why, bad_cases[c].why))
			fail_msg("bad case %zu: reason '%s' lacks '%s'", c, why, bad_cases[c].why);
		assert_int_equal(relabel__count(rl), 0);
		relabel__free(rl);
	}
}

/* Labelmaps that double the set each time stop at the bound and counts
 * it, instead of growing without end. */
static void test_set_bound(void **state)
{
	static const char *const prefixes[] = { "p0_$1", "p1_$1", "p2_$1", "p3_$1", "p4_$1",
						"p5_$1", "p6_$1", "p7_$1", "p8_$1", "p9_$1" };
	struct relabel_spec dup = { .action = "labelmap", .regex = "(.*)" };
	struct arena arena = { 0 };
	struct relabel_set set = { .arena = &arena };
	struct relabel *rl = relabel__new();
	char why[128];
	int i;

	assert_non_null(rl);
	/* Each rule maps every name to a new one: 2^10 names wanted. */
	for (i = 0; i < 10; i++) {
		dup.replacement = prefixes[i];
		assert_int_equal(relabel__add(rl, &dup, why, sizeof(why)), 0);
	}
	assert_int_equal(relabel_set_put(&set, "a", "1"), 0);
	assert_int_equal(relabel__apply(rl, &set), 1);
	assert_int_equal(set.n, RELABEL_MAX_SET);
	assert_true(set.overflows > 0);
	relabel_set_release(&set);
	arena_release(&arena);
	relabel__free(rl);
}

static void test_rule_bound(void **state)
{
	struct relabel_spec keep = { .action = "keep", .source_labels = SRC("a") };
	struct relabel *rl = relabel__new();
	char why[128];
	int i;

	assert_non_null(rl);
	for (i = 0; i < RELABEL_MAX_RULES; i++)
		assert_int_equal(relabel__add(rl, &keep, why, sizeof(why)), 0);
	assert_int_equal(relabel__add(rl, &keep, why, sizeof(why)), -ENOSPC);
	assert_non_null(strstr(why, "more than"));
	relabel__free(rl);
}

/* A regex that backtracks without end stops at the match limit: no match,
 * counted, and the call returns. */
static void test_match_limit(void **state)
{
	struct relabel_spec spec = { .action = "drop",
				     .source_labels = SRC("a"),
				     .regex = "(a|aa)+" };
	struct arena arena = { 0 };
	struct relabel_set set = { .arena = &arena };
	struct relabel *rl = relabel__new();
	char why[128], value[64];

	assert_non_null(rl);
	assert_int_equal(relabel__add(rl, &spec, why, sizeof(why)), 0);
	/* 62 a's then '!': every split of the a's is tried before failing */
	memset(value, 'a', sizeof(value) - 2);
	value[sizeof(value) - 2] = '!';
	value[sizeof(value) - 1] = '\0';
	assert_int_equal(relabel_set_put(&set, "a", value), 0);
	caps__reset();
	assert_int_equal(relabel__apply(rl, &set), 1); /* not dropped */
	assert_true(caps__count(CAPS_RELABEL_MATCH) >= 1);
	relabel_set_release(&set);
	arena_release(&arena);
	relabel__free(rl);
}

static void test_names(void **state)
{
	assert_true(relabel_name_valid("_a1"));
	assert_true(relabel_name_valid("__meta_process_comm"));
	assert_false(relabel_name_valid(""));
	assert_false(relabel_name_valid("1a"));
	assert_false(relabel_name_valid("a.b"));
	assert_false(relabel_name_valid("\xc3\xa9"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),	    cmocka_unit_test(test_refused),
		cmocka_unit_test(test_set_bound),   cmocka_unit_test(test_rule_bound),
		cmocka_unit_test(test_match_limit), cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
