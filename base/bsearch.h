/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* bsearch.h - the last entry at or below an address in a sorted table
 *
 * Symbol tables, kallsyms and process maps are arrays sorted by a 64-bit
 * start address; a lookup wants the entry whose start is the greatest one
 * <= addr. One search for all of them: the caller names the element size and
 * where the key sits in it. Pure; any thread.
 */
#ifndef EMBER_BSEARCH_H
#define EMBER_BSEARCH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* How many of the n elements (stride bytes each, sorted by the uint64_t at
 * key_off) have a key <= addr: the index after the last one that starts at
 * or below addr, so 0 means none does. */
static inline size_t bsearch_upper(const void *base, size_t n, size_t stride, size_t key_off,
				   uint64_t addr)
{
	const unsigned char *p = base;
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t key;

		memcpy(&key, p + mid * stride + key_off, sizeof(key));
		if (key <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

#endif /* EMBER_BSEARCH_H */
