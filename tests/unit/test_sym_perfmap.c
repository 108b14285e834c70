// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_sym_perfmap.c - perf-map parser: HotSpot and V8 lines, strict fields,
 * hostile lines, last-wins overlaps, chunked and incremental feeding, bounds */
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
#include "log.h"
#include "sym_perfmap.h"

static void expect(const struct sym_perfmap *pm, uint64_t addr, const char *name)
{
	struct sym_result r;

	sym_perfmap__lookup(pm, addr, &r);
	if (!name) {
		assert_int_equal(r.reason, SYM_UNKNOWN_ADDR);
		assert_null(r.name);
		return;
	}
	assert_int_equal(r.reason, SYM_OK);
	assert_string_equal(r.name, name);
}

static struct sym_perfmap *parse(const char *text)
{
	struct sym_perfmap *pm = sym_perfmap__parse(text, strlen(text), 0);

	assert_non_null(pm);
	return pm;
}

static void test_formats(void **state)
{
	/* HotSpot (Compiler.perfmap), V8 (--perf-basic-prof), perf's own spec. */
	struct sym_perfmap *pm =
		parse("0x00007f1954ec7600 0x0000000000000238 void Spin.main(java.lang.String[])\n"
		      "0x00007f1954940b80 0x0000000000017de0 Interpreter\n"
		      "3a1c0c0 1c JS:*hot /tmp/x.js:3:13\n"
		      "1000 10 plain_name\n");

	assert_int_equal(sym_perfmap__count(pm), 4);
	assert_int_equal(sym_perfmap__bad_lines(pm), 0);
	expect(pm, 0x7f1954ec7600, "void Spin.main(java.lang.String[])");
	expect(pm, 0x7f1954ec7600 + 0x237, "void Spin.main(java.lang.String[])");
	expect(pm, 0x7f1954ec7600 + 0x238, NULL);
	expect(pm, 0x7f1954940b80 + 5, SYM_PERFMAP_INTERPRETER);
	expect(pm, 0x3a1c0c0 + 0x1b, "JS:*hot /tmp/x.js:3:13");
	expect(pm, 0x1000, "plain_name");
	expect(pm, 0xfff, NULL);
	expect(pm, 0, NULL);
	sym_perfmap__free(pm);
}

static void test_hostile(void **state)
{
	static const char bin[] = "\x00\xff\x01garbage\n0x10 0x10 a\x01b\n";
	struct sym_perfmap *pm;
	char *big;

	pm = parse("zz 10 bad_start\n"
		   "10 zz bad_size\n"
		   "10 0 zero_size\n"
		   "10 100000000 four_gib\n"
		   "ffffffffffffffff 2 wraps\n"
		   "10 10\n"
		   "10 10 \n"
		   "10  10 two_spaces\n"
		   "0x 10 empty_hex\n"
		   "10 10 carriage\r\n"
		   "10000000000000000 10 seventeen_digits\n"
		   "\n"
		   "20 10 good\n");
	assert_int_equal(sym_perfmap__count(pm), 1);
	assert_int_equal(sym_perfmap__bad_lines(pm), 12);
	expect(pm, 0x25, "good");
	expect(pm, 0x15, NULL);
	sym_perfmap__free(pm);

	pm = sym_perfmap__parse(bin, sizeof(bin) - 1, 0);
	assert_non_null(pm);
	assert_int_equal(sym_perfmap__count(pm), 0);
	assert_int_equal(sym_perfmap__bad_lines(pm), 2);
	sym_perfmap__free(pm);

	/* A 10 MB line costs one line buffer and one bad line. */
	big = malloc(10 << 20);
	assert_non_null(big);
	memset(big, 'a', 10 << 20);
	memcpy(big, "10 10 ", 6);
	big[(10 << 20) - 1] = '\n';
	pm = sym_perfmap__new(0);
	assert_int_equal(sym_perfmap__feed(pm, big, 10 << 20, false), 0);
	assert_int_equal(sym_perfmap__feed(pm, "30 10 after\n", 12, true), 0);
	assert_int_equal(sym_perfmap__commit(pm), 0);
	assert_int_equal(sym_perfmap__bad_lines(pm), 1);
	assert_int_equal(sym_perfmap__count(pm), 1);
	expect(pm, 0x30, "after");
	assert_true(sym_perfmap__bytes(pm) < (1 << 20));
	sym_perfmap__free(pm);
	free(big);
}

static void test_overlap_last_wins(void **state)
{
	struct sym_perfmap *pm = parse("100 100 old\n"
				       "140 20 new\n"
				       "100 10 newer_head\n"
				       "1f0 20 tail_over_end\n"
				       "100 100 old\n");

	/* The last line repeats "old" over everything: it wins everywhere. */
	expect(pm, 0x145, "old");
	sym_perfmap__free(pm);

	pm = parse("100 100 old\n"
		   "140 20 new\n"
		   "100 10 newer_head\n"
		   "1f0 20 tail_over_end\n");
	expect(pm, 0x100, "newer_head");
	expect(pm, 0x10f, "newer_head");
	expect(pm, 0x110, "old");
	expect(pm, 0x13f, "old");
	expect(pm, 0x140, "new");
	expect(pm, 0x15f, "new");
	expect(pm, 0x160, "old");
	expect(pm, 0x1ef, "old");
	expect(pm, 0x1f0, "tail_over_end");
	expect(pm, 0x20f, "tail_over_end");
	expect(pm, 0x210, NULL);
	sym_perfmap__free(pm);
}

static void test_incremental(void **state)
{
	const char *text = "100 10 first\n200 10 second\n300 10 third\n100 10 moved\n";
	struct sym_perfmap *pm = sym_perfmap__new(0);
	size_t i, n = strlen(text);

	/* Byte by byte, committing as a reader would after each read. */
	for (i = 0; i < n; i++) {
		assert_int_equal(sym_perfmap__feed(pm, text + i, 1, false), 0);
		assert_int_equal(sym_perfmap__commit(pm), 0);
		if (i == 20) /* inside line 2: line 1 only */
			expect(pm, 0x200, NULL);
	}
	expect(pm, 0x105, "moved");
	expect(pm, 0x205, "second");
	expect(pm, 0x305, "third");
	assert_int_equal(sym_perfmap__count(pm), 3);
	assert_int_equal(sym_perfmap__lines(pm), 4);

	/* A rewritten file is read again from scratch. */
	sym_perfmap__reset(pm);
	expect(pm, 0x105, NULL);
	assert_int_equal(sym_perfmap__feed(pm, "400 10 fresh", 12, false), 0);
	assert_int_equal(sym_perfmap__commit(pm), 0);
	expect(pm, 0x405, NULL); /* no '\n' yet: the writer may be mid-line */
	assert_int_equal(sym_perfmap__feed(pm, "\n", 1, false), 0);
	assert_int_equal(sym_perfmap__commit(pm), 0);
	expect(pm, 0x405, "fresh");
	sym_perfmap__free(pm);
}

static void test_bound(void **state)
{
	struct sym_perfmap *pm;
	char line[64];
	size_t i;

	pm = sym_perfmap__new(3);
	for (i = 0; i < 10; i++) {
		snprintf(line, sizeof(line), "%zx 10 f%zu\n", 0x1000 + i * 0x10, i);
		assert_int_equal(sym_perfmap__feed(pm, line, strlen(line), false), 0);
	}
	assert_int_equal(sym_perfmap__commit(pm), 0);
	assert_true(sym_perfmap__full(pm));
	assert_int_equal(sym_perfmap__count(pm), 3);
	expect(pm, 0x1025, "f2");
	expect(pm, 0x1035, NULL);
	sym_perfmap__free(pm);
}

static void test_many_rewrites_stay_compact(void **state)
{
	struct sym_perfmap *pm = sym_perfmap__new(0);
	char line[128];
	size_t i, round;

	/* The same 1000 ranges named again and again (V8 reusing code space). */
	for (round = 0; round < 50; round++) {
		for (i = 0; i < 1000; i++) {
			snprintf(line, sizeof(line),
				 "%zx 40 round%zu_function_with_a_long_name_%zu\n",
				 0x100000 + i * 0x40, round, i);
			assert_int_equal(sym_perfmap__feed(pm, line, strlen(line), false), 0);
		}
		assert_int_equal(sym_perfmap__commit(pm), 0);
	}
	assert_int_equal(sym_perfmap__count(pm), 1000);
	expect(pm, 0x100000 + 999 * 0x40, "round49_function_with_a_long_name_999");
	/* 50 rounds of ~40-byte names: the dead ones were dropped. */
	assert_true(sym_perfmap__bytes(pm) < 300 * 1024);
	sym_perfmap__free(pm);
}

/* Past max_entries the rest of the map is refused: nothing past the bound
 * is admitted, and the bound is counted. */
static void test_perfmap_entries_bound(void **state)
{
	const char *text = "1000 10 a\n2000 10 b\n3000 10 c\n4000 10 d\n";
	struct sym_perfmap *pm;

	(void)state;
	caps__reset();
	pm = sym_perfmap__parse(text, strlen(text), 2);
	assert_non_null(pm);
	assert_int_equal(sym_perfmap__count(pm), 2);
	assert_true(sym_perfmap__full(pm));
	assert_int_equal(caps__count(CAPS_PERFMAP), 1);
	sym_perfmap__free(pm);
	caps__reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_overlap_last_wins),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_many_rewrites_stay_compact),
		cmocka_unit_test(test_perfmap_entries_bound),
	};

	log_level = LOG_ERR;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
