/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sched_glue.h - the tracing frames atop a kernel stack taken in sched_switch
 *
 * A kernel stack taken by the off-CPU program starts with the machinery that
 * ran it (the BPF program itself, bpf_trace_run4, on some kernels
 * __bpf_trace_sched_switch and __traceiter_sched_switch) before the
 * scheduler's own frames (__schedule). Those frames are the profiler, not the
 * blocked task, so they are cut. Which addresses they are is learned by name,
 * once per address: the answers are remembered in two small bounded sets, so
 * a steady stream of records costs a few compares each.
 * A value type, zeroed by its owner; thread: its owner's.
 */
#ifndef EMBER_SCHED_GLUE_H
#define EMBER_SCHED_GLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lru.h"

/* Addresses remembered per set; past it, names are asked again each time. */
#define SCHED_GLUE_MAX_ADDRS 16
/* Never more leading frames than this are glue. */
#define SCHED_GLUE_MAX_DEPTH 6

/* The kernel symbol that contains addr, or NULL when none is known. */
typedef const char *(*sched_glue_name_fn)(void *ctx, uint64_t addr);

struct sched_glue {
	uint64_t glue[SCHED_GLUE_MAX_ADDRS]; /* known tracing frames */
	uint64_t keep[SCHED_GLUE_MAX_ADDRS]; /* known first frames of the task's own stack */
	size_t nglue, nkeep;
	uint64_t lookups; /* names asked for */
};

/* How many of the leading kernel frames addrs[0..n) (leaf first) are tracing
 * machinery: a frame in a BPF program ("bpf_prog_*", or unnamed as the leaf),
 * or in bpf_trace_run*, __bpf_trace_* or __traceiter_*. name() is asked only
 * for addresses not seen before. */
uint32_t sched_glue_skip(struct sched_glue *g, const uint64_t *addrs, uint32_t n,
			 sched_glue_name_fn name, void *ctx);

/* True when a kernel function named fn is tracing machinery (see above). */
bool sched_glue_is_glue_name(const char *fn);

/* ---- The off-CPU join ----
 * A kept switch-out sends its stacks at once (PROF_EV_OFFCPU); its switch-in
 * sends a small end record (PROF_EV_OFFCPU_END) only when the block was long
 * enough. Both carry (tid, switch-out time): the stack record waits here,
 * keyed by tid, until its end comes. The ring buffer is one ordered stream
 * and a thread's next switch-out follows its switch-in, so when a tid's next
 * stack record comes, the waiting one will never be joined (its block was
 * short, its end was lost, or its pending entry was evicted): it is dropped
 * and counted. A thread that exits, or blocks for good, leaves its record
 * until the bound evicts the oldest. A value type: sched_join_init() it;
 * thread: its owner's.
 */

struct sched_join_entry {
	struct lru_node age; /* the oldest at the tail: evicted first */
	struct sched_join_entry *next; /* in its bucket */
	uint32_t tid;
	uint32_t size;
	uint64_t time_ns;
	/* the stack record, size bytes */
	uint64_t rec[];
};

struct sched_join_stats {
	uint64_t stacks; /* stack records taken */
	uint64_t joined; /* ends that found their stack record */
	uint64_t unended; /* stack records dropped: the tid's next one came first */
	uint64_t evicted; /* stack records dropped at the bound, the oldest first */
	uint64_t ends_unmatched; /* ends with no stack record waiting for them */
	uint64_t nomem; /* stack records not kept: out of memory */
	uint64_t waiting; /* stack records waiting now */
};

struct sched_join {
	struct sched_join_entry **buckets; /* nbuckets, a power of two */
	size_t nbuckets;
	size_t max; /* stack records waiting at most */
	struct lru age;
	struct sched_join_stats stats;
};

/* Up to max (>= 1) stack records waiting. 0 or -ENOMEM. */
int sched_join_init(struct sched_join *j, size_t max);
/* Frees every waiting record; the join can be init'ed again. */
void sched_join_release(struct sched_join *j);

/* Keeps a copy of rec (size bytes), the stack record of tid's switch-out at
 * time_ns, dropping any earlier one of tid (counted unended) and, at the
 * bound, the oldest (counted evicted). Out of memory: counted, not kept. */
void sched_join_stack(struct sched_join *j, uint32_t tid, uint64_t time_ns, const void *rec,
		      size_t size);

/* The stack record the end (tid, time_ns) joins, taken out of the table:
 * the caller frees it (free()); its bytes are entry->rec, entry->size long.
 * NULL when none waits for it (counted in ends_unmatched). */
struct sched_join_entry *sched_join_end(struct sched_join *j, uint32_t tid, uint64_t time_ns);

void sched_join_stats(const struct sched_join *j, struct sched_join_stats *out);

#endif /* EMBER_SCHED_GLUE_H */
