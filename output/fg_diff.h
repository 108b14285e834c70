/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* fg_diff.h - per-function shares of two call trees, and the growth gate
 *
 * A function's self share is the part of all samples that end in it; its
 * total share the part of all samples with it anywhere on the stack (a
 * recursive function counted once per stack). Both trees must share one
 * fg_names table, so a name has one id in both. Pure; any thread.
 */
#ifndef EMBER_FG_DIFF_H
#define EMBER_FG_DIFF_H

#include <stdint.h>
#include <stdio.h>

#include "fg_tree.h"

struct fg_func {
	uint32_t name;
	uint64_t self, total; /* samples, per tree */
};

struct fg_diff_row {
	uint32_t name;
	double self_before, self_after; /* percent of each tree's samples */
	double total_before, total_after;
	double self_delta, total_delta; /* points, after - before */
};

/* Sums per function name: self[name] and total[name] must hold
 * fg_names__count() zeroed entries each. 0 or -ENOMEM. */
int fg_diff_functions(const struct fg_tree *t, uint64_t *self, uint64_t *total);

/* The rows of every function present in either tree, sorted by total
 * growth (largest first), then by name. *rows is malloc'd, *n rows. 0 or
 * -ENOMEM. */
int fg_diff_rows(const struct fg_tree *before, const struct fg_tree *after,
		 struct fg_diff_row **rows, size_t *n);

/* Writes a name for a terminal: control characters (escape sequences a
 * hostile profile could hold) become '?'. */
void fg_diff_put_name(FILE *f, const char *s);
/* Prints the table, one row per function. */
void fg_diff_print(FILE *f, const struct fg_names *names, const struct fg_diff_row *rows, size_t n);

/* Per node of after: the total of the same stack in before (0 if absent),
 * for colouring. *out is malloc'd. 0 or -ENOMEM. */
int fg_diff_match(const struct fg_tree *before, const struct fg_tree *after, uint64_t **out);

#endif /* EMBER_FG_DIFF_H */
