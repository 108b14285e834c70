/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* vec.h - growing an array by doubling, within a bound
 *
 * The interning tables (window frames and stacks, pprof strings, mappings,
 * functions, locations) are plain arrays that grow as entries arrive.
 */
#ifndef EMBER_VEC_H
#define EMBER_VEC_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#define VEC_MIN 64

/* Makes room for need elements of elem bytes in *arr (capacity *cap), never
 * past max elements. 0, -ENOSPC past max, -ENOMEM; *arr is intact on error. */
static inline int vec_reserve(void **arr, size_t *cap, size_t elem, size_t need, size_t max)
{
	size_t ncap = *cap ? *cap : VEC_MIN;
	void *p;

	if (need <= *cap)
		return 0;
	if (max > SIZE_MAX / elem)
		max = SIZE_MAX / elem;
	if (need > max)
		return -ENOSPC;
	while (ncap < need)
		ncap *= 2;
	if (ncap > max)
		ncap = max;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

#define VEC_RESERVE(arr, cap, need, max) \
	vec_reserve((void **)&(arr), &(cap), sizeof(*(arr)), (need), (max))

#endif /* EMBER_VEC_H */
