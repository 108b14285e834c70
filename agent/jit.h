/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* jit.h - naming JIT code: each process's perf map, read safely, kept current
 *
 * Owns one sym_perfmap per process with anonymous frames, read from
 * /proc/PID/root/tmp/perf-NSPID.map (the process's own /tmp, under its pid
 * in its own pid namespace), opened without following symlinks, regular
 * files owned by the process's user only. A map is read on at window end,
 * never while sampling: again from its last offset when it only grew, whole
 * when it was replaced or rewritten, at most once per process per window.
 * Asks HotSpot JVMs for their map through jvm_attach.
 * Thread: the main loop only.
 */
#ifndef EMBER_JIT_H
#define EMBER_JIT_H

#include <stdbool.h>
#include <stdint.h>

#include "sym.h"

struct jit;

struct jit_opts {
	const char *proc_root; /* "/proc" */
	bool jvm; /* ask HotSpot JVMs for their perf map */
	uint32_t jvm_min_age_s;
	/* Memory held by all perf maps (0: JIT_DEFAULT_MAX_BYTES); one process's
	 * map is read only until it holds half of it. */
	uint64_t max_bytes;
};

#define JIT_DEFAULT_MAX_BYTES (8u << 20)

struct jit_stats {
	uint64_t frames_named; /* unique frames named from perf maps, all windows */
	uint64_t maps_read; /* reads of a map, whole or on from an offset */
	uint64_t maps_refused; /* not read: symlink, not a regular file, wrong owner, stale */
	uint64_t maps_stale; /* of those, older than their process: a reused pid's */
	uint64_t bytes_read; /* map bytes read, whole or on from an offset */
	uint64_t map_errors; /* read errors, memory */
	uint64_t bad_lines; /* lines skipped, over every map read */
	uint64_t map_bytes; /* memory held by the maps now */
	uint64_t maps_capped; /* reads stopped at the per-process bound */
	uint64_t maps_evicted; /* whole maps dropped for the total bound, LRU first */
	uint64_t jvm_attached, jvm_refused, jvm_failed;
};

/* NULL with errno. */
struct jit *jit__new(const struct jit_opts *opts);
void jit__free(struct jit *j);

/* A process has samples in this window (called once per process per
 * window): a JVM among them is asked for its map, off this thread. */
void jit__seen(struct jit *j, uint32_t pid, uint64_t start_time, const char *comm, const char *exe);
/* Names an address outside any file of process (pid, start time), at
 * window end. r->name is valid until the next jit call. */
void jit__lookup(struct jit *j, uint32_t pid, uint64_t start_time, uint64_t addr,
		 struct sym_result *r);
/* After the window's frames are named: JVMs whose code cache produced
 * unnamed frames are asked again, maps of processes gone are dropped. */
void jit__window_end(struct jit *j);
void jit__stats(const struct jit *j, struct jit_stats *out);

/* Opens rel inside process pid's root (PROC_ROOT/PID/root) with flags,
 * resolving it as the process would (absolute symlinks stay inside its
 * root, magic links are refused) and never following a symlink in the last
 * component. An fd, or -errno (ELOOP for a symlink). */
int jit_open_in_root(const char *proc_root, uint32_t pid, const char *rel, int flags);

#endif /* EMBER_JIT_H */
