// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_pprof.c - the pprof builder: decode what it writes and check every rule
 *
 * Each blob is gunzipped with zlib and unpacked with protobuf-c, then checked
 * for pprof validity (string 0, non-zero unique ids, one named line per
 * location, only what its samples use) and against the report's counts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "labels.h"
#include "pprof.h"
#include "utf8.h"
#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile pb_profile;

#define START_NS 1700000000123456789ull
#define DURATION_NS 15000000000ull
#define FREQ 100
#define PERIOD (1000000000 / FREQ)

/* Expected (or seen) value of one stack, keyed by "name@file;..." leaf first. */
struct want {
	char *key;
	int64_t value;
	int64_t seen;
};

struct wants {
	struct want *v;
	size_t n;
};

static int cmp_want(const void *a, const void *b)
{
	return strcmp(((const struct want *)a)->key, ((const struct want *)b)->key);
}

static char *frame_key(const struct report *r, const uint32_t *frames, uint32_t n)
{
	size_t len = 1, i;
	char *k;

	for (i = 0; i < n; i++) {
		const struct report_frame *f = &r->frames[frames[i]];

		len += strlen(report_frame_name(f)) + strlen(f->file ? f->file : "") + 2;
	}
	k = calloc(1, len);
	assert_non_null(k);
	for (i = 0; i < n; i++) {
		const struct report_frame *f = &r->frames[frames[i]];

		strcat(k, report_frame_name(f));
		strcat(k, "@");
		strcat(k, f->file ? f->file : "");
		strcat(k, ";");
	}
	return k;
}

/* The samples the report's procs should produce, equal stacks merged. */
static void wants_build(struct wants *w, const struct report *r)
{
	size_t i, j, o = 0;

	w->n = 0;
	for (i = 0; i < r->nprocs; i++)
		w->n += r->procs[i].nstacks;
	w->v = calloc(w->n + 1, sizeof(*w->v));
	assert_non_null(w->v);
	for (i = 0; i < r->nprocs; i++) {
		for (j = 0; j < r->procs[i].nstacks; j++) {
			const struct report_stack *s = &r->procs[i].stacks[j];

			if (!s->count)
				continue;
			w->v[o].key = frame_key(r, s->frames, s->nframes);
			w->v[o++].value = (int64_t)s->value;
		}
	}
	qsort(w->v, o, sizeof(*w->v), cmp_want);
	/* merge equal keys */
	w->n = 0;
	for (i = 0; i < o; i++) {
		if (w->n && !strcmp(w->v[w->n - 1].key, w->v[i].key)) {
			w->v[w->n - 1].value += w->v[i].value;
			free(w->v[i].key);
			continue;
		}
		w->v[w->n++] = w->v[i];
	}
}

static void wants_check_all_seen(struct wants *w)
{
	size_t i;

	for (i = 0; i < w->n; i++) {
		if (w->v[i].seen != w->v[i].value)
			fail_msg("stack %s: value %lld, want %lld", w->v[i].key,
				 (long long)w->v[i].seen, (long long)w->v[i].value);
		free(w->v[i].key);
	}
	free(w->v);
}

static pb_profile *decode(const struct pprof_blob *b)
{
	uint8_t *raw = malloc(b->raw_len + 1);
	z_stream zs;
	pb_profile *p;

	assert_non_null(raw);
	/* gzip magic: a gzip stream, not zlib or raw */
	assert_true(b->len > 18);
	assert_int_equal(b->data[0], 0x1f);
	assert_int_equal(b->data[1], 0x8b);
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = b->data;
	zs.avail_in = (uInt)b->len;
	zs.next_out = raw;
	zs.avail_out = (uInt)b->raw_len + 1;
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	assert_int_equal(zs.total_out, b->raw_len);
	inflateEnd(&zs);
	p = perftools__profiles__profile__unpack(NULL, b->raw_len, raw);
	assert_non_null(p);
	free(raw);
	return p;
}

static const char *str(const pb_profile *p, int64_t i)
{
	assert_true(i >= 0 && (size_t)i < p->n_string_table);
	return p->string_table[i];
}

static const Perftools__Profiles__Function *func_by_id(const pb_profile *p, uint64_t id)
{
	size_t i;

	for (i = 0; i < p->n_function; i++) {
		if (p->function[i]->id == id)
			return p->function[i];
	}
	fail_msg("no function id %llu", (unsigned long long)id);
	return NULL;
}

static const Perftools__Profiles__Location *loc_by_id(const pb_profile *p, uint64_t id)
{
	size_t i;

	for (i = 0; i < p->n_location; i++) {
		if (p->location[i]->id == id)
			return p->location[i];
	}
	fail_msg("no location id %llu", (unsigned long long)id);
	return NULL;
}

static const Perftools__Profiles__Mapping *map_by_id(const pb_profile *p, uint64_t id)
{
	size_t i;

	for (i = 0; i < p->n_mapping; i++) {
		if (p->mapping[i]->id == id)
			return p->mapping[i];
	}
	fail_msg("no mapping id %llu", (unsigned long long)id);
	return NULL;
}

/* Every rule that holds for any profile the builder writes. Adds each
 * sample's value to w. Returns the sum of sample values. */
static int64_t check_profile(const pb_profile *p, const struct report *r, struct wants *w)
{
	bool *str_used = calloc(p->n_string_table + 1, sizeof(bool));
	bool *loc_used = calloc(p->n_location + 1, sizeof(bool));
	bool *fn_used = calloc(p->n_function + 1, sizeof(bool));
	bool *map_used = calloc(p->n_mapping + 1, sizeof(bool));
	int64_t sum = 0;
	size_t i, j, k;

	assert_true(str_used && loc_used && fn_used && map_used);
	assert_true(p->n_string_table >= 3);
	assert_string_equal(p->string_table[0], "");
	for (i = 1; i < p->n_string_table; i++) {
		assert_true(p->string_table[i][0] != '\0');
		assert_true(utf8_valid(p->string_table[i], strlen(p->string_table[i])));
		for (j = 1; j < i; j++)
			assert_string_not_equal(p->string_table[i], p->string_table[j]);
	}
	assert_int_equal(p->n_sample_type, 1);
	assert_string_equal(str(p, p->sample_type[0]->type), "cpu");
	assert_string_equal(str(p, p->sample_type[0]->unit), "nanoseconds");
	assert_non_null(p->period_type);
	assert_string_equal(str(p, p->period_type->type), "cpu");
	assert_string_equal(str(p, p->period_type->unit), "nanoseconds");
	str_used[p->sample_type[0]->type] = str_used[p->sample_type[0]->unit] = true;
	assert_int_equal(p->period, PERIOD);
	assert_int_equal(p->time_nanos, START_NS);
	assert_int_equal(p->duration_nanos, DURATION_NS);
	assert_true(p->n_sample >= 1 && p->n_sample <= PPROF_MAX_SAMPLES);

	/* ids: non-zero, unique */
	for (i = 0; i < p->n_mapping; i++) {
		assert_true(p->mapping[i]->id != 0);
		for (j = 0; j < i; j++)
			assert_true(p->mapping[i]->id != p->mapping[j]->id);
	}
	for (i = 0; i < p->n_function; i++) {
		assert_true(p->function[i]->id != 0);
		for (j = 0; j < i; j++)
			assert_true(p->function[i]->id != p->function[j]->id);
	}
	for (i = 0; i < p->n_location; i++) {
		assert_true(p->location[i]->id != 0);
		for (j = 0; j < i; j++)
			assert_true(p->location[i]->id != p->location[j]->id);
	}

	for (i = 0; i < p->n_sample; i++) {
		const Perftools__Profiles__Sample *s = p->sample[i];
		struct want key = { 0 }, *hit;
		size_t len = 1;

		assert_int_equal(s->n_value, 1);
		assert_true(s->value[0] > 0 && s->value[0] % PERIOD == 0);
		assert_int_equal(s->n_label, 0); /* labels would become series labels */
		sum += s->value[0];
		for (j = 0; j < s->n_location_id; j++) {
			const Perftools__Profiles__Location *l = loc_by_id(p, s->location_id[j]);
			const Perftools__Profiles__Function *f;

			assert_int_equal(l->n_line, 1);
			f = func_by_id(p, l->line[0]->function_id);
			len += strlen(str(p, f->name)) + strlen(str(p, f->filename)) + 2;
		}
		key.key = calloc(1, len);
		assert_non_null(key.key);
		for (j = 0; j < s->n_location_id; j++) {
			const Perftools__Profiles__Location *l = loc_by_id(p, s->location_id[j]);
			const Perftools__Profiles__Function *f =
				func_by_id(p, l->line[0]->function_id);
			const Perftools__Profiles__Mapping *m = map_by_id(p, l->mapping_id);

			strcat(key.key, str(p, f->name));
			strcat(key.key, "@");
			strcat(key.key, str(p, f->filename));
			strcat(key.key, ";");
			for (k = 0; k < p->n_location; k++)
				loc_used[k] |= p->location[k] == l;
			for (k = 0; k < p->n_function; k++)
				fn_used[k] |= p->function[k] == f;
			for (k = 0; k < p->n_mapping; k++)
				map_used[k] |= p->mapping[k] == m;
			/* synthetic mapping: [0, highest address + 1), file offset 0 */
			assert_int_equal(m->memory_start, 0);
			assert_int_equal(m->file_offset, 0);
			assert_true(l->address < m->memory_limit);
			assert_true(m->has_functions);
			str_used[f->name] = str_used[f->system_name] = str_used[f->filename] = true;
			str_used[m->filename] = str_used[m->build_id] = true;
			assert_string_equal(str(p, f->name), str(p, f->system_name));
		}
		hit = bsearch(&key, w->v, w->n, sizeof(*w->v), cmp_want);
		if (!hit)
			fail_msg("unexpected stack %s", key.key);
		hit->seen += s->value[0];
		free(key.key);
	}
	/* only what the samples use */
	for (i = 0; i < p->n_location; i++)
		assert_true(loc_used[i]);
	for (i = 0; i < p->n_function; i++)
		assert_true(fn_used[i]);
	for (i = 0; i < p->n_mapping; i++)
		assert_true(map_used[i]);
	for (i = 1; i < p->n_string_table; i++) {
		if (!str_used[i])
			fail_msg("string %zu (%s) unused", i, p->string_table[i]);
	}
	free(str_used);
	free(loc_used);
	free(fn_used);
	free(map_used);
	return sum;
}

/* --- a small hand-made report: kernel, named, unnamed, vdso, anon frames --- */

/* The names of the frames below that have one, one line each. */
static const struct report_line lines[] = {
	{ .function = "do_syscall_64" }, { .function = "entry_SYSCALL_64" },
	{ .function = "nvme_irq" },	 { .function = "main" },
	{ .function = "work" },		 { .function = "__vdso_clock_gettime" },
};

/* A frame named by lines[ln], and one without a name. */
#define NAMED(ln, fl, bid, ad, kd)                                                               \
	{                                                                                        \
		.lines = &lines[ln], .nlines = 1, .file = (fl), .build_id = (bid), .addr = (ad), \
		.kind = (kd)                                                                     \
	}
#define UNNAMED(fn, fl, bid, ad, kd)                                                         \
	{                                                                                    \
		.unnamed = (fn), .file = (fl), .build_id = (bid), .addr = (ad), .kind = (kd) \
	}
/* A stack measured at 100 Hz: each sample is worth one period. */
#define STACK(fr, n, c)                              \
	{                                            \
		(fr), (n), (c), (uint64_t)(c)*PERIOD \
	}

static const struct report_frame frames[] = {
	/* 0 */ NAMED(0, "[kernel.kallsyms]", NULL, 0xffffffff81000100ull, REPORT_FRAME_KERNEL),
	/* 1 */ NAMED(1, "[kernel.kallsyms]", NULL, 0xffffffff81000200ull, REPORT_FRAME_KERNEL),
	/* 2 */ NAMED(2, "nvme", NULL, 0xffffffffc0001000ull, REPORT_FRAME_KERNEL),
	/* 3 */ NAMED(3, "/usr/bin/app", "abcdef0123", 0x1130, REPORT_FRAME_USER),
	/* 4 */ NAMED(4, "/usr/bin/app", "abcdef0123", 0x1200, REPORT_FRAME_USER),
	/* 5 */ UNNAMED("libx.so+0x10", "/usr/lib/libx.so", NULL, 0x10, REPORT_FRAME_USER),
	/* 6 */ NAMED(5, "[vdso]", "feed", 0x900, REPORT_FRAME_VDSO),
	/* 7 */ NAMED(4, "/usr/lib/libx.so", NULL, 0x20, REPORT_FRAME_USER),
	/* 8 */ UNNAMED("[unknown]", NULL, NULL, 0x7f0000001000ull, REPORT_FRAME_ANON),
};

static const uint32_t st_work[] = { 4, 3 };
static const uint32_t st_sys[] = { 0, 1, 4, 3 };
static const uint32_t st_libx[] = { 5, 3 };
static const uint32_t st_vdso[] = { 6, 4, 3 };
static const uint32_t st_libwork[] = { 7, 5, 3 };
static const uint32_t st_anon[] = { 8 };
static const uint32_t st_kmod[] = { 2, 0 };

static const struct report_stack stacks_a[] = {
	STACK(st_work, 2, 5),
	STACK(st_sys, 4, 3),
	STACK(st_libx, 2, 2),
	STACK(st_vdso, 3, 1),
};

static const struct report_stack stacks_b[] = {
	STACK(st_work, 2, 7), /* same stack as in proc a: one sample */
	STACK(st_libwork, 3, 4), STACK(st_anon, 1, 1),
	STACK(st_kmod, 2, 2),	 STACK(st_work, 1, 0), /* no samples: no pprof sample */
};

static struct report_proc procs[] = {
	{ 100, "app", "/usr/bin/app", "app.service", NULL, 11, stacks_a, 4, NULL, 0, NULL, NULL, NULL },
	{ 200, "app", "/usr/bin/app", "app.service", NULL, 14, stacks_b, 5, NULL, 0, NULL, NULL, NULL },
};

static void small_report(struct report *r)
{
	memset(r, 0, sizeof(*r));
	r->start_ns = START_NS;
	r->duration_ns = DURATION_NS;
	r->type = report_type_cpu(FREQ);
	r->frames = frames;
	r->nframes = sizeof(frames) / sizeof(frames[0]);
	r->procs = procs;
	r->nprocs = 2;
	r->samples = 25;
}

static const char *mapping_name(const pb_profile *p, const char *fname)
{
	size_t i, j;

	for (i = 0; i < p->n_location; i++) {
		const Perftools__Profiles__Location *l = p->location[i];
		const Perftools__Profiles__Function *f = func_by_id(p, l->line[0]->function_id);

		if (strcmp(str(p, f->name), fname))
			continue;
		for (j = 0; j < p->n_mapping; j++) {
			if (p->mapping[j]->id == l->mapping_id)
				return str(p, p->mapping[j]->filename);
		}
	}
	return NULL;
}

static void test_small(void **state)
{
	const struct report_proc *pp[] = { &procs[0], &procs[1] };
	struct pprof_blob *blobs = NULL;
	size_t nblobs = 0, i, j;
	struct report r;
	struct wants w;
	pb_profile *p;
	int64_t sum;

	small_report(&r);
	assert_int_equal(pprof_build(&r, pp, 2, 0, &blobs, &nblobs), 0);
	assert_int_equal(nblobs, 1);
	assert_int_equal(blobs[0].samples, 7);
	p = decode(&blobs[0]);
	wants_build(&w, &r);
	assert_int_equal(w.n, 7);
	sum = check_profile(p, &r, &w);
	wants_check_all_seen(&w);
	assert_int_equal(sum, 25 * PERIOD);
	assert_int_equal(p->n_sample, 7);
	/* one location per frame used, functions by (name, file): "work" twice */
	assert_int_equal(p->n_location, 9);
	assert_int_equal(p->n_function, 9);
	/* kernel (vmlinux and module share it), app, libx, vdso, anon */
	assert_int_equal(p->n_mapping, 5);
	assert_string_equal(mapping_name(p, "do_syscall_64"), "[kernel.kallsyms]");
	assert_string_equal(mapping_name(p, "nvme_irq"), "[kernel.kallsyms]");
	assert_string_equal(mapping_name(p, "__vdso_clock_gettime"), "[vdso]");
	assert_string_equal(mapping_name(p, "main"), "/usr/bin/app");
	assert_string_equal(mapping_name(p, "libx.so+0x10"), "/usr/lib/libx.so");
	assert_string_equal(mapping_name(p, "[unknown]"), "[anon]");
	for (i = 0; i < p->n_mapping; i++) {
		const char *fn = str(p, p->mapping[i]->filename),
			   *bid = str(p, p->mapping[i]->build_id);

		if (!strcmp(fn, "/usr/bin/app"))
			assert_string_equal(bid, "abcdef0123");
		else if (!strcmp(fn, "[vdso]"))
			assert_string_equal(bid, "feed");
		else
			assert_string_equal(bid, "");
		if (!strcmp(fn, "/usr/bin/app"))
			assert_int_equal(p->mapping[i]->memory_limit, 0x1201);
	}
	/* leaf first, and addresses are the frames' */
	for (i = 0; i < p->n_sample; i++) {
		const Perftools__Profiles__Sample *s = p->sample[i];
		const Perftools__Profiles__Location *leaf, *root;

		if (s->n_location_id != 4)
			continue;
		leaf = loc_by_id(p, s->location_id[0]);
		root = loc_by_id(p, s->location_id[3]);
		assert_string_equal(str(p, func_by_id(p, leaf->line[0]->function_id)->name),
				    "do_syscall_64");
		assert_int_equal(leaf->address, 0xffffffff81000100ull);
		assert_string_equal(str(p, func_by_id(p, root->line[0]->function_id)->name),
				    "main");
		assert_int_equal(root->address, 0x1130);
		assert_int_equal(s->value[0], 3 * PERIOD);
	}
	/* the merged stack */
	for (i = 0, j = 0; i < p->n_sample; i++)
		j += p->sample[i]->value[0] == 12 * PERIOD;
	assert_int_equal(j, 1);
	perftools__profiles__profile__free_unpacked(p, NULL);
	pprof_blobs_free(blobs, nblobs);
}

static void test_one_proc_and_period(void **state)
{
	const struct report_proc *pp[] = { &procs[1] };
	struct pprof_blob *blobs = NULL;
	size_t nblobs = 0;
	struct report r;
	pb_profile *p;

	small_report(&r);
	r.type = report_type_cpu(97); /* period rounds down */
	assert_int_equal(pprof_build(&r, pp, 1, 0, &blobs, &nblobs), 0);
	assert_int_equal(nblobs, 1);
	p = decode(&blobs[0]);
	assert_int_equal(p->period, 1000000000 / 97);
	assert_int_equal(p->n_sample, 4);
	/* The value is what the stack measured; the period only heads the profile. */
	assert_int_equal(p->sample[0]->value[0], 7 * PERIOD);
	perftools__profiles__profile__free_unpacked(p, NULL);
	pprof_blobs_free(blobs, nblobs);
}

static void test_empty_and_invalid(void **state)
{
	static const struct report_stack none[] = { STACK(st_work, 2, 0) };
	struct report_proc idle = { 1, "idle", NULL, NULL, NULL, 0, none, 1, NULL, 0, NULL, NULL, NULL };
	const struct report_proc *pp[] = { &idle };
	static const uint32_t bad_frames[] = { 4, 99 };
	static const struct report_stack bad[] = { STACK(bad_frames, 2, 1) };
	struct report_proc badp = { 1, "bad", NULL, NULL, NULL, 1, bad, 1, NULL, 0, NULL, NULL, NULL };
	const struct report_proc *pb[] = { &badp };
	struct pprof_blob *blobs = (void *)1;
	size_t nblobs = 5;
	struct report r;

	small_report(&r);
	assert_int_equal(pprof_build(&r, pp, 1, 0, &blobs, &nblobs), 0);
	assert_null(blobs);
	assert_int_equal(nblobs, 0);
	assert_int_equal(pprof_build(&r, NULL, 0, 0, &blobs, &nblobs), 0);
	assert_int_equal(nblobs, 0);
	assert_int_equal(pprof_build(&r, pb, 1, 0, &blobs, &nblobs), -EINVAL);
	assert_null(blobs);
	r.type.period = 0;
	pp[0] = &procs[0];
	assert_int_equal(pprof_build(&r, pp, 1, 0, &blobs, &nblobs), -EINVAL);
	pprof_blobs_free(NULL, 0);
}

static void test_invalid_utf8(void **state)
{
	static const struct report_line bad_name = { .function = "bad\xff"
								 "name" };
	static const struct report_frame bad[] = {
		{ .lines = &bad_name,
		  .nlines = 1,
		  .file = "/opt/caf\xc3\xa9/\xe2\x82",
		  .addr = 0x40,
		  .kind = REPORT_FRAME_USER },
	};
	static const uint32_t st[] = { 0 };
	static const struct report_stack stacks[] = { STACK(st, 1, 2) };
	struct report_proc proc = { 1, "x", NULL, NULL, NULL, 2, stacks, 1, NULL, 0, NULL, NULL, NULL };
	const struct report_proc *pp[] = { &proc };
	struct pprof_blob *blobs = NULL;
	size_t nblobs = 0;
	struct report r;
	pb_profile *p;

	small_report(&r);
	r.frames = bad;
	r.nframes = 1;
	assert_int_equal(pprof_build(&r, pp, 1, 0, &blobs, &nblobs), 0);
	assert_int_equal(nblobs, 1);
	p = decode(&blobs[0]);
	assert_int_equal(p->n_function, 1);
	assert_string_equal(str(p, p->function[0]->name), "bad_name");
	assert_string_equal(str(p, p->function[0]->filename), "/opt/caf\xc3\xa9/__");
	assert_string_equal(str(p, p->mapping[0]->filename), "/opt/caf\xc3\xa9/__");
	perftools__profiles__profile__free_unpacked(p, NULL);
	pprof_blobs_free(blobs, nblobs);
}

/* A frame with an inline chain gets one Line per level, innermost first, with
 * source files and lines; the mangled name goes to system_name; the sample
 * and period types are the report's, whatever they are. */
static void test_inline_lines_and_type(void **state)
{
	static const struct report_line chain[] = {
		{ .function = "mix", .file = "src/h.c", .line = 3 },
		{ .function = "ns::hash<int>",
		  .system_name = "_ZN2ns4hashIiEEvv",
		  .file = "src/h.c",
		  .line = 10 },
		{ .function = "main", .file = "src/main.c", .line = 7 },
	};
	static const struct report_frame fr[] = {
		{ .lines = chain,
		  .nlines = 3,
		  .file = "/usr/bin/app",
		  .addr = 0x1234,
		  .kind = REPORT_FRAME_USER },
	};
	static const uint32_t st[] = { 0 };
	static const struct report_stack stacks[] = { { st, 1, 4, 4123 } };
	struct report_proc proc = { 1, "x", NULL, NULL, NULL, 4, stacks, 1, NULL, 0, NULL, NULL, NULL };
	const struct report_proc *pp[] = { &proc };
	struct pprof_blob *blobs = NULL;
	const Perftools__Profiles__Location *l;
	const Perftools__Profiles__Function *f;
	size_t nblobs = 0, i;
	struct report r;
	pb_profile *p;

	small_report(&r);
	r.frames = fr;
	r.nframes = 1;
	r.type = (struct report_type){ .name = "off_cpu",
				       .sample_type = "off_cpu",
				       .sample_unit = "nanoseconds",
				       .period_type = "off_cpu",
				       .period_unit = "nanoseconds",
				       .period = 1 };
	assert_int_equal(pprof_build(&r, pp, 1, 0, &blobs, &nblobs), 0);
	assert_int_equal(nblobs, 1);
	p = decode(&blobs[0]);
	assert_int_equal(p->n_sample_type, 1);
	assert_string_equal(str(p, p->sample_type[0]->type), "off_cpu");
	assert_string_equal(str(p, p->sample_type[0]->unit), "nanoseconds");
	assert_string_equal(str(p, p->period_type->type), "off_cpu");
	assert_int_equal(p->period, 1);
	assert_int_equal(p->n_sample, 1);
	assert_int_equal(p->sample[0]->value[0], 4123);
	assert_int_equal(p->n_location, 1);
	l = p->location[0];
	assert_int_equal(l->address, 0x1234);
	assert_int_equal(l->n_line, 3);
	for (i = 0; i < 3; i++) {
		f = func_by_id(p, l->line[i]->function_id);
		assert_string_equal(str(p, f->name), chain[i].function);
		assert_string_equal(str(p, f->filename), chain[i].file);
		assert_int_equal(l->line[i]->line, chain[i].line);
		assert_string_equal(str(p, f->system_name), chain[i].system_name ?
								    chain[i].system_name :
								    chain[i].function);
	}
	perftools__profiles__profile__free_unpacked(p, NULL);
	pprof_blobs_free(blobs, nblobs);
}

/* --- generated reports, for the size and sample bounds --- */

struct big {
	struct report r;
	struct report_frame *frames;
	struct report_line *lines;
	char **names;
	uint32_t *stack_frames;
	struct report_stack *stacks;
	struct report_proc procs[2];
};

/* nstacks stacks of depth frames over nframes frames, in two processes. */
static void big_build(struct big *b, size_t nframes, size_t nstacks, uint32_t depth)
{
	size_t i, d;

	memset(b, 0, sizeof(*b));
	b->frames = calloc(nframes, sizeof(*b->frames));
	b->lines = calloc(nframes, sizeof(*b->lines));
	b->names = calloc(nframes, sizeof(*b->names));
	b->stack_frames = calloc(nstacks * depth, sizeof(*b->stack_frames));
	b->stacks = calloc(nstacks, sizeof(*b->stacks));
	assert_true(b->frames && b->lines && b->names && b->stack_frames && b->stacks);
	for (i = 0; i < nframes; i++) {
		b->names[i] = malloc(64);
		assert_non_null(b->names[i]);
		snprintf(b->names[i], 64, "generated_function_%zu", i);
		b->lines[i].function = b->names[i];
		b->frames[i] = (struct report_frame){
			.lines = &b->lines[i],
			.nlines = 1,
			.file = i % 3 ? "/usr/lib/libbig.so" : "/usr/bin/big",
			.build_id = i % 3 ? "b1" : "b2",
			.addr = 0x1000 + 16 * i,
			.kind = REPORT_FRAME_USER,
		};
	}
	for (i = 0; i < nstacks; i++) {
		/* distinct stacks: the leaf pair (i % nframes, i / nframes) differs */
		for (d = 0; d < depth; d++)
			b->stack_frames[i * depth + d] =
				(uint32_t)(d == 0 ? i % nframes : (i / nframes + d * 7) % nframes);
		b->stacks[i] =
			(struct report_stack)STACK(&b->stack_frames[i * depth], depth, 1 + i % 5);
	}
	b->procs[0] = (struct report_proc){ 1, "big",	  "/usr/bin/big", NULL, NULL,
					    0, b->stacks, nstacks / 2,	  NULL, 0, NULL, NULL, NULL };
	b->procs[1] =
		(struct report_proc){ 2,    "big", "/usr/bin/big",	    NULL,
				      NULL, 0,	   b->stacks + nstacks / 2, nstacks - nstacks / 2,
				      NULL, 0, NULL, NULL, NULL };
	b->r.start_ns = START_NS;
	b->r.duration_ns = DURATION_NS;
	b->r.type = report_type_cpu(FREQ);
	b->r.frames = b->frames;
	b->r.nframes = nframes;
	b->r.procs = b->procs;
	b->r.nprocs = 2;
}

static void big_free(struct big *b, size_t nframes)
{
	size_t i;

	for (i = 0; i < nframes; i++)
		free(b->names[i]);
	free(b->names);
	free(b->frames);
	free(b->lines);
	free(b->stack_frames);
	free(b->stacks);
}

/* Builds, decodes and checks every blob; returns how many there were.
 * *min_raw: the smallest raw size of all but the last blob. */
static size_t build_and_check(struct big *b, size_t max_raw, size_t *max_samples, size_t *min_raw)
{
	const struct report_proc *pp[] = { &b->procs[0], &b->procs[1] };
	struct pprof_blob *blobs = NULL;
	size_t nblobs = 0, i, total = 0;
	struct wants w;

	assert_int_equal(pprof_build(&b->r, pp, 2, max_raw, &blobs, &nblobs), 0);
	wants_build(&w, &b->r);
	*max_samples = 0;
	*min_raw = SIZE_MAX;
	for (i = 0; i < nblobs; i++) {
		pb_profile *p = decode(&blobs[i]);

		assert_true(blobs[i].raw_len <= (max_raw ? max_raw : PPROF_MAX_RAW_BYTES));
		assert_int_equal(blobs[i].samples, p->n_sample);
		check_profile(p, &b->r, &w);
		total += p->n_sample;
		if (i + 1 < nblobs && blobs[i].raw_len < *min_raw)
			*min_raw = blobs[i].raw_len;
		if (p->n_sample > *max_samples)
			*max_samples = p->n_sample;
		perftools__profiles__profile__free_unpacked(p, NULL);
	}
	assert_int_equal(total, w.n);
	wants_check_all_seen(&w); /* union of the profiles == the input */
	pprof_blobs_free(blobs, nblobs);
	return nblobs;
}

static void test_split_by_size(void **state)
{
	size_t n, max_samples, min_raw;
	struct big b;

	big_build(&b, 300, 400, 6);
	n = build_and_check(&b, 4096, &max_samples, &min_raw);
	assert_true(n >= 5);
	/* cut only when the next stack would not fit: each profile is full */
	assert_true(min_raw > 4096 - 400);
	/* a bound nothing reaches: one profile */
	assert_int_equal(build_and_check(&b, 0, &max_samples, &min_raw), 1);
	assert_int_equal(max_samples, 400);
	big_free(&b, 300);
}

static void test_split_by_samples(void **state)
{
	size_t max_samples, min_raw;
	struct big b;

	/* 40000 distinct stacks: 16000 + 16000 + 8000 */
	big_build(&b, 200, 40000, 2);
	assert_int_equal(build_and_check(&b, 64 << 20, &max_samples, &min_raw), 3);
	assert_int_equal(max_samples, PPROF_MAX_SAMPLES);
	big_free(&b, 200);
}

/* A bound below one stack's size: each stack still gets its own valid
 * profile, over the bound (impossible with real stacks and the default). */
static void test_stack_over_bound(void **state)
{
	const struct report_proc *pp[2];
	struct pprof_blob *blobs = NULL;
	size_t nblobs = 0, i;
	struct big b;

	big_build(&b, 50, 4, 40);
	pp[0] = &b.procs[0];
	pp[1] = &b.procs[1];
	assert_int_equal(pprof_build(&b.r, pp, 2, 64, &blobs, &nblobs), 0);
	assert_int_equal(nblobs, 4);
	for (i = 0; i < nblobs; i++) {
		pb_profile *p = decode(&blobs[i]);

		assert_int_equal(p->n_sample, 1);
		assert_true(blobs[i].raw_len > 64);
		perftools__profiles__profile__free_unpacked(p, NULL);
	}
	pprof_blobs_free(blobs, nblobs);
	big_free(&b, 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small),
		cmocka_unit_test(test_one_proc_and_period),
		cmocka_unit_test(test_empty_and_invalid),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_inline_lines_and_type),
		cmocka_unit_test(test_split_by_size),
		cmocka_unit_test(test_split_by_samples),
		cmocka_unit_test(test_stack_over_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
