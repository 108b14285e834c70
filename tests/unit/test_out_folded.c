// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_out_folded.c - the folded line format, root first, kernel frames marked */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "out_folded.h"

/* A frame named by one line. */
#define NAMED(fn) .lines = &(const struct report_line){ .function = (fn) }, .nlines = 1

static void test_format(void **state)
{
	const struct report_frame frames[] = {
		{ NAMED("main"), .kind = REPORT_FRAME_USER },
		{ NAMED("work"), .kind = REPORT_FRAME_USER },
		{ NAMED("vfs_write"), .kind = REPORT_FRAME_KERNEL },
		{ .unnamed = "libx.so+0x10", .kind = REPORT_FRAME_USER },
		/* Another address in work(): the same text once named. */
		{ NAMED("work"), .kind = REPORT_FRAME_USER, .addr = 8 },
	};
	/* Leaf first: kernel leaf, then user frames toward main. */
	const uint32_t s1[] = { 2, 1, 0 }, s2[] = { 3, 0 }, s3[] = { 2, 4, 0 };
	const struct report_stack stacks[] = {
		{ .frames = s1, .nframes = 3, .count = 7 },
		{ .frames = s2, .nframes = 2, .count = 1 },
		{ .frames = s3, .nframes = 3, .count = 2 },
	};
	struct report_proc procs[] = {
		{ .pid = 1, .comm = "my app", .stacks = stacks, .nstacks = 3, .samples = 10 },
		{ .pid = 2, .comm = "other", .stacks = stacks + 1, .nstacks = 1, .samples = 1 },
	};
	const struct report r = { .frames = frames, .nframes = 5, .procs = procs, .nprocs = 2 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(out_folded_write(f, &r, false), 0);
	fclose(f);
	/* Merged by text within a process, never across processes. */
	assert_string_equal(buf, "my app;main;libx.so+0x10 1\n"
				 "my app;main;work;vfs_write_[k] 9\n"
				 "other;main;libx.so+0x10 1\n");
	free(buf);
}

/* Inline levels are frames of their own, outermost first in root-first
 * order; only the folded output escapes its separators, and comms too. */
static void test_inline_and_escaping(void **state)
{
	/* Innermost first: mix() inlined into hash() inlined into run(). */
	const struct report_line chain[] = {
		{ .function = "mix", .file = "h.c", .line = 3 },
		{ .function = "hash", .file = "h.c", .line = 10 },
		{ .function = "run", .file = "r.c", .line = 7 },
	};
	const struct report_frame frames[] = {
		{ NAMED("main"), .kind = REPORT_FRAME_USER },
		{ .lines = chain, .nlines = 3, .kind = REPORT_FRAME_USER },
		{ NAMED("a;b\tc"), .kind = REPORT_FRAME_USER },
	};
	const uint32_t s1[] = { 1, 0 }, s2[] = { 2, 0 };
	const struct report_stack stacks[] = {
		{ .frames = s1, .nframes = 2, .count = 3 },
		{ .frames = s2, .nframes = 2, .count = 1 },
	};
	struct report_proc procs[] = {
		{ .pid = 1, .comm = "x;y", .stacks = stacks, .nstacks = 2, .samples = 4 },
	};
	const struct report r = { .frames = frames, .nframes = 3, .procs = procs, .nprocs = 1 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(out_folded_write(f, &r, false), 0);
	fclose(f);
	assert_string_equal(buf, "x:y;main;a:b?c 1\n"
				 "x:y;main;run;hash;mix 3\n");
	/* The report itself keeps the names as found. */
	assert_string_equal(frames[2].lines[0].function, "a;b\tc");
	free(buf);

	/* --lines: each level with a line ends in it; one without stays bare. */
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(out_folded_write(f, &r, true), 0);
	fclose(f);
	assert_string_equal(buf, "x:y;main;a:b?c 1\n"
				 "x:y;main;run:7;hash:10;mix:3 3\n");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_format),
					    cmocka_unit_test(test_inline_and_escaping) };

	return cmocka_run_group_tests_name("out_folded", tests, NULL, NULL);
}
