/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* hindex.h - an open-addressing index from a 64-bit hash to a 32-bit value
 *
 * The interning tables (window frames and stacks, pprof strings, mappings,
 * functions, locations) keep their entries in arrays and this index over
 * them: the slot holds the full hash, so a probe compares entries only when
 * hashes are equal. Values are non-zero (store index + 1). A value type:
 * zero it to start. Not thread-safe; each owner has its own.
 */
#ifndef EMBER_HINDEX_H
#define EMBER_HINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hindex_slot {
	uint64_t hash;
	uint32_t val; /* 0: empty */
};

struct hindex {
	struct hindex_slot *slots;
	size_t cap; /* power of two */
	size_t len;
};

/* Tells whether the entry behind val is key; ctx is the caller's table. */
typedef bool (*hindex_eq_fn)(const void *ctx, uint32_t val, const void *key);

/* The value of the entry equal to key, or 0. */
uint32_t hindex_find(const struct hindex *ix, uint64_t hash, hindex_eq_fn eq, const void *ctx,
		     const void *key);
/* Adds val (non-zero) under hash; grows at 3/4 load. 0 or -ENOMEM. */
int hindex_add(struct hindex *ix, uint64_t hash, uint32_t val);
/* Empties the index, keeping its capacity. */
void hindex_clear(struct hindex *ix);
/* Frees the slots; the index is empty and reusable. */
void hindex_release(struct hindex *ix);

uint64_t hindex_mix64(uint64_t h);
uint64_t hindex_hash_bytes(const void *p, size_t n);

#endif /* EMBER_HINDEX_H */
