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

#endif /* EMBER_SCHED_GLUE_H */
