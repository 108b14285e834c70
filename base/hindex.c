// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* hindex.c - open-addressing hash index with linear probing */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hindex.h"

#define HINDEX_MIN 256

uint64_t hindex_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

/* Eight bytes a step: byte-at-a-time FNV was most of the time of reading
 * a large folded file (600-byte stacks, one hash per line). The length goes
 * into the final mix, so "" and "\0" differ. */
uint64_t hindex_hash_bytes(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t h = 0xcbf29ce484222325ull, w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, c + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ c[i]) * 0x100000001b3ull;
	return hindex_mix64(h ^ n);
}

static int hindex_grow(struct hindex *ix)
{
	size_t ncap = ix->cap ? ix->cap * 2 : HINDEX_MIN, i, j;
	struct hindex_slot *ns;

	ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (i = 0; i < ix->cap; i++) {
		if (!ix->slots[i].val)
			continue;
		for (j = ix->slots[i].hash & (ncap - 1); ns[j].val; j = (j + 1) & (ncap - 1))
			;
		ns[j] = ix->slots[i];
	}
	free(ix->slots);
	ix->slots = ns;
	ix->cap = ncap;
	return 0;
}

uint32_t hindex_find(const struct hindex *ix, uint64_t hash, hindex_eq_fn eq, const void *ctx,
		     const void *key)
{
	size_t j;

	if (!ix->cap)
		return 0;
	for (j = hash & (ix->cap - 1); ix->slots[j].val; j = (j + 1) & (ix->cap - 1)) {
		if (ix->slots[j].hash == hash && eq(ctx, ix->slots[j].val, key))
			return ix->slots[j].val;
	}
	return 0;
}

int hindex_add(struct hindex *ix, uint64_t hash, uint32_t val)
{
	size_t j;
	int err;

	if ((ix->len + 1) * 4 > ix->cap * 3) {
		err = hindex_grow(ix);
		if (err)
			return err;
	}
	for (j = hash & (ix->cap - 1); ix->slots[j].val; j = (j + 1) & (ix->cap - 1))
		;
	ix->slots[j] = (struct hindex_slot){ hash, val };
	ix->len++;
	return 0;
}

void hindex_clear(struct hindex *ix)
{
	if (ix->slots)
		memset(ix->slots, 0, ix->cap * sizeof(*ix->slots));
	ix->len = 0;
}

void hindex_release(struct hindex *ix)
{
	free(ix->slots);
	ix->slots = NULL;
	ix->cap = ix->len = 0;
}
