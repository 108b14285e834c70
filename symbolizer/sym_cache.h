/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sym_cache.h - byte-bounded LRU cache of ELF symbol tables (internal)
 *
 * Maps a key (a build-id, else a file identity) to a parsed symbol table,
 * shared by every process that maps the file. Holds at most max_bytes of
 * tables plus entry overhead; adding past the bound evicts least recently
 * used tables. An evicted table is simply loaded again by whoever needs it.
 * Thread: one owner (the symbolizer's).
 */
#ifndef EMBER_SYM_CACHE_H
#define EMBER_SYM_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "sym_buildid.h"
#include "sym_elf.h"

/* "B" + build-id hex, or "I" + dev, inode, size, mtime. */
#define SYM_CACHE_KEY_MAX (1 + SYM_BUILDID_HEX)

struct sym_cache_key {
	uint32_t len;
	uint8_t bytes[SYM_CACHE_KEY_MAX];
};

struct sym_cache;

/* NULL with errno ENOMEM. Free with sym_cache__free(), which accepts NULL. */
struct sym_cache *sym_cache__new(size_t max_bytes);
void sym_cache__free(struct sym_cache *c);

/* The table under k, now the most recently used; NULL on a miss. The table
 * stays valid until the next sym_cache__add() or sym_cache__free(). */
const struct sym_elf_table *sym_cache__get(struct sym_cache *c, const struct sym_cache_key *k);
/* Adds t under k, taking ownership of t in every case (it is freed on
 * error). Evicts other tables until the bound holds; t itself is never
 * evicted by its own addition. 0, -E2BIG (t alone exceeds the bound),
 * -EEXIST (k already cached), -ENOMEM. */
int sym_cache__add(struct sym_cache *c, const struct sym_cache_key *k, struct sym_elf_table *t);
/* Drops and frees the table under k, if any (not counted as an eviction):
 * for a table found wrong for its file, to be loaded again. */
void sym_cache__remove(struct sym_cache *c, const struct sym_cache_key *k);
/* The fd the table under k holds (its file's, or its debug file's), -1 when
 * none is cached; the LRU order is left as it is. */
int sym_cache__fd(const struct sym_cache *c, const struct sym_cache_key *k);
/* The largest table sym_cache__add() accepts. */
size_t sym_cache__max_table(const struct sym_cache *c);

struct sym_cache_stats {
	uint64_t bytes; /* tables and entries held now */
	uint64_t entries;
	uint64_t evictions;
};
void sym_cache__stats(const struct sym_cache *c, struct sym_cache_stats *out);

#endif /* EMBER_SYM_CACHE_H */
