/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* strtab.h - a growable blob of NUL-terminated strings, addressed by offset
 *
 * The parsers keep names and paths in one allocation each, referred to by
 * 32-bit offsets that stay valid while the blob grows. Bounded by max so a
 * hostile input cannot grow it without limit. A value type: zero it to start.
 */
#ifndef EMBER_STRTAB_H
#define EMBER_STRTAB_H

#include <stddef.h>
#include <stdint.h>

struct strtab {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* bound on cap; set before the first add */
};

/* Appends s[0..len) and a NUL; *off gets its offset. 0, -E2BIG past max, -ENOMEM. */
int strtab__add(struct strtab *t, const char *s, size_t len, uint32_t *off);
/* Gives back the capacity not used, once the blob is complete. */
void strtab__shrink(struct strtab *t);

#endif /* EMBER_STRTAB_H */
