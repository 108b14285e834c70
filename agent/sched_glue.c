// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sched_glue.c - cutting the tracing frames atop a sched_switch kernel stack
 *
 * The names are the kernel's own for the code between a tracepoint and the
 * program attached to it: stable since tp_btf exists (5.5), while the number
 * of such frames is not (inlining and tail calls differ between builds), so
 * they are recognised by name rather than counted.
 */
#include <string.h>

#include "sched_glue.h"

bool sched_glue_is_glue_name(const char *fn)
{
	static const char *const prefixes[] = { "bpf_prog_", "bpf_trace_run", "__bpf_trace_",
						"__traceiter_" };
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(fn, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static bool in_set(const uint64_t *set, size_t n, uint64_t addr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] == addr)
			return true;
	return false;
}

static void remember(uint64_t *set, size_t *n, uint64_t addr)
{
	if (*n < SCHED_GLUE_MAX_ADDRS)
		set[(*n)++] = addr;
}

uint32_t sched_glue_skip(struct sched_glue *g, const uint64_t *addrs, uint32_t n,
			 sched_glue_name_fn name, void *ctx)
{
	const char *fn;
	uint32_t i;

	for (i = 0; i < n && i < SCHED_GLUE_MAX_DEPTH; i++) {
		if (in_set(g->glue, g->nglue, addrs[i]))
			continue;
		if (in_set(g->keep, g->nkeep, addrs[i]))
			break;
		g->lookups++;
		fn = name(ctx, addrs[i]);
		/* A program loaded after kallsyms was read has no name yet; as
		 * the leaf, the running code is the program. */
		if (fn ? sched_glue_is_glue_name(fn) : i == 0) {
			remember(g->glue, &g->nglue, addrs[i]);
			continue;
		}
		remember(g->keep, &g->nkeep, addrs[i]);
		break;
	}
	return i;
}
