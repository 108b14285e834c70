/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* ingest.h - ring-buffer records in, normalized samples into the window
 *
 * Decodes and validates each record the BPF program wrote (bpf/profiler.h),
 * applies the return-address rule to kernel and user frames alike, has the
 * process table normalize user addresses while the process lives, and adds
 * the sample to the window aggregator. Exec and exit events retire process
 * table entries. A malformed record is counted, never trusted.
 * Thread: the main loop only (from the sampler's callback).
 */
#ifndef EMBER_INGEST_H
#define EMBER_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "agg.h"
#include "profiler.h"
#include "proc.h"
#include "sched_glue.h"
#include "sym.h"

struct ingest;

struct ingest_stats {
	uint64_t bad_records; /* records too short, of unknown type, or inconsistent */
	struct sched_join_stats offcpu_join; /* off-CPU stack and end records joined */
	/* CPU samples whose user stack was cut at PROF_MAX_USTACK frames
	 * (ending in a "[truncated]" frame). */
	uint64_t stacks_truncated;
	/* CPU samples whose user stack walk stopped on bad data, by enum
	 * prof_ustop (END and DEPTH stay 0): [READ], [LOOP], [RBP], [NOREGS].
	 * Those stopped in a CFI step also end in "[unwind-stopped]". */
	uint64_t unwind_stopped[PROF_USTOP_MAX];
	uint64_t unwind_cfi_frames; /* user frames found through a CFI row */
};


/* sample_value: what one sample measures, in the window's sample unit (the
 * period in ns for CPU samples). procs and agg are borrowed. NULL with errno. */
struct ingest *ingest__new(struct proc_table *procs, struct agg *agg, uint64_t sample_value);
void ingest__free(struct ingest *in);

/* Off-CPU records go to offcpu from now on: each stack record
 * (PROF_EV_OFFCPU) waits for its end record (PROF_EV_OFFCPU_END), and the
 * pair adds the stack, its value the nanoseconds off CPU times its weight,
 * the tracing frames atop its kernel stack cut (named through sym's kernel
 * table; sym NULL: only an unnamed leaf is cut). At most PROF_OFFCPU_PENDING
 * stack records wait (see sched_glue.h). offcpu and sym are borrowed. Until
 * then such records are counted as bad. */
void ingest__set_offcpu(struct ingest *in, struct agg *offcpu, struct sym *sym);

/* Takes one ring-buffer record of size bytes. A bad record is counted and
 * skipped: the stream goes on. */
void ingest__record(struct ingest *in, const void *data, size_t size);

void ingest__stats(const struct ingest *in, struct ingest_stats *out);

#endif /* EMBER_INGEST_H */
