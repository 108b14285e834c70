// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sym_cache.c - byte-bounded LRU cache of ELF symbol tables
 *
 * A base/hchain over the keys (the node inside each entry) plus a doubly
 * linked LRU list, head = most recently used. Owns the cached tables.
 * Invariant: bytes (tables plus entry overhead) <= max_bytes after every
 * sym_cache__add().
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hchain.h"
#include "hindex.h"
#include "lru.h"
#include "sym_cache.h"
#include "sym_elf_table.h"

struct sym_cache_entry {
	struct hchain_node hnode; /* in the cache's index */
	struct sym_cache_key key;
	size_t bytes;
	struct sym_elf_table *table;
	struct lru_node lru;
};

struct sym_cache {
	struct hchain index; /* every entry, by key */
	size_t bytes;
	size_t max_bytes;
	uint64_t evictions;
	struct lru lru; /* head = most recently used */
};

static uint64_t sym_cache_hash(const struct sym_cache_key *k)
{
	return hindex_hash_bytes(k->bytes, k->len);
}

static bool sym_cache_key_eq(const struct sym_cache_key *a, const struct sym_cache_key *b)
{
	return a->len == b->len && !memcmp(a->bytes, b->bytes, a->len);
}

struct sym_cache *sym_cache__new(size_t max_bytes)
{
	struct sym_cache *c;

	c = calloc(1, sizeof(*c));
	if (!c)
		return errno = ENOMEM, NULL;
	if (hchain_init(&c->index, 64)) {
		free(c);
		return errno = ENOMEM, NULL;
	}
	c->max_bytes = max_bytes;
	return c;
}

void sym_cache__free(struct sym_cache *c)
{
	struct sym_cache_entry *e;

	if (!c)
		return;
	while ((e = lru_entry(c->lru.head, struct sym_cache_entry, lru))) {
		lru_unlink(&c->lru, &e->lru);
		sym_elf_table__free(e->table);
		free(e);
	}
	hchain_release(&c->index);
	free(c);
}

static struct sym_cache_entry *sym_cache_find(const struct sym_cache *c,
					      const struct sym_cache_key *k, uint64_t hash)
{
	struct sym_cache_entry *e;
	struct hchain_node *n;

	for (n = hchain_first(&c->index, hash); n; n = hchain_next(n)) {
		e = hchain_entry(n, struct sym_cache_entry, hnode);
		if (sym_cache_key_eq(&e->key, k))
			return e;
	}
	return NULL;
}

const struct sym_elf_table *sym_cache__get(struct sym_cache *c, const struct sym_cache_key *k)
{
	struct sym_cache_entry *e = sym_cache_find(c, k, sym_cache_hash(k));

	if (!e)
		return NULL;
	lru_touch(&c->lru, &e->lru);
	return e->table;
}

int sym_cache__fd(const struct sym_cache *c, const struct sym_cache_key *k)
{
	struct sym_cache_entry *e = sym_cache_find(c, k, sym_cache_hash(k));

	return e ? e->table->fd : -1;
}

static void sym_cache_drop(struct sym_cache *c, struct sym_cache_entry *e)
{
	hchain_remove(&c->index, &e->hnode);
	lru_unlink(&c->lru, &e->lru);
	c->bytes -= e->bytes;
	sym_elf_table__free(e->table);
	free(e);
}

static void sym_cache_evict(struct sym_cache *c, struct sym_cache_entry *e)
{
	c->evictions++;
	sym_cache_drop(c, e);
}

void sym_cache__remove(struct sym_cache *c, const struct sym_cache_key *k)
{
	struct sym_cache_entry *e = sym_cache_find(c, k, sym_cache_hash(k));

	if (e)
		sym_cache_drop(c, e);
}

size_t sym_cache__max_table(const struct sym_cache *c)
{
	return c->max_bytes > sizeof(struct sym_cache_entry) ?
		       c->max_bytes - sizeof(struct sym_cache_entry) :
		       0;
}

int sym_cache__add(struct sym_cache *c, const struct sym_cache_key *k, struct sym_elf_table *t)
{
	uint64_t hash = sym_cache_hash(k);
	struct sym_cache_entry *e = NULL;
	size_t bytes;
	int err = 0;

	bytes = sym_elf_table__bytes(t) + sizeof(*e);
	if (bytes > c->max_bytes) {
		err = -E2BIG;
		goto cleanup;
	}
	if (sym_cache_find(c, k, hash)) {
		err = -EEXIST;
		goto cleanup;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		err = -ENOMEM;
		goto cleanup;
	}
	while (c->lru.tail && c->bytes + bytes > c->max_bytes)
		sym_cache_evict(c, lru_entry(c->lru.tail, struct sym_cache_entry, lru));
	e->key = *k;
	e->bytes = bytes;
	e->table = t;
	hchain_add(&c->index, &e->hnode, hash);
	lru_push_front(&c->lru, &e->lru);
	c->bytes += bytes;
cleanup:
	if (err)
		sym_elf_table__free(t);
	return err;
}

void sym_cache__stats(const struct sym_cache *c, struct sym_cache_stats *out)
{
	out->bytes = c->bytes;
	out->entries = c->index.count;
	out->evictions = c->evictions;
}
