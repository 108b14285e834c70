/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sampler.h - the BPF side seen from the agent: load, attach, drain, count
 *
 * Owns the skeleton, one CPU-clock perf event per online CPU, the exec/exit
 * tracepoints, the sched_switch tracepoint when off-CPU time is asked for,
 * and the ring buffer. Records are handed, unparsed, to the
 * callback given at creation; the callback runs on the polling thread.
 * Thread: the main loop only.
 */
#ifndef EMBER_SAMPLER_H
#define EMBER_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "profiler.h"

struct sampler;

struct sampler_opts {
	bool cpu; /* CPU-clock samples */
	uint32_t frequency; /* Hz per CPU */
	bool kernel; /* kernel stacks */
	const uint32_t *pids; /* only these processes, when npids > 0 */
	size_t npids;
	/* Off-CPU records from the scheduler (PROF_EV_OFFCPU). */
	bool off_cpu;
	uint32_t off_cpu_min_us; /* blocks shorter than this are only counted */
	uint32_t off_cpu_sample; /* at least 1 in N switch-outs kept, >= 1 */
	uint32_t off_cpu_max_rate; /* about this many kept a second, host-wide; 0: no bound */
	bool off_cpu_runqueue; /* also time preempted while runnable */
	/* User stacks from the CFI tables in unwind_tables/unwind_procs;
	 * false: frame pointers only (the maps are still created, unused). */
	bool unwind_cfi;
};

/* Called for each ring buffer record (struct prof_hdr first). Returning
 * non-zero stops the current drain early. */
typedef int (*sampler_record_fn)(void *ctx, const void *data, size_t size);

/* Loads and attaches everything. NULL with errno: EPERM/EACCES without
 * root or CAP_BPF+CAP_PERFMON, ENOTSUP without kernel BTF, other -errno from
 * libbpf. The caller prints sampler_strerror(errno). */
struct sampler *sampler__new(const struct sampler_opts *opts, sampler_record_fn fn, void *ctx);
void sampler__free(struct sampler *s);

/* Waits up to timeout_ms for records and drains them. Returns the number of
 * records consumed, or -errno (-EINTR is returned as 0). */
int sampler__poll(struct sampler *s, int timeout_ms);
/* Sums the per-CPU counters into out[PROF_CNT_MAX]. 0 or -errno. */
int sampler__counters(struct sampler *s, uint64_t out[PROF_CNT_MAX]);
/* Fills lost[0..n) with the samples each CPU lost to a full ring buffer.
 * Returns the number of CPUs filled (at most n), or -errno. */
int sampler__lost_by_cpu(struct sampler *s, uint64_t *lost, int n);
/* The fds of "unwind_tables", "unwind_files" and "unwind_procs", for the
 * unwind glue (owned by the sampler). */
void sampler__unwind_fds(const struct sampler *s, int *tables_fd, int *files_fd, int *procs_fd);
/* sampler__poll() also returns when fd becomes readable (the unwind
 * store's eventfd: a table compiled), so the caller reacts at once rather
 * than at its next timeout. The caller reads fd. 0 or -errno. */
int sampler__add_wake_fd(struct sampler *s, int fd);
/* CPUs with an attached perf event. */
int sampler__ncpus(const struct sampler *s);

/* The one-line cause-and-fix for a sampler__new() failure. Static text. */
const char *sampler_strerror(int err);

#endif /* EMBER_SAMPLER_H */
