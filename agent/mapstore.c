// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* mapstore.c - each process's executable mappings, from the kernel's records
 *
 * Records from different CPUs arrive out of order (each CPU's buffer is
 * drained in turn), so nothing here depends on arrival order: an mmap lands
 * in the image whose exec time is the latest at or before its own, and an
 * exec that arrives late takes over the later mappings of the image before
 * it. A newer mapping replaces the older ones it overlaps, as munmap leaves
 * no record.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "hchain.h"
#include "hindex.h"
#include "mapstore.h"
#include "vec.h"


struct mapstore_map {
	struct sym_map m; /* m.path is path */
	char *path; /* owned */
	uint64_t time_ns;
};

struct mapstore_image {
	uint64_t exec_ns; /* 0: mapped before any exec we saw */
	uint64_t version;
	struct mapstore_map *maps;
	size_t n, cap;
};

struct mapstore_proc {
	struct hchain_node node;
	uint32_t pid;
	uint32_t ppid;
	uint64_t fork_ns;
	uint64_t exit_ns; /* 0 while running */
	uint64_t seen_ns; /* latest record */
	/* by exec time, oldest first */
	struct mapstore_image img[MAPSTORE_MAX_IMAGES];
	size_t nimg;
};

struct mapstore {
	struct hchain procs;
	mapstore_refill_fn refill;
	void *refill_ctx;
	uint64_t next_version;
	struct mapstore_stats stats;
};

static uint64_t mapstore_hash(uint32_t pid)
{
	return hindex_mix64(pid);
}

struct mapstore *mapstore__new(void)
{
	struct mapstore *ms = calloc(1, sizeof(*ms));

	if (!ms || hchain_init(&ms->procs, 1024)) {
		free(ms);
		return errno = ENOMEM, NULL;
	}
	return ms;
}

static void mapstore_image_release(struct mapstore *ms, struct mapstore_image *img)
{
	size_t i;

	for (i = 0; i < img->n; i++)
		free(img->maps[i].path);
	ms->stats.mappings -= img->n;
	free(img->maps);
	memset(img, 0, sizeof(*img));
}

static void mapstore_proc_free(struct mapstore *ms, struct mapstore_proc *p)
{
	size_t i;

	for (i = 0; i < p->nimg; i++)
		mapstore_image_release(ms, &p->img[i]);
	free(p);
}

void mapstore__free(struct mapstore *ms)
{
	struct hchain_node *n, *next;
	size_t i;

	if (!ms)
		return;
	for (i = 0; i < ms->procs.nbuckets; i++) {
		for (n = ms->procs.buckets[i]; n; n = next) {
			next = n->next;
			mapstore_proc_free(ms, hchain_entry(n, struct mapstore_proc, node));
		}
	}
	hchain_release(&ms->procs);
	free(ms);
}

void mapstore__set_refill(struct mapstore *ms, mapstore_refill_fn fn, void *ctx)
{
	ms->refill = fn;
	ms->refill_ctx = ctx;
}

static struct mapstore_proc *mapstore_find(const struct mapstore *ms, uint32_t pid)
{
	struct hchain_node *n;

	for (n = hchain_first(&ms->procs, mapstore_hash(pid)); n; n = hchain_next(n)) {
		struct mapstore_proc *p = hchain_entry(n, struct mapstore_proc, node);

		if (p->pid == pid)
			return p;
	}
	return NULL;
}

static struct mapstore_proc *mapstore_get(struct mapstore *ms, uint32_t pid, uint64_t time_ns)
{
	struct mapstore_proc *p = mapstore_find(ms, pid);

	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return NULL;
		p->pid = pid;
		hchain_add(&ms->procs, &p->node, mapstore_hash(pid));
	}
	if (time_ns > p->seen_ns)
		p->seen_ns = time_ns;
	return p;
}

static void mapstore_remove(struct mapstore *ms, struct mapstore_proc *p)
{
	hchain_remove(&ms->procs, &p->node);
	mapstore_proc_free(ms, p);
}

/* The image current at time_ns: the last one exec'd at or before it. */
static struct mapstore_image *mapstore_image_at(struct mapstore_proc *p, uint64_t time_ns)
{
	size_t i;

	for (i = p->nimg; i > 0; i--)
		if (p->img[i - 1].exec_ns <= time_ns)
			return &p->img[i - 1];
	return NULL;
}

/* Makes a new, empty image at exec time exec_ns in p's sorted list (dropping
 * the oldest at the bound). NULL when one older than all kept is refused. */
static struct mapstore_image *mapstore_image_new(struct mapstore *ms, struct mapstore_proc *p,
						 uint64_t exec_ns)
{
	size_t at;

	for (at = p->nimg; at > 0 && p->img[at - 1].exec_ns > exec_ns; at--)
		;
	if (p->nimg == MAPSTORE_MAX_IMAGES) {
		ms->stats.dropped++;
		caps__hit(CAPS_MAPSTORE_IMAGES, 1, MAPSTORE_MAX_IMAGES);
		if (at == 0)
			return NULL;
		mapstore_image_release(ms, &p->img[0]);
		memmove(&p->img[0], &p->img[1], (p->nimg - 1) * sizeof(p->img[0]));
		p->nimg--;
		at--;
	}
	memmove(&p->img[at + 1], &p->img[at], (p->nimg - at) * sizeof(p->img[0]));
	memset(&p->img[at], 0, sizeof(p->img[at]));
	p->img[at].exec_ns = exec_ns;
	p->img[at].version = ++ms->next_version;
	p->nimg++;
	return &p->img[at];
}

static bool mapstore_overlap(const struct sym_map *a, const struct sym_map *b)
{
	return a->start < b->end && b->start < a->end;
}

/* Drops the mappings a newer one overlaps (what munmap and re-mmap left). */
static void mapstore_image_compact(struct mapstore *ms, struct mapstore_image *img)
{
	size_t i, j, out = 0;

	for (i = 0; i < img->n; i++) {
		for (j = 0; j < img->n; j++)
			if (img->maps[j].time_ns > img->maps[i].time_ns &&
			    mapstore_overlap(&img->maps[i].m, &img->maps[j].m))
				break;
		if (j < img->n) {
			free(img->maps[i].path);
			ms->stats.mappings--;
			continue;
		}
		img->maps[out++] = img->maps[i];
	}
	img->n = out;
}

/* Adds mm to img; takes mm->path. Overlapped older mappings are kept until
 * the image fills up: the exec record that would move the newer one to
 * another image may not have been read yet. */
static int mapstore_image_add(struct mapstore *ms, struct mapstore_image *img,
			      struct mapstore_map *mm)
{
	int err;

	if (img->n == MAPSTORE_MAX_MAPS)
		mapstore_image_compact(ms, img);
	err = vec_reserve((void **)&img->maps, &img->cap, sizeof(*img->maps), img->n + 1,
			  MAPSTORE_MAX_MAPS);
	if (err) {
		if (err == -ENOSPC) {
			ms->stats.dropped++;
			caps__hit(CAPS_MAPSTORE_MAPS, 1, MAPSTORE_MAX_MAPS);
		}
		free(mm->path);
		return err;
	}
	img->maps[img->n++] = *mm;
	img->version = ++ms->next_version;
	ms->stats.mappings++;
	return 0;
}

int mapstore__exec(struct mapstore *ms, uint32_t pid, uint64_t time_ns)
{
	struct mapstore_image *prev, *img;
	struct mapstore_proc *p;
	size_t i, out = 0;
	int err = 0;

	ms->stats.execs++;
	p = mapstore_get(ms, pid, time_ns);
	if (!p)
		return -ENOMEM;
	img = mapstore_image_new(ms, p, time_ns);
	if (!img)
		return -ENOSPC;
	/* Mappings of the new image read before its exec record. */
	prev = img > p->img ? img - 1 : NULL;
	for (i = 0; prev && i < prev->n; i++) {
		if (prev->maps[i].time_ns >= time_ns) {
			ms->stats.mappings--;
			if (!err)
				err = mapstore_image_add(ms, img, &prev->maps[i]);
			else
				free(prev->maps[i].path);
			continue;
		}
		prev->maps[out++] = prev->maps[i];
	}
	if (prev)
		prev->n = out;
	return err;
}

int mapstore__fork(struct mapstore *ms, uint32_t pid, uint32_t ppid, uint64_t time_ns)
{
	struct mapstore_proc *p = mapstore_get(ms, pid, time_ns);

	if (!p)
		return -ENOMEM;
	p->ppid = ppid;
	p->fork_ns = time_ns;
	return 0;
}

int mapstore__mmap(struct mapstore *ms, uint32_t pid, uint64_t time_ns, const struct sym_map *m)
{
	struct mapstore_map mm = { .m = *m, .time_ns = time_ns };
	struct mapstore_image *img;
	struct mapstore_proc *p;

	ms->stats.mmaps++;
	if (m->end <= m->start)
		return -EINVAL;
	p = mapstore_get(ms, pid, time_ns);
	if (!p)
		return -ENOMEM;
	img = mapstore_image_at(p, time_ns);
	/* Mapped before any exec we know of: a process older than us. */
	if (!img)
		img = mapstore_image_new(ms, p, 0);
	if (!img)
		return -ENOSPC;
	mm.m.path = NULL;
	if (m->path) {
		mm.path = strndup(m->path, SYM_MAPS_MAX_PATH);
		if (!mm.path)
			return -ENOMEM;
		mm.m.path = mm.path;
	}
	return mapstore_image_add(ms, img, &mm);
}

void mapstore__exit(struct mapstore *ms, uint32_t pid, uint64_t time_ns)
{
	struct mapstore_proc *p = mapstore_find(ms, pid);

	if (p && time_ns >= p->seen_ns)
		p->exit_ns = time_ns;
}

/* The image samples of pid at time_ns ran in, refilling once on a miss. */
static struct mapstore_image *mapstore_lookup(struct mapstore *ms, uint32_t pid, uint64_t time_ns,
					      struct mapstore_proc **pp)
{
	struct mapstore_image *img = NULL;
	struct mapstore_proc *p;
	int pass;

	for (pass = 0; pass < 2 && !img; pass++) {
		if (pass && ms->refill)
			ms->refill(ms->refill_ctx);
		else if (pass)
			break;
		p = mapstore_find(ms, pid);
		if (!p)
			continue;
		*pp = p;
		img = mapstore_image_at(p, time_ns);
		/* Forked, not yet exec'd: it runs its parent's image. */
		if (!img && p->ppid) {
			struct mapstore_proc *parent = mapstore_find(ms, p->ppid);

			if (parent)
				img = mapstore_image_at(parent, time_ns);
		}
	}
	return img;
}

struct sym_maps *mapstore__maps(struct mapstore *ms, uint32_t pid, uint64_t time_ns, uint32_t *ppid,
				uint64_t *version)
{
	struct mapstore_proc *p = NULL;
	struct mapstore_image *img;
	struct sym_map *tmp;
	struct sym_maps *maps;
	size_t i, j, n = 0;

	ms->stats.lookups++;
	img = mapstore_lookup(ms, pid, time_ns, &p);
	if (!img || !img->n) {
		ms->stats.misses++;
		return errno = ENOENT, NULL;
	}
	tmp = malloc(img->n * sizeof(*tmp));
	if (!tmp)
		return errno = ENOMEM, NULL;
	/* Of overlapping mappings the newest is the one that was live. */
	for (i = 0; i < img->n; i++) {
		for (j = 0; j < img->n; j++)
			if (img->maps[j].time_ns > img->maps[i].time_ns &&
			    mapstore_overlap(&img->maps[i].m, &img->maps[j].m))
				break;
		if (j == img->n)
			tmp[n++] = img->maps[i].m;
	}
	maps = sym_maps__from(tmp, n);
	free(tmp);
	if (maps) {
		*ppid = p ? p->ppid : 0;
		*version = img->version;
	}
	return maps;
}

uint64_t mapstore__version(struct mapstore *ms, uint32_t pid, uint64_t time_ns)
{
	struct mapstore_proc *p = NULL;
	struct mapstore_image *img;

	if (ms->refill)
		ms->refill(ms->refill_ctx);
	p = mapstore_find(ms, pid);
	img = p ? mapstore_image_at(p, time_ns) : NULL;
	return img ? img->version : 0;
}

void mapstore__forget(struct mapstore *ms, uint32_t pid, uint64_t time_ns)
{
	struct mapstore_proc *p = mapstore_find(ms, pid);
	size_t i, out = 0;

	if (!p)
		return;
	/* A pid reused since: its newer images stay. */
	for (i = 0; i < p->nimg; i++) {
		if (p->img[i].exec_ns <= time_ns)
			mapstore_image_release(ms, &p->img[i]);
		else
			p->img[out++] = p->img[i];
	}
	p->nimg = out;
	if (!out && p->seen_ns <= time_ns)
		mapstore_remove(ms, p);
}

void mapstore__sweep(struct mapstore *ms, uint64_t exited_before_ns, const char *proc_root)
{
	struct hchain_node *n, *next;
	char path[64];
	size_t i;

	for (i = 0; i < ms->procs.nbuckets; i++) {
		for (n = ms->procs.buckets[i]; n; n = next) {
			struct mapstore_proc *p = hchain_entry(n, struct mapstore_proc, node);
			bool gone;

			next = n->next;
			if (p->exit_ns) {
				gone = p->exit_ns < exited_before_ns;
			} else {
				if (p->seen_ns >= exited_before_ns)
					continue;
				snprintf(path, sizeof(path), "%s/%u", proc_root, p->pid);
				gone = access(path, F_OK) != 0;
			}
			if (gone)
				mapstore_remove(ms, p);
		}
	}
}

void mapstore__stats(const struct mapstore *ms, struct mapstore_stats *out)
{
	*out = ms->stats;
	out->procs = ms->procs.count;
}
