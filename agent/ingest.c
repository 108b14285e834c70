// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* ingest.c - decoding ring-buffer records into the window
 *
 * The record is the kernel's word about a sample: its lengths are checked
 * against the record size before any frame is read. Return addresses point
 * past their call, so every frame but a stack's first (the interrupted pc)
 * is looked up one byte back, inside the call: a call that ends a function
 * is then not charged to the next one. CPU samples and off-CPU records go to
 * windows of their own, so counts and nanoseconds never mix.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "clock.h"
#include "ingest.h"
#include "log.h"
#include "profiler.h"
#include "sched_glue.h"
#include "sym.h"

struct ingest {
	struct proc_table *procs;
	struct agg *agg;
	struct agg *offcpu; /* NULL: off-CPU records are not expected */
	struct sym *sym; /* names the tracing frames to cut from off-CPU stacks */
	struct sched_glue glue;
	struct sched_join join; /* off-CPU stack records waiting for their end */
	uint64_t sample_value;
	struct ingest_stats stats;
};

struct ingest *ingest__new(struct proc_table *procs, struct agg *agg, uint64_t sample_value)
{
	struct ingest *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->procs = procs;
	in->agg = agg;
	in->sample_value = sample_value;
	return in;
}

void ingest__set_offcpu(struct ingest *in, struct agg *offcpu, struct sym *sym)
{
	in->offcpu = offcpu;
	in->sym = sym;
	/* Without its buckets the join counts every stack record as nomem. */
	if (offcpu && !in->join.buckets && sched_join_init(&in->join, PROF_OFFCPU_PENDING))
		log_warn("ingest: no memory for the off-CPU join: off-CPU records are counted, not kept");
}

static const char *ingest_kernel_name(void *ctx, uint64_t addr)
{
	struct ingest *in = ctx;
	struct sym_result r;

	if (!in->sym)
		return NULL;
	sym__kernel(in->sym, &addr, 1, &r);
	return r.reason == SYM_OK ? r.name : NULL;
}

void ingest__free(struct ingest *in)
{
	if (!in)
		return;
	sched_join_release(&in->join);
	free(in);
}

/* Copies a stack leaf first, each return address stepped back by one. */
static void ingest_addrs(uint64_t *out, const __u64 *stack, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		out[i] = i > 0 && stack[i] ? stack[i] - 1 : stack[i];
}

/* Normalizes one stack of process pid (knr kernel frames, then unr user
 * frames, leaf first) and adds it to agg, with a mark frame at the outer
 * end when mark >= 0 (enum report_mark). */
static void ingest_stack(struct ingest *in, struct agg *agg, uint32_t pid, const __u8 *raw_comm,
			 uint64_t time_ns, uint64_t cgroup_id, const __u64 *stack, uint32_t knr,
			 uint32_t unr, uint64_t value, bool cut_glue, int mark)
{
	uint32_t skip = 0;
	struct proc_frame frames[PROF_MAX_STACK + PROF_MAX_USTACK + 1];
	uint64_t addrs[PROF_MAX_USTACK];
	char comm[PROF_COMM_LEN + 1];
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	struct proc *p;
	uint32_t i;

	memcpy(comm, raw_comm, PROF_COMM_LEN);
	comm[PROF_COMM_LEN] = '\0';
	proc_table__set_event_time(in->procs, time_ns);
	proc_table__set_event_cgroup(in->procs, cgroup_id);
	p = proc_table__get(in->procs, pid, comm, now);
	if (!p) {
		in->stats.bad_records++;
		return;
	}
	ingest_addrs(addrs, stack, knr);
	if (cut_glue)
		skip = sched_glue_skip(&in->glue, addrs, knr, ingest_kernel_name, in);
	for (i = skip; i < knr; i++) {
		frames[i - skip].addr = addrs[i];
		frames[i - skip].kind = REPORT_FRAME_KERNEL;
		frames[i - skip].file = NULL;
	}
	knr -= skip;
	ingest_addrs(addrs, &stack[knr + skip], unr);
	proc__normalize(in->procs, p, addrs, unr, &frames[knr], now);
	if (mark >= 0) {
		frames[knr + unr].addr = (uint64_t)mark;
		frames[knr + unr].kind = REPORT_FRAME_MARK;
		frames[knr + unr].file = NULL;
		unr++;
	}
	agg__add(agg, p, frames, knr + unr, value);
}

/* A walk cut at the limit, or stopped on bad data in a CFI step, says so in
 * a frame of its own: the flame graph shows where stacks are incomplete. A
 * frame pointer chain ending in code built without frame pointers is only
 * counted: that is how such stacks always ended. */
static int ingest_ustop(struct ingest *in, const struct prof_sample *s)
{
	if (s->ustop == PROF_USTOP_DEPTH) {
		in->stats.stacks_truncated++;
		return REPORT_MARK_TRUNCATED;
	}
	if (s->ustop == PROF_USTOP_END || s->ustop >= PROF_USTOP_MAX)
		return -1;
	in->stats.unwind_stopped[s->ustop]++;
	return s->uflags & PROF_UFLAG_CFI_STOP ? REPORT_MARK_UNWIND_STOPPED : -1;
}

static void ingest_sample(struct ingest *in, const struct prof_sample *s, size_t size)
{
	int mark;

	if (s->knr > PROF_MAX_STACK || s->unr > PROF_MAX_USTACK ||
	    size < PROF_SAMPLE_SIZE(s->knr + s->unr) || s->ustop >= PROF_USTOP_MAX) {
		in->stats.bad_records++;
		return;
	}
	mark = ingest_ustop(in, s);
	in->stats.unwind_cfi_frames += s->ucfi;
	ingest_stack(in, in->agg, s->hdr.pid, s->comm, s->time_ns, s->cgroup_id, s->stack, s->knr,
		     s->unr, in->sample_value, false, mark);
}

/* A stack record waits in the join for its end: checked now, so only a
 * well-formed record is kept. A record with no off-CPU window to go to (not
 * asked for) is as untrusted as a malformed one. */
static void ingest_offcpu(struct ingest *in, const struct prof_offcpu *o, size_t size)
{
	if (!in->offcpu || size < PROF_OFFCPU_HDR_SIZE || o->knr > PROF_MAX_STACK ||
	    o->unr > PROF_MAX_STACK || size < PROF_OFFCPU_SIZE(o->knr + o->unr) || o->weight == 0) {
		in->stats.bad_records++;
		return;
	}
	sched_join_stack(&in->join, o->tid, o->time_ns, o, PROF_OFFCPU_SIZE(o->knr + o->unr));
}

/* The stacks were taken at switch-out, so the process's mappings are looked
 * up at that time. */
static void ingest_offcpu_end(struct ingest *in, const struct prof_offcpu_end *r, size_t size)
{
	struct sched_join_entry *e;
	struct prof_offcpu *o;
	uint64_t value;

	if (!in->offcpu || size < sizeof(*r)) {
		in->stats.bad_records++;
		return;
	}
	e = sched_join_end(&in->join, r->tid, r->time_ns);
	if (!e)
		return;
	o = (struct prof_offcpu *)e->rec;
	o->off_ns = r->off_ns;
	/* 1 in weight switch-outs was kept: it stands for the others too. */
	if (__builtin_mul_overflow(o->off_ns, (uint64_t)o->weight, &value))
		value = UINT64_MAX;
	ingest_stack(in, in->offcpu, o->hdr.pid, o->comm, o->time_ns, o->cgroup_id, o->stack,
		     o->knr, o->unr, value, true, -1);
	free(e);
}

void ingest__record(struct ingest *in, const void *data, size_t size)
{
	const struct prof_hdr *h = data;

	if (size < sizeof(*h)) {
		in->stats.bad_records++;
		return;
	}
	switch (h->type) {
	case PROF_EV_SAMPLE:
		if (size < PROF_SAMPLE_HDR_SIZE)
			in->stats.bad_records++;
		else
			ingest_sample(in, data, size);
		break;
	case PROF_EV_OFFCPU:
		ingest_offcpu(in, data, size);
		break;
	case PROF_EV_OFFCPU_END:
		ingest_offcpu_end(in, data, size);
		break;
	case PROF_EV_EXEC:
	case PROF_EV_EXIT:
		/* Samples before the event were normalized already; the next
		 * sample of this pid reads the new image's maps. */
		if (size < sizeof(struct prof_proc_event))
			in->stats.bad_records++;
		else if (h->type == PROF_EV_EXIT)
			proc_table__exit(in->procs, h->pid,
					 ((const struct prof_proc_event *)data)->time_ns);
		else
			proc_table__forget(in->procs, h->pid);
		break;
	default:
		in->stats.bad_records++;
		break;
	}
}

void ingest__stats(const struct ingest *in, struct ingest_stats *out)
{
	*out = in->stats;
	sched_join_stats(&in->join, &out->offcpu_join);
}
