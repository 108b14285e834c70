// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sched_glue.c - cutting the tracing frames atop a sched_switch kernel stack,
 * and joining an off-CPU stack record with its end record
 *
 * The names are the kernel's own for the code between a tracepoint and the
 * program attached to it: stable since tp_btf exists (5.5), while the number
 * of such frames is not (inlining and tail calls differ between builds), so
 * they are recognised by name rather than counted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hindex.h"
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

int sched_join_init(struct sched_join *j, size_t max)
{
	size_t n = 16;

	memset(j, 0, sizeof(*j));
	if (!max)
		max = 1;
	/* About one record a bucket when full. */
	while (n < max && n < ((size_t)1 << 30))
		n <<= 1;
	j->buckets = calloc(n, sizeof(*j->buckets));
	if (!j->buckets)
		return -ENOMEM;
	j->nbuckets = n;
	j->max = max;
	return 0;
}

void sched_join_release(struct sched_join *j)
{
	size_t i;
	struct sched_join_entry *e, *next;

	for (i = 0; i < j->nbuckets; i++)
		for (e = j->buckets[i]; e; e = next) {
			next = e->next;
			free(e);
		}
	free(j->buckets);
	memset(j, 0, sizeof(*j));
}

static struct sched_join_entry **join_slot(struct sched_join *j, uint32_t tid)
{
	struct sched_join_entry **pe = &j->buckets[hindex_mix64(tid) & (j->nbuckets - 1)];

	while (*pe && (*pe)->tid != tid)
		pe = &(*pe)->next;
	return pe;
}

/* Unlinks *pe, the entry in its bucket, from both lists and returns it. */
static struct sched_join_entry *join_take(struct sched_join *j, struct sched_join_entry **pe)
{
	struct sched_join_entry *e = *pe;

	*pe = e->next;
	e->next = NULL;
	lru_unlink(&j->age, &e->age);
	j->stats.waiting--;
	return e;
}

void sched_join_stack(struct sched_join *j, uint32_t tid, uint64_t time_ns, const void *rec,
		      size_t size)
{
	struct sched_join_entry **pe, *e;

	j->stats.stacks++;
	if (!j->buckets) {
		j->stats.nomem++;
		return;
	}
	pe = join_slot(j, tid);
	if (*pe) {
		free(join_take(j, pe));
		j->stats.unended++;
	}
	while (j->stats.waiting >= j->max && j->age.tail) {
		e = lru_entry(j->age.tail, struct sched_join_entry, age);
		free(join_take(j, join_slot(j, e->tid)));
		j->stats.evicted++;
	}
	if (size > UINT32_MAX || !(e = malloc(sizeof(*e) + size))) {
		j->stats.nomem++;
		return;
	}
	e->tid = tid;
	e->time_ns = time_ns;
	e->size = size;
	memcpy(e->rec, rec, size);
	/* The eviction above may have emptied the bucket: find the slot anew. */
	pe = join_slot(j, tid);
	e->next = NULL;
	*pe = e;
	lru_push_front(&j->age, &e->age);
	j->stats.waiting++;
}

struct sched_join_entry *sched_join_end(struct sched_join *j, uint32_t tid, uint64_t time_ns)
{
	struct sched_join_entry **pe;

	if (!j->buckets) {
		j->stats.ends_unmatched++;
		return NULL;
	}
	pe = join_slot(j, tid);
	/* Waiting from an earlier switch-out: this end's own stack record was
	 * lost, and that one's end can no longer come (ends come in order). */
	if (*pe && (*pe)->time_ns < time_ns) {
		free(join_take(j, pe));
		j->stats.unended++;
	}
	/* None, or a later one's: this end's stack record was lost or evicted. */
	if (!*pe || (*pe)->time_ns != time_ns) {
		j->stats.ends_unmatched++;
		return NULL;
	}
	j->stats.joined++;
	return join_take(j, pe);
}

void sched_join_stats(const struct sched_join *j, struct sched_join_stats *out)
{
	*out = j->stats;
}
