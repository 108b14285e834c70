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

/* Bytes that are not UTF-8 (a comm set by prctl, a mangled symbol) are
 * repaired as pprof and the labels repair them: each stray byte is '_'. */
static void test_invalid_utf8(void **state)
{
	char longname[600];
	const struct report_frame frames[] = {
		{ NAMED("caf\xc3\xa9"), .kind = REPORT_FRAME_USER },
		{ NAMED("bad\xff\xfe;x"), .kind = REPORT_FRAME_USER },
		{ NAMED(longname), .kind = REPORT_FRAME_USER },
	};
	const uint32_t s1[] = { 1, 0 }, s2[] = { 2 };
	const struct report_stack stacks[] = {
		{ .frames = s1, .nframes = 2, .count = 1 },
		{ .frames = s2, .nframes = 1, .count = 1 },
	};
	struct report_proc procs[] = {
		{ .pid = 1, .comm = "ab\xc3(", .stacks = stacks, .nstacks = 2, .samples = 2 },
	};
	const struct report r = { .frames = frames, .nframes = 3, .procs = procs, .nprocs = 1 };
	char *buf = NULL, want[700];
	size_t len = 0;
	FILE *f;

	/* Past the stack buffer: the repair allocates. */
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	longname[300] = '\x80';
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(out_folded_write(f, &r, false), 0);
	fclose(f);
	longname[300] = '_';
	snprintf(want, sizeof(want), "ab_(;caf\xc3\xa9;bad__:x 1\nab_(;%s 1\n", longname);
	assert_string_equal(buf, want);
	free(buf);
}

/* An off-CPU profile's number is its time blocked in microseconds, summed in
 * ns per line and rounded once; a root frame keeps it apart on a shared
 * stream. */
static void test_off_cpu_micros(void **state)
{
	const struct report_frame frames[] = {
		{ NAMED("main"), .kind = REPORT_FRAME_USER },
		{ NAMED("do_nanosleep"), .kind = REPORT_FRAME_KERNEL },
		{ NAMED("main"), .kind = REPORT_FRAME_USER, .addr = 8 },
	};
	const uint32_t s1[] = { 1, 0 }, s2[] = { 1, 2 };
	const struct report_stack stacks[] = {
		/* Two addresses, one text: 1.2994 ms + 0.7009 ms = 2.0003 ms. */
		{ .frames = s1, .nframes = 2, .count = 3, .value = 1299400 },
		{ .frames = s2, .nframes = 2, .count = 1, .value = 700900 },
	};
	struct report_proc procs[] = {
		{ .pid = 1, .comm = "app", .stacks = stacks, .nstacks = 2, .samples = 4 },
	};
	struct report r = { .frames = frames, .nframes = 3, .procs = procs, .nprocs = 1 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	r.type = report_type_off_cpu();
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(out_folded_write(f, &r, false), 0);
	assert_int_equal(out_folded_write_root(f, &r, false, "[off-cpu]"), 0);
	fclose(f);
	assert_string_equal(buf, "app;main;do_nanosleep_[k] 2000\n"
				 "[off-cpu];app;main;do_nanosleep_[k] 2000\n");
	free(buf);
	/* The same stacks as a CPU profile: counts. */
	r.type = report_type_cpu(100);
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(out_folded_write(f, &r, false), 0);
	fclose(f);
	assert_string_equal(buf, "app;main;do_nanosleep_[k] 4\n");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_format),
					    cmocka_unit_test(test_off_cpu_micros),
					    cmocka_unit_test(test_inline_and_escaping),
					    cmocka_unit_test(test_invalid_utf8) };

	return cmocka_run_group_tests_name("out_folded", tests, NULL, NULL);
}
