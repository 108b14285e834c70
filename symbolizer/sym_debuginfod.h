/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sym_debuginfod.h - debug files fetched from debuginfod servers, off the
 * naming path
 *
 * The symbolizer asks for a build-id's debug file and never waits: a file
 * already in the on-disk cache is returned at once, any other build-id is
 * queued (bounded) for a worker thread that fetches it with libdebuginfod
 * (servers from DEBUGINFOD_URLS), checks that it is ELF with that build-id
 * and moves it into the cache under DIR/<build-id>.debug. The cache is
 * bounded in bytes: past the cap the files used longest ago go. A server
 * that fails, hangs or sends garbage costs the worker a bounded time
 * (DEBUGINFOD_TIMEOUT and a deadline checked by the progress callback),
 * one log line and a counter; naming goes on with what is there.
 * Thread: find/generation/stats from the symbolizer's owner; the worker
 * is internal.
 */
#ifndef EMBER_SYM_DEBUGINFOD_H
#define EMBER_SYM_DEBUGINFOD_H

#include <stddef.h>
#include <stdint.h>

struct sym_debuginfod;

struct sym_debuginfod_opts {
	const char *cache_dir; /* NULL: /var/cache/ember/debuginfod (root), else
				* $XDG_CACHE_HOME/ember/debuginfod */
	uint64_t cache_bytes; /* 0: 1 GiB */
	uint32_t timeout_s; /* one fetch at most; 0: DEBUGINFOD_TIMEOUT, else 30 s */
};

/* Starts the worker. NULL with errno: ENOENT no server configured
 * (DEBUGINFOD_URLS empty), ENOMEM, or the cache directory's error. */
struct sym_debuginfod *sym_debuginfod__new(const struct sym_debuginfod_opts *o);
/* Stops the worker (an in-flight fetch is aborted) and frees. NULL ok. */
void sym_debuginfod__free(struct sym_debuginfod *d);

/* The debug file of build-id id (lowercase hex): 0 with its path in
 * path[size]; -EAGAIN queued or being fetched (ask again later); -ENOENT
 * no server has it, or what came was unusable; -EBUSY the queue is full
 * (not remembered: asked again later). Never blocks on the network. */
int sym_debuginfod__find(struct sym_debuginfod *d, const char *id, char *path, size_t size);

/* Bumped each time a fetch ends, landed or not: callers holding tables
 * named while a fetch was pending look again when it moves. */
uint64_t sym_debuginfod__generation(struct sym_debuginfod *d);

struct sym_debuginfod_stats {
	uint64_t fetched; /* debug files that landed in the cache */
	uint64_t missing; /* build-ids no server had (or unreachable) */
	uint64_t bad; /* fetched files that were not ELF or had another build-id */
	uint64_t timeouts; /* fetches aborted at the deadline */
	uint64_t queue_full; /* requests turned away, the queue full */
	uint64_t evictions; /* cached files removed past the cap */
	uint64_t cache_bytes; /* bytes in the cache directory */
};
void sym_debuginfod__stats(struct sym_debuginfod *d, struct sym_debuginfod_stats *out);

#endif /* EMBER_SYM_DEBUGINFOD_H */
