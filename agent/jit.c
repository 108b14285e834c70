// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* jit.c - per-process perf maps: safe opening, incremental reading, naming
 *
 * One entry per process that had an anonymous frame named or is a JVM,
 * keyed by pid and start time (a reused pid is another process). A map is
 * read on from the last offset when its file only grew: same file, larger,
 * and the bytes just before the offset unchanged; otherwise whole. Entries
 * of processes not seen for a few windows are dropped with their maps.
 * Memory is bounded twice: one map keeps at most half the total bound (its
 * newest part, the end of the file: the oldest is dropped, counted), and
 * past the total bound the least recently used processes' maps are dropped
 * whole (counted; read again whole if their code is sampled again).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "caps.h"
#include "clock.h"
#include "file.h"
#include "hchain.h"
#include "hindex.h"
#include "jit.h"
#include "jvm_attach.h"
#include "log.h"
#include "proc.h"
#include "sym_perfmap.h"

#define JIT_READ_CHUNK (64 * 1024)
#define JIT_MAX_BYTES (64u << 20) /* read of one map, whole */
#define JIT_TAIL 32
#define JIT_KEEP_WINDOWS 2 /* windows an unseen process keeps its map */
/* Unnamed frames inside a JVM's code cache in one window that say its map
 * is behind (methods compiled since). */
#define JIT_REASK_MISSES 4
/* A map last written this long before its process started is another
 * process's (a pid reused, in a namespace or after wrapping): the start
 * time has clock-tick precision and is turned into wall-clock time through
 * today's offset between the two clocks, which a clock step moves. */
#define JIT_STALE_SLACK_NS 1000000000ull
#define JIT_NS_PER_S 1000000000ull

struct jit_proc {
	struct hchain_node node;
	uint32_t pid;
	uint64_t start;
	bool ident; /* nspid and uid read */
	bool java;
	uint32_t nspid, uid;
	struct sym_perfmap *pm;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	uint64_t offset; /* bytes fed to pm */
	char tail[JIT_TAIL]; /* the bytes before offset */
	size_t tail_len;
	uint32_t maps; /* jvm_attach__maps when last read */
	uint64_t read_gen, seen_gen;
	uint32_t misses; /* this window, inside the map's span */
	bool truncated_logged;
	bool capped; /* the last read stopped at the per-process bound */
	bool read_cut; /* the last read stopped at JIT_MAX_BYTES */
	uint64_t base; /* where the part kept starts: 0, or the newest part */
	size_t held_read; /* the table's bytes when the last read stopped */
	size_t held; /* sym_perfmap__bytes(pm), as counted in jit.bytes */
	uint64_t used; /* jit.uses at the last lookup: the LRU order */
	/* The stale file last refused, so one file is counted once. */
	ino_t stale_ino;
	struct timespec stale_mtime;
};

struct jit {
	struct jit_opts o;
	struct hchain procs;
	struct jvm_attach *ja;
	uint64_t gen; /* the window */
	struct jit_stats stats;
	char *buf;
	long ticks; /* clock ticks per second, the unit of start times */
	uint64_t bytes; /* held by all maps */
	uint64_t uses; /* lookups so far */
	size_t max_proc; /* one process's map */
};

int jit_open_in_root(const char *proc_root, uint32_t pid, const char *rel, int flags)
{
	struct open_how how = {
		.flags = flags | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	char path[64];
	const char *slash;
	int root, dir, fd, err;

	snprintf(path, sizeof(path), "%s/%u/root", proc_root, pid);
	root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	fd = syscall(SYS_openat2, root, rel, &how, sizeof(how));
	err = fd < 0 ? -errno : 0;
	if (err == -ENOSYS || err == -EPERM) {
		/* Kernels before 5.6 (or a seccomp filter): one component at a
		 * time, none of them a symlink. */
		slash = strchr(rel, '/');
		dir = root;
		if (slash) {
			char first[64];
			size_t n = slash - rel;

			if (n >= sizeof(first)) {
				close(root);
				return -ENAMETOOLONG;
			}
			memcpy(first, rel, n);
			first[n] = '\0';
			dir = openat(root, first, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			rel = slash + 1;
		}
		fd = dir < 0 ? -1 : openat(dir, rel, flags | O_NOFOLLOW | O_CLOEXEC);
		err = fd < 0 ? -errno : 0;
		if (dir >= 0 && dir != root)
			close(dir);
	}
	close(root);
	return err ? err : fd;
}

struct jit *jit__new(const struct jit_opts *opts)
{
	struct jvm_attach_opts jo = { 0 };
	struct jit *j = calloc(1, sizeof(*j));
	int err = -ENOMEM;

	if (!j)
		return NULL;
	j->o = *opts;
	if (!j->o.proc_root)
		j->o.proc_root = "/proc";
	j->gen = 1;
	if (!j->o.max_bytes)
		j->o.max_bytes = JIT_DEFAULT_MAX_BYTES;
	j->max_proc = j->o.max_bytes / 2;
	j->ticks = sysconf(_SC_CLK_TCK);
	if (j->ticks <= 0)
		j->ticks = 100;
	j->buf = malloc(JIT_READ_CHUNK);
	if (!j->buf || hchain_init(&j->procs, 64))
		goto err_out;
	if (j->o.jvm) {
		jo.proc_root = j->o.proc_root;
		jo.min_age_s = j->o.jvm_min_age_s;
		j->ja = jvm_attach__new(&jo);
		if (!j->ja) {
			err = -errno;
			goto err_out;
		}
	}
	return j;
err_out:
	jit__free(j);
	errno = -err;
	return NULL;
}

static void jit_proc_free(struct jit_proc *p)
{
	sym_perfmap__free(p->pm);
	free(p);
}

/* Takes p out of the table and frees it, with its map's bytes. */
static void jit_proc_drop(struct jit *j, struct jit_proc *p)
{
	j->bytes -= p->held;
	hchain_remove(&j->procs, &p->node);
	jit_proc_free(p);
}

/* Forgets p's map: it is read whole the next time it is needed. */
static void jit_forget_map(struct jit *j, struct jit_proc *p)
{
	j->bytes -= p->held;
	p->held = 0;
	sym_perfmap__free(p->pm);
	p->pm = NULL;
	p->offset = p->base = 0;
	p->tail_len = 0;
	p->capped = false;
}

void jit__free(struct jit *j)
{
	struct hchain_node *n, *next;
	size_t i;

	if (!j)
		return;
	jvm_attach__free(j->ja);
	for (i = 0; i < j->procs.nbuckets; i++) {
		for (n = j->procs.buckets[i]; n; n = next) {
			next = n->next;
			jit_proc_free(hchain_entry(n, struct jit_proc, node));
		}
	}
	hchain_release(&j->procs);
	free(j->buf);
	free(j);
}

static struct jit_proc *jit_get(struct jit *j, uint32_t pid, uint64_t start)
{
	uint64_t h = hindex_mix64(pid);
	struct hchain_node *n;
	struct jit_proc *p;

	for (n = hchain_first(&j->procs, h); n; n = hchain_next(n)) {
		p = hchain_entry(n, struct jit_proc, node);
		if (p->pid != pid)
			continue;
		if (p->start == start)
			return p;
		/* The pid was reused: the old process's map is not this one's. */
		jit_proc_drop(j, p);
		break;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->start = start;
	hchain_add(&j->procs, &p->node, h);
	return p;
}

static int jit_ident(struct jit *j, struct jit_proc *p)
{
	char path[64], buf[8192];
	uint32_t gid;
	bool sigquit;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/status", j->o.proc_root, p->pid);
	n = file_read(path, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 ? (int)n : -ESRCH;
	if (jvm_parse_status(buf, p->pid, &p->uid, &gid, &p->nspid, &sigquit))
		return -EINVAL;
	p->ident = true;
	return 0;
}

static void jit_refused(struct jit *j, struct jit_proc *p, const char *why)
{
	j->stats.maps_refused++;
	log_warn_ratelimited("jit: perf map refused pid=%u nspid=%u reason=\"%s\"", p->pid,
			     p->nspid, why);
}

/* Does pid still hold the process that started at p->start? */
static bool jit_same_process(struct jit *j, const struct jit_proc *p)
{
	char path[64], buf[1024];
	uint64_t start;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/stat", j->o.proc_root, p->pid);
	n = file_read(path, buf, sizeof(buf));
	return n > 0 && !proc_parse_stat_start(buf, n, &start) && start == p->start;
}

/* Was the map last written before its process started? Then an earlier
 * process with the same (namespace) pid left it: its names are not this
 * process's. */
static bool jit_map_stale(struct jit *j, const struct jit_proc *p, const struct stat *st)
{
	uint64_t now_rt = clock_ns(CLOCK_REALTIME), now_boot = clock_ns(CLOCK_BOOTTIME);
	uint64_t start_boot = p->start * (JIT_NS_PER_S / j->ticks);
	uint64_t mtime = (uint64_t)st->st_mtim.tv_sec * JIT_NS_PER_S + st->st_mtim.tv_nsec;
	uint64_t start_rt;

	if (start_boot > now_boot || now_rt < now_boot - start_boot)
		return false;
	start_rt = now_rt - (now_boot - start_boot);
	return mtime + JIT_STALE_SLACK_NS < start_rt;
}

/* Did the file only grow since the last read? */
static bool jit_only_grew(const struct jit_proc *p, int fd, const struct stat *st)
{
	char cmp[JIT_TAIL];

	if (!p->pm || st->st_dev != p->dev || st->st_ino != p->ino ||
	    (uint64_t)st->st_size < p->offset)
		return false;
	if (!p->tail_len)
		return true;
	return pread(fd, cmp, p->tail_len, p->offset - p->tail_len) == (ssize_t)p->tail_len &&
	       !memcmp(cmp, p->tail, p->tail_len);
}

/* Counts p's map at its size now, then drops the least recently used other
 * maps, whole, while all of them hold more than the bound. */
static void jit_account(struct jit *j, struct jit_proc *p)
{
	size_t now = p->pm ? sym_perfmap__bytes(p->pm) : 0;
	struct jit_proc *lru, *q;
	struct hchain_node *n;
	size_t i;

	j->bytes = j->bytes - p->held + now;
	p->held = now;
	while (j->bytes > j->o.max_bytes) {
		lru = NULL;
		for (i = 0; i < j->procs.nbuckets; i++) {
			for (n = j->procs.buckets[i]; n; n = n->next) {
				q = hchain_entry(n, struct jit_proc, node);
				if (q != p && q->held && (!lru || q->used < lru->used))
					lru = q;
			}
		}
		if (!lru)
			break;
		j->stats.maps_evicted++;
		caps__hit(CAPS_PERFMAP_TOTAL, 1, j->o.max_bytes);
		log_ratelimited(LOG_INFO,
				"jit: perf map dropped for the memory bound pid=%u bytes=%zu",
				lru->pid, lru->held);
		jit_forget_map(j, lru);
	}
}

/* Feeds p's map from p->offset on (a new table when it has none), at most
 * JIT_MAX_BYTES in one call, stopping once the table holds more than limit
 * bytes (p->capped), then commits. 0 or -errno. */
static int jit_read(struct jit *j, struct jit_proc *p, int fd, size_t limit)
{
	uint64_t bad0, done = 0;
	ssize_t n;
	int err = 0;

	if (!p->pm) {
		p->pm = sym_perfmap__new(0);
		if (!p->pm)
			return -ENOMEM;
	}
	p->capped = false;
	p->read_cut = false;
	bad0 = sym_perfmap__bad_lines(p->pm);
	for (;;) {
		size_t want = JIT_READ_CHUNK;

		if (done >= JIT_MAX_BYTES) {
			p->read_cut = true;
			break;
		}
		if (want > JIT_MAX_BYTES - done)
			want = JIT_MAX_BYTES - done;
		n = pread(fd, j->buf, want, p->offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (!n)
			break;
		err = sym_perfmap__feed(p->pm, j->buf, n, false);
		if (err)
			break;
		p->offset += n;
		done += n;
		j->stats.bytes_read += n;
		if ((size_t)n >= JIT_TAIL) {
			memcpy(p->tail, j->buf + n - JIT_TAIL, JIT_TAIL);
			p->tail_len = JIT_TAIL;
		} else {
			/* Keep the tail contiguous: shift in the few new bytes. */
			size_t got = n;
			size_t keep = p->tail_len + got > JIT_TAIL ? JIT_TAIL - got : p->tail_len;

			memmove(p->tail, p->tail + p->tail_len - keep, keep);
			memcpy(p->tail + keep, j->buf, got);
			p->tail_len = keep + got;
		}
		if (sym_perfmap__bytes(p->pm) > limit) {
			p->capped = true;
			break;
		}
	}
	p->held_read = sym_perfmap__bytes(p->pm);
	if (!err)
		err = sym_perfmap__commit(p->pm);
	j->stats.bad_lines += sym_perfmap__bad_lines(p->pm) - bad0;
	return err;
}

/* Starts p's (empty) map at the first line that begins at or after at. */
static int jit_seek_line(struct jit *j, struct jit_proc *p, int fd, uint64_t at)
{
	const char *nl;
	ssize_t n;

	p->base = p->offset = 0;
	if (!at)
		return 0;
	/* The byte before at says whether a line starts there. */
	n = pread(fd, j->buf, SYM_PERFMAP_MAX_LINE + 1, at - 1);
	if (n < 0)
		return -errno;
	nl = memchr(j->buf, '\n', n);
	if (!nl)
		return -EBADMSG; /* no line end in a line's length: not a map */
	p->base = p->offset = at + (nl - j->buf);
	return 0;
}

/* Reads p's map on, or whole. At most once per window. */
static void jit_refresh(struct jit *j, struct jit_proc *p, bool whole)
{
	char rel[48];
	struct stat st;
	bool over;
	int fd, err = 0;

	p->read_gen = j->gen;
	if (!p->ident && jit_ident(j, p))
		return;
	snprintf(rel, sizeof(rel), "tmp/perf-%u.map", p->nspid);
	/* O_NONBLOCK: a FIFO planted there must not block the agent. */
	fd = jit_open_in_root(j->o.proc_root, p->pid, rel, O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		if (fd == -ELOOP)
			jit_refused(j, p, "symlink");
		else if (fd != -ENOENT && fd != -ESRCH)
			jit_refused(j, p, "cannot open");
		return;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		jit_refused(j, p, "not a regular file");
		goto cleanup;
	}
	/* perf's rule: the map is the process's own (or root's). */
	if (st.st_uid != p->uid && st.st_uid != 0) {
		jit_refused(j, p, "owned by another user");
		goto cleanup;
	}
	/* The pid, its status and the root the map was opened in were one
	 * process's if it still holds the pid now (a pid cannot come back to
	 * the same start time). */
	if (!jit_same_process(j, p))
		goto cleanup;
	if (jit_map_stale(j, p, &st)) {
		if (st.st_ino != p->stale_ino || st.st_mtim.tv_sec != p->stale_mtime.tv_sec ||
		    st.st_mtim.tv_nsec != p->stale_mtime.tv_nsec) {
			p->stale_ino = st.st_ino;
			p->stale_mtime = st.st_mtim;
			j->stats.maps_stale++;
			jit_refused(j, p, "older than the process (pid reused)");
		}
		/* Whatever was read before is no more this process's. */
		jit_forget_map(j, p);
		goto cleanup;
	}
	if (!whole && jit_only_grew(p, fd, &st)) {
		if (st.st_size == p->size && st.st_mtim.tv_sec == p->mtime.tv_sec &&
		    st.st_mtim.tv_nsec == p->mtime.tv_nsec)
			goto cleanup;
	} else if (p->pm) {
		/* Read whole into a new table: the old one's capacity would count
		 * against the bound. */
		jit_forget_map(j, p);
	}
	j->stats.maps_read++;
	err = jit_read(j, p, fd, j->max_proc);
	over = p->capped;
	/* Past the per-process bound before the end of the file: keep the
	 * newest part instead, the end, which fits by the density of the part
	 * read (JITs append: the end is the latest code, which also wins where
	 * ranges overlap). */
	if (!err && p->capped && (uint64_t)st.st_size > p->offset) {
		uint64_t held = p->held_read, span = p->offset - p->base;
		uint64_t keep = held ? (uint64_t)(j->max_proc / 2) * span / held : 0;

		jit_forget_map(j, p);
		err = jit_seek_line(j, p, fd,
				    (uint64_t)st.st_size > keep ? (uint64_t)st.st_size - keep : 0);
		/* Sized to hold half the bound once committed; while read, the
		 * arrays' doubling and a denser tail can take it past the bound,
		 * so this pass stops only at twice the bound: stopping short of
		 * the end would lose the newest entries it is for. */
		if (!err)
			err = jit_read(j, p, fd, 2 * j->max_proc);
	}
	if (over) {
		j->stats.maps_capped++;
		caps__hit(CAPS_PERFMAP, 1, j->max_proc);
	}
	if (p->pm && (p->read_cut || sym_perfmap__full(p->pm) || p->capped || p->base) &&
	    !p->truncated_logged) {
		p->truncated_logged = true;
		/* Entries and names are counted where they are refused. */
		if (p->read_cut)
			caps__hit(CAPS_PERFMAP, 1, JIT_MAX_BYTES);
		log_warn("jit: perf map past its bounds, only part is kept pid=%u from=%llu "
			 "to=%llu ranges=%zu",
			 p->pid, (unsigned long long)p->base, (unsigned long long)p->offset,
			 sym_perfmap__count(p->pm));
	}
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	p->size = st.st_size;
	p->mtime = st.st_mtim;
cleanup:
	if (err) {
		j->stats.map_errors++;
		log_warn_ratelimited("jit: reading perf map failed pid=%u err=%d", p->pid, err);
	}
	close(fd);
	jit_account(j, p);
}

static bool jit_is_java(const char *comm, const char *exe)
{
	const char *base = exe ? strrchr(exe, '/') : NULL;

	return !strcmp(comm, "java") || (base && !strcmp(base + 1, "java"));
}

void jit__seen(struct jit *j, uint32_t pid, uint64_t start_time, const char *comm, const char *exe)
{
	struct jit_proc *p;

	if (!j->ja || !jit_is_java(comm, exe))
		return;
	p = jit_get(j, pid, start_time);
	if (!p)
		return;
	p->java = true;
	p->seen_gen = j->gen;
	jvm_attach__request(j->ja, pid, start_time, false);
}

void jit__lookup(struct jit *j, uint32_t pid, uint64_t start_time, uint64_t addr,
		 struct sym_result *r)
{
	struct jit_proc *p = jit_get(j, pid, start_time);
	uint32_t maps = 0;
	uint64_t lo, hi;

	memset(r, 0, sizeof(*r));
	r->reason = SYM_UNKNOWN_ADDR;
	if (!p)
		return;
	p->seen_gen = j->gen;
	p->used = ++j->uses;
	if (p->java && j->ja)
		maps = jvm_attach__maps(j->ja, pid, start_time);
	if (p->read_gen != j->gen && (!p->pm || maps != p->maps)) {
		/* HotSpot rewrites its map whole on every request. */
		jit_refresh(j, p, maps != p->maps);
		p->maps = maps;
	}
	if (p->pm)
		sym_perfmap__lookup(p->pm, addr, r);
	if (r->reason != SYM_OK && p->read_gen != j->gen) {
		jit_refresh(j, p, false);
		if (p->pm)
			sym_perfmap__lookup(p->pm, addr, r);
	}
	if (r->reason == SYM_OK) {
		j->stats.frames_named++;
		return;
	}
	if (p->pm && sym_perfmap__span(p->pm, &lo, &hi) && addr >= lo && addr < hi)
		p->misses++;
}

void jit__window_end(struct jit *j)
{
	struct hchain_node *n, *next;
	size_t i;

	for (i = 0; i < j->procs.nbuckets; i++) {
		for (n = j->procs.buckets[i]; n; n = next) {
			struct jit_proc *p = hchain_entry(n, struct jit_proc, node);

			next = n->next;
			if (p->java && j->ja && p->misses >= JIT_REASK_MISSES)
				jvm_attach__request(j->ja, p->pid, p->start, true);
			p->misses = 0;
			if (p->seen_gen + JIT_KEEP_WINDOWS < j->gen)
				jit_proc_drop(j, p);
		}
	}
	j->gen++;
}

void jit__stats(const struct jit *j, struct jit_stats *out)
{
	struct jvm_attach_stats js = { 0 };

	*out = j->stats;
	out->map_bytes = j->bytes;
	if (j->ja)
		jvm_attach__stats(j->ja, &js);
	out->jvm_attached = js.attached;
	out->jvm_refused = js.refused;
	out->jvm_failed = js.failed;
}
