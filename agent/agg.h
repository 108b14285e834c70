/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* agg.h - the current window: per process, stack -> sample count
 *
 * Samples arrive already normalized (kernel addresses, or file + offset), so
 * a window keeps no pid-relative address. Unique frames and stacks are
 * interned once; at window end each unique frame is named once, in batches
 * per file, and the window becomes a struct report. Memory is bounded: past
 * the bounds a sample is counted as dropped, never silently lost.
 * Thread: the main loop only.
 */
#ifndef EMBER_AGG_H
#define EMBER_AGG_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "jit.h"
#include "profiler.h"
#include "proc.h"
#include "report.h"
#include "sym.h"

struct agg;

/* Bounds per window (caps.h reports each when hit). Past them a sample is
 * counted as dropped; a stack deeper than AGG_MAX_STACK keeps its leaf-most
 * frames. */
#define AGG_MAX_STACKS (256 * 1024)
#define AGG_MAX_FRAMES (512 * 1024)
#define AGG_MAX_POOL (4 * 1024 * 1024) /* frame indexes over all stacks: 16 MiB */
#define AGG_MAX_PROCS (64 * 1024)
/* Kernel + user frames, and a mark at the end (report_mark). */
#define AGG_MAX_STACK (PROF_MAX_STACK + PROF_MAX_USTACK + 1)

struct agg_stats {
	uint64_t samples; /* added over the agent's life */
	uint64_t dropped; /* samples refused: window tables full */
	uint64_t named_frames; /* frame occurrences named, over all finished windows */
	uint64_t total_frames;
};

/* A window aggregator for profiles of the given type. NULL with errno. */
struct agg *agg__new(const struct report_type *type);
void agg__free(struct agg *a);

/* Adds one sample of process p: frames leaf first (kernel frames first), and
 * what it measured (in the type's sample unit: the period for a CPU sample).
 * Anonymous frames are kept apart per process. Takes its own references on
 * the frames' files. 0, or -ENOSPC when the window is full (counted as
 * dropped). */
int agg__add(struct agg *a, const struct proc *p, const struct proc_frame *frames, size_t n,
	     uint64_t value);

/* Ends the window [start_ns, start_ns + duration_ns) (wall clock): names the
 * window's unique frames, returns them as a report and starts a new window.
 * NULL with errno on -ENOMEM (the window is dropped and counted). */
struct report *agg__finish(struct agg *a, struct sym *sym, uint64_t start_ns,
			   uint64_t duration_ns);

/* Names anonymous frames (JIT code) through j's perf maps from now on, and
 * tells j which processes each window sampled. j is borrowed; NULL: off. */
void agg__set_jit(struct agg *a, struct jit *j);
/* Like agg__set_jit(), for a second window of the same agent (off-CPU next
 * to CPU): it names JIT frames through j but leaves j's window end to the
 * aggregator given j by agg__set_jit(), so j sees one window per window. */
void agg__share_jit(struct agg *a, struct jit *j);

void agg__stats(const struct agg *a, struct agg_stats *out);

#endif /* EMBER_AGG_H */
