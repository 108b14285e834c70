// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_folded.c - libFuzzer harness for the flame graph readers (folded
 * text, and pprof when the bytes look binary) and the SVG writer: whatever
 * the input, every node's total is its own samples plus its children's, and
 * the SVG is valid UTF-8 with no byte XML forbids */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fg_read.h"
#include "fg_svg.h"
#include "fg_tree.h"
#include "log.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_tree(const struct fg_tree *t)
{
	const struct fg_node *nd;
	size_t n, i;
	uint64_t *sum;

	nd = fg_tree__nodes(t, &n);
	sum = calloc(n, sizeof(*sum));
	if (!sum)
		return;
	for (i = 1; i < n; i++) {
		if (nd[i].parent >= i || nd[i].depth != nd[nd[i].parent].depth + 1)
			__builtin_trap();
		sum[nd[i].parent] += nd[i].total;
	}
	for (i = 0; i < n; i++)
		if (nd[i].total != nd[i].self + sum[i])
			__builtin_trap();
	free(sum);
}

static void check_svg(const struct fg_tree *t)
{
	struct fg_svg_opts o = { .title = "fuzz", .unit = "samples" };
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f;

	f = open_memstream(&buf, &len);
	if (!f)
		return;
	if (fg_svg_write(f, t, &o))
		__builtin_trap();
	fclose(f);
	if (!utf8_valid(buf, len))
		__builtin_trap();
	for (i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 && buf[i] != '\n')
			__builtin_trap();
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_read r = { 0 };
	struct fg_names *names;
	struct fg_tree *t = NULL;

	log_level = LOG_ERR;
	names = fg_names__new(1 << 20);
	/* A small node bound, so the fuzzer reaches it. */
	t = names ? fg_tree__new(names, 64, size && data[0] & 1) : NULL;
	if (!t)
		goto cleanup;
	if (fg_read_buf(t, "fuzz", data, size, &r)) {
		if (!r.err[0])
			__builtin_trap(); /* every failure says why */
	} else if (!fg_tree__finish(t)) {
		check_tree(t);
		check_svg(t);
	}
cleanup:
	fg_tree__free(t);
	fg_names__free(names);
	return 0;
}
