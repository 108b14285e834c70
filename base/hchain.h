/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* hchain.h - an intrusive chained hash table, for entries that come and go
 *
 * hindex indexes entries that live in an array and are dropped all at once;
 * this one links entries that are allocated and freed one by one (the open
 * file registry, the symbol table cache): the node lives inside the entry,
 * so adding never allocates and removing is O(chain). The table doubles its
 * buckets when it holds as many entries as buckets; a failed resize only
 * makes chains longer. A value type: hchain_init() it. Not thread-safe; the
 * owner locks when several threads use it.
 */
#ifndef EMBER_HCHAIN_H
#define EMBER_HCHAIN_H

#include <stddef.h>
#include <stdint.h>

struct hchain_node {
	struct hchain_node *next;
	uint64_t hash;
};

struct hchain {
	struct hchain_node **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
};

/* The entry of type `type` whose member `member` is node ptr. */
#define hchain_entry(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* nbuckets: the initial count, rounded up to a power of two. 0 or -ENOMEM. */
int hchain_init(struct hchain *h, size_t nbuckets);
/* Frees the buckets, not the entries. */
void hchain_release(struct hchain *h);
/* The first node with this hash, or NULL; hchain_next() walks on to the
 * others with the same hash (the caller compares keys). */
struct hchain_node *hchain_first(const struct hchain *h, uint64_t hash);
struct hchain_node *hchain_next(const struct hchain_node *n);
void hchain_add(struct hchain *h, struct hchain_node *n, uint64_t hash);
/* Unlinks n, which must be in h. */
void hchain_remove(struct hchain *h, struct hchain_node *n);

#endif /* EMBER_HCHAIN_H */
