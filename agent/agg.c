// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* agg.c - window aggregation and window-end symbolization
 *
 * Three interned tables, all open addressing with linear probing: window
 * processes, unique frames (kind, file, address) and unique stacks (process,
 * frame indexes). Tables keep their capacity between windows, so a steady
 * host allocates nothing per window after the first few.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "agg.h"
#include "caps.h"
#include "profiler.h"
#include "hindex.h"
#include "vec.h"
#include "log.h"

#define AGG_NAME_MAX 1024

struct agg_frame {
	struct sym_file *file; /* referenced */
	uint64_t addr;
	uint32_t kind;
	uint32_t owner; /* REPORT_FRAME_ANON: index into procs + 1; else 0 */
};

struct agg_proc {
	uint64_t id; /* proc__id */
	uint32_t pid;
	uint64_t start_time;
	char *comm, *exe, *unit, *cgroup;
	struct cgroup_where where;
	uint64_t samples;
	size_t nstacks;
};

struct agg_stack {
	uint64_t count;
	uint64_t value;
	uint32_t proc; /* index into procs */
	uint32_t n;
	uint32_t off; /* into pool */
};

struct agg {
	struct agg_frame *frames;
	size_t nframes, frames_cap;
	struct hindex frame_idx;

	struct agg_proc *procs;
	size_t nprocs, procs_cap;
	struct hindex proc_idx;

	struct agg_stack *stacks;
	size_t nstacks, stacks_cap;
	struct hindex stack_idx;

	uint32_t *pool;
	size_t npool, pool_cap;

	uint32_t *scratch; /* one stack's frame indexes */
	struct report_type type;
	struct jit *jit; /* borrowed, or NULL */
	bool jit_window; /* this window's end is j's (one per agent window) */
	uint64_t window_samples;
	struct agg_stats stats;
};

static uint64_t frame_hash(const struct agg_frame *f)
{
	return hindex_mix64(f->addr ^
			    hindex_mix64((uintptr_t)f->file ^ ((uint64_t)f->owner << 32)) ^
			    ((uint64_t)f->kind << 56));
}

static uint64_t stack_hash(uint32_t proc, const uint32_t *ids, uint32_t n)
{
	uint64_t h = hindex_mix64(proc + 0x9e3779b97f4a7c15ull * (n + 1));
	uint32_t i;

	for (i = 0; i < n; i++)
		h = hindex_mix64(h ^ ids[i]) + i;
	return h;
}

static bool frame_eq(const void *ctx, uint32_t val, const void *key)
{
	const struct agg *a = ctx;
	const struct agg_frame *f = &a->frames[val - 1], *k = key;

	return f->addr == k->addr && f->file == k->file && f->kind == k->kind &&
	       f->owner == k->owner;
}

static bool proc_eq(const void *ctx, uint32_t val, const void *key)
{
	const struct agg *a = ctx;

	return a->procs[val - 1].id == *(const uint64_t *)key;
}

struct stack_key {
	uint32_t proc, n;
	const uint32_t *ids;
};

static bool stack_eq(const void *ctx, uint32_t val, const void *key)
{
	const struct agg *a = ctx;
	const struct agg_stack *s = &a->stacks[val - 1];
	const struct stack_key *k = key;

	return s->proc == k->proc && s->n == k->n &&
	       !memcmp(&a->pool[s->off], k->ids, k->n * sizeof(*k->ids));
}

struct agg *agg__new(const struct report_type *type)
{
	struct agg *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->type = *type;
	a->scratch = malloc(AGG_MAX_STACK * sizeof(*a->scratch));
	if (!a->scratch) {
		free(a);
		errno = ENOMEM;
		return NULL;
	}
	return a;
}

static void agg_reset(struct agg *a)
{
	size_t i;

	for (i = 0; i < a->nframes; i++)
		sym_file__put(a->frames[i].file);
	for (i = 0; i < a->nprocs; i++) {
		free(a->procs[i].comm);
		free(a->procs[i].exe);
		free(a->procs[i].unit);
		free(a->procs[i].cgroup);
	}
	a->nframes = a->nprocs = a->nstacks = a->npool = 0;
	a->window_samples = 0;
	hindex_clear(&a->frame_idx);
	hindex_clear(&a->proc_idx);
	hindex_clear(&a->stack_idx);
}

void agg__free(struct agg *a)
{
	if (!a)
		return;
	agg_reset(a);
	free(a->frames);
	free(a->procs);
	free(a->stacks);
	free(a->pool);
	hindex_release(&a->frame_idx);
	hindex_release(&a->proc_idx);
	hindex_release(&a->stack_idx);
	free(a->scratch);
	free(a);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int intern_proc(struct agg *a, const struct proc *p, uint32_t *out)
{
	uint64_t id = proc__id(p), h = hindex_mix64(id);
	struct agg_proc *wp;
	uint32_t val;
	int err;

	val = hindex_find(&a->proc_idx, h, proc_eq, a, &id);
	if (val) {
		*out = val - 1;
		return 0;
	}
	err = VEC_RESERVE(a->procs, a->procs_cap, a->nprocs + 1, AGG_MAX_PROCS);
	if (err)
		return err;
	wp = &a->procs[a->nprocs];
	memset(wp, 0, sizeof(*wp));
	wp->id = id;
	wp->pid = proc__pid(p);
	wp->start_time = proc__start_time(p);
	/* Copied now: the process may exit before the window ends. */
	wp->comm = strdup(proc__comm(p));
	wp->exe = dup_or_null(proc__exe(p));
	wp->unit = dup_or_null(proc__unit(p));
	wp->cgroup = dup_or_null(proc__cgroup(p));
	wp->where = *proc__where(p);
	err = wp->comm ? hindex_add(&a->proc_idx, h, a->nprocs + 1) : -ENOMEM;
	/* Once per process per window: a JVM is asked for its map now, so
	 * this window's JIT frames can be named when it ends. */
	if (!err && a->jit)
		jit__seen(a->jit, wp->pid, wp->start_time, wp->comm, wp->exe);
	if (err) {
		free(wp->comm);
		free(wp->exe);
		free(wp->unit);
		free(wp->cgroup);
		return err;
	}
	*out = a->nprocs++;
	return 0;
}

/* proc: the sample's process, which owns its anonymous frames. */
static int intern_frame(struct agg *a, uint32_t proc, const struct proc_frame *pf, uint32_t *out)
{
	struct agg_frame key = { .file = pf->file, .addr = pf->addr, .kind = pf->kind };
	uint64_t h;
	uint32_t val;
	int err;

	/* An address outside any file means something only in its process. */
	if (pf->kind == REPORT_FRAME_ANON)
		key.owner = proc + 1;
	h = frame_hash(&key);
	val = hindex_find(&a->frame_idx, h, frame_eq, a, &key);
	if (val) {
		*out = val - 1;
		return 0;
	}
	err = VEC_RESERVE(a->frames, a->frames_cap, a->nframes + 1, AGG_MAX_FRAMES);
	if (!err)
		err = hindex_add(&a->frame_idx, h, a->nframes + 1);
	if (err)
		return err;
	key.file = sym_file__get(pf->file);
	a->frames[a->nframes] = key;
	*out = a->nframes++;
	return 0;
}

int agg__add(struct agg *a, const struct proc *p, const struct proc_frame *frames, size_t n,
	     uint64_t value)
{
	struct stack_key key;
	struct agg_stack *s;
	uint32_t val, proc;
	uint64_t h;
	size_t i;
	int err;

	if (n > AGG_MAX_STACK) {
		caps__hit(CAPS_AGG_DEPTH, 1, AGG_MAX_STACK);
		n = AGG_MAX_STACK;
	}
	err = intern_proc(a, p, &proc);
	if (err == -ENOSPC)
		caps__hit(CAPS_AGG_PROCS, 1, AGG_MAX_PROCS);
	for (i = 0; !err && i < n; i++) {
		err = intern_frame(a, proc, &frames[i], &a->scratch[i]);
		if (err == -ENOSPC)
			caps__hit(CAPS_AGG_FRAMES, 1, AGG_MAX_FRAMES);
	}
	if (err)
		goto dropped;

	key.proc = proc;
	key.n = n;
	key.ids = a->scratch;
	h = stack_hash(proc, a->scratch, n);
	val = hindex_find(&a->stack_idx, h, stack_eq, a, &key);
	if (!val) {
		err = VEC_RESERVE(a->stacks, a->stacks_cap, a->nstacks + 1, AGG_MAX_STACKS);
		if (err == -ENOSPC)
			caps__hit(CAPS_AGG_STACKS, 1, AGG_MAX_STACKS);
		if (!err) {
			err = VEC_RESERVE(a->pool, a->pool_cap, a->npool + n, AGG_MAX_POOL);
			if (err == -ENOSPC)
				caps__hit(CAPS_AGG_POOL, 1, AGG_MAX_POOL);
		}
		if (!err)
			err = hindex_add(&a->stack_idx, h, a->nstacks + 1);
		if (err)
			goto dropped;
		s = &a->stacks[a->nstacks];
		s->count = 0;
		s->value = 0;
		s->proc = proc;
		s->n = n;
		s->off = a->npool;
		memcpy(&a->pool[a->npool], a->scratch, n * sizeof(*a->scratch));
		a->npool += n;
		a->procs[proc].nstacks++;
		val = ++a->nstacks;
	}
	a->stacks[val - 1].count++;
	a->stacks[val - 1].value += value;
	a->procs[proc].samples++;
	a->stats.samples++;
	a->window_samples++;
	return 0;

dropped:
	a->stats.dropped++;
	log_warn_ratelimited("agg: window tables full, sample dropped err=%d stacks=%zu frames=%zu",
			     err, a->nstacks, a->nframes);
	return err;
}

/* Orders frame indexes by (kind, file, addr) so each file is named in one batch. */
static int cmp_frame(const void *x, const void *y, void *ctx)
{
	const struct agg_frame *frames = ctx;
	const struct agg_frame *a = &frames[*(const uint32_t *)x];
	const struct agg_frame *b = &frames[*(const uint32_t *)y];

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->file != b->file)
		return (uintptr_t)a->file < (uintptr_t)b->file ? -1 : 1;
	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static const char *dup_opt(struct report *r, const char *s, int *err)
{
	const char *d;

	if (!s)
		return NULL;
	d = report__strdup(r, s);
	if (!d)
		*err = -ENOMEM;
	return d;
}

/* The symbolizer's inline chain (innermost first), or its one name, into
 * the report: the symbolizer's strings live only until its next batch. */
static int copy_lines(struct report *r, const struct sym_result *sr, struct report_frame *rf)
{
	uint32_t i, n = sr->nlines ? sr->nlines : 1;
	struct report_line *lines;
	int err = 0;

	lines = report__alloc(r, n * sizeof(*lines));
	if (!lines)
		return -ENOMEM;
	for (i = 0; i < n && !err; i++) {
		const struct sym_line *sl = sr->nlines ? &sr->lines[i] : NULL;

		lines[i].function = dup_opt(r, sl ? sl->function : sr->name, &err);
		if (!sl)
			continue;
		lines[i].system_name = dup_opt(r, sl->system_name, &err);
		lines[i].file = dup_opt(r, sl->file, &err);
		lines[i].line = sl->line;
	}
	if (err)
		return err;
	rf->lines = lines;
	rf->nlines = n;
	return 0;
}

static int name_group(const struct agg *a, struct report *r, struct report_frame *out,
		      const uint32_t *ids, size_t n, struct sym *sym)
{
	const struct agg_frame *frames = a->frames;
	const struct agg_frame *f0 = &frames[ids[0]];
	struct sym_result *res = NULL;
	uint64_t *addrs = NULL;
	const char *file = NULL, *build_id = NULL;
	char name[AGG_NAME_MAX];
	int err = 0;
	size_t i;

	addrs = calloc(n, sizeof(*addrs));
	res = calloc(n, sizeof(*res));
	if (!addrs || !res) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < n; i++)
		addrs[i] = frames[ids[i]].addr;

	switch (f0->kind) {
	case REPORT_FRAME_KERNEL:
		sym__kernel(sym, addrs, n, res);
		break;
	case REPORT_FRAME_VDSO:
		sym__vdso(sym, addrs, n, res);
		file = report__strdup(r, "[vdso]");
		break;
	case REPORT_FRAME_USER:
		sym__user(sym, f0->file, addrs, n, res);
		file = report__strdup(r, sym_file__path(f0->file));
		if (sym_file__build_id(f0->file))
			build_id = report__strdup(r, sym_file__build_id(f0->file));
		break;
	case REPORT_FRAME_ANON:
		/* Each frame's own process: one group holds every process's. */
		for (i = 0; i < n; i++) {
			const struct agg_proc *wp = &a->procs[frames[ids[i]].owner - 1];

			res[i].reason = SYM_UNKNOWN_ADDR;
			if (a->jit)
				jit__lookup(a->jit, wp->pid, wp->start_time, addrs[i], &res[i]);
			/* The name lives until the next jit call: keep a copy. */
			if (res[i].reason == SYM_OK &&
			    !(res[i].name = report__strdup(r, res[i].name))) {
				err = -ENOMEM;
				goto cleanup;
			}
		}
		file = report__strdup(r, "[jit]");
		break;
	case REPORT_FRAME_MARK:
	default:
		for (i = 0; i < n; i++)
			res[i].reason = SYM_UNKNOWN_ADDR;
		break;
	}

	for (i = 0; i < n; i++) {
		const struct agg_frame *af = &frames[ids[i]];
		struct report_frame *rf = &out[ids[i]];
		const struct sym_result *sr = &res[i];

		rf->addr = addrs[i];
		rf->kind = f0->kind;
		rf->build_id = build_id;
		rf->file = file;
		/* Only code a perf map names belongs to the JIT's mapping. */
		if (f0->kind == REPORT_FRAME_ANON && sr->reason != SYM_OK)
			rf->file = NULL;
		if (af->owner) {
			rf->owner_pid = a->procs[af->owner - 1].pid;
			rf->owner_start = a->procs[af->owner - 1].start_time;
		}
		if (f0->kind == REPORT_FRAME_KERNEL)
			rf->file = report__strdup(r, sr->module ? sr->module : "[kernel.kallsyms]");
		if (sr->reason == SYM_OK && sr->name) {
			err = copy_lines(r, sr, rf);
			if (err)
				goto cleanup;
			continue;
		}
		if (f0->kind == REPORT_FRAME_USER)
			snprintf(name, sizeof(name), "%s+0x%llx", base_name(file ? file : "?"),
				 (unsigned long long)addrs[i]);
		else if (f0->kind == REPORT_FRAME_MARK)
			snprintf(name, sizeof(name), "%s",
				 addrs[i] == REPORT_MARK_TRUNCATED ? "[truncated]" :
								     "[unwind-stopped]");
		else
			snprintf(name, sizeof(name), "[unknown]");
		rf->unnamed = report__strdup(r, name);
		if (!rf->unnamed) {
			err = -ENOMEM;
			goto cleanup;
		}
	}
cleanup:
	free(addrs);
	free(res);
	return err;
}

static int name_frames(struct agg *a, struct report *r, struct sym *sym)
{
	struct report_frame *out;
	uint32_t *order;
	size_t i, j;
	int err = 0;

	out = report__alloc(r, (a->nframes ? a->nframes : 1) * sizeof(*out));
	order = malloc((a->nframes ? a->nframes : 1) * sizeof(*order));
	if (!out || !order) {
		free(order);
		return -ENOMEM;
	}
	for (i = 0; i < a->nframes; i++)
		order[i] = i;
	qsort_r(order, a->nframes, sizeof(*order), cmp_frame, a->frames);
	for (i = 0; i < a->nframes && !err; i = j) {
		const struct agg_frame *f = &a->frames[order[i]];

		for (j = i + 1; j < a->nframes; j++) {
			const struct agg_frame *g = &a->frames[order[j]];

			if (g->kind != f->kind || g->file != f->file)
				break;
		}
		err = name_group(a, r, out, &order[i], j - i, sym);
	}
	free(order);
	r->frames = out;
	r->nframes = a->nframes;
	return err;
}

static int build_procs(struct agg *a, struct report *r)
{
	struct report_proc *procs;
	struct report_stack **next;
	size_t i, k;

	procs = report__alloc(r, (a->nprocs ? a->nprocs : 1) * sizeof(*procs));
	next = calloc(a->nprocs ? a->nprocs : 1, sizeof(*next));
	if (!procs || !next) {
		free(next);
		return -ENOMEM;
	}
	for (i = 0; i < a->nprocs; i++) {
		const struct agg_proc *wp = &a->procs[i];
		struct report_proc *rp = &procs[i];

		rp->pid = wp->pid;
		rp->comm = report__strdup(r, wp->comm);
		rp->exe = wp->exe ? report__strdup(r, wp->exe) : NULL;
		rp->unit = wp->unit ? report__strdup(r, wp->unit) : NULL;
		rp->cgroup = wp->cgroup ? report__strdup(r, wp->cgroup) : NULL;
		rp->container_id = wp->where.container_id[0] ?
					   report__strdup(r, wp->where.container_id) :
					   NULL;
		rp->pod_uid = wp->where.pod_uid[0] ? report__strdup(r, wp->where.pod_uid) : NULL;
		/* A static string: outlives any report. */
		rp->container_runtime = cgroup_runtime_name(wp->where.runtime);
		rp->samples = wp->samples;
		rp->nstacks = wp->nstacks;
		next[i] = report__alloc(r, (wp->nstacks ? wp->nstacks : 1) * sizeof(**next));
		rp->stacks = next[i];
		if (!rp->comm || !next[i]) {
			free(next);
			return -ENOMEM;
		}
	}
	for (i = 0; i < a->nstacks; i++) {
		const struct agg_stack *s = &a->stacks[i];
		struct report_stack *rs = next[s->proc]++;
		uint32_t *ids = report__alloc(r, (s->n ? s->n : 1) * sizeof(*ids));

		if (!ids) {
			free(next);
			return -ENOMEM;
		}
		memcpy(ids, &a->pool[s->off], s->n * sizeof(*ids));
		rs->frames = ids;
		rs->nframes = s->n;
		rs->count = s->count;
		rs->value = s->value;
		r->samples += s->count;
		r->total_frames += s->count * s->n;
		for (k = 0; k < s->n; k++)
			if (r->frames[ids[k]].nlines)
				r->named_frames += s->count;
	}
	free(next);
	r->procs = procs;
	r->nprocs = a->nprocs;
	return 0;
}

struct report *agg__finish(struct agg *a, struct sym *sym, uint64_t start_ns, uint64_t duration_ns)
{
	struct report *r;
	int err;

	r = report__new();
	if (!r) {
		err = -ENOMEM;
		goto err_out;
	}
	r->type = a->type;
	r->start_ns = start_ns;
	r->duration_ns = duration_ns;
	err = name_frames(a, r, sym);
	if (!err)
		err = build_procs(a, r);
	if (err)
		goto err_out;
	a->stats.named_frames += r->named_frames;
	a->stats.total_frames += r->total_frames;
	agg_reset(a);
	if (a->jit && a->jit_window)
		jit__window_end(a->jit);
	return r;

err_out:
	a->stats.dropped += a->window_samples;
	log_err("agg: window lost err=%d stacks=%zu", err, a->nstacks);
	report__free(r);
	agg_reset(a);
	if (a->jit && a->jit_window)
		jit__window_end(a->jit);
	errno = -err;
	return NULL;
}

void agg__set_jit(struct agg *a, struct jit *j)
{
	a->jit = j;
	a->jit_window = true;
}

void agg__share_jit(struct agg *a, struct jit *j)
{
	a->jit = j;
	a->jit_window = false;
}

void agg__stats(const struct agg *a, struct agg_stats *out)
{
	*out = a->stats;
}
