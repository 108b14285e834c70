// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* hchain.c - an intrusive chained hash table */
#include <errno.h>
#include <stdlib.h>

#include "hchain.h"

int hchain_init(struct hchain *h, size_t nbuckets)
{
	size_t n = 1;

	while (n < nbuckets)
		n *= 2;
	h->buckets = calloc(n, sizeof(*h->buckets));
	if (!h->buckets)
		return -ENOMEM;
	h->nbuckets = n;
	h->count = 0;
	return 0;
}

void hchain_release(struct hchain *h)
{
	free(h->buckets);
	h->buckets = NULL;
	h->nbuckets = h->count = 0;
}

struct hchain_node *hchain_first(const struct hchain *h, uint64_t hash)
{
	struct hchain_node *n = h->buckets[hash & (h->nbuckets - 1)];

	while (n && n->hash != hash)
		n = n->next;
	return n;
}

struct hchain_node *hchain_next(const struct hchain_node *n)
{
	struct hchain_node *m = n->next;

	while (m && m->hash != n->hash)
		m = m->next;
	return m;
}

static void hchain_grow(struct hchain *h)
{
	size_t n = h->nbuckets * 2, i;
	struct hchain_node **b, *e, *next;

	b = calloc(n, sizeof(*b));
	if (!b)
		return;
	for (i = 0; i < h->nbuckets; i++) {
		for (e = h->buckets[i]; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(h->buckets);
	h->buckets = b;
	h->nbuckets = n;
}

void hchain_add(struct hchain *h, struct hchain_node *n, uint64_t hash)
{
	struct hchain_node **head;

	if (h->count >= h->nbuckets)
		hchain_grow(h);
	head = &h->buckets[hash & (h->nbuckets - 1)];
	n->hash = hash;
	n->next = *head;
	*head = n;
	h->count++;
}

void hchain_remove(struct hchain *h, struct hchain_node *n)
{
	struct hchain_node **pp = &h->buckets[n->hash & (h->nbuckets - 1)];

	while (*pp && *pp != n)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = n->next;
		h->count--;
	}
}
