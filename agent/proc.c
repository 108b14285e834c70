// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* proc.c - process table and user address normalization
 *
 * Mapped files are opened lazily, the first time one of a process's samples
 * lands in them, and kept (through the symbolizer's shared sym_file) while
 * the process lives. Maps are re-read when an address falls outside every
 * known mapping (dlopen, new JIT regions), at most once a second a process.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "hchain.h"
#include "hindex.h"
#include "log.h"
#include "mapstore.h"
#include "proc.h"

#define PROC_MAPS_REREAD_NS 1000000000ull
#define PROC_COMM_LEN 16
#define PROC_CGROUP_MAX 4096

struct proc {
	struct hchain_node node; /* keyed by pid */
	uint32_t pid;
	uint64_t id;
	uint64_t start_time; /* clock ticks after boot; 0 when unknown */
	char comm[PROC_COMM_LEN];
	char *exe;
	char *unit;
	char *cgroup;
	struct cgroup_where where; /* container and pod, from the cgroup */
	struct sym_maps *maps;
	struct sym_file **files; /* parallel to maps; NULL = not opened yet */
	uint8_t *file_failed; /* parallel to maps; opening failed once */
	/* Maps replaced by a re-read, kept until the next proc__normalize: frames
	 * already handed out may still borrow their files. */
	struct sym_maps *old_maps;
	struct sym_file **old_files;
	uint64_t maps_read_ns;
	/* The maps were re-read during this proc__normalize call: a second
	 * re-read would free the maps retired by the first, whose files the
	 * call's earlier frames borrow. */
	bool reread_in_call;
	uint64_t last_seen_ns;
	/* The maps came from the kernel's mmap records (the process was gone
	 * when first sampled): files are opened by path, not map_files. */
	bool from_store;
	uint32_t ppid;
	uint64_t store_version;
};

struct proc_table {
	struct sym *sym;
	struct mapstore *store; /* or NULL: /proc only */
	struct cgroup_cache *cgroups; /* or NULL: each process's own cgroup file only */
	uint64_t event_ns; /* the time of the sample being normalized */
	uint64_t event_cgroup; /* the cgroup id of that sample, 0 when unknown */
	const char *proc_root;
	struct hchain procs;
	struct proc_stats stats;
};

/* Copies src into dst, cutting it to fit; dst is always terminated. */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static uint64_t pid_hash(uint32_t pid)
{
	return hindex_mix64(pid);
}

static struct proc *proc_find(const struct proc_table *t, uint32_t pid)
{
	struct hchain_node *n;

	for (n = hchain_first(&t->procs, pid_hash(pid)); n; n = hchain_next(n)) {
		struct proc *p = hchain_entry(n, struct proc, node);

		if (p->pid == pid)
			return p;
	}
	return NULL;
}

struct proc_table *proc_table__new(struct sym *sym, const char *proc_root)
{
	struct proc_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->sym = sym;
	t->proc_root = proc_root ? proc_root : "/proc";
	if (hchain_init(&t->procs, 1024)) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

static void put_files(struct sym_maps *maps, struct sym_file **files)
{
	size_t i, n;

	if (!maps)
		return;
	n = sym_maps__count(maps);
	for (i = 0; i < n; i++)
		sym_file__put(files[i]);
	free(files);
	sym_maps__free(maps);
}

static void proc_drop_old_maps(struct proc *p)
{
	put_files(p->old_maps, p->old_files);
	p->old_maps = NULL;
	p->old_files = NULL;
}

/* The current maps become the old ones; frames borrowing from them stay valid. */
static void proc_retire_maps(struct proc *p)
{
	proc_drop_old_maps(p);
	p->old_maps = p->maps;
	p->old_files = p->files;
	free(p->file_failed);
	p->maps = NULL;
	p->files = NULL;
	p->file_failed = NULL;
}

static void proc_drop_maps(struct proc *p)
{
	proc_retire_maps(p);
	proc_drop_old_maps(p);
}

static void proc_free(struct proc *p)
{
	if (!p)
		return;
	proc_drop_maps(p);
	free(p->exe);
	free(p->unit);
	free(p->cgroup);
	free(p);
}

void proc_table__free(struct proc_table *t)
{
	struct hchain_node *n, *next;
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->procs.nbuckets; i++) {
		for (n = t->procs.buckets[i]; n; n = next) {
			next = n->next;
			proc_free(hchain_entry(n, struct proc, node));
		}
	}
	hchain_release(&t->procs);
	free(t);
}

int proc_parse_cgroup(const char *text, size_t len, char *path, size_t path_size, char *unit,
		      size_t unit_size)
{
	const char *line = text, *end = text + len, *nl, *p, *seg, *best = NULL;
	size_t plen, best_len = 0, seglen;

	if (!path_size || !unit_size)
		return -EINVAL;
	for (; line < end; line = nl + 1) {
		nl = memchr(line, '\n', end - line);
		if (!nl)
			nl = end;
		/* cgroup v2 is the "0::" line; v1 hierarchies name their controllers. */
		if (nl - line < 3 || memcmp(line, "0::", 3))
			continue;
		p = line + 3;
		plen = nl - p;
		if (plen >= path_size)
			plen = path_size - 1;
		memcpy(path, p, plen);
		path[plen] = '\0';

		/* The innermost "*.service" component names the unit. */
		for (seg = p; seg < nl; seg += seglen + 1) {
			const char *slash = memchr(seg, '/', nl - seg);

			seglen = (slash ? slash : nl) - seg;
			if (seglen > 8 && !memcmp(seg + seglen - 8, ".service", 8)) {
				best = seg;
				best_len = seglen;
			}
			if (!slash)
				break;
		}
		unit[0] = '\0';
		if (best && best_len < unit_size) {
			memcpy(unit, best, best_len);
			unit[best_len] = '\0';
		}
		return 0;
	}
	return -ENOENT;
}

int proc_parse_stat_start(const char *text, size_t len, uint64_t *start)
{
	const char *p = text, *end = text + len, *close = NULL;
	unsigned long long v;
	int field;
	char *e;

	/* comm (field 2) may hold spaces and parentheses: fields resume after
	 * the last ')'. starttime is field 22. */
	for (; p < end; p++)
		if (*p == ')')
			close = p;
	if (!close)
		return -EINVAL;
	p = close + 1;
	for (field = 2; field < 21; field++) {
		p = memchr(p, ' ', end - p);
		if (!p)
			return -EINVAL;
		p++;
	}
	p = memchr(p, ' ', end - p);
	if (!p || p + 1 >= end || *++p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(p, &e, 10);
	if (errno || e > end)
		return -EINVAL;
	*start = v;
	return 0;
}

/* Where p runs: what its cgroup id is known to be, else its cgroup file
 * (text, n bytes; n <= 0 when the process was gone), which then teaches the
 * cache. A process gone unread still gets its cgroup's container and pod. */
static void proc_read_where(struct proc_table *t, struct proc *p, const char *text, ssize_t n)
{
	const struct cgroup_where *known = NULL;
	uint64_t id = t->event_cgroup;

	if (t->cgroups && id)
		known = cgroup_cache__find(t->cgroups, id);
	if (known) {
		p->where = *known;
		return;
	}
	if (n <= 0)
		return;
	if (cgroup_parse_proc(text, (size_t)n, &p->where) == -EINVAL)
		t->stats.cgroup_bad++;
	if (t->cgroups && id && cgroup_cache__put(t->cgroups, id, &p->where))
		log_warn_ratelimited("proc: no memory to remember cgroup id=%llu",
				     (unsigned long long)id);
}

static void proc_read_identity(struct proc_table *t, struct proc *p)
{
	char path[64], buf[PATH_MAX + 1], cg[PROC_CGROUP_MAX], unit[256];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/exe", t->proc_root, p->pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		if (n > 10 && !strcmp(buf + n - 10, " (deleted)"))
			buf[n - 10] = '\0';
		p->exe = strdup(buf);
	}
	snprintf(path, sizeof(path), "%s/%u/comm", t->proc_root, p->pid);
	n = file_read(path, buf, PROC_COMM_LEN + 1);
	if (n > 0) {
		buf[strcspn(buf, "\n")] = '\0';
		copy_str(p->comm, sizeof(p->comm), buf);
	}
	snprintf(path, sizeof(path), "%s/%u/stat", t->proc_root, p->pid);
	n = file_read(path, buf, sizeof(buf));
	if (n > 0)
		proc_parse_stat_start(buf, n, &p->start_time);
	snprintf(path, sizeof(path), "%s/%u/cgroup", t->proc_root, p->pid);
	n = file_read(path, buf, sizeof(buf));
	if (n > 0 && !proc_parse_cgroup(buf, n, cg, sizeof(cg), unit, sizeof(unit))) {
		p->cgroup = strdup(cg);
		if (unit[0])
			p->unit = strdup(unit);
	}
	proc_read_where(t, p, buf, n);
}

static void proc_read_maps(struct proc_table *t, struct proc *p, uint64_t now_ns)
{
	struct sym_file **files;
	struct sym_maps *maps;
	uint8_t *failed;
	bool from_store = false;
	size_t n;

	p->maps_read_ns = now_ns;
	t->stats.maps_reads++;
	maps = p->from_store ? NULL : sym_maps__read(t->proc_root, p->pid);
	/* Gone before its first sample was read: what the kernel reported it
	 * mapped, at the sample's time, stands in for its maps file. */
	if (!maps && t->store) {
		maps = mapstore__maps(t->store, p->pid, t->event_ns, &p->ppid, &p->store_version);
		from_store = maps != NULL;
		if (from_store)
			t->stats.maps_from_store++;
	}
	if (!maps) {
		t->stats.maps_failed++;
		log_debug_ratelimited("proc: cannot read maps pid=%u err=%d", p->pid, -errno);
		return;
	}
	n = sym_maps__count(maps);
	if (sym_maps__over_cap(maps)) {
		/* Frames past the cap go unnamed: say so once, count always. */
		if (!t->stats.maps_over_cap)
			log_warn("proc: maps table full, later mappings left out pid=%u kept=%zu "
				 "left_out=%zu",
				 p->pid, n, sym_maps__over_cap(maps));
		t->stats.maps_over_cap += sym_maps__over_cap(maps);
	}
	files = calloc(n ? n : 1, sizeof(*files));
	failed = calloc(n ? n : 1, 1);
	if (!files || !failed) {
		free(files);
		free(failed);
		sym_maps__free(maps);
		return;
	}
	/* Replace only once the new maps are in hand. */
	proc_retire_maps(p);
	p->maps = maps;
	p->files = files;
	p->file_failed = failed;
	p->from_store = from_store;
}

struct proc *proc_table__get(struct proc_table *t, uint32_t pid, const char *comm, uint64_t now_ns)
{
	struct proc *p = proc_find(t, pid);

	if (p) {
		p->last_seen_ns = now_ns;
		return p;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->id = ++t->stats.procs_seen;
	p->last_seen_ns = now_ns;
	copy_str(p->comm, sizeof(p->comm), comm);
	proc_read_identity(t, p);
	proc_read_maps(t, p, now_ns);
	hchain_add(&t->procs, &p->node, pid_hash(pid));
	return p;
}

static bool is_pseudo(const char *path)
{
	return path[0] == '[' || !strncmp(path, "/memfd:", 7) || !strncmp(path, "anon_inode:", 11);
}

/* The process may be gone: its file by name, in its own mount namespace
 * while it lasts, else its parent's (which usually shares it), else the
 * host's; the inode the kernel reported decides which is right. */
static struct sym_file *proc_open_by_path(struct proc_table *t, const struct proc *p,
					  const struct sym_map *m)
{
	char own[64], parent[64];
	const char *roots[3];
	size_t n = 0;

	snprintf(own, sizeof(own), "%s/%u/root", t->proc_root, p->pid);
	roots[n++] = own;
	if (p->ppid) {
		snprintf(parent, sizeof(parent), "%s/%u/root", t->proc_root, p->ppid);
		roots[n++] = parent;
	}
	roots[n++] = "";
	t->stats.files_by_path++;
	return sym__open_path(t->sym, roots, n, m);
}

static void normalize_one(struct proc_table *t, struct proc *p, uint64_t addr, struct proc_frame *f,
			  uint64_t now_ns)
{
	const struct sym_map *m = NULL;
	size_t idx;

	f->file = NULL;
	f->kind = REPORT_FRAME_ANON;
	f->addr = addr;

	if (p->maps)
		m = sym_maps__find(p->maps, addr);
	/* Records are read in batches: one may have arrived since. */
	if (!m && !p->reread_in_call &&
	    ((p->from_store &&
	      mapstore__version(t->store, p->pid, t->event_ns) != p->store_version) ||
	     now_ns - p->maps_read_ns >= PROC_MAPS_REREAD_NS)) {
		proc_read_maps(t, p, now_ns);
		p->reread_in_call = true;
		if (p->maps)
			m = sym_maps__find(p->maps, addr);
	}
	if (!m || !m->path)
		return;
	if (!strcmp(m->path, "[vdso]")) {
		f->kind = REPORT_FRAME_VDSO;
		f->addr = addr - m->start;
		return;
	}
	if (is_pseudo(m->path))
		return;
	/* Not code: a return address a frame-pointer walk read from a frame
	 * without one (locale archives, data files). Opening the file would
	 * only hold an fd and log that it is not ELF. */
	if (!(m->prot & SYM_PROT_EXEC))
		return;

	idx = m - sym_maps__at(p->maps, 0);
	if (!p->files[idx] && !p->file_failed[idx]) {
		p->files[idx] = p->from_store ? NULL : sym__open_file(t->sym, p->pid, m);
		if (!p->files[idx] && t->store && (p->from_store || errno == ESRCH))
			p->files[idx] = proc_open_by_path(t, p, m);
		if (!p->files[idx]) {
			p->file_failed[idx] = 1;
			t->stats.files_failed++;
			log_debug_ratelimited("proc: cannot open mapped file pid=%u path=%s err=%d",
					      p->pid, m->path, -errno);
		}
	}
	if (!p->files[idx])
		return;
	f->file = p->files[idx];
	f->kind = REPORT_FRAME_USER;
	f->addr = addr - m->start + m->pgoff;
}

void proc__normalize(struct proc_table *t, struct proc *p, const uint64_t *addrs, size_t n,
		     struct proc_frame *out, uint64_t now_ns)
{
	size_t i;

	/* Frames from the previous call no longer borrow from retired maps. */
	proc_drop_old_maps(p);
	p->reread_in_call = false;
	for (i = 0; i < n; i++)
		normalize_one(t, p, addrs[i], &out[i], now_ns);
}

uint32_t proc__pid(const struct proc *p)
{
	return p->pid;
}

uint64_t proc__id(const struct proc *p)
{
	return p->id;
}

const char *proc__comm(const struct proc *p)
{
	return p->comm;
}

const char *proc__exe(const struct proc *p)
{
	return p->exe;
}

const char *proc__unit(const struct proc *p)
{
	return p->unit;
}

uint64_t proc__start_time(const struct proc *p)
{
	return p->start_time;
}

const struct cgroup_where *proc__where(const struct proc *p)
{
	return &p->where;
}

void proc_table__set_cgroups(struct proc_table *t, struct cgroup_cache *cgroups)
{
	t->cgroups = cgroups;
}

void proc_table__set_event_cgroup(struct proc_table *t, uint64_t cgroup_id)
{
	t->event_cgroup = cgroup_id;
}

const char *proc__cgroup(const struct proc *p)
{
	return p->cgroup;
}

void proc_table__set_store(struct proc_table *t, struct mapstore *store)
{
	t->store = store;
}

void proc_table__set_event_time(struct proc_table *t, uint64_t boot_ns)
{
	t->event_ns = boot_ns;
}

void proc_table__exit(struct proc_table *t, uint32_t pid, uint64_t boot_ns)
{
	proc_table__forget(t, pid);
	if (t->store)
		mapstore__forget(t->store, pid, boot_ns);
}

void proc_table__forget(struct proc_table *t, uint32_t pid)
{
	struct proc *p = proc_find(t, pid);

	if (p) {
		hchain_remove(&t->procs, &p->node);
		proc_free(p);
	}
}

void proc_table__sweep(struct proc_table *t, uint64_t seen_before_ns)
{
	struct hchain_node *n, *next;
	char path[64];
	size_t i;

	for (i = 0; i < t->procs.nbuckets; i++) {
		for (n = t->procs.buckets[i]; n; n = next) {
			struct proc *p = hchain_entry(n, struct proc, node);

			next = n->next;
			snprintf(path, sizeof(path), "%s/%u", t->proc_root, p->pid);
			if (p->last_seen_ns < seen_before_ns && access(path, F_OK)) {
				hchain_remove(&t->procs, n);
				proc_free(p);
			}
		}
	}
}

void proc_table__stats(const struct proc_table *t, struct proc_stats *out)
{
	*out = t->stats;
	out->procs_live = t->procs.count;
}
