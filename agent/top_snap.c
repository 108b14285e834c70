// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* top_snap.c - a CPU window's report as ember top's three tables */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "label.h"
#include "labels.h"
#include "top_snap.h"

/* The snapshot's name table: names of one interval's hottest code. */
#define TOP_MAX_NAME_BYTES (64u << 20)

/* Per-name counters of one grouping; ids are the name table's. */
struct tally {
	uint64_t *self, *total;
	uint64_t *stamp; /* the last stack that counted this name's total */
	size_t cap;
};

static int tally_grow(struct tally *t, uint32_t id)
{
	size_t cap = t->cap ? t->cap : 256, old = t->cap;
	void *p;

	if (id < t->cap)
		return 0;
	while (cap <= id)
		cap *= 2;
	p = realloc(t->self, cap * sizeof(*t->self));
	if (!p)
		return -ENOMEM;
	t->self = p;
	p = realloc(t->total, cap * sizeof(*t->total));
	if (!p)
		return -ENOMEM;
	t->total = p;
	p = realloc(t->stamp, cap * sizeof(*t->stamp));
	if (!p)
		return -ENOMEM;
	t->stamp = p;
	memset(t->self + old, 0, (cap - old) * sizeof(*t->self));
	memset(t->total + old, 0, (cap - old) * sizeof(*t->total));
	memset(t->stamp + old, 0, (cap - old) * sizeof(*t->stamp));
	t->cap = cap;
	return 0;
}

static void tally_free(struct tally *t)
{
	free(t->self);
	free(t->total);
	free(t->stamp);
}

/* Counts count samples under name: self when leaf, total once per stack. */
static int tally_add(struct top_snap *s, struct tally *t, const char *name, bool kernel, bool leaf,
		     uint64_t stack, uint64_t count)
{
	char buf[1024];
	uint32_t id;
	int err, len, i;

	len = snprintf(buf, sizeof(buf), kernel ? "%s [k]" : "%s", name);
	if (len >= (int)sizeof(buf))
		len = sizeof(buf) - 1;
	/* One row is one line, on the screen and in --batch text. */
	for (i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	err = fg_names__intern(s->names, buf, (size_t)len, &id);
	if (!err)
		err = tally_grow(t, id);
	if (err)
		return err;
	if (leaf)
		t->self[id] += count;
	if (t->stamp[id] != stack) {
		t->stamp[id] = stack;
		t->total[id] += count;
	}
	return 0;
}

/* Every named level of every frame: inline levels count as functions. */
static int count_stack(struct top_snap *s, struct tally *t, const struct report *r,
		       const struct report_stack *st, uint64_t serial)
{
	uint32_t k, l;
	int err;

	for (k = 0; k < st->nframes; k++) {
		const struct report_frame *fr = &r->frames[st->frames[k]];
		bool kernel = fr->kind == REPORT_FRAME_KERNEL;

		if (!fr->nlines) {
			err = tally_add(s, t, fr->unnamed, kernel, k == 0, serial, st->count);
			if (err)
				return err;
			continue;
		}
		/* The leaf's innermost line is where the time was spent. */
		for (l = 0; l < fr->nlines; l++) {
			err = tally_add(s, t, fr->lines[l].function, kernel, k == 0 && l == 0,
					serial, st->count);
			if (err)
				return err;
		}
	}
	return 0;
}

static int rows_of(struct top_snap *s, enum top_by by, const struct tally *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->cap; i++)
		n += t->total[i] > 0;
	s->rows[by] = calloc(n ? n : 1, sizeof(*s->rows[by]));
	if (!s->rows[by])
		return -ENOMEM;
	for (i = 0; i < t->cap; i++) {
		if (!t->total[i])
			continue;
		s->rows[by][s->nrows[by]++] = (struct top_row){
			.name = fg_names__str(s->names, (uint32_t)i),
			.self = t->self[i],
			.total = t->total[i],
		};
	}
	return 0;
}

struct top_snap *top_snap__new(const struct cfg *cfg, struct report *r)
{
	struct tally t[TOP_BY_MAX] = { 0 };
	struct labels_stats lst = { 0 };
	struct top_snap *s = calloc(1, sizeof(*s));
	uint64_t serial = 0;
	char name[320];
	size_t i, j;
	int err = -ENOMEM, by;

	if (!s)
		goto cleanup;
	s->names = fg_names__new(TOP_MAX_NAME_BYTES);
	if (!s->names)
		goto cleanup;
	s->samples = r->samples;
	s->duration_ns = r->duration_ns;
	/* service_name as the agent would push it: the same rules. */
	err = labels_assign(cfg, r, &lst);
	if (err)
		goto cleanup;
	for (i = 0; i < r->nprocs; i++) {
		const struct report_proc *p = &r->procs[i];
		const char *svc = label_set_get(p->labels, p->nlabels, "service_name");

		if (!p->samples)
			continue;
		snprintf(name, sizeof(name), "%s [%u]", p->comm, p->pid);
		err = tally_add(s, &t[TOP_BY_PROCESS], name, false, true, ++serial, p->samples);
		if (!err)
			err = tally_add(s, &t[TOP_BY_SERVICE], svc ? svc : p->comm, false, true,
					++serial, p->samples);
		for (j = 0; !err && j < p->nstacks; j++)
			err = count_stack(s, &t[TOP_BY_FUNCTION], r, &p->stacks[j], ++serial);
		if (err)
			goto cleanup;
	}
	for (by = 0; by < TOP_BY_MAX && !err; by++)
		err = rows_of(s, by, &t[by]);
cleanup:
	for (by = 0; by < TOP_BY_MAX; by++)
		tally_free(&t[by]);
	if (err) {
		top_snap__free(s);
		errno = -err;
		return NULL;
	}
	return s;
}

void top_snap__free(struct top_snap *s)
{
	int by;

	if (!s)
		return;
	for (by = 0; by < TOP_BY_MAX; by++)
		free(s->rows[by]);
	fg_names__free(s->names);
	free(s);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct top_row *)a)->name, ((const struct top_row *)b)->name);
}

static int cmp_self(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;

	if (x->self != y->self)
		return x->self < y->self ? 1 : -1;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return cmp_name(a, b);
}

static int cmp_total(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;

	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	if (x->self != y->self)
		return x->self < y->self ? 1 : -1;
	return cmp_name(a, b);
}

void top_snap__sort(struct top_snap *s, enum top_by by, enum top_sort sort)
{
	static int (*const cmp[TOP_SORT_MAX])(const void *, const void *) = {
		[TOP_SORT_SELF] = cmp_self,
		[TOP_SORT_TOTAL] = cmp_total,
		[TOP_SORT_NAME] = cmp_name,
	};

	qsort(s->rows[by], s->nrows[by], sizeof(*s->rows[by]), cmp[sort]);
}
