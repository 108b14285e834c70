// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sym_debuginfod.c - a worker thread fetching debug files by build-id
 *
 * State is a small table of build-ids (queued, in flight, landed, failed)
 * under one mutex; the owner only looks at it and at the cache directory,
 * so a slow server never holds the owner up. libdebuginfod keeps its own
 * cache (DEBUGINFOD_CACHE_PATH, pointed under ours): a file it returns is
 * checked and renamed to DIR/<id>.debug, so ours is the only copy and the
 * cap counts every byte.
 */
#include <dirent.h>
#include <elfutils/debuginfod.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sym_buildid.h"
#include "sym_debuginfod.h"

/* Build-ids waiting for the worker at most; more are turned away. */
#define SYM_DI_QUEUE 64
/* Build-ids remembered (outcome included); the oldest outcome goes first. */
#define SYM_DI_KNOWN 1024
/* A failed build-id is asked again after this long (a server may get it). */
#define SYM_DI_RETRY_NS (600ull * 1000000000ull)

enum sym_di_state { SYM_DI_QUEUED = 1, SYM_DI_FETCHING, SYM_DI_LANDED, SYM_DI_FAILED };

struct sym_di_entry {
	char id[SYM_BUILDID_HEX];
	enum sym_di_state state;
	uint64_t when; /* CLOCK_MONOTONIC ns of the last change */
};

struct sym_debuginfod {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t worker;
	bool started, stop;
	char dir[PATH_MAX - 64];
	uint64_t cap, timeout_ns;
	struct sym_di_entry known[SYM_DI_KNOWN];
	size_t nknown;
	size_t queued;
	uint64_t generation;
	uint64_t deadline; /* of the fetch in flight, for the progress callback */
	struct sym_debuginfod_stats st;
};

static uint64_t sym_di_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int sym_di_mkdirs(const char *path)
{
	char buf[PATH_MAX];
	size_t i, n = strlen(path);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		buf[i] = path[i];
	}
	return 0;
}

static bool sym_di_valid_id(const char *id)
{
	size_t n = strspn(id, "0123456789abcdef");

	return n >= 2 && n < SYM_BUILDID_HEX && !id[n];
}

/* Keeps the cache directory under its cap: oldest (mtime) files first.
 * Called by the worker after each landing, never by the owner. */
static void sym_di_evict(struct sym_debuginfod *d)
{
	struct {
		char name[SYM_BUILDID_HEX + 8];
		time_t mtime;
		uint64_t size;
	} *files = NULL, *tmp;
	size_t n = 0, cap = 0, i;
	uint64_t total = 0;
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int dfd;

	dir = opendir(d->dir);
	if (!dir)
		return;
	dfd = dirfd(dir);
	while ((de = readdir(dir))) {
		size_t len = strlen(de->d_name);

		if (len < 7 || len >= sizeof(files->name) ||
		    strcmp(de->d_name + len - 6, ".debug") ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			tmp = realloc(files, cap * sizeof(*files));
			if (!tmp)
				break;
			files = tmp;
		}
		memcpy(files[n].name, de->d_name, len + 1);
		files[n].mtime = st.st_mtime;
		files[n].size = (uint64_t)st.st_blocks * 512;
		total += files[n++].size;
	}
	while (total > d->cap && n) {
		size_t old = 0;

		for (i = 1; i < n; i++) {
			if (files[i].mtime < files[old].mtime)
				old = i;
		}
		if (!unlinkat(dfd, files[old].name, 0)) {
			pthread_mutex_lock(&d->lock);
			d->st.evictions++;
			pthread_mutex_unlock(&d->lock);
		}
		total -= files[old].size;
		files[old] = files[--n];
	}
	pthread_mutex_lock(&d->lock);
	d->st.cache_bytes = total;
	pthread_mutex_unlock(&d->lock);
	free(files);
	closedir(dir);
}

static struct sym_di_entry *sym_di_lookup(struct sym_debuginfod *d, const char *id)
{
	size_t i;

	for (i = 0; i < d->nknown; i++) {
		if (!strcmp(d->known[i].id, id))
			return &d->known[i];
	}
	return NULL;
}

/* A slot for a new build-id: a free one, else the oldest settled one. */
static struct sym_di_entry *sym_di_slot(struct sym_debuginfod *d)
{
	struct sym_di_entry *old = NULL;
	size_t i;

	if (d->nknown < SYM_DI_KNOWN)
		return &d->known[d->nknown++];
	for (i = 0; i < d->nknown; i++) {
		struct sym_di_entry *e = &d->known[i];

		if (e->state != SYM_DI_QUEUED && e->state != SYM_DI_FETCHING &&
		    (!old || e->when < old->when))
			old = e;
	}
	return old;
}

/* libdebuginfod calls this while a transfer runs, about once a second
 * even when nothing arrives: non-zero aborts it. */
static int sym_di_progress(debuginfod_client *c, long a, long b)
{
	struct sym_debuginfod *d = debuginfod_get_user_data(c);

	return sym_di_now() > d->deadline || __atomic_load_n(&d->stop, __ATOMIC_RELAXED);
}

/* One fetch; 0 landed, -ENOENT none, -EBADMSG garbage, -ETIME deadline. */
static int sym_di_fetch(struct sym_debuginfod *d, debuginfod_client *c, const char *id)
{
	char *got = NULL, path[PATH_MAX], have[SYM_BUILDID_HEX];
	unsigned char raw[SYM_BUILDID_HEX / 2];
	size_t len = strlen(id) / 2, i;
	int fd, err;

	for (i = 0; i < len; i++)
		sscanf(id + 2 * i, "%2hhx", &raw[i]);
	d->deadline = sym_di_now() + d->timeout_ns;
	fd = debuginfod_find_debuginfo(c, raw, (int)len, &got);
	if (fd < 0) {
		free(got);
		if (sym_di_now() > d->deadline || fd == -EINTR || fd == -ETIME || fd == -ETIMEDOUT)
			return -ETIME;
		return -ENOENT;
	}
	/* What a server sends is checked like any debug file on disk: a
	 * wrong one would name every frame of the binary wrong. */
	err = sym_buildid_fd(fd, have);
	close(fd);
	if (err || strcmp(have, id)) {
		if (got)
			unlink(got);
		free(got);
		return -EBADMSG;
	}
	snprintf(path, sizeof(path), "%s/%s.debug", d->dir, id);
	err = got && !rename(got, path) ? 0 : -errno;
	if (err && got)
		unlink(got);
	free(got);
	return err ? -ENOENT : 0;
}

static void *sym_di_worker(void *arg)
{
	struct sym_debuginfod *d = arg;
	debuginfod_client *c = debuginfod_begin();
	char id[SYM_BUILDID_HEX];
	size_t i;
	int err;

	if (c) {
		debuginfod_set_user_data(c, d);
		debuginfod_set_progressfn(c, sym_di_progress);
	}
	pthread_mutex_lock(&d->lock);
	for (;;) {
		struct sym_di_entry *e = NULL;

		while (!d->stop && !d->queued)
			pthread_cond_wait(&d->wake, &d->lock);
		if (d->stop)
			break;
		/* Oldest queued first. */
		for (i = 0; i < d->nknown; i++) {
			if (d->known[i].state == SYM_DI_QUEUED &&
			    (!e || d->known[i].when < e->when))
				e = &d->known[i];
		}
		if (!e) {
			d->queued = 0;
			continue;
		}
		e->state = SYM_DI_FETCHING;
		d->queued--;
		memcpy(id, e->id, sizeof(id));
		pthread_mutex_unlock(&d->lock);

		err = c ? sym_di_fetch(d, c, id) : -ENOENT;
		if (err == -EBADMSG)
			log_warn("sym: debuginfod sent a file that is not the debug file of "
				 "build-id=%s; not used",
				 id);
		else if (err == -ETIME)
			log_warn("sym: debuginfod fetch aborted past its deadline build-id=%s", id);
		if (!err)
			sym_di_evict(d);

		pthread_mutex_lock(&d->lock);
		e = sym_di_lookup(d, id);
		if (e) {
			e->state = err ? SYM_DI_FAILED : SYM_DI_LANDED;
			e->when = sym_di_now();
		}
		if (!err)
			d->st.fetched++;
		else if (err == -EBADMSG)
			d->st.bad++;
		else if (err == -ETIME)
			d->st.timeouts++;
		else
			d->st.missing++;
		d->generation++;
	}
	pthread_mutex_unlock(&d->lock);
	if (c)
		debuginfod_end(c);
	return NULL;
}

struct sym_debuginfod *sym_debuginfod__new(const struct sym_debuginfod_opts *o)
{
	const char *urls = getenv("DEBUGINFOD_URLS"), *xdg, *home;
	char client[PATH_MAX], tmo[16];
	struct sym_debuginfod *d;
	const char *env;
	uint32_t timeout;
	int err, n;

	if (!urls || !urls[strspn(urls, " \t")])
		return errno = ENOENT, NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return errno = ENOMEM, NULL;
	if (o->cache_dir)
		n = snprintf(d->dir, sizeof(d->dir), "%s", o->cache_dir);
	else if (!geteuid())
		n = snprintf(d->dir, sizeof(d->dir), "/var/cache/ember/debuginfod");
	else if ((xdg = getenv("XDG_CACHE_HOME")) && xdg[0])
		n = snprintf(d->dir, sizeof(d->dir), "%s/ember/debuginfod", xdg);
	else
		n = snprintf(d->dir, sizeof(d->dir), "%s/.cache/ember/debuginfod",
			     (home = getenv("HOME")) ? home : "/tmp");
	if (n < 0 || (size_t)n >= sizeof(d->dir)) {
		free(d);
		return errno = ENAMETOOLONG, NULL;
	}
	d->cap = o->cache_bytes ? o->cache_bytes : (1ull << 30);
	/* The user's DEBUGINFOD_TIMEOUT bounds our deadline too. */
	timeout = o->timeout_s;
	if (!timeout && (env = getenv("DEBUGINFOD_TIMEOUT")))
		timeout = (uint32_t)strtoul(env, NULL, 10);
	if (!timeout || timeout > 3600)
		timeout = 30;
	d->timeout_ns = (uint64_t)timeout * 1000000000ull;
	snprintf(client, sizeof(client), "%s/client", d->dir);
	err = sym_di_mkdirs(client);
	if (err) {
		free(d);
		return errno = -err, NULL;
	}
	/* libdebuginfod reads both at each fetch. Set here, before the worker
	 * exists, at start-up: setenv is not safe against concurrent getenv. */
	setenv("DEBUGINFOD_CACHE_PATH", client, 1);
	if (!getenv("DEBUGINFOD_TIMEOUT")) {
		snprintf(tmo, sizeof(tmo), "%u", timeout);
		setenv("DEBUGINFOD_TIMEOUT", tmo, 0);
	}
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->wake, NULL);
	err = pthread_create(&d->worker, NULL, sym_di_worker, d);
	if (err) {
		pthread_cond_destroy(&d->wake);
		pthread_mutex_destroy(&d->lock);
		free(d);
		return errno = err, NULL;
	}
	d->started = true;
	log_info("sym: debuginfod on urls=%.200s cache=%s cap_bytes=%llu", urls, d->dir,
		 (unsigned long long)d->cap);
	return d;
}

void sym_debuginfod__free(struct sym_debuginfod *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	__atomic_store_n(&d->stop, true, __ATOMIC_RELAXED);
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	if (d->started)
		pthread_join(d->worker, NULL);
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

int sym_debuginfod__find(struct sym_debuginfod *d, const char *id, char *path, size_t size)
{
	struct sym_di_entry *e;
	int n, err;

	if (!sym_di_valid_id(id))
		return -ENOENT;
	n = snprintf(path, size, "%s/%s.debug", d->dir, id);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	/* Used now: the newest for eviction. */
	if (!utimensat(AT_FDCWD, path, NULL, 0))
		return 0;
	pthread_mutex_lock(&d->lock);
	e = sym_di_lookup(d, id);
	if (e && e->state == SYM_DI_FAILED && sym_di_now() - e->when > SYM_DI_RETRY_NS)
		e->state = 0;
	if (e && e->state) {
		/* Landed but gone since (evicted): fetched again. */
		err = e->state == SYM_DI_FAILED ? -ENOENT : -EAGAIN;
		if (e->state != SYM_DI_LANDED)
			goto out;
	}
	if (d->queued >= SYM_DI_QUEUE) {
		d->st.queue_full++;
		err = -EBUSY;
		goto out;
	}
	if (!e)
		e = sym_di_slot(d);
	if (!e) {
		d->st.queue_full++;
		err = -EBUSY;
		goto out;
	}
	memcpy(e->id, id, strlen(id) + 1);
	e->state = SYM_DI_QUEUED;
	e->when = sym_di_now();
	d->queued++;
	pthread_cond_signal(&d->wake);
	err = -EAGAIN;
out:
	pthread_mutex_unlock(&d->lock);
	return err;
}

uint64_t sym_debuginfod__generation(struct sym_debuginfod *d)
{
	uint64_t g;

	pthread_mutex_lock(&d->lock);
	g = d->generation;
	pthread_mutex_unlock(&d->lock);
	return g;
}

void sym_debuginfod__stats(struct sym_debuginfod *d, struct sym_debuginfod_stats *out)
{
	pthread_mutex_lock(&d->lock);
	*out = d->st;
	pthread_mutex_unlock(&d->lock);
}
