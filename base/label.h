/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* label.h - a label pair, and label sets compared as wholes
 *
 * A label set is an array of pairs sorted by name with no name twice: what
 * Pyroscope keys a series by. Sets are built by agent/labels and read by the
 * outputs; the strings belong to whoever built the set.
 */
#ifndef EMBER_LABEL_H
#define EMBER_LABEL_H

#include <stdbool.h>
#include <stddef.h>

struct label {
	const char *name;
	const char *value;
};

/* strcmp on names, for qsort() and bsearch(). */
int label_cmp_name(const void *a, const void *b);
/* Orders two sorted sets: by each pair in turn (name, then value), then by
 * length. 0 when they are the same set. */
int label_set_cmp(const struct label *a, size_t na, const struct label *b, size_t nb);
/* The value of name in the sorted set, or NULL. */
const char *label_set_get(const struct label *set, size_t n, const char *name);

#endif /* EMBER_LABEL_H */
