/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* report.h - one finished window, symbolized: what every output consumes
 *
 * Built by the aggregator at window end (agg__finish), given each process's
 * label set by the window pipeline, then read, never changed, by the
 * outputs: folded text, pprof files, the push client's builder. Each unique
 * frame appears once in frames[] and was named once. Names are stored as
 * found: an output that needs escaping (folded text) does its own.
 * Everything is owned by the report and freed with report__free().
 */
#ifndef EMBER_REPORT_H
#define EMBER_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "label.h"

enum report_frame_kind {
	REPORT_FRAME_KERNEL = 0, /* addr is a kernel address */
	REPORT_FRAME_USER = 1, /* addr is a file offset within file */
	REPORT_FRAME_VDSO = 2, /* addr is an offset within the vDSO */
	/* addr is a raw address outside any file (JIT code, unmapped), which
	 * means something only in its own process: see report_frame.owner. */
	REPORT_FRAME_ANON = 3,
	/* Not code: a mark at a stack's outer end saying why it ends there;
	 * addr is an enum report_mark. */
	REPORT_FRAME_MARK = 4,
};

enum report_mark {
	REPORT_MARK_TRUNCATED = 0, /* "[truncated]": more frames than a stack keeps */
	REPORT_MARK_UNWIND_STOPPED = 1, /* "[unwind-stopped]": the walk met bad data */
};

/* One level of a frame's name: the function, and where in its source. */
struct report_line {
	const char *function; /* never NULL */
	const char *system_name; /* as in the symbol table (mangled), or NULL when the same */
	const char *file; /* source file, or NULL when unknown */
	uint32_t line; /* source line, 0 when unknown */
};

/* A location: one address, named by zero or more lines. */
struct report_frame {
	/* Innermost first: code inlined into a function comes before it, and
	 * the last line is the function the address belongs to. */
	const struct report_line *lines;
	uint32_t nlines; /* 0: no name was found */
	uint32_t kind; /* enum report_frame_kind */
	const char *unnamed; /* shown when nlines is 0: "file+0xoff" or "[unknown]" */
	const char *file; /* mapped file path, "[vdso]", "[kernel.kallsyms]", module, or NULL */
	const char *build_id; /* lowercase hex GNU build-id, or NULL */
	uint64_t addr; /* see enum report_frame_kind */
	/* For REPORT_FRAME_ANON: the process whose code the address is in (its
	 * perf-map identity: pid, and start time in clock ticks after boot), so
	 * two processes' code at one address never merges. 0 for other kinds. */
	uint32_t owner_pid;
	uint64_t owner_start;
};

/* What a profile measures (pprof's sample and period types) and the name of
 * its series. Strings are static. */
struct report_type {
	const char *name; /* the series' __name__, e.g. "process_cpu" */
	const char *sample_type, *sample_unit; /* e.g. "cpu", "nanoseconds" */
	const char *period_type, *period_unit;
	int64_t period; /* in period_unit, e.g. 1e9 / frequency */
};

struct report_stack {
	const uint32_t *frames; /* indexes into report.frames, leaf first */
	uint32_t nframes; /* kernel frames first (leaf side), then user frames */
	uint64_t count; /* samples (events) */
	uint64_t value; /* what they measured, in the type's sample_unit */
};

struct report_proc {
	uint32_t pid;
	const char *comm; /* process comm, as the kernel has it */
	const char *exe; /* executable path, or NULL when unknown */
	const char *unit; /* systemd unit (e.g. "nginx.service"), or NULL */
	const char *cgroup; /* cgroup v2 path, or NULL */
	uint64_t samples;
	const struct report_stack *stacks;
	size_t nstacks;
	/* The process's label set (sorted by name), given by the window
	 * pipeline; profiles are grouped by the whole set. */
	const struct label *labels;
	size_t nlabels;
	/* Where it runs, from its cgroup (agent/cgroup.h), or NULL: the 64-hex
	 * container id, the pod uid (with '-'), the runtime ("containerd",
	 * "cri-o", "docker", "podman"). A metadata source maps the first two
	 * to namespace, pod and container names. */
	const char *container_id, *pod_uid, *container_runtime;
};

struct report {
	struct arena arena; /* owns every pointer below */
	struct report_type type;
	uint64_t start_ns; /* wall clock (CLOCK_REALTIME) of the window start */
	uint64_t duration_ns;
	const struct report_frame *frames;
	size_t nframes;
	struct report_proc *procs; /* their label sets are given after aggregation */
	size_t nprocs;
	uint64_t samples; /* total over procs */
	uint64_t named_frames; /* frame occurrences (weighted by count) with a name */
	uint64_t total_frames; /* frame occurrences (weighted by count) */
};

/* The type of CPU profiles sampled at frequency Hz: process_cpu,
 * cpu/nanoseconds, period 1e9 / frequency. frequency must be > 0. */
struct report_type report_type_cpu(uint32_t frequency);

/* The type of off-CPU profiles: off_cpu, off_cpu/nanoseconds (each stack's
 * value is the time its tasks spent blocked in it), period 1 ns. */
struct report_type report_type_off_cpu(void);

/* True for profiles of report_type_off_cpu(). */
bool report_type_is_off_cpu(const struct report_type *t);

/* The name an output shows for f when it shows one name: the function the
 * address belongs to (the outermost line), else f->unnamed. */
static inline const char *report_frame_name(const struct report_frame *f)
{
	return f->nlines ? f->lines[f->nlines - 1].function : f->unnamed;
}

/* An empty report with its own arena. NULL with errno. */
struct report *report__new(void);
/* Zeroed memory owned by r, 8-byte aligned; NULL on -ENOMEM. */
void *report__alloc(struct report *r, size_t size);
/* A copy of s owned by r; NULL on -ENOMEM. */
const char *report__strdup(struct report *r, const char *s);
/* Frees r and everything it owns. Accepts NULL. */
void report__free(struct report *r);

#endif /* EMBER_REPORT_H */
