/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* arena.h - a chunked bump allocator: many small pieces, freed in one go
 *
 * Memory handed out never moves, so pointers stay valid until the arena is
 * reset or released, however much follows. Used for a window report's
 * strings and arrays and for the names a symbol lookup reads. A value type:
 * zero it to start. Not thread-safe; each owner has its own.
 */
#ifndef EMBER_ARENA_H
#define EMBER_ARENA_H

#include <stddef.h>

#define ARENA_CHUNK (64 * 1024)

struct arena_chunk;

struct arena {
	struct arena_chunk *head; /* the chunk being filled; full ones follow */
};

/* Zeroed memory for size bytes, 8-byte aligned. NULL on ENOMEM. */
void *arena_alloc(struct arena *a, size_t size);
/* A copy of s. NULL on ENOMEM. */
char *arena_strdup(struct arena *a, const char *s);
/* Room for size bytes at the end of the chunk being filled, not yet taken:
 * for a writer that learns the length it used only after writing (then
 * arena_commit()). The room is unaligned and not zeroed. NULL on ENOMEM. */
char *arena_reserve(struct arena *a, size_t size);
/* Takes used bytes (at most what the last arena_reserve() gave) for good. */
void arena_commit(struct arena *a, size_t used);
/* Invalidates everything handed out and keeps one chunk for reuse. */
void arena_reset(struct arena *a);
/* Frees every chunk; the arena is empty and reusable. */
void arena_release(struct arena *a);

#endif /* EMBER_ARENA_H */
