// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* unwind_store.c - compiled tables in the BPF maps, cached by file identity
 *
 * Each known file is an entry in a hash by key and in one recency list.
 * States: NEW (not queued yet: the queue was full, or a compile failed on
 * a path that may work from another process), QUEUED (in the worker's
 * queue or being compiled), LOADED (in a slot), and three ends without a
 * table: NO_CFI, FAILED (corrupt, not ELF), TOO_BIG. An evicted file goes
 * back to NEW only when it is acquired again after a while (its holders
 * keep seeing NO_TABLE, so eviction cannot thrash).
 *
 * The worker owns nothing of the store: it takes a job (an entry pointer, a
 * copied path and key), compiles, and puts the result on the done list; the
 * entry cannot go away while QUEUED. All BPF calls are on the owner's
 * thread, in poll.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/types.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "hchain.h"
#include "log.h"
#include "lru.h"
#include "profiler.h"
#include "unwind_store.h"
#include "unwind_table.h"

/* Files waiting for the worker: a burst of new binaries beyond this waits
 * for a later acquire (counted), rather than growing the queue. */
#define QUEUE_MAX 64
/* Known files without a table and without holders kept for dedup: beyond
 * this the oldest are forgotten. */
#define IDLE_MAX 4096
/* A file whose compile failed on a path that might work from elsewhere
 * (the process exited, the file changed) is retried after this. */
#define RETRY_NS (10ull * 1000000000ull)
/* A compile with more CFI rows than this trims the heap after. */
#define TRIM_ROWS 50000
/* Rows per batch update: bounds the key array. */
#define BATCH_ROWS 65536

enum file_state { ST_NEW, ST_QUEUED, ST_LOADED, ST_NO_CFI, ST_FAILED, ST_TOO_BIG };

struct unwind_store_file {
	struct hchain_node hnode;
	struct lru_node lnode;
	struct unwind_file_key key;
	char *path; /* the last path it was acquired by, for a retry */
	enum file_state state;
	uint32_t holders;
	uint32_t slot; /* ST_LOADED */
	uint32_t gen;
	size_t bytes; /* ST_LOADED: charged against the cap */
	size_t rows;
	uint64_t retry_ns; /* ST_NEW after a failure or eviction: not before */
};

struct job {
	struct unwind_store_file *f;
	struct unwind_file_key key;
	char *path;
	/* the result */
	int err;
	struct unwind_table table;
	struct unwind_table_stats st;
	struct job *next;
};

struct unwind_store {
	int tables_fd, files_fd;
	size_t cap_bytes;
	struct hchain files;
	struct lru lru; /* every file, most recently acquired first */
	size_t nfiles;
	uint32_t slot_gen[PROF_UNWIND_MAX_FILES];
	struct unwind_store_file *slot_file[PROF_UNWIND_MAX_FILES];
	size_t used_bytes, used_rows, loaded;
	uint64_t ready_seq;
	struct unwind_store_stats stats;

	pthread_t worker;
	bool worker_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct job *queue_head, *queue_tail; /* under mu */
	size_t queued; /* jobs in queue, compiling or done, not yet polled */
	struct job *done; /* under mu */
	int event_fd;
};

/* ---- keys ---- */

void unwind_file_key_from_stat(const struct stat *st, struct unwind_file_key *key)
{
	memset(key, 0, sizeof(*key));
	key->dev = st->st_dev;
	key->ino = st->st_ino;
	key->size = (uint64_t)st->st_size;
	key->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 29);
}

static uint64_t key_hash(const struct unwind_file_key *k)
{
	return mix(mix(mix(mix(0, k->dev), k->ino), k->size), (uint64_t)k->mtime_ns);
}

static bool key_eq(const struct unwind_file_key *a, const struct unwind_file_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns;
}

size_t unwind_store_table_bytes(size_t rows)
{
	/* struct bpf_array's header plus 8-byte elements, in pages once it
	 * is vmalloc'ed; small maps are kmalloc'ed but a page is a fair
	 * charge for the map's own bookkeeping */
	size_t b = 512 + rows * sizeof(struct prof_unwind_row);

	return (b + 4095) & ~(size_t)4095;
}

/* ---- the worker ---- */

static void *worker_main(void *arg)
{
	struct unwind_store *s = arg;
	/* a table past the whole cap is refused as soon as it is known */
	size_t max_rows = s->cap_bytes / sizeof(struct prof_unwind_row);

	if (!max_rows)
		max_rows = 1;
	if (max_rows > UNWIND_TABLE_MAX_ROWS)
		max_rows = UNWIND_TABLE_MAX_ROWS;
	/* compiles yield to the agent's loop on a busy host (on Linux the
	 * nice value is this thread's alone) */
	errno = 0;
	if (setpriority(PRIO_PROCESS, 0, getpriority(PRIO_PROCESS, 0) + 5) && errno)
		log_debug("unwind: worker priority unchanged err=%d", -errno);

	pthread_mutex_lock(&s->mu);
	for (;;) {
		struct job *j;
		struct stat st;
		struct unwind_file_key k;
		int fd;

		while (!s->stop && !s->queue_head)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->stop)
			break;
		j = s->queue_head;
		s->queue_head = j->next;
		if (!s->queue_head)
			s->queue_tail = NULL;
		pthread_mutex_unlock(&s->mu);

		fd = open(j->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			j->err = -errno;
		} else {
			/* the path may now be another file than the one
			 * the key named (replaced, or a reused pid) */
			if (fstat(fd, &st)) {
				j->err = -errno;
			} else {
				unwind_file_key_from_stat(&st, &k);
				if (!key_eq(&k, &j->key))
					j->err = -ESTALE;
				else
					j->err = unwind_table_compile_fd(fd, -1, max_rows,
									 &j->table, &j->st);
			}
			close(fd);
		}
		/* a big file's FDE list and growing table leave freed heap
		 * behind: hand it back rather than keep the compile's peak
		 * in the agent's RSS */
		if (j->st.cfi_rows > TRIM_ROWS)
			malloc_trim(0);

		pthread_mutex_lock(&s->mu);
		j->next = s->done;
		s->done = j;
		if (s->event_fd >= 0) {
			uint64_t one = 1;

			if (write(s->event_fd, &one, sizeof(one)) < 0) {
				/* the counter is full: poll is due anyway */
			}
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ---- BPF maps ---- */

static int unload(struct unwind_store *s, struct unwind_store_file *f)
{
	struct prof_unwind_file pf = { .rows = 0, .gen = s->slot_gen[f->slot] };
	uint32_t slot = f->slot;

	/* the row count first: a walker between the two updates sees an
	 * empty table, never a freed one */
	if (bpf_map_update_elem(s->files_fd, &slot, &pf, BPF_ANY))
		log_warn("unwind: clearing slot failed slot=%u err=%d", slot, -errno);
	if (bpf_map_delete_elem(s->tables_fd, &slot) && errno != ENOENT)
		log_warn("unwind: removing table failed slot=%u err=%d", slot, -errno);
	s->slot_file[slot] = NULL;
	s->used_bytes -= f->bytes;
	s->used_rows -= f->rows;
	s->loaded--;
	f->bytes = 0;
	f->rows = 0;
	f->slot = PROF_UNWIND_NO_TABLE;
	return 0;
}

static void evict(struct unwind_store *s, struct unwind_store_file *f)
{
	s->stats.evictions++;
	if (f->holders)
		s->stats.evictions_held++;
	log_debug("unwind: evicting table slot=%u rows=%zu holders=%u", f->slot, f->rows,
		  f->holders);
	unload(s, f);
	f->state = ST_NEW;
	f->retry_ns = clock_ns(CLOCK_MONOTONIC) + RETRY_NS;
}

/* The loaded file to evict for room: the least recently used nobody
 * holds, else the least recently used; not keep. */
static struct unwind_store_file *victim(struct unwind_store *s,
					const struct unwind_store_file *keep)
{
	struct unwind_store_file *held = NULL;
	struct lru_node *n;

	for (n = s->lru.tail; n; n = n->prev) {
		struct unwind_store_file *f = lru_entry(n, struct unwind_store_file, lnode);

		if (f == keep || f->state != ST_LOADED)
			continue;
		if (!f->holders)
			return f;
		if (!held)
			held = f;
	}
	return held;
}

static int free_slot(struct unwind_store *s)
{
	uint32_t i;

	for (i = 0; i < PROF_UNWIND_MAX_FILES; i++)
		if (!s->slot_file[i])
			return (int)i;
	return -1;
}

/* Makes room for bytes and a slot: the slot, or -1 when bytes can never
 * fit. */
static int make_room(struct unwind_store *s, struct unwind_store_file *f, size_t bytes)
{
	int slot;

	if (bytes > s->cap_bytes)
		return -1;
	while (s->used_bytes + bytes > s->cap_bytes) {
		struct unwind_store_file *v = victim(s, f);

		if (!v)
			return -1;
		evict(s, v);
	}
	while ((slot = free_slot(s)) < 0) {
		struct unwind_store_file *v = victim(s, f);

		if (!v)
			return -1;
		evict(s, v);
	}
	return slot;
}

static int fill_map(int fd, const struct unwind_table *t)
{
	uint32_t *keys;
	size_t i, n = t->nr < BATCH_ROWS ? t->nr : BATCH_ROWS;
	int r = 0;

	keys = malloc(n * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (i = 0; i < t->nr && !r; i += n) {
		__u32 count = (__u32)(t->nr - i < n ? t->nr - i : n), j;

		for (j = 0; j < count; j++)
			keys[j] = (uint32_t)(i + j);
		if (bpf_map_update_batch(fd, keys, &t->rows[i], &count, NULL)) {
			/* batch ops missing (old kernel): one by one */
			r = 0;
			for (j = 0; j < count && !r; j++)
				if (bpf_map_update_elem(fd, &keys[j], &t->rows[i + j], BPF_ANY))
					r = -errno;
		}
	}
	free(keys);
	return r;
}

/* Puts t into a slot of the maps. 0, or -errno (the file stays without a
 * table). */
static int load(struct unwind_store *s, struct unwind_store_file *f, const struct unwind_table *t)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP);
	size_t bytes = unwind_store_table_bytes(t->nr);
	struct prof_unwind_file pf;
	uint32_t slot;
	int fd, r, sl;

	sl = make_room(s, f, bytes);
	if (sl < 0) {
		s->stats.too_big++;
		log_info("unwind: table does not fit the cap rows=%zu bytes=%zu cap=%zu", t->nr,
			 bytes, s->cap_bytes);
		return -E2BIG;
	}
	slot = (uint32_t)sl;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "unwind_rows", sizeof(__u32),
			    sizeof(struct prof_unwind_row), (__u32)t->nr, &opts);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	r = fill_map(fd, t);
	if (!r && bpf_map_update_elem(s->tables_fd, &slot, &fd, BPF_ANY))
		r = -errno;
	close(fd);
	if (r)
		goto fail;
	pf.rows = (__u32)t->nr;
	pf.gen = ++s->slot_gen[slot];
	if (bpf_map_update_elem(s->files_fd, &slot, &pf, BPF_ANY)) {
		r = -errno;
		bpf_map_delete_elem(s->tables_fd, &slot);
		goto fail;
	}
	s->slot_file[slot] = f;
	f->slot = slot;
	f->gen = pf.gen;
	f->bytes = bytes;
	f->rows = t->nr;
	s->used_bytes += bytes;
	s->used_rows += t->nr;
	s->loaded++;
	return 0;
fail:
	s->stats.load_failed++;
	log_warn_ratelimited("unwind: loading table failed rows=%zu err=%d", t->nr, r);
	return r;
}

/* ---- files ---- */

static struct unwind_store_file *find(struct unwind_store *s, const struct unwind_file_key *k)
{
	struct hchain_node *n;

	for (n = hchain_first(&s->files, key_hash(k)); n; n = hchain_next(n)) {
		struct unwind_store_file *f = hchain_entry(n, struct unwind_store_file, hnode);

		if (key_eq(&f->key, k))
			return f;
	}
	return NULL;
}

static void file_free(struct unwind_store *s, struct unwind_store_file *f)
{
	hchain_remove(&s->files, &f->hnode);
	lru_unlink(&s->lru, &f->lnode);
	s->nfiles--;
	free(f->path);
	free(f);
}

/* Forgets the oldest files that have no table, no holder and no job. */
static void trim_idle(struct unwind_store *s)
{
	struct lru_node *n, *prev;

	for (n = s->lru.tail; n && s->nfiles > IDLE_MAX; n = prev) {
		struct unwind_store_file *f = lru_entry(n, struct unwind_store_file, lnode);

		prev = n->prev;
		if (!f->holders && f->state != ST_LOADED && f->state != ST_QUEUED)
			file_free(s, f);
	}
}

static int set_path(struct unwind_store_file *f, const char *path)
{
	char *p;

	if (f->path && !strcmp(f->path, path))
		return 0;
	p = strdup(path);
	if (!p)
		return -ENOMEM;
	free(f->path);
	f->path = p;
	return 0;
}

/* Queues f for the worker: false when the queue is full. */
static bool enqueue(struct unwind_store *s, struct unwind_store_file *f)
{
	struct job *j;

	if (s->queued >= QUEUE_MAX || !f->path) {
		s->stats.queue_full++;
		return false;
	}
	j = calloc(1, sizeof(*j));
	if (!j || !(j->path = strdup(f->path))) {
		free(j);
		return false;
	}
	j->f = f;
	j->key = f->key;
	pthread_mutex_lock(&s->mu);
	if (s->queue_tail)
		s->queue_tail->next = j;
	else
		s->queue_head = j;
	s->queue_tail = j;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	s->queued++;
	f->state = ST_QUEUED;
	return true;
}

/* The file with key k, known or new (NULL on ENOMEM); queued when it
 * needs a compile and may have one now. */
static struct unwind_store_file *get(struct unwind_store *s, const struct unwind_file_key *k,
				     const char *path)
{
	struct unwind_store_file *f = find(s, k);

	if (!f) {
		/* before the new one is linked: it is idle too */
		trim_idle(s);
		f = calloc(1, sizeof(*f));
		if (!f)
			return NULL;
		f->key = *k;
		f->slot = PROF_UNWIND_NO_TABLE;
		f->state = ST_NEW;
		hchain_add(&s->files, &f->hnode, key_hash(k));
		lru_push_front(&s->lru, &f->lnode);
		s->nfiles++;
	} else {
		lru_touch(&s->lru, &f->lnode);
	}
	if (path && set_path(f, path) && !f->path)
		return f; /* no path to compile from: stays NEW */
	if (f->state == ST_NEW && clock_ns(CLOCK_MONOTONIC) >= f->retry_ns)
		enqueue(s, f);
	return f;
}

int unwind_store_acquire(struct unwind_store *s, const struct unwind_file_key *key,
			 const char *path, struct unwind_ref *out)
{
	struct unwind_store_file *f;

	memset(out, 0, sizeof(*out));
	out->slot = PROF_UNWIND_NO_TABLE;
	if (!s || !key || !path)
		return -EINVAL;
	f = get(s, key, path);
	if (!f)
		return -ENOMEM;
	f->holders++;
	out->file = f;
	if (f->state == ST_LOADED) {
		out->slot = f->slot;
		out->gen = f->gen;
	}
	return 0;
}

bool unwind_store_refresh(struct unwind_store *s, struct unwind_ref *ref)
{
	uint32_t slot = PROF_UNWIND_NO_TABLE, gen = 0;
	struct unwind_store_file *f = ref->file;

	if (!f)
		return false;
	if (f->state == ST_LOADED) {
		slot = f->slot;
		gen = f->gen;
	} else if (f->state == ST_NEW && clock_ns(CLOCK_MONOTONIC) >= f->retry_ns) {
		/* evicted or failed a while ago and still wanted */
		enqueue(s, f);
	}
	if (slot == ref->slot && gen == ref->gen)
		return false;
	ref->slot = slot;
	ref->gen = gen;
	return true;
}

void unwind_store_release(struct unwind_store *s, struct unwind_ref *ref)
{
	if (!s || !ref || !ref->file)
		return;
	if (ref->file->holders)
		ref->file->holders--;
	memset(ref, 0, sizeof(*ref));
	ref->slot = PROF_UNWIND_NO_TABLE;
}

int unwind_store_preload(struct unwind_store *s, const char *path)
{
	struct unwind_file_key k;
	struct unwind_store_file *f;
	struct stat st;

	if (stat(path, &st))
		return -errno;
	unwind_file_key_from_stat(&st, &k);
	f = get(s, &k, path);
	if (!f)
		return -ENOMEM;
	return f->state == ST_NEW ? -EAGAIN : 0;
}

static void finish(struct unwind_store *s, struct job *j, int *loaded)
{
	struct unwind_store_file *f = j->f;
	int r;

	s->queued--;
	s->stats.compiles++;
	s->stats.compile_ms_total += j->st.compile_ns / 1000000;
	s->stats.cfi_skipped += j->st.skipped;
	if (j->err == -E2BIG) {
		s->stats.too_big++;
		f->state = ST_TOO_BIG;
		log_info("unwind: too many rows, left to frame pointers path=%s", j->path);
	} else if (j->err == -ENOENT || j->err == -EACCES || j->err == -ESTALE ||
		   j->err == -ENOMEM) {
		/* this path failed; another process's may not */
		s->stats.compile_failed++;
		f->state = ST_NEW;
		f->retry_ns = clock_ns(CLOCK_MONOTONIC) + RETRY_NS;
	} else if (j->err) {
		s->stats.compile_failed++;
		f->state = ST_FAILED;
		log_debug("unwind: no table path=%s err=%d", j->path, j->err);
	} else if (!j->table.nr) {
		s->stats.files_no_cfi++;
		f->state = ST_NO_CFI;
	} else if ((r = load(s, f, &j->table))) {
		f->state = r == -E2BIG ? ST_TOO_BIG : ST_FAILED;
	} else {
		f->state = ST_LOADED;
		s->ready_seq++;
		(*loaded)++;
		log_debug("unwind: table loaded path=%s rows=%zu slot=%u ms=%.1f", j->path,
			  j->table.nr, f->slot, j->st.compile_ns / 1e6);
	}
	unwind_table_free(&j->table);
	free(j->path);
	free(j);
}

int unwind_store_poll(struct unwind_store *s)
{
	struct job *j, *next, *rev = NULL;
	uint64_t v;
	int loaded = 0;

	if (!s)
		return 0;
	if (s->event_fd >= 0 && read(s->event_fd, &v, sizeof(v)) < 0) {
		/* nothing signalled (EAGAIN): the done list says the same */
	}
	pthread_mutex_lock(&s->mu);
	j = s->done;
	s->done = NULL;
	pthread_mutex_unlock(&s->mu);
	/* in completion order */
	for (; j; j = next) {
		next = j->next;
		j->next = rev;
		rev = j;
	}
	for (j = rev; j; j = next) {
		next = j->next;
		finish(s, j, &loaded);
	}
	trim_idle(s);
	return loaded;
}

uint64_t unwind_store_ready_seq(const struct unwind_store *s)
{
	return s ? s->ready_seq : 0;
}

int unwind_store_event_fd(const struct unwind_store *s)
{
	return s ? s->event_fd : -1;
}

bool unwind_store_drain(struct unwind_store *s, unsigned int timeout_ms)
{
	uint64_t deadline = clock_ns(CLOCK_MONOTONIC) + (uint64_t)timeout_ms * 1000000;

	for (;;) {
		unwind_store_poll(s);
		if (!s->queued)
			return true;
		if (clock_ns(CLOCK_MONOTONIC) >= deadline)
			return false;
		usleep(2000);
	}
}

void unwind_store_stats(const struct unwind_store *s, struct unwind_store_stats *out)
{
	*out = s->stats;
	out->tables_loaded = s->loaded;
	out->table_bytes = s->used_bytes;
	out->table_rows = s->used_rows;
	out->cap_bytes = s->cap_bytes;
	out->files = s->nfiles;
	out->pending = s->queued;
}

struct unwind_store *unwind_store_new(int tables_fd, int files_fd, size_t cap_bytes)
{
	struct unwind_store *s = calloc(1, sizeof(*s));
	sigset_t all, old;
	int r;

	if (!s)
		return NULL;
	s->tables_fd = tables_fd;
	s->files_fd = files_fd;
	s->cap_bytes = cap_bytes;
	s->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (hchain_init(&s->files, 256)) {
		unwind_store_free(s);
		errno = ENOMEM;
		return NULL;
	}
	/* signals stay with the agent's main thread (its handlers and
	 * EINTR-driven loop), as for the other workers */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&s->worker, NULL, worker_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		unwind_store_free(s);
		errno = r;
		return NULL;
	}
	s->worker_started = true;
	return s;
}

void unwind_store_free(struct unwind_store *s)
{
	struct job *j, *next;
	struct lru_node *n, *nn;

	if (!s)
		return;
	if (s->worker_started) {
		pthread_mutex_lock(&s->mu);
		s->stop = true;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		/* a compile in progress finishes first: bounded by the
		 * largest file's compile */
		pthread_join(s->worker, NULL);
	}
	for (j = s->queue_head; j; j = next) {
		next = j->next;
		free(j->path);
		free(j);
	}
	for (j = s->done; j; j = next) {
		next = j->next;
		unwind_table_free(&j->table);
		free(j->path);
		free(j);
	}
	for (n = s->lru.head; n; n = nn) {
		struct unwind_store_file *f = lru_entry(n, struct unwind_store_file, lnode);

		nn = n->next;
		if (f->state == ST_LOADED)
			unload(s, f);
		free(f->path);
		free(f);
	}
	hchain_release(&s->files);
	if (s->event_fd >= 0)
		close(s->event_fd);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}
