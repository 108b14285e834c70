// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_sym_ksym.c - kallsyms parser on canned inputs (modules, hidden
 * addresses, hostile lines, the bound on symbols) and, as root, on the live
 * /proc/kallsyms */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "caps.h"
#include "sym_ksym.h"

#include "sym_test_elf.h"

#define PROC_DIR TESTS_DIR "/fixtures/proc"

static void expect(const struct sym_ksym *k, uint64_t addr, const char *name, const char *module,
		   uint64_t offset)
{
	struct sym_result r;

	sym_ksym__lookup(k, addr, &r);
	assert_int_equal(r.reason, SYM_OK);
	assert_string_equal(r.name, name);
	if (module)
		assert_string_equal(r.module, module);
	else
		assert_null(r.module);
	assert_int_equal(r.offset, offset);
}

static void expect_reason(const struct sym_ksym *k, uint64_t addr, enum sym_reason why)
{
	struct sym_result r;

	sym_ksym__lookup(k, addr, &r);
	assert_int_equal(r.reason, why);
	assert_null(r.name);
}

static void check_normal(const struct sym_ksym *k)
{
	assert_int_equal(sym_ksym__count(k), 17);
	assert_int_equal(sym_ksym__bad_lines(k), 0);
	assert_false(sym_ksym__restricted(k));
	expect(k, 0xffffffff821f8be0, "schedule", NULL, 0);
	expect(k, 0xffffffff821f8be0 + 0x42, "schedule", NULL, 0x42);
	expect(k, 0xffffffff821f8cb0 - 1, "schedule", NULL, 0xcf);
	expect(k, 0xffffffff821f7c80 + 5, "__schedule", NULL, 5);
	/* Aliases at one address: the first in the file names it. */
	expect(k, 0xffffffff81000000 + 1, "srso_alias_untrain_ret", NULL, 1);
	/* Weak text symbols count; a function's padding goes by its name. */
	expect(k, 0xffffffff81207610 + 3, "abort", NULL, 3);
	expect(k, 0xffffffff81207600 + 2, "abort", NULL, 2);
	/* Data symbols do not cover code: vfs_read ends at ksys_read. */
	expect(k, 0xffffffff816b8ee0 + 1, "ksys_read", NULL, 1);
	/* Modules, listed out of order in the file. */
	expect(k, 0xffffffffc0a01000 + 0x10, "ext4_file_read_iter", "ext4", 0x10);
	expect(k, 0xffffffffc0a01200 + 0x10, "ext4_map_blocks", "ext4", 0x10);
	expect(k, 0xffffffffc0b02000, "nf_hook_slow", "nf_tables", 0);
	expect(k, 0xffffffffc0025bbc + 8, "bpf_prog_a410f9d243fca0c1_100", "bpf", 8);
	expect(k, 0xffffffffc0201000 + 1, "ftrace_trampoline", "__builtin__ftrace", 1);
	expect_reason(k, 0xffffffff80000000, SYM_UNKNOWN_ADDR);
	expect_reason(k, 0, SYM_UNKNOWN_ADDR);
	/* Far past the last symbol before a gap is not that symbol. */
	expect_reason(k, 0xffffffff822090c8 + SYM_KSYM_MAX_SPAN, SYM_UNKNOWN_ADDR);
	expect_reason(k, 0xffffffffc0b02000 + SYM_KSYM_MAX_SPAN, SYM_UNKNOWN_ADDR);
	expect(k, 0xffffffffc0b02000 + SYM_KSYM_MAX_SPAN - 1, "nf_hook_slow", "nf_tables",
	       SYM_KSYM_MAX_SPAN - 1);
}

static void test_normal(void **state)
{
	size_t len;
	char *text = sym_test_read_file(PROC_DIR "/kallsyms_normal.txt", &len);
	struct sym_ksym *k = sym_ksym__parse(text, len);

	assert_non_null(k);
	check_normal(k);
	assert_true(sym_ksym__bytes(k) > 17 * 16);
	sym_ksym__free(k);
	free(text);
	/* The streaming reader gives the same table. */
	k = sym_ksym__load(PROC_DIR "/kallsyms_normal.txt");
	assert_non_null(k);
	check_normal(k);
	sym_ksym__free(k);
	sym_ksym__free(NULL);
}

static void test_restricted(void **state)
{
	struct sym_ksym *k = sym_ksym__load(PROC_DIR "/kallsyms_zero.txt");

	assert_non_null(k);
	assert_true(sym_ksym__restricted(k));
	assert_int_equal(sym_ksym__count(k), 0);
	expect_reason(k, 0xffffffff821f8be0, SYM_NO_KERNEL);
	sym_ksym__free(k);
}

static void test_hostile(void **state)
{
	struct sym_ksym *k = sym_ksym__load(PROC_DIR "/kallsyms_hostile.txt");
	char longest[SYM_KSYM_MAX_NAME + 1];

	assert_non_null(k);
	assert_int_equal(sym_ksym__count(k), 5);
	assert_int_equal(sym_ksym__bad_lines(k), 18);
	memset(longest, 'a', SYM_KSYM_MAX_NAME);
	longest[SYM_KSYM_MAX_NAME] = '\0';
	expect(k, 0xffffffff81000000, "good_first", NULL, 0);
	expect(k, 0xffffffff81000100 + 1, longest, NULL, 1);
	expect(k, 0xffffffff81000500, "good_module", "goodmod", 0);
	expect(k, 0xffffffff81000600, "good_last", NULL, 0);
	expect(k, 0xffffffff81000700 + 2, "no_newline_at_end", NULL, 2);
	sym_ksym__free(k);
}

static void test_empty_and_binary(void **state)
{
	static const char bin[] = "\xff\xfe\x00\x01 T \n\n\n\t\t[x]\n";
	struct sym_ksym *k;

	k = sym_ksym__parse("", 0);
	assert_non_null(k);
	assert_int_equal(sym_ksym__count(k), 0);
	assert_false(sym_ksym__restricted(k));
	expect_reason(k, 0xffffffff81000000, SYM_NO_KERNEL);
	sym_ksym__free(k);
	k = sym_ksym__parse(bin, sizeof(bin) - 1);
	assert_non_null(k);
	assert_int_equal(sym_ksym__count(k), 0);
	assert_int_equal(sym_ksym__bad_lines(k), 4);
	sym_ksym__free(k);
	errno = 0;
	assert_null(sym_ksym__load(PROC_DIR "/no-such-kallsyms"));
	assert_int_equal(errno, ENOENT);
}

/* "__pfx_NAME" shares NAME when NAME follows it, and only then. */
static void test_padding(void **state)
{
	static const char text[] = "ffffffff81000000 t __pfx_one\n"
				   "ffffffff81000010 t one\n"
				   "ffffffff81000100 t __pfx_orphan\n"
				   "ffffffff81000110 t __pfx_two\n"
				   "ffffffff81000120 t two\n"
				   "ffffffff81000200 t __pfx_other\n"
				   "ffffffff81000210 d other\n"
				   "ffffffff81000300 t __pfx_modfn\t[m]\n"
				   "ffffffff81000310 t modfn\n"
				   "ffffffff81000400 t __pfx_last\n";
	struct sym_ksym *k = sym_ksym__parse(text, sizeof(text) - 1);

	assert_non_null(k);
	assert_int_equal(sym_ksym__count(k), 9);
	expect(k, 0xffffffff81000004, "one", NULL, 4);
	expect(k, 0xffffffff81000014, "one", NULL, 4);
	expect(k, 0xffffffff81000101, "__pfx_orphan", NULL, 1);
	expect(k, 0xffffffff81000111, "two", NULL, 1);
	expect(k, 0xffffffff81000201, "__pfx_other", NULL, 1);
	expect(k, 0xffffffff81000211, "__pfx_other", NULL, 0x11);
	expect(k, 0xffffffff81000301, "__pfx_modfn", "m", 1);
	expect(k, 0xffffffff81000311, "modfn", NULL, 1);
	expect(k, 0xffffffff81000401, "__pfx_last", NULL, 1);
	sym_ksym__free(k);
}

/* A long run of lines: the buffer and array growth paths. */
static void test_many(void **state)
{
	size_t n = 200000, i;
	char *text = malloc(n * 48), *p = text;
	struct sym_ksym *k;
	struct sym_result r;

	assert_non_null(text);
	for (i = 0; i < n; i++)
		p += sprintf(p, "%016zx %c fn_%zu%s\n", (size_t)0xffffffff81000000 + i * 0x40,
			     i % 2 ? 't' : 'T', i, i % 1000 ? "" : "\t[m]");
	k = sym_ksym__parse(text, p - text);
	assert_non_null(k);
	assert_int_equal(sym_ksym__count(k), n);
	sym_ksym__lookup(k, 0xffffffff81000000 + 12345 * 0x40 + 7, &r);
	assert_int_equal(r.reason, SYM_OK);
	assert_string_equal(r.name, "fn_12345");
	assert_int_equal(r.offset, 7);
	sym_ksym__lookup(k, 0xffffffff81000000 + 3000 * 0x40, &r);
	assert_string_equal(r.module, "m");
	sym_ksym__free(k);
	free(text);
}

/* Past the bound on symbols the rest of the text is ignored: the table
 * keeps exactly the first max symbols, each once (a symbol pushed twice
 * would take two places), lookups of those are right, and nothing is
 * written past the array (ASan, in unit-sanitized). 49 plain symbols, then
 * "__pfx_" pairs, puts the bound inside a pair (max 100: the shape that used
 * to write one entry past the array) and after a whole one (max 99). */
static void test_bound(void **state)
{
	const uint64_t base = 0xffffffff81000000;
	const size_t plain = 49, pairs = 100;
	char *text = malloc((plain + 2 * pairs) * 64), *p = text, name[32];
	struct sym_ksym *k;
	struct sym_result r;
	size_t max, i;

	assert_non_null(text);
	for (i = 0; i < plain; i++)
		p += sprintf(p, "%016" PRIx64 " t plain_%zu\n", base + i * 0x40, i);
	for (i = 0; i < pairs; i++) {
		p += sprintf(p, "%016" PRIx64 " t __pfx_pair_%zu\n", base + (plain + i) * 0x40, i);
		p += sprintf(p, "%016" PRIx64 " t pair_%zu\n", base + (plain + i) * 0x40 + 0x10, i);
	}
	for (max = 100; max >= 99; max--) {
		/* Pairs kept whole; at 100 the function of the next one fits too,
		 * its padding does not. */
		size_t whole = (max - plain) / 2;
		uint64_t next = base + (plain + whole) * 0x40;

		caps__reset();
		k = sym_ksym__parse_max(text, p - text, max);
		assert_non_null(k);
		assert_true(sym_ksym__truncated(k));
		/* The bound is named and counted once per parse. */
		assert_int_equal(caps__count(CAPS_KSYM), 1);
		assert_int_equal(sym_ksym__count(k), max);
		assert_int_equal(sym_ksym__bad_lines(k), 1);
		for (i = 0; i < plain; i++) {
			sprintf(name, "plain_%zu", i);
			expect(k, base + i * 0x40 + 3, name, NULL, 3);
		}
		for (i = 0; i < whole; i++) {
			sprintf(name, "pair_%zu", i);
			expect(k, base + (plain + i) * 0x40 + 1, name, NULL, 1);
			expect(k, base + (plain + i) * 0x40 + 0x12, name, NULL, 2);
		}
		sprintf(name, "pair_%zu", whole);
		if (max % 2 == 0) {
			expect(k, next + 0x12, name, NULL, 2);
		} else {
			sym_ksym__lookup(k, next + 0x12, &r);
			assert_true(r.reason != SYM_OK || strcmp(r.name, name));
		}
		/* Past the bound nothing is named after what was dropped. */
		sprintf(name, "pair_%zu", whole + 1);
		sym_ksym__lookup(k, next + 0x40 + 0x12, &r);
		assert_true(r.reason != SYM_OK || strcmp(r.name, name));
		sym_ksym__free(k);
	}
	/* Under the bound nothing is cut, and nothing is counted. */
	caps__reset();
	k = sym_ksym__parse_max(text, p - text, plain + 2 * pairs);
	assert_int_equal(caps__count(CAPS_KSYM), 0);
	assert_non_null(k);
	assert_false(sym_ksym__truncated(k));
	assert_int_equal(sym_ksym__count(k), plain + 2 * pairs);
	assert_int_equal(sym_ksym__bad_lines(k), 0);
	sym_ksym__free(k);
	free(text);
}

/* The address of a function, read from the file by the test itself. */
static uint64_t live_addr(const char *want)
{
	char line[1024], name[600], type;
	unsigned long long addr;
	uint64_t found = 0;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %599s", &addr, &type, name) == 3 && !strcmp(name, want) &&
		    (type == 'T' || type == 't')) {
			found = addr;
			break;
		}
	}
	fclose(f);
	return found;
}

static void test_live(void **state)
{
	uint64_t sched;
	struct sym_ksym *k;
	struct sym_result r;

	if (geteuid() != 0) {
		skip(); /* kallsyms addresses are hidden without root */
		return;
	}
	sched = live_addr("schedule");
	assert_true(sched != 0);
	k = sym_ksym__load("/proc/kallsyms");
	assert_non_null(k);
	assert_false(sym_ksym__restricted(k));
	assert_true(sym_ksym__count(k) > 10000);
	assert_int_equal(sym_ksym__bad_lines(k), 0);
	sym_ksym__lookup(k, sched, &r);
	assert_int_equal(r.reason, SYM_OK);
	assert_string_equal(r.name, "schedule");
	assert_int_equal(r.offset, 0);
	sym_ksym__lookup(k, sched + 4, &r);
	assert_string_equal(r.name, "schedule");
	assert_int_equal(r.offset, 4);
	print_message("live kallsyms: symbols=%zu bytes=%zu\n", sym_ksym__count(k),
		      sym_ksym__bytes(k));
	sym_ksym__free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal),	cmocka_unit_test(test_restricted),
		cmocka_unit_test(test_hostile), cmocka_unit_test(test_empty_and_binary),
		cmocka_unit_test(test_padding), cmocka_unit_test(test_many),
		cmocka_unit_test(test_bound),	cmocka_unit_test(test_live),
	};

	if (geteuid() != 0)
		fprintf(stderr, "test_sym_ksym: not root, the live kallsyms test is skipped\n");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
