/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lru.h - an intrusive recency list, for caches that evict the least used
 *
 * The symbol table cache, the DWARF handles and the cgroup cache each keep
 * their entries in use order: a lookup moves an entry to the front, eviction
 * takes from the back. The node lives inside the entry (lru_entry() gets the
 * entry back), so no operation allocates. A value type: zero it to start.
 * Not thread-safe; the owner locks when several threads use it.
 */
#ifndef EMBER_LRU_H
#define EMBER_LRU_H

#include <stddef.h>

struct lru_node {
	struct lru_node *prev, *next;
};

struct lru {
	struct lru_node *head; /* the most recently used */
	struct lru_node *tail; /* the least recently used: evicted first */
};

/* The entry of type `type` whose member `member` is node ptr (NULL stays NULL). */
#define lru_entry(ptr, type, member) \
	((ptr) ? (type *)((char *)(ptr)-offsetof(type, member)) : (type *)NULL)

static inline void lru_unlink(struct lru *l, struct lru_node *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		l->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		l->tail = n->prev;
	n->prev = n->next = NULL;
}

static inline void lru_push_front(struct lru *l, struct lru_node *n)
{
	n->prev = NULL;
	n->next = l->head;
	if (l->head)
		l->head->prev = n;
	l->head = n;
	if (!l->tail)
		l->tail = n;
}

/* n was just used: it moves to the front. */
static inline void lru_touch(struct lru *l, struct lru_node *n)
{
	if (l->head != n) {
		lru_unlink(l, n);
		lru_push_front(l, n);
	}
}

#endif /* EMBER_LRU_H */
