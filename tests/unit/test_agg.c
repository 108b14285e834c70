// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_agg.c - window aggregation: identical stacks merge, processes stay
 * apart, every unique frame is named once, the window resets */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "agg.h"
#include "caps.h"
#include "fake_proc.h"

#define PERIOD 10000000 /* ns: 100 Hz */

static const struct report_type cpu100 = {
	.name = "process_cpu",
	.sample_type = "cpu",
	.sample_unit = "nanoseconds",
	.period_type = "cpu",
	.period_unit = "nanoseconds",
	.period = PERIOD,
};

static const struct report_frame *leaf(const struct report *r, const struct report_stack *s)
{
	return &r->frames[s->frames[0]];
}

static void test_merge_and_report(void **state)
{
	struct fake *fk = *state;
	struct proc *p = proc_table__get(fk->t, PID, "x", 1);
	const uint64_t ua[] = { 0x555555554100, 0x555555554201 };
	struct proc_frame f[3];
	struct agg *a = agg__new(&cpu100);
	struct agg_stats st;
	struct report *r;
	size_t i, total = 0;

	assert_non_null(a);
	f[0] = (struct proc_frame){ .kind = REPORT_FRAME_KERNEL, .addr = 0xffffffff81000000 };
	proc__normalize(fk->t, p, ua, 2, &f[1], 1);
	for (i = 0; i < 5; i++)
		assert_int_equal(agg__add(a, p, f, 3, PERIOD), 0);
	/* The same user frames without the kernel frame are another stack. */
	assert_int_equal(agg__add(a, p, &f[1], 2, PERIOD), 0);

	r = agg__finish(a, fk->sym, 1000, 15000000000ull);
	assert_non_null(r);
	assert_int_equal(r->start_ns, 1000);
	assert_int_equal(r->duration_ns, 15000000000ull);
	assert_int_equal(r->nprocs, 1);
	assert_int_equal(r->procs[0].pid, PID);
	assert_string_equal(r->procs[0].comm, "fakeproc");
	assert_string_equal(r->procs[0].unit, "web.service");
	assert_int_equal(r->procs[0].samples, 6);
	assert_int_equal(r->procs[0].nstacks, 2);
	/* Three unique frames, each once, however many samples used them. */
	assert_int_equal(r->nframes, 3);
	for (i = 0; i < r->procs[0].nstacks; i++) {
		const struct report_stack *s = &r->procs[0].stacks[i];

		total += s->count;
		assert_int_equal(s->value, s->count * PERIOD);
		if (s->nframes == 3) {
			assert_int_equal(s->count, 5);
			assert_int_equal(leaf(r, s)->kind, REPORT_FRAME_KERNEL);
		} else {
			assert_int_equal(s->count, 1);
			assert_int_equal(leaf(r, s)->kind, REPORT_FRAME_USER);
			assert_int_equal(leaf(r, s)->addr, 0x1100);
			assert_string_equal(leaf(r, s)->file, FIXTURES_DIR "/sym_pie");
		}
	}
	assert_int_equal(total, 6);
	assert_int_equal(r->samples, 6);
	assert_int_equal(r->total_frames, 5 * 3 + 2);
	for (i = 0; i < r->nframes; i++)
		assert_non_null(report_frame_name(&r->frames[i]));
	report__free(r);

	/* The next window starts empty. */
	r = agg__finish(a, fk->sym, 2000, 1);
	assert_non_null(r);
	assert_int_equal(r->nprocs, 0);
	assert_int_equal(r->nframes, 0);
	report__free(r);
	agg__stats(a, &st);
	assert_int_equal(st.samples, 6);
	assert_int_equal(st.dropped, 0);
	agg__free(a);
}

static void test_unnamed_frames(void **state)
{
	struct fake *fk = *state;
	struct proc *p = proc_table__get(fk->t, PID, "x", 1);
	struct proc_frame f[2] = {
		{ .kind = REPORT_FRAME_ANON, .addr = 0x7ffff0000010 },
		{ .kind = REPORT_FRAME_KERNEL, .addr = 1 },
	};
	struct agg *a = agg__new(&cpu100);
	struct report *r;
	size_t i;

	assert_int_equal(agg__add(a, p, f, 2, PERIOD), 0);
	r = agg__finish(a, fk->sym, 0, 1);
	assert_non_null(r);
	/* Never dropped: an unknown frame is a frame with a placeholder name. */
	assert_int_equal(r->nframes, 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(r->frames[i].nlines, 0);
		assert_string_equal(report_frame_name(&r->frames[i]), "[unknown]");
	}
	assert_int_equal(r->named_frames, 0);
	assert_int_equal(r->total_frames, 2);
	report__free(r);
	agg__free(a);
}

static void test_processes_apart(void **state)
{
	struct fake *fk = *state;
	struct proc *p1 = proc_table__get(fk->t, PID, "x", 1);
	struct proc *p2 = proc_table__get(fk->t, 999998, "other", 1);
	struct proc_frame f = { .kind = REPORT_FRAME_KERNEL, .addr = 0xffffffff81000010 };
	struct agg *a = agg__new(&cpu100);
	struct report *r;

	assert_int_equal(agg__add(a, p1, &f, 1, PERIOD), 0);
	assert_int_equal(agg__add(a, p2, &f, 1, PERIOD), 0);
	assert_int_equal(agg__add(a, p2, &f, 1, PERIOD), 0);
	r = agg__finish(a, fk->sym, 0, 1);
	assert_non_null(r);
	assert_int_equal(r->nprocs, 2);
	assert_int_equal(r->nframes, 1);
	assert_int_equal(r->procs[0].samples + r->procs[1].samples, 3);
	/* A process absent from /proc keeps the sample's comm. */
	assert_true(!strcmp(r->procs[0].comm, "other") || !strcmp(r->procs[1].comm, "other"));
	report__free(r);
	agg__free(a);
}

/* JIT code lives outside any file: the same address in two processes is two
 * different functions (each named by its own perf map), so it must be two
 * frames, each naming its process. Kernel addresses are shared. */
static void test_anon_frames_apart_per_process(void **state)
{
	struct fake *fk = *state;
	struct proc *p1 = proc_table__get(fk->t, PID, "x", 1);
	struct proc *p2 = proc_table__get(fk->t, 999998, "other", 1);
	struct proc_frame f[2] = {
		{ .kind = REPORT_FRAME_ANON, .addr = 0x7f0000001000 },
		{ .kind = REPORT_FRAME_KERNEL, .addr = 0xffffffff81000010 },
	};
	struct agg *a = agg__new(&cpu100);
	uint32_t pids[2] = { 0 };
	struct report *r;
	size_t i, anon = 0;

	assert_int_equal(agg__add(a, p1, f, 2, PERIOD), 0);
	assert_int_equal(agg__add(a, p2, f, 2, PERIOD), 0);
	assert_int_equal(agg__add(a, p2, f, 2, PERIOD), 0);
	r = agg__finish(a, fk->sym, 0, 1);
	assert_non_null(r);
	assert_int_equal(r->nprocs, 2);
	/* One kernel frame, two anonymous ones. */
	assert_int_equal(r->nframes, 3);
	for (i = 0; i < r->nframes; i++) {
		const struct report_frame *fr = &r->frames[i];

		if (fr->kind != REPORT_FRAME_ANON) {
			assert_int_equal(fr->owner_pid, 0);
			continue;
		}
		assert_int_equal(fr->addr, 0x7f0000001000);
		pids[anon++] = fr->owner_pid;
	}
	assert_int_equal(anon, 2);
	assert_true((pids[0] == PID && pids[1] == 999998) || (pids[0] == 999998 && pids[1] == PID));
	/* Each process's stack uses its own anonymous frame. */
	for (i = 0; i < r->nprocs; i++) {
		const struct report_proc *rp = &r->procs[i];

		assert_int_equal(rp->nstacks, 1);
		assert_int_equal(r->frames[rp->stacks[0].frames[0]].owner_pid, rp->pid);
	}
	report__free(r);
	agg__free(a);
}

/* Every bound of the window drops what is past it, counts it in caps.h and
 * in the drop counter, and the next window starts empty again. */
static struct proc_frame kframe(uint64_t i)
{
	return (struct proc_frame){ .kind = REPORT_FRAME_KERNEL, .addr = 0xffffffff80000000 + i };
}

static void finish_and_check(struct fake *fk, struct agg *a, uint64_t samples)
{
	struct report *r = agg__finish(a, fk->sym, 0, 1);

	assert_non_null(r);
	assert_int_equal(r->samples, samples);
	report__free(r);
}

static void test_cap_stacks(void **state)
{
	struct fake *fk = *state;
	struct proc *p = proc_table__get(fk->t, PID, "x", 1);
	struct agg *a = agg__new(&cpu100);
	struct agg_stats st;
	struct proc_frame f;
	uint64_t i;

	caps__reset();
	for (i = 0; i < AGG_MAX_STACKS; i++) {
		f = kframe(i);
		assert_int_equal(agg__add(a, p, &f, 1, PERIOD), 0);
	}
	for (i = 0; i < 3; i++) {
		f = kframe(AGG_MAX_STACKS + i);
		assert_int_equal(agg__add(a, p, &f, 1, PERIOD), -ENOSPC);
	}
	/* A stack already in the window still counts. */
	f = kframe(0);
	assert_int_equal(agg__add(a, p, &f, 1, PERIOD), 0);
	assert_int_equal(caps__count(CAPS_AGG_STACKS), 3);
	agg__stats(a, &st);
	assert_int_equal(st.dropped, 3);
	finish_and_check(fk, a, AGG_MAX_STACKS + 1);
	f = kframe(AGG_MAX_STACKS + 7);
	assert_int_equal(agg__add(a, p, &f, 1, PERIOD), 0);
	agg__free(a);
}

static void test_cap_frames(void **state)
{
	struct fake *fk = *state;
	struct proc *p = proc_table__get(fk->t, PID, "x", 1);
	struct agg *a = agg__new(&cpu100);
	struct proc_frame f[128];
	struct agg_stats st;
	uint64_t i, j, next = 0;

	caps__reset();
	for (i = 0; i < AGG_MAX_FRAMES / 128; i++) {
		for (j = 0; j < 128; j++)
			f[j] = kframe(next++);
		assert_int_equal(agg__add(a, p, f, 128, PERIOD), 0);
	}
	f[0] = kframe(next++);
	assert_int_equal(agg__add(a, p, f, 1, PERIOD), -ENOSPC);
	assert_int_equal(caps__count(CAPS_AGG_FRAMES), 1);
	agg__stats(a, &st);
	assert_int_equal(st.dropped, 1);
	finish_and_check(fk, a, AGG_MAX_FRAMES / 128);
	agg__free(a);
}

static void test_cap_pool(void **state)
{
	struct fake *fk = *state;
	struct proc *p = proc_table__get(fk->t, PID, "x", 1);
	struct agg *a = agg__new(&cpu100);
	struct proc_frame f[128];
	uint64_t i, j;

	caps__reset();
	/* 127 shared frames under a distinct leaf: 128 pool slots a stack. */
	for (j = 1; j < 128; j++)
		f[j] = kframe(1000000 + j);
	for (i = 0; i < AGG_MAX_POOL / 128; i++) {
		f[0] = kframe(i);
		assert_int_equal(agg__add(a, p, f, 128, PERIOD), 0);
	}
	f[0] = kframe(i);
	assert_int_equal(agg__add(a, p, f, 128, PERIOD), -ENOSPC);
	assert_int_equal(caps__count(CAPS_AGG_POOL), 1);
	finish_and_check(fk, a, AGG_MAX_POOL / 128);
	agg__free(a);
}

static void test_cap_procs(void **state)
{
	struct fake *fk = *state;
	struct agg *a = agg__new(&cpu100);
	struct proc_frame f = kframe(1);
	struct proc *p;
	uint32_t pid;

	caps__reset();
	/* Pids absent from the fake /proc: processes that just exited. */
	for (pid = 1; pid <= AGG_MAX_PROCS + 2; pid++) {
		p = proc_table__get(fk->t, 100000 + pid, "gone", 1);
		assert_non_null(p);
		assert_int_equal(agg__add(a, p, &f, 1, PERIOD), pid <= AGG_MAX_PROCS ? 0 : -ENOSPC);
	}
	assert_int_equal(caps__count(CAPS_AGG_PROCS), 2);
	finish_and_check(fk, a, AGG_MAX_PROCS);
	agg__free(a);
}

static void test_cap_depth(void **state)
{
	struct fake *fk = *state;
	struct proc *p = proc_table__get(fk->t, PID, "x", 1);
	struct agg *a = agg__new(&cpu100);
	struct proc_frame f[AGG_MAX_STACK + 5];
	struct report *r;
	size_t i;

	caps__reset();
	for (i = 0; i < AGG_MAX_STACK + 5; i++)
		f[i] = kframe(i);
	/* Too deep: kept, cut to the leaf-most frames, counted. */
	assert_int_equal(agg__add(a, p, f, AGG_MAX_STACK + 5, PERIOD), 0);
	assert_int_equal(caps__count(CAPS_AGG_DEPTH), 1);
	r = agg__finish(a, fk->sym, 0, 1);
	assert_non_null(r);
	assert_int_equal(r->samples, 1);
	assert_int_equal(r->procs[0].stacks[0].nframes, AGG_MAX_STACK);
	assert_int_equal(r->frames[r->procs[0].stacks[0].frames[0]].addr, f[0].addr);
	report__free(r);
	agg__free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_merge_and_report, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_unnamed_frames, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_processes_apart, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_anon_frames_apart_per_process, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_cap_stacks, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_cap_frames, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_cap_pool, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_cap_procs, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_cap_depth, fake_setup, fake_teardown),
	};

	return cmocka_run_group_tests_name("agg", tests, NULL, NULL);
}
