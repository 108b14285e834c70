/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* proc.h - the process table: who runs, what it maps, where it runs
 *
 * One entry per process seen in a sample: comm, executable, cgroup v2 path and
 * systemd unit, and its mappings from /proc/PID/maps. User addresses are
 * normalized here, while the process is alive, into (file, file offset) so a
 * process that exits before its window ends is still named. Entries go on
 * exec and exit events, and in a sweep of processes that vanished unseen.
 * Thread: the main loop only.
 */
#ifndef EMBER_PROC_H
#define EMBER_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup.h"
#include "report.h"
#include "sym.h"

struct proc_table;
struct proc;

/* A normalized frame. file is borrowed from the process table: a caller that
 * keeps the frame past the next proc_table call takes a reference. */
struct proc_frame {
	struct sym_file *file; /* REPORT_FRAME_USER only */
	uint64_t addr; /* see enum report_frame_kind */
	uint32_t kind; /* enum report_frame_kind */
};

struct proc_stats {
	uint64_t procs_seen; /* entries created */
	uint64_t procs_live; /* entries now */
	uint64_t maps_reads;
	uint64_t maps_failed; /* maps of a process that was already gone, or unreadable */
	uint64_t files_failed; /* mapped files that could not be opened */
	uint64_t maps_over_cap; /* mappings left out of a full maps table */
	uint64_t maps_from_store; /* maps taken from the kernel's mmap records */
	uint64_t files_by_path; /* files opened by name for a gone process */
	uint64_t cgroup_bad; /* cgroup files that could not be read (over-long lines) */
};

/* proc_root is "/proc" outside tests. NULL with errno on failure. */
struct proc_table *proc_table__new(struct sym *sym, const char *proc_root);
void proc_table__free(struct proc_table *t);

/* The entry for pid, created (and its /proc files read) on first sight.
 * comm is the sample's comm, used when /proc has nothing. Never NULL except
 * on -ENOMEM (errno set). Valid until the next proc_table__forget/sweep. */
struct proc *proc_table__get(struct proc_table *t, uint32_t pid, const char *comm, uint64_t now_ns);
/* Normalizes n user addresses (leaf first, each the address to look up:
 * ingest has stepped return addresses back into their call) into out[]. */
void proc__normalize(struct proc_table *t, struct proc *p, const uint64_t *addrs, size_t n,
		     struct proc_frame *out, uint64_t now_ns);

uint32_t proc__pid(const struct proc *p);
/* Unique for the life of the table: a pid reused or re-executed gets a new id. */
uint64_t proc__id(const struct proc *p);
const char *proc__comm(const struct proc *p);
const char *proc__exe(const struct proc *p); /* NULL when unknown */
const char *proc__unit(const struct proc *p); /* NULL when not in a unit */
const char *proc__cgroup(const struct proc *p); /* NULL when unknown */
/* Container and pod the process runs in (empty fields when none). */
const struct cgroup_where *proc__where(const struct proc *p);
/* Start time in clock ticks after boot (/proc/PID/stat field 22): with the
 * pid, what tells this process from any other that had its pid. 0 when the
 * process was gone before it could be read. */
uint64_t proc__start_time(const struct proc *p);

struct mapstore;
/* Where maps come from when /proc has none (the process is gone): the
 * kernel's mmap records. Borrowed; NULL (the default) for /proc only. */
void proc_table__set_store(struct proc_table *t, struct mapstore *store);
/* The time (CLOCK_BOOTTIME ns) of the sample about to be normalized: which
 * of a process's images it ran in, when maps come from the store. */
void proc_table__set_event_time(struct proc_table *t, uint64_t boot_ns);
/* The process exited at boot_ns and its samples are all read: drops its
 * entry and what the store holds of it. */
void proc_table__exit(struct proc_table *t, uint32_t pid, uint64_t boot_ns);
/* What cgroup ids are known to be: consulted before, and taught by, each
 * new process's cgroup file. Borrowed; NULL (the default) for none. */
void proc_table__set_cgroups(struct proc_table *t, struct cgroup_cache *cgroups);
/* The cgroup id (from the BPF record) of the sample about to be looked up. */
void proc_table__set_event_cgroup(struct proc_table *t, uint64_t cgroup_id);
/* Drops pid's entry (exec replaced its image, or it exited). */
void proc_table__forget(struct proc_table *t, uint32_t pid);
/* Drops entries not sampled since before seen_before_ns whose /proc entry is
 * gone: processes whose exit event was lost. */
void proc_table__sweep(struct proc_table *t, uint64_t seen_before_ns);
void proc_table__stats(const struct proc_table *t, struct proc_stats *out);

/* Parses /proc/PID/stat text for starttime (field 22) into *start. 0, or
 * -EINVAL when the text is not stat's shape. Exposed for tests. */
int proc_parse_stat_start(const char *text, size_t len, uint64_t *start);
/* Parses /proc/PID/cgroup text: the cgroup v2 ("0::") path into path, and the
 * innermost systemd service unit on it into unit ("" when none). 0, or
 * -ENOENT when there is no v2 line. Exposed for tests. */
int proc_parse_cgroup(const char *text, size_t len, char *path, size_t path_size, char *unit,
		      size_t unit_size);

#endif /* EMBER_PROC_H */
