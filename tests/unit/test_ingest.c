// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_ingest.c - ring-buffer records into the window: the return-address
 * rule for kernel and user frames alike, and malformed records counted */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/types.h>

#include "agg.h"
#include "fake_proc.h"
#include "ingest.h"
#include "profiler.h"

#define PERIOD 10000000

/* A sample record of PID with knr kernel then unr user frames. */
static struct prof_sample *sample(const uint64_t *k, uint16_t knr, const uint64_t *u, uint16_t unr,
				  size_t *size)
{
	struct prof_sample *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->hdr.type = PROF_EV_SAMPLE;
	s->hdr.pid = PID;
	s->knr = knr;
	s->unr = unr;
	memcpy(s->comm, "fakeproc", 8);
	memcpy(s->stack, k, knr * sizeof(*k));
	memcpy(&s->stack[knr], u, unr * sizeof(*u));
	*size = PROF_SAMPLE_SIZE(knr + unr);
	return s;
}

static void test_return_addresses_step_back(void **state)
{
	struct fake *fk = *state;
	const uint64_t k[] = { 0xffffffff81000100, 0xffffffff81000201 };
	const uint64_t u[] = { 0x555555554100, 0x555555554201 };
	struct report_type type = report_type_cpu(100);
	struct agg *a = agg__new(&type);
	struct ingest *in = ingest__new(fk->t, a, PERIOD);
	const struct report_stack *st;
	struct ingest_stats is;
	struct prof_sample *s;
	struct report *r;
	size_t size;

	assert_non_null(in);
	s = sample(k, 2, u, 2, &size);
	ingest__record(in, s, size);
	ingest__record(in, s, size);
	r = agg__finish(a, fk->sym, 0, 1);
	assert_non_null(r);
	assert_int_equal(r->nprocs, 1);
	assert_int_equal(r->procs[0].nstacks, 1);
	st = &r->procs[0].stacks[0];
	assert_int_equal(st->count, 2);
	assert_int_equal(st->value, 2 * PERIOD);
	assert_int_equal(st->nframes, 4);
	/* Each stack's first frame is the interrupted pc, exact; the others
	 * are return addresses, looked up one byte back inside the call. */
	assert_int_equal(r->frames[st->frames[0]].addr, 0xffffffff81000100);
	assert_int_equal(r->frames[st->frames[1]].addr, 0xffffffff81000200);
	assert_int_equal(r->frames[st->frames[2]].kind, REPORT_FRAME_USER);
	assert_int_equal(r->frames[st->frames[2]].addr, 0x1100);
	assert_int_equal(r->frames[st->frames[3]].addr, 0x1200);
	ingest__stats(in, &is);
	assert_int_equal(is.bad_records, 0);
	report__free(r);
	free(s);
	ingest__free(in);
	agg__free(a);
}

static void test_bad_records_counted(void **state)
{
	struct fake *fk = *state;
	const uint64_t u[] = { 0x555555554100 };
	struct report_type type = report_type_cpu(100);
	struct agg *a = agg__new(&type);
	struct ingest *in = ingest__new(fk->t, a, PERIOD);
	struct prof_hdr odd = { .type = 99, .pid = PID };
	struct ingest_stats is;
	struct agg_stats as;
	struct prof_sample *s;
	size_t size;

	s = sample(u, 0, u, 1, &size);
	ingest__record(in, s, 4); /* shorter than a header */
	ingest__record(in, s, size - 1); /* shorter than its frames */
	s->unr = PROF_MAX_USTACK + 1; /* more frames than a stack holds */
	ingest__record(in, s, sizeof(*s));
	ingest__record(in, &odd, sizeof(odd)); /* unknown type */
	ingest__stats(in, &is);
	assert_int_equal(is.bad_records, 4);
	agg__stats(a, &as);
	assert_int_equal(as.samples, 0);
	free(s);
	ingest__free(in);
	agg__free(a);
}

/* A walk cut at the limit ends in a [truncated] mark; one stopped on bad data
 * in a CFI step ends in [unwind-stopped]; a frame-pointer chain that ran into
 * code without frame pointers is only counted. */
static void test_stack_ends_marked(void **state)
{
	struct fake *fk = *state;
	const uint64_t u[] = { 0x555555554100, 0x555555554201 };
	struct report_type type = report_type_cpu(100);
	struct agg *a = agg__new(&type);
	struct ingest *in = ingest__new(fk->t, a, PERIOD);
	struct ingest_stats is;
	struct prof_sample *s;
	struct report *r;
	size_t size, i, marks[2] = { 0, 0 }, unmarked = 0;

	s = sample(u, 0, u, 2, &size);
	s->ustop = PROF_USTOP_DEPTH;
	ingest__record(in, s, size);
	s->ustop = PROF_USTOP_LOOP;
	s->uflags = PROF_UFLAG_CFI_STOP;
	s->ucfi = 1;
	ingest__record(in, s, size);
	s->ustop = PROF_USTOP_READ;
	s->uflags = 0;
	s->ucfi = 0;
	ingest__record(in, s, size);
	s->ustop = PROF_USTOP_MAX; /* no such reason */
	ingest__record(in, s, size);
	ingest__stats(in, &is);
	assert_int_equal(is.bad_records, 1);
	assert_int_equal(is.stacks_truncated, 1);
	assert_int_equal(is.unwind_stopped[PROF_USTOP_LOOP], 1);
	assert_int_equal(is.unwind_stopped[PROF_USTOP_READ], 1);
	assert_int_equal(is.unwind_cfi_frames, 1);
	r = agg__finish(a, fk->sym, 0, 1);
	assert_non_null(r);
	assert_int_equal(r->procs[0].nstacks, 3);
	for (i = 0; i < r->procs[0].nstacks; i++) {
		const struct report_stack *st = &r->procs[0].stacks[i];
		const struct report_frame *last = &r->frames[st->frames[st->nframes - 1]];

		if (last->kind != REPORT_FRAME_MARK) {
			assert_int_equal(st->nframes, 2);
			unmarked++;
			continue;
		}
		assert_int_equal(st->nframes, 3);
		assert_true(last->addr < 2);
		marks[last->addr]++;
		assert_string_equal(last->unnamed, last->addr == REPORT_MARK_TRUNCATED ?
							   "[truncated]" :
							   "[unwind-stopped]");
	}
	assert_int_equal(marks[REPORT_MARK_TRUNCATED], 1);
	assert_int_equal(marks[REPORT_MARK_UNWIND_STOPPED], 1);
	assert_int_equal(unmarked, 1);
	report__free(r);
	free(s);
	ingest__free(in);
	agg__free(a);
}

/* An off-CPU stack record of PID (thread TID): 1 in weight kept. Its
 * off_ns is junk: the time off CPU comes with the end record. */
#define TID (PID + 1)
static struct prof_offcpu *offcpu(const uint64_t *k, uint16_t knr, const uint64_t *u, uint16_t unr,
				  uint64_t time_ns, uint32_t weight, size_t *size)
{
	struct prof_offcpu *o = calloc(1, sizeof(*o));

	assert_non_null(o);
	o->hdr.type = PROF_EV_OFFCPU;
	o->hdr.pid = PID;
	o->tid = TID;
	o->time_ns = time_ns;
	o->off_ns = 7;
	o->weight = weight;
	o->knr = knr;
	o->unr = unr;
	memcpy(o->comm, "fakeproc", 8);
	memcpy(o->stack, k, knr * sizeof(*k));
	memcpy(&o->stack[knr], u, unr * sizeof(*u));
	*size = PROF_OFFCPU_SIZE(knr + unr);
	return o;
}

/* The end record of TID's switch-out at time_ns: off_ns off CPU. */
static void offcpu_end(struct ingest *in, uint64_t time_ns, uint64_t off_ns)
{
	struct prof_offcpu_end e = { .hdr = { PROF_EV_OFFCPU_END, PID },
				     .time_ns = time_ns,
				     .off_ns = off_ns,
				     .tid = TID };

	ingest__record(in, &e, sizeof(e));
}

static void test_offcpu_to_its_own_window(void **state)
{
	struct fake *fk = *state;
	/* The leaf is the program that took the stack: unnamed here (no
	 * kallsyms in the fake), so it is cut as the tracing frame it is. */
	const uint64_t k[] = { 0xffffffffa0000100, 0xffffffff81000201, 0xffffffff81000301 };
	const uint64_t u[] = { 0x555555554100, 0x555555554201 };
	struct report_type cpu_type = report_type_cpu(100), off_type = report_type_off_cpu();
	struct agg *cpu = agg__new(&cpu_type), *off = agg__new(&off_type);
	struct ingest *in = ingest__new(fk->t, cpu, PERIOD);
	const struct report_stack *st;
	struct ingest_stats is;
	struct agg_stats as;
	struct prof_offcpu *o;
	struct report *r;
	size_t size;

	assert_non_null(in);
	o = offcpu(k, 3, u, 2, 1000, 4, &size);
	/* Not asked for: counted as bad, never added to the CPU window. */
	ingest__record(in, o, size);
	offcpu_end(in, 1000, 2500000);
	ingest__stats(in, &is);
	assert_int_equal(is.bad_records, 2);

	ingest__set_offcpu(in, off, NULL);
	ingest__record(in, o, size);
	/* Only the end adds the stack, with the end's time off CPU. */
	agg__stats(off, &as);
	assert_int_equal(as.samples, 0);
	offcpu_end(in, 1000, 2500000);
	o->weight = 1;
	o->time_ns = 2000;
	ingest__record(in, o, size);
	offcpu_end(in, 2000, 2500000);
	/* A short end record: counted as bad. */
	{
		struct prof_offcpu_end e = { .hdr = { PROF_EV_OFFCPU_END, PID } };

		ingest__record(in, &e, sizeof(e) - 1);
	}
	agg__stats(cpu, &as);
	assert_int_equal(as.samples, 0);
	r = agg__finish(off, fk->sym, 0, 1);
	assert_non_null(r);
	assert_string_equal(r->type.name, "off_cpu");
	assert_int_equal(r->nprocs, 1);
	assert_int_equal(r->procs[0].nstacks, 1);
	st = &r->procs[0].stacks[0];
	assert_int_equal(st->count, 2);
	/* Weighted: 2.5 ms x 4 + 2.5 ms x 1. */
	assert_int_equal(st->value, 5 * 2500000);
	assert_int_equal(st->nframes, 4);
	/* The first kept kernel frame is a return address: one byte back. */
	assert_int_equal(r->frames[st->frames[0]].kind, REPORT_FRAME_KERNEL);
	assert_int_equal(r->frames[st->frames[0]].addr, 0xffffffff81000200);
	assert_int_equal(r->frames[st->frames[1]].addr, 0xffffffff81000300);
	assert_int_equal(r->frames[st->frames[2]].kind, REPORT_FRAME_USER);
	report__free(r);

	/* Malformed: short, too many frames, weight 0. */
	ingest__record(in, o, PROF_OFFCPU_HDR_SIZE - 1);
	ingest__record(in, o, size - 1);
	o->weight = 0;
	ingest__record(in, o, size);
	o->weight = 1;
	o->knr = PROF_MAX_STACK + 1;
	ingest__record(in, o, sizeof(*o));
	ingest__stats(in, &is);
	assert_int_equal(is.bad_records, 7);
	/* Bad stack records never wait; the two good ones were joined. */
	assert_int_equal(is.offcpu_join.stacks, 2);
	assert_int_equal(is.offcpu_join.joined, 2);
	assert_int_equal(is.offcpu_join.waiting, 0);
	assert_int_equal(is.offcpu_join.ends_unmatched, 0);
	agg__stats(off, &as);
	assert_int_equal(as.samples, 2);
	free(o);
	ingest__free(in);
	agg__free(cpu);
	agg__free(off);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_return_addresses_step_back, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_stack_ends_marked, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_bad_records_counted, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_offcpu_to_its_own_window, fake_setup,
						fake_teardown),
	};

	return cmocka_run_group_tests_name("ingest", tests, NULL, NULL);
}
