/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* unwind_glue.h - each process's executable mappings, as the BPF walker
 * needs them in "unwind_procs", with a table reference per file
 *
 * A process is synced (its /proc/PID/maps read, each executable file's
 * table acquired from the unwind store, its load bias computed, the sorted
 * mappings written to "unwind_procs") on its exec event, on its first
 * sample, and again, rate-limited, when a sample's pc fell outside every
 * mapping written (a library loaded since: dlopen, or ld.so still loading
 * when exec was seen). When the store loads a table a process was waiting
 * for, the process's entry is written again. An exit deletes the entry and
 * drops the references. Until a process's tables are loaded the walker
 * uses frame pointers for it: nothing is ever waited for on the sampling
 * path.
 * Thread: the main loop only.
 */
#ifndef EMBER_UNWIND_GLUE_H
#define EMBER_UNWIND_GLUE_H

#include <stddef.h>
#include <stdint.h>

struct unwind_glue;

struct unwind_glue_stats {
	uint64_t procs; /* gauge: processes with an entry in unwind_procs */
	uint64_t syncs; /* /proc/PID/maps reads turned into an entry */
	uint64_t resyncs; /* of them, after a pc fell outside the known mappings */
	uint64_t sync_failed; /* maps unreadable (the process was gone) */
	uint64_t rewrites; /* entries written again because a table became ready */
	uint64_t write_failed; /* unwind_procs refused an entry (full) */
	uint64_t maps_over_cap; /* executable mappings left out past PROF_UNWIND_MAX_MAPPINGS */
	uint64_t bias_failed; /* mapped files whose load bias could not be read */
	uint64_t preloaded; /* files queued at start-up */
};

/* tables_fd, files_fd, procs_fd: the skeleton's "unwind_tables",
 * "unwind_files" and "unwind_procs" (borrowed). cap_bytes: the tables'
 * memory cap. proc_root is "/proc" outside tests. NULL with errno. */
struct unwind_glue *unwind_glue__new(int tables_fd, int files_fd, int procs_fd, size_t cap_bytes,
				     const char *proc_root);
void unwind_glue__free(struct unwind_glue *g);

/* Queues the files most processes map (libc, ld.so, libstdc++, libpython
 * and python3) so their tables are ready before the first sample. */
void unwind_glue__preload(struct unwind_glue *g);

/* pid exec'd: its image changed, sync it now. */
void unwind_glue__exec(struct unwind_glue *g, uint32_t pid);
/* pid exited: its entry and references go. */
void unwind_glue__exit(struct unwind_glue *g, uint32_t pid);
/* A CPU sample of pid, with the walker's enum prof_uflag bits: syncs a
 * process seen for the first time, resyncs one whose pc was unknown. */
void unwind_glue__sample(struct unwind_glue *g, uint32_t pid, uint32_t uflags, uint64_t now_ns);
/* Loads finished compiles and rewrites the processes that waited for
 * them. Call it from the main loop. */
void unwind_glue__poll(struct unwind_glue *g);
/* Drops processes that are gone without an exit event seen. */
void unwind_glue__sweep(struct unwind_glue *g);

void unwind_glue__stats(const struct unwind_glue *g, struct unwind_glue_stats *out);
struct unwind_store;
/* Readable when a compile finished (unwind_glue__poll has work). */
int unwind_glue__event_fd(const struct unwind_glue *g);
/* The table store, for its statistics. */
const struct unwind_store *unwind_glue__store(const struct unwind_glue *g);

#endif /* EMBER_UNWIND_GLUE_H */
