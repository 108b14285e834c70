// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* unwind_glue.c - the processes' mappings for the BPF walker
 *
 * The walker finds a pc's mapping by binary search over the process's entry
 * in "unwind_procs", then the table row by the file's ELF address
 * (pc - bias). The bias is the mapping's start less the ELF address of its
 * file offset, through the PT_LOAD segment holding that offset (the
 * symbolizer's own computation, sym_elf_table__vaddr), so PIE, non-PIE and
 * libraries with several executable segments are all right; it is cached
 * per file and offset.
 *
 * Every executable mapping is written, with a table or without: a pc in
 * anonymous code (a JIT) or the vDSO is then known, walked by its frame
 * pointer, and never mistaken for a library loaded since the entry was
 * written, which is what sends a process to be read again.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/types.h>

#include "clock.h"
#include "hchain.h"
#include "log.h"
#include "profiler.h"
#include "sym_elf.h"
#include "sym_maps.h"
#include "unwind_glue.h"
#include "unwind_store.h"

/* Resyncs of one process after unknown pcs: the first at once (ld.so
 * loading libraries right after exec), then backing off to every 6.4 s. */
#define GLUE_RESYNC_BASE_NS (50ull * 1000000)
#define GLUE_RESYNC_MAX_SHIFT 7
/* Between two resyncs that each found new mappings (ld.so still loading
 * libraries): no backing off, only this much apart. */
#define GLUE_RESYNC_CHANGED_NS (10ull * 1000000)
/* A process quiet this long starts again from the shortest delay. */
#define GLUE_RESYNC_RESET_NS (30ull * 1000000000)
/* Processes tracked at once: unwind_procs' size. Past it a process is
 * walked by frame pointers (counted in write_failed). */
#define GLUE_MAX_PROCS 8192
#define GLUE_BIAS_CACHE 1024

struct glue_map {
	uint64_t start, end, bias;
	struct unwind_ref ref; /* ref.file NULL: no file (anonymous, vDSO) */
};

struct glue_proc {
	struct hchain_node node;
	struct glue_proc *prev, *next; /* all processes, for poll and sweep */
	uint32_t pid;
	bool written; /* unwind_procs holds an entry */
	bool waiting; /* a file of it had no table yet when last written */
	uint32_t attempts; /* resyncs that found nothing new, since the last quiet period */
	bool changed; /* the last sync found mappings the one before did not have */
	uint64_t last_sync_ns;
	size_t nr;
	struct glue_map *maps;
};

struct glue_bias {
	struct unwind_file_key key;
	uint64_t pgoff;
	int64_t delta; /* ELF address of pgoff - pgoff */
	bool valid;
};

struct unwind_glue {
	struct unwind_store *store;
	int procs_fd;
	const char *proc_root;
	struct hchain by_pid;
	struct glue_proc *list;
	uint64_t seen_seq;
	struct glue_bias bias[GLUE_BIAS_CACHE];
	struct unwind_glue_stats stats;
	/* The entry being built: 4 KiB, not on the stack of every call. */
	struct prof_unwind_proc value;
};

static uint64_t pid_hash(uint32_t pid)
{
	return (uint64_t)pid * 0x9e3779b97f4a7c15ull;
}

static struct glue_proc *glue_find(const struct unwind_glue *g, uint32_t pid)
{
	struct hchain_node *n;

	for (n = hchain_first(&g->by_pid, pid_hash(pid)); n; n = hchain_next(n)) {
		struct glue_proc *p = hchain_entry(n, struct glue_proc, node);

		if (p->pid == pid)
			return p;
	}
	return NULL;
}

struct unwind_glue *unwind_glue__new(int tables_fd, int files_fd, int procs_fd, size_t cap_bytes,
				     const char *proc_root)
{
	struct unwind_glue *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->procs_fd = procs_fd;
	g->proc_root = proc_root;
	if (hchain_init(&g->by_pid, 256))
		goto err_out;
	g->store = unwind_store_new(tables_fd, files_fd, cap_bytes);
	if (!g->store)
		goto err_out;
	return g;
err_out:
	hchain_release(&g->by_pid);
	free(g);
	errno = ENOMEM;
	return NULL;
}

static void glue_release_maps(struct unwind_glue *g, struct glue_map *maps, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		unwind_store_release(g->store, &maps[i].ref);
	free(maps);
}

static void glue_drop(struct unwind_glue *g, struct glue_proc *p)
{
	if (p->written && bpf_map_delete_elem(g->procs_fd, &p->pid) == 0)
		g->stats.procs--;
	hchain_remove(&g->by_pid, &p->node);
	if (p->prev)
		p->prev->next = p->next;
	else
		g->list = p->next;
	if (p->next)
		p->next->prev = p->prev;
	glue_release_maps(g, p->maps, p->nr);
	free(p);
}

void unwind_glue__free(struct unwind_glue *g)
{
	if (!g)
		return;
	while (g->list)
		glue_drop(g, g->list);
	unwind_store_free(g->store);
	hchain_release(&g->by_pid);
	free(g);
}

int unwind_glue__event_fd(const struct unwind_glue *g)
{
	return unwind_store_event_fd(g->store);
}

const struct unwind_store *unwind_glue__store(const struct unwind_glue *g)
{
	return g->store;
}

/* ELF address of file offset pgoff of the file at path (key), less pgoff:
 * cached, since every process maps libc at the same offsets. */
static int glue_bias_delta(struct unwind_glue *g, const struct unwind_file_key *key,
			   const char *path, uint64_t pgoff, int64_t *delta)
{
	uint64_t h = (key->ino * 0x9e3779b97f4a7c15ull) ^ key->dev ^ (pgoff >> 12);
	struct glue_bias *b = &g->bias[h % GLUE_BIAS_CACHE];
	struct sym_elf_table *t = NULL;
	uint64_t vaddr;
	int fd, err;

	if (b->valid && b->pgoff == pgoff && !memcmp(&b->key, key, sizeof(*key))) {
		*delta = b->delta;
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = sym_elf_table__segments_from_fd(fd, &t);
	close(fd);
	if (err)
		return err;
	if (!sym_elf_table__vaddr(t, pgoff, &vaddr))
		err = -ENOENT;
	sym_elf_table__free(t);
	if (err)
		return err;
	b->key = *key;
	b->pgoff = pgoff;
	b->delta = (int64_t)(vaddr - pgoff);
	b->valid = true;
	*delta = b->delta;
	return 0;
}

/* A file-backed executable mapping: its key, bias and table reference.
 * False when the file cannot be reached (gone, not ELF): the mapping is
 * then written without a table. */
static bool glue_file_map(struct unwind_glue *g, uint32_t pid, const struct sym_map *m,
			  struct glue_map *out)
{
	char mf[96];
	const char *path = mf;
	struct unwind_file_key key;
	struct stat st, host;
	int64_t delta = 0;
	int err;

	/* map_files names the very file mapped, whatever mount namespace or
	 * deletion; the store gets the plain path when it is the same file
	 * (a host process), which outlives the process. */
	snprintf(mf, sizeof(mf), "%s/%u/map_files/%llx-%llx", g->proc_root, pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	if (stat(mf, &st))
		return false;
	if (!m->deleted && m->path[0] == '/' && !stat(m->path, &host) && host.st_dev == st.st_dev &&
	    host.st_ino == st.st_ino)
		path = m->path;
	unwind_file_key_from_stat(&st, &key);
	err = glue_bias_delta(g, &key, path, m->pgoff, &delta);
	if (err) {
		g->stats.bias_failed++;
		log_debug("unwind: no load bias for %s pid=%u err=%d", m->path, pid, err);
		return false;
	}
	out->bias = m->start - (uint64_t)((int64_t)m->pgoff + delta);
	if (unwind_store_acquire(g->store, &key, path, &out->ref))
		memset(&out->ref, 0, sizeof(out->ref));
	return true;
}

/* Reads pid's executable mappings into a new array (*out, *nr): files
 * first, as the cap keeps what can have a table; then sorted by start. */
static int glue_read_maps(struct unwind_glue *g, uint32_t pid, struct glue_map **out, size_t *nr)
{
	struct sym_maps *sm = sym_maps__read(g->proc_root, pid);
	struct glue_map *maps, tmp;
	size_t i, j, n = 0, count;
	int pass;

	if (!sm)
		return -errno;
	count = sym_maps__count(sm);
	maps = calloc(PROF_UNWIND_MAX_MAPPINGS, sizeof(*maps));
	if (!maps) {
		sym_maps__free(sm);
		return -ENOMEM;
	}
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < count; i++) {
			const struct sym_map *m = sym_maps__at(sm, i);
			bool file = m->path && m->path[0] == '/';

			if (!(m->prot & SYM_PROT_EXEC) || file != (pass == 0))
				continue;
			if (n == PROF_UNWIND_MAX_MAPPINGS) {
				g->stats.maps_over_cap++;
				continue;
			}
			memset(&maps[n], 0, sizeof(maps[n]));
			maps[n].start = m->start;
			maps[n].end = m->end;
			maps[n].ref.slot = PROF_UNWIND_NO_TABLE;
			if (file && !glue_file_map(g, pid, m, &maps[n]))
				maps[n].ref.slot = PROF_UNWIND_NO_TABLE;
			n++;
		}
	}
	sym_maps__free(sm);
	/* Insertion sort: already sorted within each pass. */
	for (i = 1; i < n; i++) {
		tmp = maps[i];
		for (j = i; j > 0 && maps[j - 1].start > tmp.start; j--)
			maps[j] = maps[j - 1];
		maps[j] = tmp;
	}
	*out = maps;
	*nr = n;
	return 0;
}

/* Writes p's entry into unwind_procs from its refs' current slots. */
static void glue_write(struct unwind_glue *g, struct glue_proc *p)
{
	struct prof_unwind_proc *v = &g->value;
	size_t i;

	memset(v, 0, sizeof(*v));
	v->nr = p->nr;
	p->waiting = false;
	for (i = 0; i < p->nr; i++) {
		v->maps[i].start = p->maps[i].start;
		v->maps[i].end = p->maps[i].end;
		v->maps[i].bias = p->maps[i].bias;
		v->maps[i].slot = p->maps[i].ref.slot;
		v->maps[i].gen = p->maps[i].ref.gen;
		if (p->maps[i].ref.file && p->maps[i].ref.slot == PROF_UNWIND_NO_TABLE)
			p->waiting = true;
	}
	if (bpf_map_update_elem(g->procs_fd, &p->pid, v, BPF_ANY)) {
		g->stats.write_failed++;
		log_debug("unwind: unwind_procs refused pid=%u err=%d", p->pid, -errno);
		if (p->written)
			g->stats.procs--;
		p->written = false;
		return;
	}
	if (!p->written)
		g->stats.procs++;
	p->written = true;
}

static void glue_sync(struct unwind_glue *g, struct glue_proc *p, uint64_t now_ns)
{
	struct glue_map *maps = NULL, *old = p->maps;
	size_t nr = 0, old_nr = p->nr;
	int err;

	p->last_sync_ns = now_ns;
	err = glue_read_maps(g, p->pid, &maps, &nr);
	if (err) {
		g->stats.sync_failed++;
		return;
	}
	/* New refs first, the entry written, then the old refs go: a table
	 * both hold is never unloaded in between. */
	p->changed = nr != old_nr;
	for (size_t i = 0; !p->changed && i < nr; i++)
		p->changed = maps[i].start != old[i].start || maps[i].end != old[i].end;
	p->maps = maps;
	p->nr = nr;
	g->stats.syncs++;
	glue_write(g, p);
	if (log_level >= LOG_DEBUG) {
		size_t i, tables = 0;

		for (i = 0; i < nr; i++)
			tables += maps[i].ref.slot != PROF_UNWIND_NO_TABLE;
		log_debug("unwind: pid=%u mappings=%zu with_table=%zu written=%d", p->pid, nr,
			  tables, p->written);
	}
	glue_release_maps(g, old, old_nr);
}

static struct glue_proc *glue_add(struct unwind_glue *g, uint32_t pid)
{
	struct glue_proc *p;

	if (g->by_pid.count >= GLUE_MAX_PROCS) {
		g->stats.write_failed++;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	hchain_add(&g->by_pid, &p->node, pid_hash(pid));
	p->next = g->list;
	if (g->list)
		g->list->prev = p;
	g->list = p;
	return p;
}

void unwind_glue__exec(struct unwind_glue *g, uint32_t pid)
{
	struct glue_proc *p = glue_find(g, pid);

	if (!p)
		p = glue_add(g, pid);
	if (!p)
		return;
	p->attempts = 0;
	glue_sync(g, p, clock_ns(CLOCK_MONOTONIC));
}

void unwind_glue__exit(struct unwind_glue *g, uint32_t pid)
{
	struct glue_proc *p = glue_find(g, pid);

	if (p)
		glue_drop(g, p);
}

void unwind_glue__sample(struct unwind_glue *g, uint32_t pid, uint32_t uflags, uint64_t now_ns)
{
	struct glue_proc *p;
	uint64_t delay;

	if (pid == 0)
		return;
	p = glue_find(g, pid);
	if (!p) {
		p = glue_add(g, pid);
		if (p)
			glue_sync(g, p, now_ns);
		return;
	}
	/* A known process whose entry is missing (refused, or the sync
	 * failed) or whose pc was in no mapping: read again, not too often. */
	if (!(uflags & (PROF_UFLAG_UNKNOWN_PC | PROF_UFLAG_NO_PROC)))
		return;
	if (now_ns - p->last_sync_ns > GLUE_RESYNC_RESET_NS)
		p->attempts = 0;
	/* A sync that found new mappings may be one of several while ld.so
	 * maps a program's libraries: the next one comes soon. One that
	 * found nothing new backs off (the unknown pc may be garbage). */
	if (p->changed)
		delay = GLUE_RESYNC_CHANGED_NS;
	else
		delay = p->attempts ? GLUE_RESYNC_BASE_NS << (p->attempts < GLUE_RESYNC_MAX_SHIFT ?
								      p->attempts :
								      GLUE_RESYNC_MAX_SHIFT) :
				      0;
	if (now_ns - p->last_sync_ns < delay)
		return;
	if (!p->changed)
		p->attempts++;
	g->stats.resyncs++;
	glue_sync(g, p, now_ns);
}

void unwind_glue__poll(struct unwind_glue *g)
{
	struct glue_proc *p;
	bool changed;
	uint64_t seq;
	size_t i;

	unwind_store_poll(g->store);
	seq = unwind_store_ready_seq(g->store);
	if (seq == g->seen_seq)
		return;
	g->seen_seq = seq;
	/* A table was loaded (and others may have been evicted for it): every
	 * process holding a file whose slot moved gets its entry again. */
	for (p = g->list; p; p = p->next) {
		changed = false;
		for (i = 0; i < p->nr; i++)
			if (p->maps[i].ref.file && unwind_store_refresh(g->store, &p->maps[i].ref))
				changed = true;
		if (changed && p->written) {
			g->stats.rewrites++;
			glue_write(g, p);
		}
	}
}

void unwind_glue__sweep(struct unwind_glue *g)
{
	struct glue_proc *p = g->list, *next;

	for (; p; p = next) {
		next = p->next;
		if (kill((pid_t)p->pid, 0) && errno == ESRCH)
			glue_drop(g, p);
	}
}

/* The files nearly every process maps: their tables are compiled while the
 * agent starts, not while the first samples of each process go by. */
void unwind_glue__preload(struct unwind_glue *g)
{
	static const char *const patterns[] = {
		"/lib/x86_64-linux-gnu/libc.so.6",
		"/lib64/ld-linux-x86-64.so.2",
		"/lib/x86_64-linux-gnu/libstdc++.so.6",
		"/lib/x86_64-linux-gnu/libgcc_s.so.1",
		"/lib/x86_64-linux-gnu/libm.so.6",
		"/usr/lib/x86_64-linux-gnu/libpython3*.so.*",
		"/usr/bin/python3.[0-9]*",
		"/usr/lib64/libc.so.6",
		"/usr/lib64/libstdc++.so.6",
	};
	size_t i, j;
	glob_t gl;

	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		if (glob(patterns[i], 0, NULL, &gl))
			continue;
		for (j = 0; j < gl.gl_pathc; j++) {
			size_t len = strlen(gl.gl_pathv[j]);

			/* python3.11-config and the like are scripts. */
			if (len > 7 && !strcmp(gl.gl_pathv[j] + len - 7, "-config"))
				continue;
			if (!unwind_store_preload(g->store, gl.gl_pathv[j]))
				g->stats.preloaded++;
		}
		globfree(&gl);
	}
}

void unwind_glue__stats(const struct unwind_glue *g, struct unwind_glue_stats *out)
{
	*out = g->stats;
}
