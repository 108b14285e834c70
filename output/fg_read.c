// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fg_read.c - folded text, pprof and window series into the call tree */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "fg_read.h"
#include "hindex.h"
#include "lines.h"
#include "profile.pb-c.h"
#include "strtab.h"
#include "vec.h"

#define FOLDED_TYPE "samples/count"
#define PEEK_BYTES 4096

__attribute__((format(printf, 3, 4))) static int fail(struct fg_read *r, int err,
							const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return err;
}

static int check_type(struct fg_read *r, const char *what, const char *type)
{
	if (!r->type[0]) {
		snprintf(r->type, sizeof(r->type), "%s", type);
		return 0;
	}
	if (strcmp(r->type, type))
		return fail(r, -EINVAL, "%s: sample type %s does not match %s of the inputs before it",
			    what, type, r->type);
	return 0;
}

/* gzip's magic, or a zlib header (deflate, its check bits right, and a
 * second byte no text starts with: "x^" is a folded frame's name). */
static bool compressed(const unsigned char *p, size_t n)
{
	return n >= 2 && ((p[0] == 0x1f && p[1] == 0x8b) ||
			  ((p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 && (p[0] * 256 + p[1]) % 31 == 0 &&
			   (p[1] < 0x20 || p[1] >= 0x80)));
}

enum sniff { SNIFF_TEXT, SNIFF_PPROF, SNIFF_MAYBE };

/* pprof is binary: compressed, or holding a NUL no text has. Other control
 * characters may be either: a protobuf's lengths, or a name in a folded
 * file another tool wrote; the protobuf decoder decides those. A folded
 * file may hold any byte >= 0x80 (names with invalid UTF-8). */
static enum sniff sniff(const unsigned char *p, size_t n)
{
	enum sniff k = SNIFF_TEXT;
	size_t i;

	if (compressed(p, n))
		return SNIFF_PPROF;
	for (i = 0; i < n; i++) {
		if (!p[i])
			return SNIFF_PPROF;
		if (p[i] < 0x20 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t')
			k = SNIFF_MAYBE;
	}
	return k;
}

/* ---- folded text ---- */

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
			return fail(f->r, err, "%s: %s", f->what,
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
		return fail(f->r, -EPROTO, "%s: line %llu: no sample count after the stack", f->what,
			    (unsigned long long)f->lineno);
	for (p = sp; p < line + len; p++) {
		if (*p < '0' || *p > '9' || count > (uint64_t)(INT64_MAX - (*p - '0')) / 10)
			return fail(f->r, -EPROTO, "%s: line %llu: bad sample count '%.*s'", f->what,
				    (unsigned long long)f->lineno,
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
		return f->r->err[0] ? err :
		       fail(f->r, err, "%s: line %llu: %s", f->what,
			    (unsigned long long)f->lineno,
			    err == -EOVERFLOW ? "sample counts add up past 2^63" : strerror(-err));
	f->r->lines++;
	return 0;
}

/* Feeds head (already read) and then the rest of fd, or only head when fd
 * is -1, through the line splitter. */
static int read_folded(struct fg_tree *t, const char *what, const char *head, size_t hlen, int fd,
		       struct fg_read *r)
{
	struct folded f = { .t = t, .r = r, .what = what };
	struct lines l;
	bool truncated;
	int err;

	err = check_type(r, what, FOLDED_TYPE);
	if (err)
		return err;
	r->err[0] = '\0';
	err = lines__init(&l, FG_MAX_LINE, folded_line, &f);
	if (err)
		return fail(r, err, "%s: %s", what, strerror(-err));
	f.text.max = STAGE_BYTES;
	err = lines__feed(&l, head, hlen);
	if (!err)
		err = fd >= 0 ? lines__read_fd(&l, fd, SIZE_MAX, &truncated) : lines__finish(&l);
	if (!err)
		err = stage_flush(&f);
	if (!err && l.overlong_lines)
		err = fail(r, -EPROTO, "%s: %zu line(s) longer than %u bytes", what, l.overlong_lines,
			   FG_MAX_LINE);
	if (err && !r->err[0])
		fail(r, err, "%s: read: %s", what, strerror(-err));
	lines__release(&l);
	free(f.ids);
	free(f.prev);
	free(f.pf);
	free(f.text.data);
	free(f.st);
	hindex_release(&f.ix);
	return err;
}

/* ---- pprof ---- */

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static int inflate_all(const unsigned char *in, size_t len, struct buf *out, const char *what,
		       struct fg_read *r)
{
	z_stream zs = { 0 };
	int zerr, err;

	/* 15 + 32: gzip or zlib, told by the header. */
	if (inflateInit2(&zs, 15 + 32) != Z_OK)
		return fail(r, -ENOMEM, "%s: cannot start zlib", what);
	zs.next_in = (unsigned char *)(uintptr_t)in;
	zs.avail_in = len > UINT32_MAX ? UINT32_MAX : (unsigned)len;
	for (;;) {
		err = VEC_RESERVE(out->p, out->cap, out->len + 65536, FG_MAX_PPROF);
		if (err) {
			err = err == -ENOSPC ?
				      fail(r, -EFBIG, "%s: inflates past %llu bytes", what, FG_MAX_PPROF) :
				      fail(r, err, "%s: %s", what, strerror(-err));
			goto cleanup;
		}
		zs.next_out = out->p + out->len;
		zs.avail_out = (unsigned)(out->cap - out->len > UINT32_MAX ? UINT32_MAX :
									   out->cap - out->len);
		zerr = inflate(&zs, Z_NO_FLUSH);
		out->len = (size_t)(zs.next_out - out->p);
		if (zerr == Z_STREAM_END)
			break;
		if (zerr == Z_OK)
			continue;
		if (zerr == Z_BUF_ERROR && zs.avail_out)
			err = fail(r, -EPROTO, "%s: truncated gzip stream after %zu bytes", what, len);
		else
			err = fail(r, -EPROTO, "%s: corrupt gzip stream: %s", what,
				   zs.msg ? zs.msg : "inflate failed");
		goto cleanup;
	}
	err = 0;
cleanup:
	inflateEnd(&zs);
	return err;
}

/* Ids in a pprof are the writer's choice: an index from id to position. */
struct ids {
	const uint64_t *id;
	struct hindex ix;
};

static bool id_eq(const void *ctx, uint32_t val, const void *key)
{
	return ((const struct ids *)ctx)->id[val - 1] == *(const uint64_t *)key;
}

static int ids_add(struct ids *x, size_t i)
{
	uint64_t h = hindex_mix64(x->id[i]);

	if (hindex_find(&x->ix, h, id_eq, x, &x->id[i]))
		return 0; /* a repeated id: the first one wins */
	return hindex_add(&x->ix, h, (uint32_t)i + 1);
}

/* Position of id, or -1. */
static long ids_find(const struct ids *x, uint64_t id)
{
	uint32_t v = hindex_find(&x->ix, hindex_mix64(id), id_eq, x, &id);

	return v ? (long)v - 1 : -1;
}

struct pp {
	const Perftools__Profiles__Profile *p;
	const char *what;
	struct fg_read *r;
	struct fg_tree *t;
	uint64_t *loc_id, *fn_id, *map_id;
	struct ids locs, fns, maps;
	uint32_t *loc_start; /* location i's names are names[loc_start[i]..loc_start[i + 1]) */
	uint32_t *names;
	size_t nnames, cap_names;
};

static int pp_str(struct pp *pp, int64_t idx, const char **s)
{
	if (idx < 0 || (size_t)idx >= pp->p->n_string_table) {
		if (idx == 0) {
			*s = "";
			return 0;
		}
		return fail(pp->r, -EPROTO, "%s: corrupt pprof: string index %lld out of %zu",
			    pp->what, (long long)idx, pp->p->n_string_table);
	}
	*s = pp->p->string_table[idx];
	return 0;
}

static int pp_name(struct pp *pp, const char *s, size_t len)
{
	int err = VEC_RESERVE(pp->names, pp->cap_names, pp->nnames + 1, UINT32_MAX);

	if (!err)
		err = fg_tree__intern(pp->t, s, len,
				       &pp->names[pp->nnames]);
	if (err)
		return fail(pp->r, err, "%s: %s", pp->what, strerror(-err));
	pp->nnames++;
	return 0;
}

/* A location without lines: its file and offset, as Ember names an unnamed
 * frame, or its address. */
static int pp_unnamed(struct pp *pp, const Perftools__Profiles__Location *loc)
{
	const Perftools__Profiles__Mapping *m;
	const char *file, *base;
	char text[320];
	long mi;
	int err;

	mi = loc->mapping_id ? ids_find(&pp->maps, loc->mapping_id) : -1;
	if (mi < 0)
		return pp_name(pp, text, (size_t)snprintf(text, sizeof(text), "0x%llx",
							 (unsigned long long)loc->address));
	m = pp->p->mapping[mi];
	err = pp_str(pp, m->filename, &file);
	if (err)
		return err;
	base = strrchr(file, '/');
	base = base ? base + 1 : file;
	return pp_name(pp, text,
		       (size_t)snprintf(text, sizeof(text), "%.200s+0x%llx", *base ? base : "[unknown]",
					(unsigned long long)(loc->address - m->memory_start +
							     m->file_offset)));
}

/* Each location's names once, outermost line first (pprof lists a
 * location's lines innermost first). */
static int pp_locations(struct pp *pp)
{
	const Perftools__Profiles__Profile *p = pp->p;
	size_t i, k;
	int err;

	pp->loc_start = calloc(p->n_location + 1, sizeof(*pp->loc_start));
	if (!pp->loc_start)
		return fail(pp->r, -ENOMEM, "%s: out of memory", pp->what);
	for (i = 0; i < p->n_location; i++) {
		const Perftools__Profiles__Location *loc = p->location[i];

		pp->loc_start[i] = (uint32_t)pp->nnames;
		if (!loc->n_line) {
			err = pp_unnamed(pp, loc);
			if (err)
				return err;
		}
		for (k = loc->n_line; k-- > 0;) {
			const Perftools__Profiles__Function *fn;
			const char *name;
			long fi = ids_find(&pp->fns, loc->line[k]->function_id);

			if (fi < 0)
				return fail(pp->r, -EPROTO,
					    "%s: corrupt pprof: location %llu names function %llu, "
					    "which is not in the profile",
					    pp->what, (unsigned long long)loc->id,
					    (unsigned long long)loc->line[k]->function_id);
			fn = p->function[fi];
			err = pp_str(pp, fn->name, &name);
			if (!err && !*name)
				err = pp_str(pp, fn->system_name, &name);
			if (err)
				return err;
			if (!*name)
				name = "[unknown]";
			err = pp_name(pp, name, strlen(name));
			if (err)
				return err;
		}
	}
	pp->loc_start[p->n_location] = (uint32_t)pp->nnames;
	return 0;
}

/* The sample type to draw: CPU time when there is one, else the first. */
static int pp_pick_type(struct pp *pp, size_t *pick, char *type, size_t size)
{
	const Perftools__Profiles__Profile *p = pp->p;
	const char *t, *u;
	size_t i;
	int err;

	if (!p->n_sample_type)
		return fail(pp->r, -EPROTO, "%s: pprof has no sample type", pp->what);
	*pick = 0;
	for (i = 0; i < p->n_sample_type; i++) {
		err = pp_str(pp, p->sample_type[i]->type, &t);
		if (err)
			return err;
		if (!strcmp(t, "cpu")) {
			*pick = i;
			break;
		}
	}
	err = pp_str(pp, p->sample_type[*pick]->type, &t);
	if (!err)
		err = pp_str(pp, p->sample_type[*pick]->unit, &u);
	if (err)
		return err;
	snprintf(type, size, "%.40s/%.40s", *t ? t : "?", *u ? u : "?");
	if (p->n_sample_type > 1)
		snprintf(pp->r->note, sizeof(pp->r->note),
			 "%s: %zu sample types, using %s (number %zu)%s", pp->what,
			 p->n_sample_type, type, *pick + 1,
			 strcmp(t, "cpu") ? ": none is cpu, so the first" : "");
	return 0;
}

static int pp_samples(struct pp *pp, size_t pick)
{
	const Perftools__Profiles__Profile *p = pp->p;
	uint32_t *ids = NULL;
	size_t cap = 0, i, k, n;
	int err = 0;

	for (i = 0; i < p->n_sample; i++) {
		const Perftools__Profiles__Sample *s = p->sample[i];
		int64_t v;

		if (s->n_value != p->n_sample_type) {
			err = fail(pp->r, -EPROTO, "%s: corrupt pprof: sample %zu has %zu values for %zu types",
				   pp->what, i, s->n_value, p->n_sample_type);
			goto cleanup;
		}
		v = s->value[pick];
		if (v < 0) {
			err = fail(pp->r, -EPROTO,
				   "%s: sample %zu has a negative value (a pprof -diff_base "
				   "profile?): not supported",
				   pp->what, i);
			goto cleanup;
		}
		n = 0;
		/* Leaf first in pprof: walked backwards to go root first. */
		for (k = s->n_location_id; k-- > 0;) {
			long li = ids_find(&pp->locs, s->location_id[k]);
			uint32_t a, b;

			if (li < 0) {
				err = fail(pp->r, -EPROTO,
					   "%s: corrupt pprof: sample %zu names location %llu, "
					   "which is not in the profile",
					   pp->what, i, (unsigned long long)s->location_id[k]);
				goto cleanup;
			}
			a = pp->loc_start[li];
			b = pp->loc_start[li + 1];
			err = VEC_RESERVE(ids, cap, n + (b - a), SIZE_MAX);
			if (err) {
				fail(pp->r, err, "%s: out of memory", pp->what);
				goto cleanup;
			}
			memcpy(ids + n, pp->names + a, (b - a) * sizeof(*ids));
			n += b - a;
		}
		if (!v)
			continue;
		err = fg_tree__add(pp->t, ids, n, (uint64_t)v);
		if (err) {
			fail(pp->r, err, "%s: sample %zu: %s", pp->what, i,
			     err == -EOVERFLOW ? "values add up past 2^63" : strerror(-err));
			goto cleanup;
		}
		pp->r->samples++;
	}
cleanup:
	free(ids);
	return err;
}

/* maybe: the bytes might be text; -ENOMSG, with nothing read, when they
 * do not decode as a protobuf. */
static int read_pprof(struct fg_tree *t, const char *what, const unsigned char *data, size_t len,
		      bool maybe, struct fg_read *r)
{
	Perftools__Profiles__Profile *p = NULL;
	struct buf raw = { 0 };
	struct pp pp = { .what = what, .r = r, .t = t };
	char type[96];
	size_t i, pick;
	int err;

	if (compressed(data, len)) {
		err = inflate_all(data, len, &raw, what, r);
		if (err)
			goto cleanup;
		data = raw.p;
		len = raw.len;
	}
	p = perftools__profiles__profile__unpack(NULL, len, data);
	if (!p && maybe) {
		err = -ENOMSG;
		goto cleanup;
	}
	if (!p) {
		err = fail(r, -EPROTO, "%s: not a pprof profile (the protobuf does not decode)", what);
		goto cleanup;
	}
	pp.p = p;
	pp.loc_id = calloc(p->n_location + 1, sizeof(uint64_t));
	pp.fn_id = calloc(p->n_function + 1, sizeof(uint64_t));
	pp.map_id = calloc(p->n_mapping + 1, sizeof(uint64_t));
	if (!pp.loc_id || !pp.fn_id || !pp.map_id) {
		err = fail(r, -ENOMEM, "%s: out of memory", what);
		goto cleanup;
	}
	pp.locs.id = pp.loc_id;
	pp.fns.id = pp.fn_id;
	pp.maps.id = pp.map_id;
	err = 0;
	for (i = 0; !err && i < p->n_location; i++) {
		pp.loc_id[i] = p->location[i]->id;
		err = ids_add(&pp.locs, i);
	}
	for (i = 0; !err && i < p->n_function; i++) {
		pp.fn_id[i] = p->function[i]->id;
		err = ids_add(&pp.fns, i);
	}
	for (i = 0; !err && i < p->n_mapping; i++) {
		pp.map_id[i] = p->mapping[i]->id;
		err = ids_add(&pp.maps, i);
	}
	if (err) {
		fail(r, err, "%s: out of memory", what);
		goto cleanup;
	}
	err = pp_pick_type(&pp, &pick, type, sizeof(type));
	if (!err)
		err = check_type(r, what, type);
	if (!err)
		err = pp_locations(&pp);
	if (!err)
		err = pp_samples(&pp, pick);
cleanup:
	if (p)
		perftools__profiles__profile__free_unpacked(p, NULL);
	free(raw.p);
	free(pp.loc_id);
	free(pp.fn_id);
	free(pp.map_id);
	hindex_release(&pp.locs.ix);
	hindex_release(&pp.fns.ix);
	hindex_release(&pp.maps.ix);
	free(pp.loc_start);
	free(pp.names);
	return err;
}

/* ---- files ---- */

int fg_read_buf(struct fg_tree *t, const char *what, const void *data, size_t len,
		struct fg_read *r)
{
	int err;

	enum sniff k = sniff(data, len < PEEK_BYTES ? len : PEEK_BYTES);

	r->err[0] = '\0';
	err = k == SNIFF_TEXT ? -ENOMSG : read_pprof(t, what, data, len, k == SNIFF_MAYBE, r);
	if (err == -ENOMSG)
		err = read_folded(t, what, data, len, -1, r);
	if (!err)
		r->inputs++;
	return err;
}

static int read_fd(struct fg_tree *t, const char *what, int fd, struct fg_read *r)
{
	struct buf b = { 0 };
	ssize_t n;
	int err;

	/* The first bytes tell the format; text is then streamed, pprof
	 * (which protobuf-c decodes whole) read into memory. */
	for (;;) {
		err = VEC_RESERVE(b.p, b.cap, b.len + (b.len < PEEK_BYTES ? PEEK_BYTES : b.len),
				  FG_MAX_PPROF);
		if (err) {
			err = err == -ENOSPC ? fail(r, -EFBIG, "%s: larger than %llu bytes", what,
						    FG_MAX_PPROF) :
					       fail(r, err, "%s: out of memory", what);
			goto cleanup;
		}
		n = read(fd, b.p + b.len, b.cap - b.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = fail(r, -errno, "%s: read: %s", what, strerror(errno));
			goto cleanup;
		}
		b.len += (size_t)n;
		if (!n)
			break;
		if (b.len >= PEEK_BYTES && sniff(b.p, PEEK_BYTES) == SNIFF_TEXT) {
			r->err[0] = '\0';
			err = read_folded(t, what, (const char *)b.p, b.len, fd, r);
			if (!err)
				r->inputs++;
			goto cleanup;
		}
	}
	err = fg_read_buf(t, what, b.p, b.len, r);
cleanup:
	free(b.p);
	return err;
}

static int read_file(struct fg_tree *t, const char *path, struct fg_read *r)
{
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(r, -errno, "%s: %s", path, strerror(errno));
	err = read_fd(t, path, fd, r);
	close(fd);
	return err;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every profile of a window series, in name order (so by time): hidden
 * files are --output-dir's temporaries, half written. */
static int read_dir(struct fg_tree *t, const char *dir, DIR *d, struct fg_read *r)
{
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	struct stat st;
	int err = 0;

	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		err = VEC_RESERVE(names, cap, n + 1, SIZE_MAX);
		if (!err && !(names[n] = strdup(de->d_name)))
			err = -ENOMEM;
		if (err) {
			fail(r, err, "%s: out of memory", dir);
			goto cleanup;
		}
		n++;
	}
	if (!n) {
		err = fail(r, -ENOENT, "%s: no profiles in the directory", dir);
		goto cleanup;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n && !err; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		err = read_file(t, path, r);
	}
cleanup:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return err;
}

int fg_read_path(struct fg_tree *t, const char *path, struct fg_read *r)
{
	DIR *d;
	int err;

	r->err[0] = '\0';
	if (!strcmp(path, "-"))
		return read_fd(t, "stdin", STDIN_FILENO, r);
	d = opendir(path);
	if (!d)
		return errno == ENOTDIR ? read_file(t, path, r) :
					  fail(r, -errno, "%s: %s", path, strerror(errno));
	err = read_dir(t, path, d, r);
	closedir(d);
	return err;
}
