// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* ingest.c - decoding ring-buffer records into the window
 *
 * The record is the kernel's word about a sample: its lengths are checked
 * against the record size before any frame is read. Return addresses point
 * past their call, so every frame but a stack's first (the interrupted pc)
 * is looked up one byte back, inside the call: a call that ends a function
 * is then not charged to the next one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "clock.h"
#include "ingest.h"
#include "profiler.h"

struct ingest {
	struct proc_table *procs;
	struct agg *agg;
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

void ingest__free(struct ingest *in)
{
	free(in);
}

/* Copies a stack leaf first, each return address stepped back by one. */
static void ingest_addrs(uint64_t *out, const __u64 *stack, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		out[i] = i > 0 && stack[i] ? stack[i] - 1 : stack[i];
}

static void ingest_sample(struct ingest *in, const struct prof_sample *s, size_t size)
{
	struct proc_frame frames[2 * PROF_MAX_STACK];
	uint64_t addrs[PROF_MAX_STACK];
	char comm[PROF_COMM_LEN + 1];
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	struct proc *p;
	uint32_t i;

	if (s->knr > PROF_MAX_STACK || s->unr > PROF_MAX_STACK ||
	    size < PROF_SAMPLE_SIZE(s->knr + s->unr)) {
		in->stats.bad_records++;
		return;
	}
	memcpy(comm, s->comm, PROF_COMM_LEN);
	comm[PROF_COMM_LEN] = '\0';
	proc_table__set_event_time(in->procs, s->time_ns);
	proc_table__set_event_cgroup(in->procs, s->cgroup_id);
	p = proc_table__get(in->procs, s->hdr.pid, comm, now);
	if (!p) {
		in->stats.bad_records++;
		return;
	}
	ingest_addrs(addrs, s->stack, s->knr);
	for (i = 0; i < s->knr; i++) {
		frames[i].addr = addrs[i];
		frames[i].kind = REPORT_FRAME_KERNEL;
		frames[i].file = NULL;
	}
	ingest_addrs(addrs, &s->stack[s->knr], s->unr);
	proc__normalize(in->procs, p, addrs, s->unr, &frames[s->knr], now);
	agg__add(in->agg, p, frames, s->knr + s->unr, in->sample_value);
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
		ingest_sample(in, data, size);
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
}
