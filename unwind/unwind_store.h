/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* unwind_store.h - the unwind tables in the BPF maps, one per file, shared
 * by every process that maps the file
 *
 * The walker reads "unwind_tables" (ARRAY_OF_MAPS by slot: each file's rows
 * as an ARRAY with exactly its row count) and "unwind_files" (ARRAY by slot:
 * {rows, gen}). A process mapping names a slot and the slot's gen when it
 * was written: a slot given to another file gets a new gen, so a stale
 * mapping makes the walker fall back to the frame pointer, never read the
 * wrong table.
 *
 * Files are compiled (unwind_table) on one worker thread through a bounded
 * queue, so a 200 MB binary never stalls the agent's loop: acquire of a file
 * not compiled yet queues it and answers PROF_UNWIND_NO_TABLE; the agent's
 * loop calls unwind_store_poll(), which loads finished tables into the maps
 * (BPF calls stay on the calling thread) and bumps unwind_store_ready_seq().
 * A file queued twice compiles once.
 *
 * Memory: the tables' bytes in the kernel (rows * 8 plus each map's own
 * overhead) stay under cap_bytes. Loaded files no process holds stay cached
 * until room is needed; the least recently used go first, a file held by
 * live processes only when nothing else frees room. Every eviction is
 * counted; a file bigger than the whole cap is counted and left to frame
 * pointers.
 *
 * Not thread-safe: one owner thread calls everything (the worker is
 * internal).
 */
#ifndef EMBER_UNWIND_STORE_H
#define EMBER_UNWIND_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* A file's identity, from fstat (like the symbol caches' "I" keys): the
 * same file seen through any path or process is one table, a file replaced
 * in place (new inode or new mtime) is another. */
struct unwind_file_key {
	uint64_t dev;
	uint64_t ino;
	uint64_t size;
	int64_t mtime_ns;
};

void unwind_file_key_from_stat(const struct stat *st, struct unwind_file_key *key);

struct unwind_store_file;

/* A hold on a file's table. slot and gen are what the process mapping in
 * "unwind_procs" gets; slot is PROF_UNWIND_NO_TABLE while the file is being
 * compiled, when it has no usable CFI, or after its table was evicted. */
struct unwind_ref {
	uint32_t slot;
	uint32_t gen;
	struct unwind_store_file *file; /* internal; NULL: no hold */
};

struct unwind_store;

/* tables_fd: "unwind_tables", files_fd: "unwind_files" (both borrowed).
 * cap_bytes: the tables' memory cap. NULL with errno ENOMEM (or the thread
 * error). Free with unwind_store_free(), which accepts NULL. */
struct unwind_store *unwind_store_new(int tables_fd, int files_fd, size_t cap_bytes);
/* Unloads every table from the maps, stops the worker. */
void unwind_store_free(struct unwind_store *s);

/* Holds the file with this key (path: where to open it, e.g.
 * /proc/PID/map_files/..., read on the worker later; copied). 0 with *out
 * filled (out->slot may be PROF_UNWIND_NO_TABLE), -ENOMEM, -EINVAL. Each
 * successful acquire needs one release. */
int unwind_store_acquire(struct unwind_store *s, const struct unwind_file_key *key,
			 const char *path, struct unwind_ref *out);
/* The current slot and gen of a held file, into ref: true when they
 * changed (the table was loaded or evicted since the ref was filled). */
bool unwind_store_refresh(struct unwind_store *s, struct unwind_ref *ref);
/* Drops the hold (ref is cleared). The table stays cached until its room
 * is needed. NULL-safe, and a cleared ref is a no-op. */
void unwind_store_release(struct unwind_store *s, struct unwind_ref *ref);

/* Queues the file at path for compiling without holding it (libc, ld.so,
 * libstdc++ at start-up). 0, -errno from stat, -EAGAIN (queue full). */
int unwind_store_preload(struct unwind_store *s, const char *path);

/* Finishes background compiles: loads their tables into the maps. Call it
 * from the agent's loop; returns the number of tables loaded. Never blocks
 * on a compile. */
int unwind_store_poll(struct unwind_store *s);
/* Bumped each time poll loaded a table: a caller that saw it change
 * refreshes the refs of processes that were waiting. */
uint64_t unwind_store_ready_seq(const struct unwind_store *s);
/* Readable (an eventfd) when a compile finished and poll has work: for an
 * epoll loop. */
int unwind_store_event_fd(const struct unwind_store *s);
/* Waits up to timeout_ms for the queue to drain, polling: for start-up
 * preloads and tests. True when nothing is pending. */
bool unwind_store_drain(struct unwind_store *s, unsigned int timeout_ms);

struct unwind_store_stats {
	uint64_t tables_loaded; /* gauge: tables in the maps */
	uint64_t table_bytes; /* gauge: their kernel memory */
	uint64_t table_rows; /* gauge */
	uint64_t cap_bytes;
	uint64_t files; /* gauge: files known (loaded, cached, pending, no CFI) */
	uint64_t pending; /* gauge: queued or compiling */
	uint64_t compiles; /* counter: compiles finished */
	uint64_t compile_ms_total; /* counter: their wall time */
	uint64_t compile_failed; /* counter: unreadable, not ELF, corrupt, changed */
	uint64_t files_no_cfi; /* counter: compiled, no usable rows */
	uint64_t cfi_skipped; /* counter: CIEs/FDEs skipped in compiled files */
	uint64_t too_big; /* counter: over the row cap or the whole memory cap */
	uint64_t evictions; /* counter: tables unloaded for room */
	uint64_t evictions_held; /* counter: of them, files processes held */
	uint64_t queue_full; /* counter: a file not queued (retried later) */
	uint64_t load_failed; /* counter: creating or filling a BPF map failed */
};

void unwind_store_stats(const struct unwind_store *s, struct unwind_store_stats *out);

/* Kernel bytes of one table of rows (a BPF ARRAY of 8-byte values). */
size_t unwind_store_table_bytes(size_t rows);

#endif /* EMBER_UNWIND_STORE_H */
