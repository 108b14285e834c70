// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_top_snap.c - ember top's tables: self vs total, recursion, kernel and inline names */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "top_snap.h"

#define NAMED(fn) .lines = &(const struct report_line){ .function = (fn) }, .nlines = 1

static const struct top_row *row(const struct top_snap *s, enum top_by by, const char *name)
{
	size_t i;

	for (i = 0; i < s->nrows[by]; i++)
		if (!strcmp(s->rows[by][i].name, name))
			return &s->rows[by][i];
	fail_msg("no row %s", name);
	return NULL;
}

static void test_function_self_total(void **state)
{
	/* Innermost first: hash() inlined into run(). */
	const struct report_line chain[] = { { .function = "hash" }, { .function = "run" } };
	const struct report_frame frames[] = {
		{ NAMED("main"), .kind = REPORT_FRAME_USER },
		{ NAMED("walk"), .kind = REPORT_FRAME_USER },
		{ NAMED("leaf"), .kind = REPORT_FRAME_USER },
		{ NAMED("read"), .kind = REPORT_FRAME_KERNEL },
		{ NAMED("read"), .kind = REPORT_FRAME_USER },
		{ .lines = chain, .nlines = 2, .kind = REPORT_FRAME_USER },
		{ .unnamed = "[unknown]", .kind = REPORT_FRAME_USER },
	};
	/* Leaf first. walk() recursing: its total counts each stack once. */
	const uint32_t s1[] = { 2, 1, 1, 1, 0 }, s2[] = { 1, 0 }, s3[] = { 3, 4, 0 },
		       s4[] = { 5, 0 }, s5[] = { 6 };
	const struct report_stack stacks[] = {
		{ .frames = s1, .nframes = 5, .count = 5 },
		{ .frames = s2, .nframes = 2, .count = 2 },
		{ .frames = s3, .nframes = 3, .count = 1 },
		{ .frames = s4, .nframes = 2, .count = 1 },
		{ .frames = s5, .nframes = 1, .count = 1 },
	};
	struct report_proc procs[] = {
		{ .pid = 7,
		  .comm = "app",
		  .exe = "/usr/bin/app-server",
		  .stacks = stacks,
		  .nstacks = 4,
		  .samples = 9 },
		{ .pid = 8,
		  .comm = "app",
		  .exe = "/usr/bin/app-server",
		  .stacks = stacks + 4,
		  .nstacks = 1,
		  .samples = 1 },
	};
	struct report r = {
		.frames = frames, .nframes = 7, .procs = procs, .nprocs = 2, .samples = 10
	};
	struct cfg cfg = { 0 };
	struct top_snap *s;

	r.type = report_type_cpu(100);
	s = top_snap__new(&cfg, &r);
	assert_non_null(s);
	assert_int_equal(s->samples, 10);
	assert_int_equal(row(s, TOP_BY_FUNCTION, "leaf")->self, 5);
	assert_int_equal(row(s, TOP_BY_FUNCTION, "walk")->self, 2);
	assert_int_equal(row(s, TOP_BY_FUNCTION, "walk")->total, 7);
	assert_int_equal(row(s, TOP_BY_FUNCTION, "main")->self, 0);
	assert_int_equal(row(s, TOP_BY_FUNCTION, "main")->total, 9);
	/* A kernel function and a user one of the same name stay apart. */
	assert_int_equal(row(s, TOP_BY_FUNCTION, "read [k]")->self, 1);
	assert_int_equal(row(s, TOP_BY_FUNCTION, "read")->self, 0);
	assert_int_equal(row(s, TOP_BY_FUNCTION, "read")->total, 1);
	/* The innermost inline level is where the time went. */
	assert_int_equal(row(s, TOP_BY_FUNCTION, "hash")->self, 1);
	assert_int_equal(row(s, TOP_BY_FUNCTION, "run")->self, 0);
	assert_int_equal(row(s, TOP_BY_FUNCTION, "run")->total, 1);
	assert_int_equal(row(s, TOP_BY_FUNCTION, "[unknown]")->self, 1);
	/* Processes by comm and pid; both are one service, named by the exe. */
	assert_int_equal(row(s, TOP_BY_PROCESS, "app [7]")->self, 9);
	assert_int_equal(row(s, TOP_BY_PROCESS, "app [8]")->self, 1);
	assert_int_equal(s->nrows[TOP_BY_SERVICE], 1);
	assert_int_equal(row(s, TOP_BY_SERVICE, "app-server")->total, 10);

	top_snap__sort(s, TOP_BY_FUNCTION, TOP_SORT_SELF);
	assert_string_equal(s->rows[TOP_BY_FUNCTION][0].name, "leaf");
	assert_string_equal(s->rows[TOP_BY_FUNCTION][1].name, "walk");
	top_snap__sort(s, TOP_BY_FUNCTION, TOP_SORT_TOTAL);
	assert_string_equal(s->rows[TOP_BY_FUNCTION][0].name, "main");
	top_snap__sort(s, TOP_BY_FUNCTION, TOP_SORT_NAME);
	assert_string_equal(s->rows[TOP_BY_FUNCTION][0].name, "[unknown]");
	top_snap__free(s);
	arena_release(&r.arena);
}

static void test_empty(void **state)
{
	struct report r = { .type = report_type_cpu(100) };
	struct cfg cfg = { 0 };
	struct top_snap *s = top_snap__new(&cfg, &r);
	int by;

	assert_non_null(s);
	for (by = 0; by < TOP_BY_MAX; by++)
		assert_int_equal(s->nrows[by], 0);
	top_snap__sort(s, TOP_BY_FUNCTION, TOP_SORT_SELF);
	top_snap__free(s);
	top_snap__free(NULL);
	arena_release(&r.arena);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_function_self_total),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
