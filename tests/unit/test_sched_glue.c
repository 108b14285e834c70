// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_sched_glue.c - the tracing frames atop a sched_switch kernel stack are
 * cut by name, each address named once, and the scheduler's frames kept */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sched_glue.h"

struct fake_ksyms {
	const uint64_t *addrs;
	const char *const *names;
	size_t n;
	unsigned int asked;
};

static const char *fake_name(void *ctx, uint64_t addr)
{
	struct fake_ksyms *k = ctx;
	size_t i;

	k->asked++;
	for (i = 0; i < k->n; i++)
		if (k->addrs[i] == addr)
			return k->names[i];
	return NULL;
}

static void test_names(void **state)
{
	(void)state;
	assert_true(sched_glue_is_glue_name("bpf_prog_babc0913b436af85_prof_switch"));
	assert_true(sched_glue_is_glue_name("bpf_trace_run4"));
	assert_true(sched_glue_is_glue_name("__bpf_trace_sched_switch"));
	assert_true(sched_glue_is_glue_name("__traceiter_sched_switch"));
	assert_false(sched_glue_is_glue_name("__schedule"));
	assert_false(sched_glue_is_glue_name("bpf_map_lookup_elem"));
	assert_false(sched_glue_is_glue_name(""));
}

static void test_cut_and_remembered(void **state)
{
	const uint64_t addrs[] = { 0xa0001, 0xb0002, 0xc0003, 0xd0004 };
	const char *const names[] = { "bpf_prog_1234_prof_switch", "bpf_trace_run4", "__schedule",
				      "schedule" };
	struct fake_ksyms k = { addrs, names, 4, 0 };
	struct sched_glue g;

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(sched_glue_skip(&g, addrs, 4, fake_name, &k), 2);
	assert_int_equal(k.asked, 3); /* two glue frames, then the first kept one */
	/* The same stack again: no name is asked for. */
	assert_int_equal(sched_glue_skip(&g, addrs, 4, fake_name, &k), 2);
	assert_int_equal(k.asked, 3);
	/* A stack that starts in the scheduler: nothing cut. */
	assert_int_equal(sched_glue_skip(&g, addrs + 2, 2, fake_name, &k), 0);
	assert_int_equal(g.lookups, 3);
}

static void test_unnamed_only_as_leaf(void **state)
{
	const uint64_t addrs[] = { 0xa0001, 0xe0005, 0xc0003 };
	const char *const names[] = { NULL, NULL, "__schedule" };
	struct fake_ksyms k = { addrs, names, 3, 0 };
	struct sched_glue g;

	(void)state;
	memset(&g, 0, sizeof(g));
	/* An unnamed leaf is the program (loaded after kallsyms was read); an
	 * unnamed frame below it is kept, not guessed away. */
	assert_int_equal(sched_glue_skip(&g, addrs, 3, fake_name, &k), 1);
}

static void test_bounds(void **state)
{
	uint64_t addrs[SCHED_GLUE_MAX_DEPTH + 4];
	const char *names[SCHED_GLUE_MAX_DEPTH + 4];
	struct fake_ksyms k = { addrs, names, SCHED_GLUE_MAX_DEPTH + 4, 0 };
	struct sched_glue g;
	size_t i;

	(void)state;
	memset(&g, 0, sizeof(g));
	for (i = 0; i < SCHED_GLUE_MAX_DEPTH + 4; i++) {
		addrs[i] = 0x1000 + i;
		names[i] = "bpf_trace_run2";
	}
	/* All glue: at most SCHED_GLUE_MAX_DEPTH cut, never the whole stack. */
	assert_int_equal(sched_glue_skip(&g, addrs, SCHED_GLUE_MAX_DEPTH + 4, fake_name, &k),
			 SCHED_GLUE_MAX_DEPTH);
	assert_int_equal(sched_glue_skip(&g, addrs, 0, fake_name, &k), 0);
	/* Sets are bounded: past them names are asked again, answers the same. */
	names[0] = "do_nanosleep";
	for (i = 0; i < 3 * SCHED_GLUE_MAX_ADDRS; i++) {
		uint64_t a[2] = { 0x9000 + i, 0xc0003 };

		addrs[0] = a[0];
		assert_int_equal(sched_glue_skip(&g, a, 2, fake_name, &k), 0);
	}
	assert_true(g.nglue <= SCHED_GLUE_MAX_ADDRS);
	assert_true(g.nkeep <= SCHED_GLUE_MAX_ADDRS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_cut_and_remembered),
		cmocka_unit_test(test_unnamed_only_as_leaf),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests_name("sched_glue", tests, NULL, NULL);
}
