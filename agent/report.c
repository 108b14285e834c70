// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* report.c - a finished window's memory: one arena, freed in one go
 *
 * A report is built once and read by every output, then dropped whole, so
 * its strings and arrays come from a chunked bump allocator rather than
 * thousands of small mallocs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define ARENA_CHUNK (64 * 1024)

struct arena_chunk {
	struct arena_chunk *next;
	size_t used;
	size_t size;
	_Alignas(8) unsigned char data[];
};

struct report_arena {
	struct arena_chunk *head;
};

struct report *report__new(void)
{
	struct report *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->arena = calloc(1, sizeof(*r->arena));
	if (!r->arena) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	return r;
}

void *report__alloc(struct report *r, size_t size)
{
	struct report_arena *a = r->arena;
	struct arena_chunk *c = a->head;
	size_t need = (size + 7) & ~(size_t)7;
	void *p;

	if (!need)
		need = 8;
	if (!c || c->size - c->used < need) {
		size_t csize = need > ARENA_CHUNK ? need : ARENA_CHUNK;

		c = malloc(sizeof(*c) + csize);
		if (!c)
			return NULL;
		c->size = csize;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->used;
	c->used += need;
	memset(p, 0, need);
	return p;
}

const char *report__strdup(struct report *r, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = report__alloc(r, n);

	if (p)
		memcpy(p, s, n);
	return p;
}

void report__free(struct report *r)
{
	struct arena_chunk *c, *next;

	if (!r)
		return;
	for (c = r->arena ? r->arena->head : NULL; c; c = next) {
		next = c->next;
		free(c);
	}
	free(r->arena);
	free(r);
}
