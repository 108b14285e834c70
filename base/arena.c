// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* arena.c - a chunked bump allocator
 *
 * Chunks form a list, newest first. A request larger than a chunk gets a
 * chunk of its own size. A full chunk is never written again: what it handed
 * out is still in use.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

struct arena_chunk {
	struct arena_chunk *next;
	size_t used;
	size_t size;
	_Alignas(8) unsigned char data[];
};

char *arena_reserve(struct arena *a, size_t size)
{
	struct arena_chunk *c = a->head;

	if (size > SIZE_MAX - sizeof(*c))
		return NULL;
	if (!c || c->size - c->used < size) {
		size_t csize = size > ARENA_CHUNK ? size : ARENA_CHUNK;

		c = malloc(sizeof(*c) + csize);
		if (!c)
			return NULL;
		c->size = csize;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	return (char *)c->data + c->used;
}

void arena_commit(struct arena *a, size_t used)
{
	a->head->used += used;
}

void *arena_alloc(struct arena *a, size_t size)
{
	struct arena_chunk *c = a->head;
	size_t need;
	char *p;

	if (size > SIZE_MAX - 8 - sizeof(*c))
		return NULL;
	need = size ? (size + 7) & ~(size_t)7 : 8;
	/* Keep the next piece 8-byte aligned: round the chunk's fill up first. */
	if (c && c->used % 8)
		c->used =
			c->used + 8 - c->used % 8 <= c->size ? c->used + 8 - c->used % 8 : c->size;
	p = arena_reserve(a, need);
	if (!p)
		return NULL;
	arena_commit(a, need);
	memset(p, 0, need);
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = arena_reserve(a, n);

	if (p) {
		memcpy(p, s, n);
		arena_commit(a, n);
	}
	return p;
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *c, *next;

	if (!a->head)
		return;
	for (c = a->head->next; c; c = next) {
		next = c->next;
		free(c);
	}
	a->head->next = NULL;
	a->head->used = 0;
}

void arena_release(struct arena *a)
{
	struct arena_chunk *c, *next;

	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
}
