// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fg_folded.c - folded stack text into the call tree, through a staging
 * table of unique stacks */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fg_read_internal.h"
#include "hindex.h"
#include "lines.h"
#include "strtab.h"
#include "vec.h"

/* A frame of the previous stack: its text in prev, its id. */
struct prev_frame {
	size_t off, len;
	uint32_t id;
};

/* A unique stack text of the stage, and its samples so far. */
struct staged {
	uint32_t off, len;
	uint64_t count;
};

/* The staging table's text bound: past it, the stage goes into the tree. */
#define STAGE_BYTES (64u << 20)

struct folded {
	struct fg_tree *t;
	struct fg_read *r;
	const char *what;
	uint32_t *ids;
	size_t cap;
	uint64_t lineno;
	/* Lines repeat (a window series holds each stack once per window):
	 * each unique stack text is counted here first, and split, named and
	 * walked into the tree once per flush, not once per line. */
	struct strtab text;
	struct staged *st;
	size_t nst, cap_st;
	struct hindex ix;
	/* The previous stack flushed: consecutive stacks mostly share their
	 * first frames, whose names then need no hashing. */
	char *prev;
	size_t prev_cap;
	struct prev_frame *pf;
	size_t npf, pf_cap;
};

/* The id of frame k, s[0..len), of a stack whose text is stack. */
static int frame_id(struct folded *f, size_t k, const char *stack, const char *s, size_t len,
		    uint32_t *id)
{
	int err;

	if (k < f->npf && f->pf[k].len == len && !memcmp(f->prev + f->pf[k].off, s, len)) {
		*id = f->pf[k].id;
	} else {
		err = fg_tree__intern(f->t, s, len, id);
		if (err)
			return err;
	}
	err = VEC_RESERVE(f->pf, f->pf_cap, k + 1, SIZE_MAX);
	if (err)
		return err;
	/* Entries past k still describe the previous stack; k is this one's.
	 * Offsets are into this stack, copied to prev once it is done. */
	f->pf[k] = (struct prev_frame){ (size_t)(s - stack), len, *id };
	return 0;
}

/* Splits stack[0..len) on ';' and adds count samples of it to the tree. */
static int add_stack(struct folded *f, const char *stack, size_t len, uint64_t count)
{
	const char *p, *semi, *end = stack + len;
	size_t n = 0;
	int err;

	for (p = stack; p < end; p = semi + 1) {
		semi = memchr(p, ';', (size_t)(end - p));
		if (!semi)
			semi = end;
		if (semi == p)
			continue; /* ";;" or a leading ';': no frame */
		err = VEC_RESERVE(f->ids, f->cap, n + 1, SIZE_MAX);
		if (!err)
			err = frame_id(f, n, stack, p, (size_t)(semi - p), &f->ids[n]);
		if (err)
			return err;
		n++;
	}
	err = VEC_RESERVE(f->prev, f->prev_cap, len + 1, SIZE_MAX);
	if (err)
		return err;
	memcpy(f->prev, stack, len);
	f->npf = n;
	return fg_tree__add(f->t, f->ids, n, count);
}

static int stage_flush(struct folded *f)
{
	size_t i;
	int err;

	for (i = 0; i < f->nst; i++) {
		err = add_stack(f, f->text.data + f->st[i].off, f->st[i].len, f->st[i].count);
		if (err)
			return fg_read_fail(f->r, err, "%s: %s", f->what,
					    err == -EOVERFLOW ? "sample counts add up past 2^63" :
								strerror(-err));
	}
	f->nst = 0;
	f->text.len = 0;
	hindex_clear(&f->ix);
	return 0;
}

struct stage_key {
	const char *s;
	size_t len;
};

static bool stage_eq(const void *ctx, uint32_t val, const void *key)
{
	const struct folded *f = ctx;
	const struct stage_key *k = key;
	const struct staged *e = &f->st[val - 1];

	return e->len == k->len && !memcmp(f->text.data + e->off, k->s, k->len);
}

static int stage_add(struct folded *f, const char *s, size_t len, uint64_t count)
{
	struct stage_key key = { s, len };
	uint64_t h = hindex_hash_bytes(s, len);
	uint32_t val = hindex_find(&f->ix, h, stage_eq, f, &key), off;
	int err;

	if (val) {
		if (f->st[val - 1].count + count > INT64_MAX)
			return -EOVERFLOW;
		f->st[val - 1].count += count;
		return 0;
	}
	/* Full is the normal case for a large input, not a refusal: flush. */
	if (f->text.len + len + 1 > STAGE_BYTES || f->nst == UINT32_MAX - 1) {
		err = stage_flush(f);
		if (err)
			return err;
	}
	err = VEC_RESERVE(f->st, f->cap_st, f->nst + 1, UINT32_MAX - 1);
	if (!err)
		err = strtab__add(&f->text, s, len, &off);
	if (!err)
		err = hindex_add(&f->ix, h, (uint32_t)f->nst + 1);
	if (err)
		return err;
	f->st[f->nst++] = (struct staged){ off, (uint32_t)len, count };
	return 0;
}

static int folded_line(void *ctx, const char *line, size_t len)
{
	struct folded *f = ctx;
	const char *sp, *p, *end;
	uint64_t count = 0;
	int err;

	f->lineno++;
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (!len || line[0] == '#')
		return 0;
	/* The count is after the last blank: names may hold spaces. */
	for (sp = line + len; sp > line && sp[-1] != ' ' && sp[-1] != '\t'; sp--)
		;
	if (sp == line || sp == line + len)
		return fg_read_fail(f->r, -EPROTO, "%s: line %llu: no sample count after the stack",
				    f->what, (unsigned long long)f->lineno);
	for (p = sp; p < line + len; p++) {
		if (*p < '0' || *p > '9' || count > (uint64_t)(INT64_MAX - (*p - '0')) / 10)
			return fg_read_fail(f->r, -EPROTO, "%s: line %llu: bad sample count '%.*s'",
					    f->what, (unsigned long long)f->lineno,
					    (int)(line + len - sp > 32 ? 32 : line + len - sp), sp);
		count = count * 10 + (uint64_t)(*p - '0');
	}
	end = sp - 1;
	while (end > line && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (!count)
		return 0;
	err = stage_add(f, line, (size_t)(end - line), count);
	if (err)
		return f->r->err[0] ?
			       err :
			       fg_read_fail(f->r, err, "%s: line %llu: %s", f->what,
					    (unsigned long long)f->lineno,
					    err == -EOVERFLOW ? "sample counts add up past 2^63" :
								strerror(-err));
	f->r->lines++;
	return 0;
}

/* Feeds head (already read) and then the rest of fd, or only head when fd
 * is -1, through the line splitter. */
int fg_read_folded(struct fg_tree *t, const char *what, const char *head, size_t hlen, int fd,
		   struct fg_read *r)
{
	struct folded f = { .t = t, .r = r, .what = what };
	struct lines l;
	bool truncated;
	int err;

	err = fg_read_check_type(r, what, FOLDED_TYPE);
	if (err)
		return err;
	r->err[0] = '\0';
	err = lines__init(&l, FG_MAX_LINE, folded_line, &f);
	if (err)
		return fg_read_fail(r, err, "%s: %s", what, strerror(-err));
	f.text.max = STAGE_BYTES;
	err = lines__feed(&l, head, hlen);
	if (!err)
		err = fd >= 0 ? lines__read_fd(&l, fd, SIZE_MAX, &truncated) : lines__finish(&l);
	if (!err)
		err = stage_flush(&f);
	if (!err && l.overlong_lines)
		err = fg_read_fail(r, -EPROTO, "%s: %zu line(s) longer than %u bytes", what,
				   l.overlong_lines, FG_MAX_LINE);
	if (err && !r->err[0])
		fg_read_fail(r, err, "%s: read: %s", what, strerror(-err));
	lines__release(&l);
	free(f.ids);
	free(f.prev);
	free(f.pf);
	free(f.text.data);
	free(f.st);
	hindex_release(&f.ix);
	return err;
}
