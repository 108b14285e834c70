// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fg_pprof.c - pprof profiles (gzipped, zlib or raw) into the call tree */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fg_read_internal.h"
#include "hindex.h"
#include "profile.pb-c.h"
#include "vec.h"

static int inflate_all(const unsigned char *in, size_t len, struct fg_buf *out, const char *what,
		       struct fg_read *r)
{
	z_stream zs = { 0 };
	int zerr, err;

	/* 15 + 32: gzip or zlib, told by the header. */
	if (inflateInit2(&zs, 15 + 32) != Z_OK)
		return fg_read_fail(r, -ENOMEM, "%s: cannot start zlib", what);
	zs.next_in = (unsigned char *)(uintptr_t)in;
	zs.avail_in = len > UINT32_MAX ? UINT32_MAX : (unsigned)len;
	for (;;) {
		err = VEC_RESERVE(out->p, out->cap, out->len + 65536, FG_MAX_PPROF);
		if (err) {
			err = err == -ENOSPC ?
				      fg_read_fail(r, -EFBIG, "%s: inflates past %llu bytes", what,
						   FG_MAX_PPROF) :
				      fg_read_fail(r, err, "%s: %s", what, strerror(-err));
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
			err = fg_read_fail(r, -EPROTO, "%s: truncated gzip stream after %zu bytes",
					   what, len);
		else
			err = fg_read_fail(r, -EPROTO, "%s: corrupt gzip stream: %s", what,
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
		return fg_read_fail(pp->r, -EPROTO,
				    "%s: corrupt pprof: string index %lld out of %zu", pp->what,
				    (long long)idx, pp->p->n_string_table);
	}
	*s = pp->p->string_table[idx];
	return 0;
}

static int pp_name(struct pp *pp, const char *s, size_t len)
{
	int err = VEC_RESERVE(pp->names, pp->cap_names, pp->nnames + 1, UINT32_MAX);

	if (!err)
		err = fg_tree__intern(pp->t, s, len, &pp->names[pp->nnames]);
	if (err)
		return fg_read_fail(pp->r, err, "%s: %s", pp->what, strerror(-err));
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
		return pp_name(pp, text,
			       (size_t)snprintf(text, sizeof(text), "0x%llx",
						(unsigned long long)loc->address));
	m = pp->p->mapping[mi];
	err = pp_str(pp, m->filename, &file);
	if (err)
		return err;
	base = strrchr(file, '/');
	base = base ? base + 1 : file;
	return pp_name(
		pp, text,
		(size_t)snprintf(
			text, sizeof(text), "%.200s+0x%llx", *base ? base : "[unknown]",
			(unsigned long long)(loc->address - m->memory_start + m->file_offset)));
}

/* Kernel frames carry the mapping Ember (and perf) give them; the folded
 * convention marks them "_[k]", so a pprof and a folded file of one profile
 * draw, colour and report kernel frames alike. */
#define FG_KERNEL_NAME_MAX 512

static bool pp_in_kernel(struct pp *pp, const Perftools__Profiles__Location *loc)
{
	const char *file;
	long mi = loc->mapping_id ? ids_find(&pp->maps, loc->mapping_id) : -1;
	int64_t idx;

	/* A bad string index is reported where the name is read, not here. */
	if (mi < 0)
		return false;
	idx = pp->p->mapping[mi]->filename;
	if (idx <= 0 || (size_t)idx >= pp->p->n_string_table)
		return false;
	file = pp->p->string_table[idx];
	return !strncmp(file, "[kernel.kallsyms]", 17) || !strcmp(file, "[vmlinux]");
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
		return fg_read_fail(pp->r, -ENOMEM, "%s: out of memory", pp->what);
	for (i = 0; i < p->n_location; i++) {
		const Perftools__Profiles__Location *loc = p->location[i];
		bool kernel = pp_in_kernel(pp, loc);

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
				return fg_read_fail(
					pp->r, -EPROTO,
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
			if (kernel) {
				char text[FG_KERNEL_NAME_MAX];
				int len = snprintf(text, sizeof(text), "%s_[k]", name);

				err = pp_name(pp, text, len < (int)sizeof(text) ? (size_t)len :
										  sizeof(text) - 1);
			} else {
				err = pp_name(pp, name, strlen(name));
			}
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
		return fg_read_fail(pp->r, -EPROTO, "%s: pprof has no sample type", pp->what);
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
			err = fg_read_fail(
				pp->r, -EPROTO,
				"%s: corrupt pprof: sample %zu has %zu values for %zu types",
				pp->what, i, s->n_value, p->n_sample_type);
			goto cleanup;
		}
		v = s->value[pick];
		if (v < 0) {
			err = fg_read_fail(
				pp->r, -EPROTO,
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
				err = fg_read_fail(
					pp->r, -EPROTO,
					"%s: corrupt pprof: sample %zu names location %llu, "
					"which is not in the profile",
					pp->what, i, (unsigned long long)s->location_id[k]);
				goto cleanup;
			}
			a = pp->loc_start[li];
			b = pp->loc_start[li + 1];
			err = VEC_RESERVE(ids, cap, n + (b - a), SIZE_MAX);
			if (err) {
				fg_read_fail(pp->r, err, "%s: out of memory", pp->what);
				goto cleanup;
			}
			memcpy(ids + n, pp->names + a, (b - a) * sizeof(*ids));
			n += b - a;
		}
		if (!v)
			continue;
		err = fg_tree__add(pp->t, ids, n, (uint64_t)v);
		if (err) {
			fg_read_fail(pp->r, err, "%s: sample %zu: %s", pp->what, i,
				     err == -EOVERFLOW ? "values add up past 2^63" :
							 strerror(-err));
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
int fg_read_pprof(struct fg_tree *t, const char *what, const unsigned char *data, size_t len,
		  bool maybe, struct fg_read *r)
{
	Perftools__Profiles__Profile *p = NULL;
	struct fg_buf raw = { 0 };
	struct pp pp = { .what = what, .r = r, .t = t };
	char type[96];
	size_t i, pick;
	int err;

	if (fg_read_compressed(data, len)) {
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
		err = fg_read_fail(r, -EPROTO,
				   "%s: not a pprof profile (the protobuf does not decode)", what);
		goto cleanup;
	}
	pp.p = p;
	pp.loc_id = calloc(p->n_location + 1, sizeof(uint64_t));
	pp.fn_id = calloc(p->n_function + 1, sizeof(uint64_t));
	pp.map_id = calloc(p->n_mapping + 1, sizeof(uint64_t));
	if (!pp.loc_id || !pp.fn_id || !pp.map_id) {
		err = fg_read_fail(r, -ENOMEM, "%s: out of memory", what);
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
		fg_read_fail(r, err, "%s: out of memory", what);
		goto cleanup;
	}
	err = pp_pick_type(&pp, &pick, type, sizeof(type));
	if (!err)
		err = fg_read_check_type(r, what, type);
	if (!err)
		err = pp_locations(&pp);
	if (!err)
		err = pp_samples(&pp, pick);
	if (!err && p->time_nanos > 0 && p->duration_nanos > 0) {
		uint64_t start = (uint64_t)p->time_nanos, end = start + (uint64_t)p->duration_nanos;

		if (!r->start_ns || start < r->start_ns)
			r->start_ns = start;
		if (end > r->end_ns)
			r->end_ns = end;
	}
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
