// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_sched_glue.c - the tracing frames atop a sched_switch kernel stack are
 * cut by name, each address named once, and the scheduler's frames kept;
 * off-CPU stack records joined with their ends, every one accounted for */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
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

/* Every stack record taken is joined, waiting, or dropped and counted. */
static void assert_accounted(const struct sched_join *j)
{
	struct sched_join_stats st;

	sched_join_stats(j, &st);
	assert_int_equal(st.stacks,
			 st.joined + st.waiting + st.unended + st.evicted + st.nomem);
}

/* A stand-in stack record: its bytes tell tid and time apart. */
static void stack(struct sched_join *j, uint32_t tid, uint64_t time_ns)
{
	uint64_t rec[3] = { tid, time_ns, 0xabcdef };

	sched_join_stack(j, tid, time_ns, rec, sizeof(rec));
}

/* The end (tid, time_ns) joins its own record, or none (0). */
static int end(struct sched_join *j, uint32_t tid, uint64_t time_ns)
{
	struct sched_join_entry *e = sched_join_end(j, tid, time_ns);

	if (!e)
		return 0;
	assert_int_equal(e->size, 3 * sizeof(uint64_t));
	assert_int_equal(e->rec[0], tid);
	assert_int_equal(e->rec[1], time_ns);
	assert_int_equal(e->rec[2], 0xabcdef);
	free(e);
	return 1;
}

static void test_join_pairs(void **state)
{
	struct sched_join j;

	(void)state;
	assert_int_equal(sched_join_init(&j, 8), 0);
	/* Interleaved threads: each end finds its own stack record. */
	stack(&j, 10, 100);
	stack(&j, 11, 105);
	stack(&j, 12, 107);
	assert_int_equal(end(&j, 11, 105), 1);
	assert_int_equal(end(&j, 10, 100), 1);
	assert_int_equal(j.stats.waiting, 1);
	assert_int_equal(j.stats.joined, 2);
	/* Joined once: the same end again finds nothing. */
	assert_int_equal(end(&j, 10, 100), 0);
	assert_int_equal(j.stats.ends_unmatched, 1);
	assert_accounted(&j);
	sched_join_release(&j);
}

static void test_join_end_without_stack(void **state)
{
	struct sched_join j;

	(void)state;
	assert_int_equal(sched_join_init(&j, 8), 0);
	/* Its stack record was lost: counted, nothing joined. */
	assert_int_equal(end(&j, 20, 200), 0);
	assert_int_equal(j.stats.ends_unmatched, 1);
	/* A later switch-out's record waits: an earlier end leaves it be. */
	stack(&j, 20, 300);
	assert_int_equal(end(&j, 20, 250), 0);
	assert_int_equal(j.stats.ends_unmatched, 2);
	assert_int_equal(end(&j, 20, 300), 1);
	/* An earlier switch-out's record waits: a later end means its own
	 * record was lost and the earlier one's end can never come. */
	stack(&j, 20, 400);
	assert_int_equal(end(&j, 20, 500), 0);
	assert_int_equal(j.stats.ends_unmatched, 3);
	assert_int_equal(j.stats.unended, 1);
	assert_int_equal(j.stats.waiting, 0);
	assert_accounted(&j);
	sched_join_release(&j);
}

static void test_join_stack_never_ended(void **state)
{
	struct sched_join j;

	(void)state;
	assert_int_equal(sched_join_init(&j, 8), 0);
	/* A short block sends no end: the thread's next stack record says
	 * the first one is over, and it is dropped, counted. */
	stack(&j, 30, 100);
	stack(&j, 30, 200);
	assert_int_equal(j.stats.unended, 1);
	assert_int_equal(j.stats.waiting, 1);
	assert_int_equal(end(&j, 30, 100), 0);
	assert_int_equal(end(&j, 30, 200), 1);
	assert_accounted(&j);
	sched_join_release(&j);
}

static void test_join_bounded_exits(void **state)
{
	const size_t max = 64;
	struct sched_join j;
	uint32_t tid;

	(void)state;
	assert_int_equal(sched_join_init(&j, max), 0);
	/* Threads that block and exit (or block for good) never end: the
	 * table holds at most max records, the oldest evicted first. */
	for (tid = 1; tid <= 10 * max; tid++) {
		stack(&j, tid, 1000 + tid);
		assert_true(j.stats.waiting <= max);
	}
	assert_int_equal(j.stats.waiting, max);
	assert_int_equal(j.stats.evicted, 9 * max);
	/* The oldest went first: the newest ones can still be joined. */
	assert_int_equal(end(&j, 1, 1001), 0);
	assert_int_equal(end(&j, 9 * max, 1000 + 9 * max), 0);
	assert_int_equal(end(&j, 9 * max + 1, 1000 + 9 * max + 1), 1);
	assert_int_equal(end(&j, 10 * max, 1000 + 10 * max), 1);
	assert_accounted(&j);
	/* An evicted thread's tid comes back: it starts afresh. */
	stack(&j, 1, 5000);
	assert_int_equal(end(&j, 1, 5000), 1);
	assert_accounted(&j);
	sched_join_release(&j);
	/* Released: empty, and usable again. */
	assert_int_equal(sched_join_init(&j, 1), 0);
	stack(&j, 1, 1);
	stack(&j, 2, 2);
	assert_int_equal(j.stats.evicted, 1);
	assert_int_equal(end(&j, 2, 2), 1);
	assert_accounted(&j);
	sched_join_release(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_cut_and_remembered),
		cmocka_unit_test(test_unnamed_only_as_leaf),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_join_pairs),
		cmocka_unit_test(test_join_end_without_stack),
		cmocka_unit_test(test_join_stack_never_ended),
		cmocka_unit_test(test_join_bounded_exits),
	};

	return cmocka_run_group_tests_name("sched_glue", tests, NULL, NULL);
}
