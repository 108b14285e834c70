// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fg_diff.c - per-function shares of two call trees */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fg_diff.h"

int fg_diff_functions(const struct fg_tree *t, uint64_t *self, uint64_t *total)
{
	const struct fg_names *names = fg_tree__names(t);
	const struct fg_node *nd;
	uint32_t *onpath, i;
	size_t n;

	nd = fg_tree__nodes(t, &n);
	/* How many frames of each name are on the path to the current node:
	 * a node adds to its name's total only when it is the outermost. */
	onpath = calloc(fg_names__count(names), sizeof(*onpath));
	if (!onpath)
		return -ENOMEM;
	i = FG_ROOT;
	for (;;) {
		self[nd[i].name] += nd[i].self;
		if (!onpath[nd[i].name]++)
			total[nd[i].name] += nd[i].total;
		if (nd[i].child != FG_NONE) {
			i = nd[i].child;
			continue;
		}
		/* Leave i and every ancestor that has no next sibling. */
		for (;;) {
			onpath[nd[i].name]--;
			if (nd[i].next != FG_NONE) {
				i = nd[i].next;
				break;
			}
			i = nd[i].parent;
			if (i == FG_NONE)
				goto done;
		}
	}
done:
	free(onpath);
	return 0;
}

static double pct(uint64_t v, uint64_t total)
{
	return total ? 100.0 * (double)v / (double)total : 0;
}

struct sort_ctx {
	const struct fg_names *names;
};

static int cmp_rows(const void *a, const void *b, void *ctx)
{
	const struct fg_diff_row *x = a, *y = b;
	const struct sort_ctx *c = ctx;

	if (x->total_delta != y->total_delta)
		return x->total_delta < y->total_delta ? 1 : -1;
	if (x->self_delta != y->self_delta)
		return x->self_delta < y->self_delta ? 1 : -1;
	return strcmp(fg_names__str(c->names, x->name), fg_names__str(c->names, y->name));
}

int fg_diff_rows(const struct fg_tree *before, const struct fg_tree *after,
		 struct fg_diff_row **rows, size_t *nrows)
{
	const struct fg_names *names = fg_tree__names(after);
	size_t nn = fg_names__count(names), i, n = 0, k;
	uint64_t *v = calloc(4 * nn, sizeof(*v)), tb, ta;
	struct sort_ctx ctx = { names };
	struct fg_diff_row *out = NULL;
	int err = -ENOMEM;

	if (!v)
		goto cleanup;
	if (fg_diff_functions(before, v, v + nn) ||
	    fg_diff_functions(after, v + 2 * nn, v + 3 * nn))
		goto cleanup;
	tb = fg_tree__nodes(before, &k)[FG_ROOT].total;
	ta = fg_tree__nodes(after, &k)[FG_ROOT].total;
	out = calloc(nn ? nn : 1, sizeof(*out));
	if (!out)
		goto cleanup;
	/* Name 0 is the root ("all"): always 100 %, not a function. */
	for (i = 1; i < nn; i++) {
		if (!v[nn + i] && !v[3 * nn + i])
			continue;
		out[n] = (struct fg_diff_row){
			.name = (uint32_t)i,
			.self_before = pct(v[i], tb),
			.self_after = pct(v[2 * nn + i], ta),
			.total_before = pct(v[nn + i], tb),
			.total_after = pct(v[3 * nn + i], ta),
		};
		out[n].self_delta = out[n].self_after - out[n].self_before;
		out[n].total_delta = out[n].total_after - out[n].total_before;
		n++;
	}
	qsort_r(out, n, sizeof(*out), cmp_rows, &ctx);
	*rows = out;
	*nrows = n;
	out = NULL;
	err = 0;
cleanup:
	free(v);
	free(out);
	return err;
}

void fg_diff_put_name(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

void fg_diff_print(FILE *f, const struct fg_names *names, const struct fg_diff_row *rows, size_t n)
{
	size_t i;

	fprintf(f, "%8s %8s %8s %8s %8s %8s  %s\n", "self-bef", "self-aft", "self-chg", "tot-bef",
		"tot-aft", "tot-chg", "function");
	for (i = 0; i < n; i++) {
		fprintf(f, "%7.2f%% %7.2f%% %+8.2f %7.2f%% %7.2f%% %+8.2f  ", rows[i].self_before,
			rows[i].self_after, rows[i].self_delta, rows[i].total_before,
			rows[i].total_after, rows[i].total_delta);
		fg_diff_put_name(f, fg_names__str(names, rows[i].name));
		fputc('\n', f);
	}
}

int fg_diff_match(const struct fg_tree *before, const struct fg_tree *after, uint64_t **out)
{
	const struct fg_node *an, *bn;
	uint32_t *map;
	size_t na, nb, i;

	an = fg_tree__nodes(after, &na);
	bn = fg_tree__nodes(before, &nb);
	*out = calloc(na, sizeof(**out));
	map = malloc(na * sizeof(*map));
	if (!*out || !map) {
		free(*out);
		free(map);
		*out = NULL;
		return -ENOMEM;
	}
	/* Parents come before children in both trees: each after node's
	 * counterpart is its parent's counterpart's child of the same name. */
	map[FG_ROOT] = FG_ROOT;
	(*out)[FG_ROOT] = bn[FG_ROOT].total;
	for (i = 1; i < na; i++) {
		uint32_t p = map[an[i].parent];

		map[i] = p == FG_NONE ? FG_NONE : fg_tree__child(before, p, an[i].name);
		(*out)[i] = map[i] == FG_NONE ? 0 : bn[map[i]].total;
	}
	free(map);
	return 0;
}
