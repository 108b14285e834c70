// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* pprof.c - gzipped pprof profiles from the processes of one label set
 *
 * Builds perftools.profiles messages with protobuf-c: equal stacks of several
 * processes become one sample, each report frame one Location with one Line
 * per inline level, functions deduplicated by (name, file), mappings by
 * (file, build-id), sample and period types from the report's type,
 * strings through a hash table. Profiles are cut by stacks so each stays under
 * the raw size bound and the server's sample limit; the size is tracked per
 * added message instead of encoding repeatedly. Pure; any thread.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#define ZLIB_CONST
#include <zlib.h>

#include "utf8.h"
#include "log.h"
#include "hindex.h"
#include "pprof.h"
#include "vec.h"
#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile pb_profile;
typedef Perftools__Profiles__ValueType pb_value_type;
typedef Perftools__Profiles__Sample pb_sample;
typedef Perftools__Profiles__Mapping pb_mapping;
typedef Perftools__Profiles__Location pb_location;
typedef Perftools__Profiles__Line pb_line;
typedef Perftools__Profiles__Function pb_function;

/* A stack merged over the processes of the label set. */
struct pp_stack {
	const uint32_t *frames;
	uint32_t nframes;
	uint64_t value;
};

struct pp_loc {
	pb_location msg;
	size_t first_line; /* into lines */
	uint32_t frame; /* report frame index */
};

struct pp_str {
	const char *key; /* as looked up, borrowed */
	char *copy; /* owned UTF-8 repair of key, or NULL when key is valid */
};

struct pp_sample {
	pb_sample msg;
	int64_t value;
	size_t first; /* index of its first location id in loc_ids */
};

/* What one profile holds so far; every array is append-only until reset, so
 * a prefix of the samples only uses a prefix of every other array. */
struct pp_builder {
	const struct report *r;
	int64_t type[4]; /* string indexes: sample type, unit, period type, unit */
	size_t size; /* encoded size of the profile as it stands (upper bound) */
	size_t base_size;

	struct pp_str *strs; /* string_table */
	size_t nstrs, cap_strs;
	struct hindex str_map;

	pb_mapping *maps;
	size_t nmaps, cap_maps;
	struct hindex map_map;
	pb_function *funcs;
	size_t nfuncs, cap_funcs;
	struct hindex func_map;
	struct pp_loc *locs;
	size_t nlocs, cap_locs;
	pb_line *lines; /* every location's lines, in location order */
	pb_line **line_ptrs; /* what Location.line points into, set in emit() */
	size_t nlines, cap_lines, cap_line_ptrs;
	uint32_t *loc_of_frame; /* report frame -> location id, 0: none yet */
	struct pp_sample *samples;
	size_t nsamples, cap_samples;
	uint64_t *loc_ids;
	size_t nloc_ids, cap_loc_ids;

	struct pprof_blob *blobs;
	size_t nblobs, cap_blobs;
};

/* Counts at a sample boundary: what a profile cut there contains. */
struct pp_snap {
	size_t nstrs, nmaps, nfuncs, nlocs, nsamples;
};

#define PP_RESERVE(arr, cap, need) VEC_RESERVE(arr, cap, need, SIZE_MAX)

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Encoded size of a length-delimited field (numbers 1-15: one tag byte). */
static size_t field_len(size_t n)
{
	return 1 + varint_len(n) + n;
}

static bool str_eq(const void *ctx, uint32_t val, const void *key)
{
	const struct pp_builder *b = ctx;

	return !strcmp(b->strs[val].key, key);
}

/* String table index of s; NULL and "" are index 0. */
static int intern(struct pp_builder *b, const char *s, int64_t *idx)
{
	struct pp_str *e;
	uint64_t hash;
	size_t len;
	uint32_t val;
	int err;

	if (!s || !s[0]) {
		*idx = 0;
		return 0;
	}
	len = strlen(s);
	hash = hindex_hash_bytes(s, len);
	val = hindex_find(&b->str_map, hash, str_eq, b, s);
	if (val) {
		*idx = val;
		return 0;
	}
	err = PP_RESERVE(b->strs, b->cap_strs, b->nstrs + 1);
	if (err)
		return err;
	e = &b->strs[b->nstrs];
	*e = (struct pp_str){ .key = s };
	/* Symbol names and paths are bytes; the server rejects a whole profile
	 * with one invalid UTF-8 string. */
	if (!utf8_valid(s, len)) {
		e->copy = malloc(len + 1);
		if (!e->copy)
			return -ENOMEM;
		utf8_copy(e->copy, s, len);
	}
	err = hindex_add(&b->str_map, hash, (uint32_t)b->nstrs);
	if (err) {
		free(e->copy);
		return err;
	}
	*idx = (int64_t)b->nstrs++;
	b->size += field_len(strlen(e->copy ? e->copy : s));
	return 0;
}

struct pp_pair {
	int64_t a, b;
};

static uint64_t hash_pair(const struct pp_pair *k)
{
	return hindex_mix64(((uint64_t)k->a << 32) ^ (uint64_t)k->b);
}

static bool mapping_eq(const void *ctx, uint32_t val, const void *key)
{
	const pb_mapping *m = &((const struct pp_builder *)ctx)->maps[val - 1];
	const struct pp_pair *k = key;

	return m->filename == k->a && m->build_id == k->b;
}

/* One mapping per (file, build-id); kernel frames share one, whatever module
 * they are in, so it carries no build-id (vmlinux's and modules' differ). */
static int mapping_of(struct pp_builder *b, const struct report_frame *f, uint64_t *id)
{
	pb_mapping m = PERFTOOLS__PROFILES__MAPPING__INIT;
	const char *name, *build_id = NULL;
	struct pp_pair k;
	uint64_t hash;
	uint32_t val;
	int err;

	switch (f->kind) {
	case REPORT_FRAME_KERNEL:
		name = "[kernel.kallsyms]";
		break;
	case REPORT_FRAME_VDSO:
		name = "[vdso]";
		build_id = f->build_id;
		break;
	case REPORT_FRAME_ANON:
		name = f->file ? f->file : "[anon]";
		break;
	default:
		name = f->file ? f->file : "[unknown]";
		build_id = f->build_id;
		break;
	}
	err = intern(b, name, &k.a);
	if (!err)
		err = intern(b, build_id, &k.b);
	if (err)
		return err;
	hash = hash_pair(&k);
	val = hindex_find(&b->map_map, hash, mapping_eq, b, &k);
	if (val) {
		*id = val;
		return 0;
	}
	err = PP_RESERVE(b->maps, b->cap_maps, b->nmaps + 1);
	if (!err)
		err = hindex_add(&b->map_map, hash, (uint32_t)b->nmaps + 1);
	if (err)
		return err;
	/* Report frames carry file offsets (kernel frames: kernel addresses),
	 * not the process's virtual addresses, and one profile mixes several
	 * processes that map a file at different places. So the mapping is
	 * synthetic: it starts at 0 with file offset 0, which makes each
	 * location's address its file offset, and ends past the highest address
	 * used (set in emit(); the largest varint is counted until then, so the
	 * size estimate stays an upper bound). has_functions: every location
	 * is named, so pprof tools must not re-symbolize it. */
	m.id = b->nmaps + 1;
	m.memory_start = 0;
	m.memory_limit = UINT64_MAX;
	m.file_offset = 0;
	m.filename = k.a;
	m.build_id = k.b;
	m.has_functions = true;
	m.has_filenames = true;
	b->size += field_len(perftools__profiles__mapping__get_packed_size(&m));
	b->maps[b->nmaps++] = m;
	*id = m.id;
	return 0;
}

static bool function_eq(const void *ctx, uint32_t val, const void *key)
{
	const pb_function *f = &((const struct pp_builder *)ctx)->funcs[val - 1];
	const struct pp_pair *k = key;

	return f->name == k->a && f->filename == k->b;
}

/* Function.filename is the source file when the line has one, else the
 * frame's file (the binary). */
static int function_of(struct pp_builder *b, const char *name, const char *system_name,
		       const char *filename, uint64_t *id)
{
	pb_function fn = PERFTOOLS__PROFILES__FUNCTION__INIT;
	int64_t sys = 0;
	struct pp_pair k;
	uint64_t hash;
	uint32_t val;
	int err;

	err = intern(b, name ? name : "[unknown]", &k.a);
	if (!err)
		err = intern(b, filename, &k.b);
	if (!err && system_name)
		err = intern(b, system_name, &sys);
	if (err)
		return err;
	hash = hash_pair(&k);
	val = hindex_find(&b->func_map, hash, function_eq, b, &k);
	if (val) {
		*id = val;
		return 0;
	}
	err = PP_RESERVE(b->funcs, b->cap_funcs, b->nfuncs + 1);
	if (!err)
		err = hindex_add(&b->func_map, hash, (uint32_t)b->nfuncs + 1);
	if (err)
		return err;
	fn.id = b->nfuncs + 1;
	fn.name = k.a;
	fn.system_name = sys ? sys : k.a;
	fn.filename = k.b;
	b->size += field_len(perftools__profiles__function__get_packed_size(&fn));
	b->funcs[b->nfuncs++] = fn;
	*id = fn.id;
	return 0;
}

/* One location per report frame, with a line per inline level, innermost
 * first as pprof wants them. A frame without a name still gets one line
 * with its fallback name: a location without a line has no name in
 * Pyroscope's flame graphs. */
static int location_of(struct pp_builder *b, uint32_t frame, uint64_t *id)
{
	const struct report_frame *f = &b->r->frames[frame];
	uint32_t i, n = f->nlines ? f->nlines : 1;
	uint64_t mapping_id;
	struct pp_loc *l;
	int err;

	if (b->loc_of_frame[frame]) {
		*id = b->loc_of_frame[frame];
		return 0;
	}
	err = mapping_of(b, f, &mapping_id);
	if (!err)
		err = PP_RESERVE(b->locs, b->cap_locs, b->nlocs + 1);
	if (!err)
		err = PP_RESERVE(b->lines, b->cap_lines, b->nlines + n);
	if (!err)
		err = PP_RESERVE(b->line_ptrs, b->cap_line_ptrs, b->nlines + n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		const struct report_line *rl = f->nlines ? &f->lines[i] : NULL;
		pb_line *line = &b->lines[b->nlines + i];
		uint64_t function_id;

		*line = (pb_line)PERFTOOLS__PROFILES__LINE__INIT;
		if (rl)
			err = function_of(b, rl->function, rl->system_name,
					  rl->file ? rl->file : f->file, &function_id);
		else
			err = function_of(b, f->unnamed, NULL, f->file, &function_id);
		if (err)
			return err;
		line->function_id = function_id;
		line->line = rl ? rl->line : 0;
		b->line_ptrs[b->nlines + i] = line;
	}
	l = &b->locs[b->nlocs];
	*l = (struct pp_loc){ .msg = PERFTOOLS__PROFILES__LOCATION__INIT,
			      .first_line = b->nlines,
			      .frame = frame };
	l->msg.id = b->nlocs + 1;
	l->msg.mapping_id = mapping_id;
	l->msg.address = f->addr;
	l->msg.n_line = n;
	l->msg.line = &b->line_ptrs[l->first_line]; /* re-pointed in emit(): lines may move */
	b->nlines += n;
	b->size += field_len(perftools__profiles__location__get_packed_size(&l->msg));
	b->loc_of_frame[frame] = (uint32_t)l->msg.id;
	b->nlocs++;
	*id = l->msg.id;
	return 0;
}

static int add_stack(struct pp_builder *b, const struct pp_stack *st)
{
	struct pp_sample *s;
	uint32_t i;
	int err;

	err = PP_RESERVE(b->samples, b->cap_samples, b->nsamples + 1);
	if (!err)
		err = PP_RESERVE(b->loc_ids, b->cap_loc_ids, b->nloc_ids + st->nframes);
	if (err)
		return err;
	/* Report stacks are leaf first, as pprof wants them. */
	for (i = 0; i < st->nframes; i++) {
		err = location_of(b, st->frames[i], &b->loc_ids[b->nloc_ids + i]);
		if (err)
			return err;
	}
	s = &b->samples[b->nsamples];
	*s = (struct pp_sample){ .msg = PERFTOOLS__PROFILES__SAMPLE__INIT, .first = b->nloc_ids };
	s->value = st->value > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)st->value;
	s->msg.n_location_id = st->nframes;
	s->msg.location_id = b->loc_ids + s->first; /* re-pointed in emit() */
	s->msg.n_value = 1;
	s->msg.value = &s->value;
	b->size += field_len(perftools__profiles__sample__get_packed_size(&s->msg));
	b->nloc_ids += st->nframes;
	b->nsamples++;
	return 0;
}

static int gzip_buf(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
	uint8_t *buf = NULL;
	z_stream zs;
	uLong bound;
	int err, zerr;

	if (len > UINT32_MAX) /* avail_in is a uInt */
		return -E2BIG;
	memset(&zs, 0, sizeof(zs));
	/* 15 + 16: a gzip wrapper; level 1: the agent's CPU matters more than
	 * bytes on the wire (Alloy uses BestSpeed too). */
	zerr = deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	if (zerr != Z_OK)
		return zerr == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
	bound = deflateBound(&zs, len);
	buf = malloc(bound);
	if (!buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	zs.next_in = in;
	zs.avail_in = (uInt)len;
	zs.next_out = buf;
	zs.avail_out = (uInt)bound;
	zerr = deflate(&zs, Z_FINISH);
	if (zerr != Z_STREAM_END) {
		err = zerr == Z_MEM_ERROR ? -ENOMEM : -EIO;
		goto cleanup;
	}
	*out = buf;
	*out_len = zs.total_out;
	buf = NULL;
	err = 0;
cleanup:
	deflateEnd(&zs);
	free(buf);
	return err;
}

/* The profile header every cut shares: the type's strings come first in
 * every cut's string table (chunk_reset interns them). */
static void profile_header(const struct pp_builder *b, pb_profile *p, pb_value_type vt[2],
			   pb_value_type **vtp)
{
	vt[0].type = b->type[0];
	vt[0].unit = b->type[1];
	vt[1].type = b->type[2];
	vt[1].unit = b->type[3];
	*vtp = &vt[0];
	p->n_sample_type = 1;
	p->sample_type = vtp;
	p->period_type = &vt[1];
	p->period = b->r->type.period;
	p->time_nanos = (int64_t)b->r->start_ns;
	p->duration_nanos = (int64_t)b->r->duration_ns;
}

/* Encodes and gzips the profile of the first s->nsamples samples. */
static int emit(struct pp_builder *b, const struct pp_snap *s, size_t max_raw)
{
	pb_profile p = PERFTOOLS__PROFILES__PROFILE__INIT;
	pb_value_type vt[2] = { PERFTOOLS__PROFILES__VALUE_TYPE__INIT,
				PERFTOOLS__PROFILES__VALUE_TYPE__INIT },
		      *vtp;
	pb_sample **sp = NULL;
	pb_mapping **mp = NULL;
	pb_location **lp = NULL;
	pb_function **fp = NULL;
	char **st = NULL;
	struct pprof_blob *blob;
	uint8_t *raw = NULL;
	size_t i, raw_len;
	int err;

	err = PP_RESERVE(b->blobs, b->cap_blobs, b->nblobs + 1);
	if (err)
		goto cleanup;
	sp = calloc(s->nsamples + 1, sizeof(*sp));
	mp = calloc(s->nmaps + 1, sizeof(*mp));
	lp = calloc(s->nlocs + 1, sizeof(*lp));
	fp = calloc(s->nfuncs + 1, sizeof(*fp));
	st = calloc(s->nstrs + 1, sizeof(*st));
	if (!sp || !mp || !lp || !fp || !st) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < s->nmaps; i++) {
		b->maps[i].memory_limit = 0;
		mp[i] = &b->maps[i];
	}
	for (i = 0; i < s->nlocs; i++) {
		struct pp_loc *l = &b->locs[i];
		pb_mapping *m = &b->maps[l->msg.mapping_id - 1];
		uint64_t end = l->msg.address == UINT64_MAX ? UINT64_MAX : l->msg.address + 1;

		l->msg.line = &b->line_ptrs[l->first_line];
		if (end > m->memory_limit)
			m->memory_limit = end;
		lp[i] = &l->msg;
	}
	for (i = 0; i < b->nlines; i++)
		b->line_ptrs[i] = &b->lines[i];
	for (i = 0; i < s->nfuncs; i++)
		fp[i] = &b->funcs[i];
	/* protobuf-c wants char *; it only reads the strings. */
	for (i = 0; i < s->nstrs; i++)
		st[i] = b->strs[i].copy ? b->strs[i].copy : (char *)(uintptr_t)b->strs[i].key;
	for (i = 0; i < s->nsamples; i++) {
		struct pp_sample *sm = &b->samples[i];

		sm->msg.location_id = b->loc_ids + sm->first;
		sm->msg.value = &sm->value;
		sp[i] = &sm->msg;
	}
	profile_header(b, &p, vt, &vtp);
	p.n_sample = s->nsamples;
	p.sample = sp;
	p.n_mapping = s->nmaps;
	p.mapping = mp;
	p.n_location = s->nlocs;
	p.location = lp;
	p.n_function = s->nfuncs;
	p.function = fp;
	p.n_string_table = s->nstrs;
	p.string_table = st;

	raw_len = perftools__profiles__profile__get_packed_size(&p);
	raw = malloc(raw_len ? raw_len : 1);
	if (!raw) {
		err = -ENOMEM;
		goto cleanup;
	}
	perftools__profiles__profile__pack(&p, raw);
	if (raw_len > max_raw)
		log_warn("pprof: one stack alone is over the profile size bound raw_bytes=%zu "
			 "max_raw_bytes=%zu",
			 raw_len, max_raw);
	blob = &b->blobs[b->nblobs];
	*blob = (struct pprof_blob){ .raw_len = raw_len, .samples = s->nsamples };
	err = gzip_buf(raw, raw_len, &blob->data, &blob->len);
	if (err)
		goto cleanup;
	b->nblobs++;
cleanup:
	free(raw);
	free(sp);
	free(mp);
	free(lp);
	free(fp);
	free(st);
	return err;
}

static void free_strs(struct pp_builder *b)
{
	size_t i;

	for (i = 0; i < b->nstrs; i++)
		free(b->strs[i].copy);
	b->nstrs = 0;
}

/* Empties the builder for the next profile, keeping its allocations. */
static int chunk_reset(struct pp_builder *b)
{
	size_t i;
	int err;

	for (i = 0; i < b->nlocs; i++)
		b->loc_of_frame[b->locs[i].frame] = 0;
	free_strs(b);
	hindex_clear(&b->str_map);
	hindex_clear(&b->map_map);
	hindex_clear(&b->func_map);
	b->nmaps = b->nfuncs = b->nlocs = b->nsamples = b->nloc_ids = b->nlines = 0;
	b->size = b->base_size;
	err = PP_RESERVE(b->strs, b->cap_strs, 1);
	if (err)
		return err;
	b->strs[0] = (struct pp_str){ .key = "" };
	b->nstrs = 1;
	b->size += field_len(0);
	err = intern(b, b->r->type.sample_type, &b->type[0]);
	if (!err)
		err = intern(b, b->r->type.sample_unit, &b->type[1]);
	if (!err)
		err = intern(b, b->r->type.period_type, &b->type[2]);
	if (!err)
		err = intern(b, b->r->type.period_unit, &b->type[3]);
	return err;
}

static bool stack_eq(const void *ctx, uint32_t val, const void *key)
{
	const struct pp_stack *s = &((const struct pp_stack *)ctx)[val - 1], *k = key;

	return s->nframes == k->nframes &&
	       !memcmp(s->frames, k->frames, k->nframes * sizeof(*k->frames));
}

/* Equal stacks of several processes become one sample; frame indexes are
 * checked once here. */
static int merge_stacks(const struct report *r, const struct report_proc *const *procs,
			size_t nprocs, struct pp_stack **out, size_t *nout)
{
	struct hindex seen = { 0 };
	struct pp_stack *v = NULL;
	size_t total = 0, n = 0, i, j;
	uint32_t k, val;
	int err = 0;

	for (i = 0; i < nprocs; i++)
		total += procs[i]->nstacks;
	v = calloc(total + 1, sizeof(*v));
	if (!v) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < nprocs; i++) {
		for (j = 0; j < procs[i]->nstacks; j++) {
			const struct report_stack *st = &procs[i]->stacks[j];
			struct pp_stack key = { st->frames, st->nframes, st->value };
			uint64_t hash;

			if (!st->count)
				continue;
			if (st->nframes && !st->frames) {
				err = -EINVAL;
				goto cleanup;
			}
			for (k = 0; k < st->nframes; k++) {
				if (st->frames[k] >= r->nframes) {
					err = -EINVAL;
					goto cleanup;
				}
			}
			hash = hindex_hash_bytes(st->frames, st->nframes * sizeof(*st->frames));
			val = hindex_find(&seen, hash, stack_eq, v, &key);
			if (val) {
				v[val - 1].value += st->value;
				continue;
			}
			err = hindex_add(&seen, hash, (uint32_t)n + 1);
			if (err)
				goto cleanup;
			v[n++] = key;
		}
	}
	*out = v;
	*nout = n;
	v = NULL;
cleanup:
	hindex_release(&seen);
	free(v);
	return err;
}

static void builder_release(struct pp_builder *b)
{
	free_strs(b);
	free(b->strs);
	hindex_release(&b->str_map);
	free(b->maps);
	hindex_release(&b->map_map);
	free(b->funcs);
	hindex_release(&b->func_map);
	free(b->locs);
	free(b->lines);
	free(b->line_ptrs);
	free(b->loc_of_frame);
	free(b->samples);
	free(b->loc_ids);
	pprof_blobs_free(b->blobs, b->nblobs);
}

static struct pp_snap snap_of(const struct pp_builder *b)
{
	return (struct pp_snap){ b->nstrs, b->nmaps, b->nfuncs, b->nlocs, b->nsamples };
}

int pprof_build(const struct report *r, const struct report_proc *const *procs, size_t nprocs,
		size_t max_raw_bytes, struct pprof_blob **blobs, size_t *nblobs)
{
	pb_profile p = PERFTOOLS__PROFILES__PROFILE__INIT;
	pb_value_type vt[2] = { PERFTOOLS__PROFILES__VALUE_TYPE__INIT,
				PERFTOOLS__PROFILES__VALUE_TYPE__INIT },
		      *vtp;
	struct pp_builder b = { .r = r };
	struct pp_stack *stacks = NULL;
	size_t nstacks = 0, i;
	struct pp_snap snap;
	int err;

	if (!blobs || !nblobs)
		return -EINVAL;
	*blobs = NULL;
	*nblobs = 0;
	if (!r || (nprocs && !procs) || r->type.period <= 0 || !r->type.sample_type ||
	    !r->type.sample_unit || !r->type.period_type || !r->type.period_unit ||
	    (r->nframes && !r->frames))
		return -EINVAL;
	if (!max_raw_bytes)
		max_raw_bytes = PPROF_MAX_RAW_BYTES;

	err = merge_stacks(r, procs, nprocs, &stacks, &nstacks);
	if (err || !nstacks)
		goto cleanup;
	b.loc_of_frame = calloc(r->nframes + 1, sizeof(*b.loc_of_frame));
	if (!b.loc_of_frame) {
		err = -ENOMEM;
		goto cleanup;
	}
	profile_header(&b, &p, vt, &vtp);
	b.base_size = perftools__profiles__profile__get_packed_size(&p);
	err = chunk_reset(&b);
	if (err)
		goto cleanup;
	for (i = 0; i < nstacks; i++) {
		snap = snap_of(&b);
		err = add_stack(&b, &stacks[i]);
		if (err)
			goto cleanup;
		if (b.nsamples == 1 || (b.size <= max_raw_bytes && b.nsamples <= PPROF_MAX_SAMPLES))
			continue;
		/* Over a bound: the profile ends before this stack, which
		 * starts the next one. */
		err = emit(&b, &snap, max_raw_bytes);
		if (!err)
			err = chunk_reset(&b);
		if (!err)
			err = add_stack(&b, &stacks[i]);
		if (err)
			goto cleanup;
	}
	snap = snap_of(&b);
	err = emit(&b, &snap, max_raw_bytes);
	if (err)
		goto cleanup;
	*blobs = b.blobs;
	*nblobs = b.nblobs;
	b.blobs = NULL;
	b.nblobs = 0;
cleanup:
	builder_release(&b);
	free(stacks);
	return err;
}

void pprof_blobs_free(struct pprof_blob *blobs, size_t n)
{
	size_t i;

	if (!blobs)
		return;
	for (i = 0; i < n; i++)
		free(blobs[i].data);
	free(blobs);
}
