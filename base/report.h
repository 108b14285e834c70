/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* report.h - one finished window, symbolized: what every output consumes
 *
 * Built by the aggregator at window end (agg__finish) and read, never changed,
 * by the outputs: folded text, pprof files, the push client's builder. Each
 * unique frame appears once in frames[] and was named once. Everything is
 * owned by the report and freed with report__free().
 */
#ifndef EMBER_REPORT_H
#define EMBER_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

enum report_frame_kind {
	REPORT_FRAME_KERNEL = 0, /* addr is a kernel address */
	REPORT_FRAME_USER = 1, /* addr is a file offset within file */
	REPORT_FRAME_VDSO = 2, /* addr is an offset within the vDSO */
	REPORT_FRAME_ANON = 3, /* addr is a raw address outside any file (JIT, unmapped) */
};

struct report_frame {
	const char *name; /* never NULL: symbol, or "file+0xoff", or "[unknown]" */
	const char *file; /* mapped file path, "[vdso]", "[kernel.kallsyms]", module, or NULL */
	const char *build_id; /* lowercase hex GNU build-id, or NULL */
	uint64_t addr; /* see enum report_frame_kind */
	uint32_t kind; /* enum report_frame_kind */
	bool named; /* a symbol name was found */
};

struct report_stack {
	const uint32_t *frames; /* indexes into report.frames, leaf first */
	uint32_t nframes; /* kernel frames first (leaf side), then user frames */
	uint64_t count; /* samples */
};

struct report_proc {
	uint32_t pid;
	const char *comm; /* process comm */
	const char *exe; /* executable path, or NULL when unknown */
	const char *unit; /* systemd unit (e.g. "nginx.service"), or NULL */
	const char *cgroup; /* cgroup v2 path, or NULL */
	uint64_t samples;
	const struct report_stack *stacks;
	size_t nstacks;
};

struct report {
	struct arena arena; /* owns every pointer below */
	uint64_t start_ns; /* wall clock (CLOCK_REALTIME) of the window start */
	uint64_t duration_ns;
	uint32_t frequency; /* Hz */
	const char *host; /* hostname */
	const struct report_frame *frames;
	size_t nframes;
	const struct report_proc *procs;
	size_t nprocs;
	uint64_t samples; /* total over procs */
	uint64_t named_frames; /* frame occurrences (weighted by count) with a name */
	uint64_t total_frames; /* frame occurrences (weighted by count) */
};

/* An empty report with its own arena. NULL with errno. */
struct report *report__new(void);
/* Zeroed memory owned by r, 8-byte aligned; NULL on -ENOMEM. */
void *report__alloc(struct report *r, size_t size);
/* A copy of s owned by r; NULL on -ENOMEM. */
const char *report__strdup(struct report *r, const char *s);
/* Frees r and everything it owns. Accepts NULL. */
void report__free(struct report *r);

#endif /* EMBER_REPORT_H */
