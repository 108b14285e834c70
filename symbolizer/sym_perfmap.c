// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sym_perfmap.c - perf-map parsing and its last-wins range table
 *
 * Owns a sorted array of non-overlapping 16-byte ranges and one name blob.
 * New lines become pending entries; a commit sweeps the table and the
 * pending entries together (the table's ranges are older than any pending
 * entry), keeping at each address the latest entry that covers it. Names no
 * range refers to any more are dropped when they are most of the blob.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "bsearch.h"
#include "lines.h"
#include "log.h"
#include "strtab.h"
#include "sym_perfmap.h"
#include "vec.h"

struct sym_perfmap_ent {
	uint64_t start;
	uint32_t size;
	uint32_t name; /* offset in names */
};

struct sym_perfmap {
	struct sym_perfmap_ent *ents; /* the table: sorted, non-overlapping */
	size_t n, cap;
	struct sym_perfmap_ent *pend; /* parsed since the last commit, file order */
	size_t npend, cap_pend;
	size_t max_entries;
	struct strtab names;
	struct lines lines;
	size_t nlines, bad_lines;
	bool full;
};

static int sym_perfmap_line(void *ctx, const char *line, size_t len);

static int sym_perfmap_lines_init(struct sym_perfmap *pm)
{
	return lines__init(&pm->lines, SYM_PERFMAP_MAX_LINE, sym_perfmap_line, pm);
}

struct sym_perfmap *sym_perfmap__new(size_t max_entries)
{
	struct sym_perfmap *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	pm->max_entries = max_entries && max_entries < SYM_PERFMAP_MAX_ENTRIES ?
				  max_entries :
				  SYM_PERFMAP_MAX_ENTRIES;
	pm->names.max = SYM_PERFMAP_MAX_NAMES;
	if (sym_perfmap_lines_init(pm)) {
		free(pm);
		errno = ENOMEM;
		return NULL;
	}
	return pm;
}

void sym_perfmap__free(struct sym_perfmap *pm)
{
	if (!pm)
		return;
	lines__release(&pm->lines);
	free(pm->ents);
	free(pm->pend);
	free(pm->names.data);
	free(pm);
}

void sym_perfmap__reset(struct sym_perfmap *pm)
{
	pm->n = pm->npend = 0;
	pm->names.len = 0;
	pm->nlines = pm->bad_lines = 0;
	pm->full = false;
	/* Drops a partly fed line: the file is read again from its start. */
	lines__release(&pm->lines);
	if (sym_perfmap_lines_init(pm))
		pm->full = true; /* nothing more can be fed: an empty map */
}

/* "[0x]HEX" at p, then one space. The byte after the space, or NULL. */
static const char *sym_perfmap_hex(const char *p, const char *end, uint64_t *v)
{
	if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	p = lines_hex(p, end, 16, v);
	if (!p || p >= end || *p != ' ')
		return NULL;
	return p + 1;
}

/* Names go into folded text, logs and labels: no control bytes. */
static bool sym_perfmap_name_ok(const char *s, size_t len)
{
	size_t i;

	if (!len || len > SYM_PERFMAP_MAX_NAME || s[0] == ' ')
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c < ' ' || c == 0x7f)
			return false;
	}
	return true;
}

/* One line: "START SIZE name", strictly; anything else is counted and
 * skipped. Returns 1 (stop) once a bound is reached. */
static int sym_perfmap_line(void *ctx, const char *line, size_t len)
{
	struct sym_perfmap *pm = ctx;
	const char *p = line, *end = line + len;
	struct sym_perfmap_ent e;
	uint64_t start, size;
	int err;

	pm->nlines++;
	p = sym_perfmap_hex(p, end, &start);
	if (p)
		p = sym_perfmap_hex(p, end, &size);
	/* A range of 4 GiB or more is no JIT code: a hostile or corrupt line. */
	if (!p || !size || size > UINT32_MAX || start + size < start ||
	    !sym_perfmap_name_ok(p, end - p)) {
		pm->bad_lines++;
		return 0;
	}
	if (pm->n + pm->npend >= pm->max_entries) {
		caps__hit(CAPS_PERFMAP, 1, pm->max_entries);
		pm->full = true;
		return 1;
	}
	e.start = start;
	e.size = size;
	/* HotSpot's one blob for every interpreted method. */
	if (end - p == 11 && !memcmp(p, "Interpreter", 11))
		err = strtab__add(&pm->names, SYM_PERFMAP_INTERPRETER,
				  sizeof(SYM_PERFMAP_INTERPRETER) - 1, &e.name);
	else
		err = strtab__add(&pm->names, p, end - p, &e.name);
	if (!err)
		err = VEC_RESERVE(pm->pend, pm->cap_pend, pm->npend + 1, pm->max_entries);
	if (err == -E2BIG || err == -ENOSPC) {
		/* -E2BIG: the name blob, counted by strtab. */
		if (err == -ENOSPC)
			caps__hit(CAPS_PERFMAP, 1, pm->max_entries);
		pm->full = true;
		return 1;
	}
	if (err)
		return err;
	pm->pend[pm->npend++] = e;
	return 0;
}

int sym_perfmap__feed(struct sym_perfmap *pm, const char *data, size_t n, bool eof)
{
	size_t overlong = pm->lines.overlong_lines;
	int err;

	if (pm->full)
		return 0;
	err = lines__feed(&pm->lines, data, n);
	if (!err && eof)
		err = lines__finish(&pm->lines);
	/* A line past the bound is a bad line, whatever made it long. */
	pm->bad_lines += pm->lines.overlong_lines - overlong;
	pm->nlines += pm->lines.overlong_lines - overlong;
	return err;
}

/* The sweep: ranges ordered by start, a max-heap of the covering entries by
 * age (index into all[]: higher is later), boundaries between them. */
struct sym_perfmap_sweep {
	const struct sym_perfmap_ent *all;
	uint32_t *heap;
	size_t nheap;
};

static void heap_push(struct sym_perfmap_sweep *s, uint32_t v)
{
	size_t i = s->nheap++;

	while (i && s->heap[(i - 1) / 2] < v) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i] = v;
}

static void heap_pop(struct sym_perfmap_sweep *s)
{
	uint32_t v = s->heap[--s->nheap];
	size_t i = 0, c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= s->nheap)
			break;
		if (c + 1 < s->nheap && s->heap[c + 1] > s->heap[c])
			c++;
		if (s->heap[c] <= v)
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->nheap)
		s->heap[i] = v;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_start(const void *a, const void *b, void *ctx)
{
	const struct sym_perfmap_ent *all = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (all[x].start != all[y].start)
		return all[x].start < all[y].start ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int cmp_name(const void *a, const void *b)
{
	const struct sym_perfmap_ent *x = *(struct sym_perfmap_ent *const *)a;
	const struct sym_perfmap_ent *y = *(struct sym_perfmap_ent *const *)b;

	return x->name < y->name ? -1 : x->name > y->name;
}

/* Copies the names still referred to into a new blob, when the dead ones
 * outweigh them (rewritten code, re-read maps). Best effort. */
static void sym_perfmap_compact(struct sym_perfmap *pm)
{
	struct sym_perfmap_ent **by_name;
	struct strtab fresh = { .max = SYM_PERFMAP_MAX_NAMES };
	size_t i, live = 0;
	uint32_t last = UINT32_MAX, off = 0;

	if (pm->names.len < 64 * 1024)
		return;
	by_name = malloc((pm->n ? pm->n : 1) * sizeof(*by_name));
	if (!by_name)
		return;
	for (i = 0; i < pm->n; i++)
		by_name[i] = &pm->ents[i];
	qsort(by_name, pm->n, sizeof(*by_name), cmp_name);
	for (i = 0; i < pm->n; i++) {
		if (by_name[i]->name != last) {
			last = by_name[i]->name;
			live += strlen(pm->names.data + last) + 1;
		}
	}
	if (live * 2 > pm->names.len)
		goto cleanup;
	last = UINT32_MAX;
	for (i = 0; i < pm->n; i++) {
		uint32_t name = by_name[i]->name;

		if (name != last) {
			const char *s = pm->names.data + name;

			if (strtab__add(&fresh, s, strlen(s), &off)) {
				free(fresh.data);
				goto cleanup;
			}
			last = name;
		}
		by_name[i]->name = off;
	}
	strtab__shrink(&fresh);
	free(pm->names.data);
	pm->names = fresh;
cleanup:
	free(by_name);
}

int sym_perfmap__commit(struct sym_perfmap *pm)
{
	struct sym_perfmap_sweep s = { 0 };
	struct sym_perfmap_ent *all = NULL, *out = NULL;
	uint32_t *order = NULL;
	uint64_t *pts = NULL;
	size_t n = pm->n + pm->npend, npts = 0, nout = 0, i, j;
	int err = -ENOMEM;

	if (!pm->npend)
		return 0;
	all = malloc(n * sizeof(*all));
	order = malloc(n * sizeof(*order));
	pts = malloc(2 * n * sizeof(*pts));
	s.heap = malloc(n * sizeof(*s.heap));
	/* Each boundary starts at most one range. */
	out = malloc(2 * n * sizeof(*out));
	if (!all || !order || !pts || !s.heap || !out)
		goto cleanup;
	if (pm->n)
		memcpy(all, pm->ents, pm->n * sizeof(*all));
	memcpy(all + pm->n, pm->pend, pm->npend * sizeof(*all));
	for (i = 0; i < n; i++) {
		order[i] = i;
		pts[npts++] = all[i].start;
		pts[npts++] = all[i].start + all[i].size;
	}
	qsort_r(order, n, sizeof(*order), cmp_start, all);
	qsort(pts, npts, sizeof(*pts), cmp_u64);
	s.all = all;
	for (i = 0, j = 0; i + 1 < npts; i++) {
		uint64_t at = pts[i], next = pts[i + 1];
		const struct sym_perfmap_ent *w;
		struct sym_perfmap_ent *prev = nout ? &out[nout - 1] : NULL;

		while (j < n && all[order[j]].start <= at)
			heap_push(&s, order[j++]);
		while (s.nheap && all[s.heap[0]].start + all[s.heap[0]].size <= at)
			heap_pop(&s);
		if (next == at || !s.nheap)
			continue;
		w = &all[s.heap[0]];
		if (prev && prev->name == w->name && prev->start + prev->size == at &&
		    (uint64_t)prev->size + (next - at) <= UINT32_MAX) {
			prev->size += next - at;
			continue;
		}
		out[nout].start = at;
		out[nout].size = next - at;
		out[nout].name = w->name;
		nout++;
	}
	free(pm->ents);
	pm->ents = realloc(out, (nout ? nout : 1) * sizeof(*out));
	if (!pm->ents)
		pm->ents = out;
	out = NULL;
	pm->n = pm->cap = nout;
	pm->npend = 0;
	/* The pending array is refilled by the next read; a big one goes. */
	if (pm->cap_pend > 4096) {
		free(pm->pend);
		pm->pend = NULL;
		pm->cap_pend = 0;
	}
	sym_perfmap_compact(pm);
	/* Doubling left up to half the blob unused: a big map keeps only its names. */
	if (pm->names.cap - pm->names.len > 64 * 1024)
		strtab__shrink(&pm->names);
	err = 0;
cleanup:
	free(all);
	free(order);
	free(pts);
	free(s.heap);
	free(out);
	return err;
}

struct sym_perfmap *sym_perfmap__parse(const char *text, size_t n, size_t max_entries)
{
	struct sym_perfmap *pm = sym_perfmap__new(max_entries);
	int err;

	if (!pm)
		return NULL;
	err = sym_perfmap__feed(pm, text, n, true);
	if (!err)
		err = sym_perfmap__commit(pm);
	if (err) {
		sym_perfmap__free(pm);
		errno = -err;
		return NULL;
	}
	return pm;
}

void sym_perfmap__lookup(const struct sym_perfmap *pm, uint64_t addr, struct sym_result *r)
{
	const struct sym_perfmap_ent *e;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->reason = SYM_UNKNOWN_ADDR;
	i = bsearch_upper(pm->ents, pm->n, sizeof(*pm->ents),
			  offsetof(struct sym_perfmap_ent, start), addr);
	if (!i)
		return;
	e = &pm->ents[i - 1];
	if (addr - e->start >= e->size)
		return;
	r->reason = SYM_OK;
	r->name = pm->names.data + e->name;
	r->offset = addr - e->start;
}

bool sym_perfmap__span(const struct sym_perfmap *pm, uint64_t *lo, uint64_t *hi)
{
	if (!pm->n)
		return false;
	*lo = pm->ents[0].start;
	*hi = pm->ents[pm->n - 1].start + pm->ents[pm->n - 1].size;
	return true;
}

size_t sym_perfmap__count(const struct sym_perfmap *pm)
{
	return pm->n;
}

size_t sym_perfmap__lines(const struct sym_perfmap *pm)
{
	return pm->nlines;
}

size_t sym_perfmap__bad_lines(const struct sym_perfmap *pm)
{
	return pm->bad_lines;
}

size_t sym_perfmap__bytes(const struct sym_perfmap *pm)
{
	return sizeof(*pm) + pm->cap * sizeof(*pm->ents) + pm->cap_pend * sizeof(*pm->pend) +
	       pm->names.cap + pm->lines.max_line;
}

bool sym_perfmap__full(const struct sym_perfmap *pm)
{
	return pm->full;
}
