/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* mapstore.h - each process's executable mappings, as the kernel reported them
 *
 * Fed by the side-band perf records (sideband.c): exec, fork, mmap and exit,
 * each with its time on CLOCK_BOOTTIME (the BPF samples' clock). A process
 * is a short list of images, one per exec; a sample at time t is normalized
 * against the image that was current at t, so a process that exited before
 * its samples were read, or that exec'd since, is still normalized right.
 * Bounded: a few images per process, a few thousand mappings per image;
 * entries go when the process's exit is seen by ingest or by the sweep.
 * Thread: the main loop only.
 */
#ifndef EMBER_MAPSTORE_H
#define EMBER_MAPSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "sym_maps.h"

struct mapstore;

/* exec chains (sh -c, env, exec wrappers) are short. */
#define MAPSTORE_MAX_IMAGES 4
/* Executable mappings only: a big process has a few hundred. */
#define MAPSTORE_MAX_MAPS 4096

/* Called when a lookup misses: the owner drains pending records (a sample
 * can be read before the record of the mmap it ran in). */
typedef void (*mapstore_refill_fn)(void *ctx);

struct mapstore_stats {
	uint64_t procs; /* processes held now */
	uint64_t mappings; /* mappings held now */
	uint64_t execs; /* exec records taken */
	uint64_t mmaps; /* mmap records taken */
	uint64_t dropped; /* mappings or images dropped at a bound */
	uint64_t lookups; /* maps built for a process */
	uint64_t misses; /* lookups with nothing known for the process at that time */
};

/* NULL with errno ENOMEM. */
struct mapstore *mapstore__new(void);
void mapstore__free(struct mapstore *ms);
void mapstore__set_refill(struct mapstore *ms, mapstore_refill_fn fn, void *ctx);

/* Records, in any order across CPUs: each lands by its time. 0 or -ENOMEM
 * (-ENOSPC past a bound, counted in dropped). m->path is copied. */
int mapstore__exec(struct mapstore *ms, uint32_t pid, uint64_t time_ns);
int mapstore__fork(struct mapstore *ms, uint32_t pid, uint32_t ppid, uint64_t time_ns);
int mapstore__mmap(struct mapstore *ms, uint32_t pid, uint64_t time_ns, const struct sym_map *m);
void mapstore__exit(struct mapstore *ms, uint32_t pid, uint64_t time_ns);

/* The mappings pid had at time_ns (its own image then, else its parent's
 * when it had only forked), as new maps the caller frees; *ppid is its
 * parent (0 when unknown) and *version changes whenever that image gains a
 * mapping. NULL with errno: ENOENT (nothing known), ENOMEM. */
struct sym_maps *mapstore__maps(struct mapstore *ms, uint32_t pid, uint64_t time_ns, uint32_t *ppid,
				uint64_t *version);
/* The version mapstore__maps() would give now (0 when nothing is known);
 * drains pending records first. Cheap: for re-checking after a miss. */
uint64_t mapstore__version(struct mapstore *ms, uint32_t pid, uint64_t time_ns);

/* The process exited at time_ns and every sample before is read: drops its
 * images up to then. */
void mapstore__forget(struct mapstore *ms, uint32_t pid, uint64_t time_ns);
/* Drops processes that exited before exited_before_ns, and those whose /proc
 * entry is gone (their exit record was lost). proc_root is "/proc". */
void mapstore__sweep(struct mapstore *ms, uint64_t exited_before_ns, const char *proc_root);
void mapstore__stats(const struct mapstore *ms, struct mapstore_stats *out);

#endif /* EMBER_MAPSTORE_H */
