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

static void test_format(void **state)
{
	const struct report_frame frames[] = {
		{ .name = "main", .kind = REPORT_FRAME_USER, .named = true },
		{ .name = "work", .kind = REPORT_FRAME_USER, .named = true },
		{ .name = "vfs_write", .kind = REPORT_FRAME_KERNEL, .named = true },
		{ .name = "libx.so+0x10", .kind = REPORT_FRAME_USER },
		/* Another address in work(): the same text once named. */
		{ .name = "work", .kind = REPORT_FRAME_USER, .named = true, .addr = 8 },
	};
	/* Leaf first: kernel leaf, then user frames toward main. */
	const uint32_t s1[] = { 2, 1, 0 }, s2[] = { 3, 0 }, s3[] = { 2, 4, 0 };
	const struct report_stack stacks[] = {
		{ .frames = s1, .nframes = 3, .count = 7 },
		{ .frames = s2, .nframes = 2, .count = 1 },
		{ .frames = s3, .nframes = 3, .count = 2 },
	};
	const struct report_proc procs[] = {
		{ .pid = 1, .comm = "my app", .stacks = stacks, .nstacks = 3, .samples = 10 },
		{ .pid = 2, .comm = "other", .stacks = stacks + 1, .nstacks = 1, .samples = 1 },
	};
	const struct report r = { .frames = frames, .nframes = 5, .procs = procs, .nprocs = 2 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(out_folded_write(f, &r), 0);
	fclose(f);
	/* Merged by text within a process, never across processes. */
	assert_string_equal(buf, "my app;main;libx.so+0x10 1\n"
				 "my app;main;work;vfs_write_[k] 9\n"
				 "other;main;libx.so+0x10 1\n");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_format) };

	return cmocka_run_group_tests_name("out_folded", tests, NULL, NULL);
}
