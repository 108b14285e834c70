// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cgroup.c - cgroup path -> container id, runtime, pod uid; cached by cgroup id
 *
 * The path is read from its tail, one component at a time, against a table
 * of the leaf shapes runtimes create (reference/k8s-and-jit.md A1): a cgroup
 * namespace may cut any prefix off, so nothing is expected at the root. The
 * cache owns no /proc reads: proc.c parses, the cache remembers by cgroup id.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/vfs.h>

#include "caps.h"
#include "cgroup.h"
#include "hchain.h"
#include "lru.h"
#include "lines.h"
#include "log.h"

/* Leaf shapes: "<prefix><64 hex><suffix>". Order matters only where one
 * prefix starts another ("crio-conmon-" is CRI-O's monitor, not a container). */
static const struct leaf_shape {
	const char *prefix, *suffix;
	enum cgroup_runtime runtime;
	bool container; /* false: a runtime's helper, not a workload */
} leaf_shapes[] = {
	{ "cri-containerd-", ".scope", CGROUP_RT_CONTAINERD, true }, /* systemd driver */
	{ "crio-conmon-", ".scope", CGROUP_RT_CRIO, false },
	{ "crio-conmon-", "", CGROUP_RT_CRIO, false },
	{ "crio-", ".scope", CGROUP_RT_CRIO, true },
	{ "crio-", "", CGROUP_RT_CRIO, true }, /* CRI-O, cgroupfs driver */
	{ "docker-", ".scope", CGROUP_RT_DOCKER, true }, /* docker/cri-dockerd, systemd */
	{ "libpod-", ".scope", CGROUP_RT_PODMAN, true },
	{ "libpod-", "", CGROUP_RT_PODMAN, true },
	{ "", "", CGROUP_RT_UNKNOWN, true }, /* cgroupfs driver: the bare id */
};

/* A kubelet whose driver does not match the runtime's passes the CRI
 * cgroupsPath literally: "<pod slice>:<runtime>:<id>". */
static const struct {
	const char *name;
	enum cgroup_runtime runtime;
} cri_names[] = {
	{ "cri-containerd", CGROUP_RT_CONTAINERD },
	{ "crio", CGROUP_RT_CRIO },
	{ "docker", CGROUP_RT_DOCKER },
};

static bool is_hex64(const char *s, size_t len)
{
	size_t i;

	if (len != CGROUP_ID_LEN)
		return false;
	for (i = 0; i < len; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

static bool has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !memcmp(s, prefix, n);
}

static bool has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !memcmp(s + len - n, suffix, n);
}

/* Is component c (len bytes) a container leaf? Fills id and runtime. */
static bool parse_leaf(const char *c, size_t len, struct cgroup_where *out)
{
	const char *colon;
	size_t i;

	for (i = 0; i < sizeof(leaf_shapes) / sizeof(leaf_shapes[0]); i++) {
		const struct leaf_shape *s = &leaf_shapes[i];
		size_t pl = strlen(s->prefix), sl = strlen(s->suffix);

		if (!has_prefix(c, len, s->prefix) || !has_suffix(c, len, s->suffix) ||
		    !is_hex64(c + pl, len - pl - sl))
			continue;
		if (!s->container)
			return false;
		memcpy(out->container_id, c + pl, CGROUP_ID_LEN);
		out->container_id[CGROUP_ID_LEN] = '\0';
		out->runtime = s->runtime;
		return true;
	}
	/* "<slice>:<runtime>:<id>" */
	colon = memchr(c, ':', len);
	if (colon && len > CGROUP_ID_LEN + 1 && c[len - CGROUP_ID_LEN - 1] == ':' &&
	    is_hex64(c + len - CGROUP_ID_LEN, CGROUP_ID_LEN)) {
		const char *name = colon + 1;
		size_t nlen = (size_t)(c + len - CGROUP_ID_LEN - 1 - name);

		for (i = 0; i < sizeof(cri_names) / sizeof(cri_names[0]); i++) {
			if (strlen(cri_names[i].name) == nlen &&
			    !memcmp(name, cri_names[i].name, nlen)) {
				memcpy(out->container_id, c + len - CGROUP_ID_LEN, CGROUP_ID_LEN);
				out->container_id[CGROUP_ID_LEN] = '\0';
				out->runtime = cri_names[i].runtime;
				return true;
			}
		}
	}
	return false;
}

/* A pod uid, 8-4-4-4-12 hex with '-' (cgroupfs) or '_' (systemd), at s.
 * Copied with '-' into out. */
static bool parse_uid(const char *s, size_t len, char *out)
{
	static const int groups[] = { 8, 4, 4, 4, 12 };
	size_t g, k, at = 0;
	char sep = 0;

	if (len < CGROUP_UID_LEN)
		return false;
	for (g = 0; g < 5; g++) {
		for (k = 0; k < (size_t)groups[g]; k++, at++) {
			char ch = s[at];

			if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
				return false;
			out[at] = ch;
		}
		if (g == 4)
			break;
		if (s[at] != '-' && s[at] != '_')
			return false;
		/* One separator throughout: a mix is not a kubelet's name. */
		if (sep && s[at] != sep)
			return false;
		sep = s[at];
		out[at++] = '-';
	}
	out[CGROUP_UID_LEN] = '\0';
	return true;
}

/* Is component c a pod cgroup? "pod<uid>" (cgroupfs) or
 * "<parent parts>-pod<uid>.slice" (systemd; parts joined by '-'), possibly
 * followed by ":<runtime>:<id>" (a literal CRI cgroupsPath). */
static bool parse_pod(const char *c, size_t len, struct cgroup_where *out)
{
	const char *colon = memchr(c, ':', len), *pod;
	char uid[CGROUP_UID_LEN + 1];
	size_t plen;

	if (colon)
		len = (size_t)(colon - c);
	if (has_suffix(c, len, ".slice")) {
		len -= 6;
		if (len < 3 + CGROUP_UID_LEN)
			return false;
		pod = c + len - CGROUP_UID_LEN - 3;
		if (memcmp(pod, "pod", 3) || (pod != c && pod[-1] != '-'))
			return false;
	} else {
		pod = c;
		if (len != 3 + CGROUP_UID_LEN || memcmp(pod, "pod", 3))
			return false;
	}
	plen = len - (size_t)(pod - c) - 3;
	if (plen != CGROUP_UID_LEN || !parse_uid(pod + 3, plen, uid))
		return false;
	memcpy(out->pod_uid, uid, sizeof(uid));
	/* The QoS class is in the systemd name itself, or is the parent
	 * component with cgroupfs (the caller looks there). */
	if (pod != c) {
		size_t head = (size_t)(pod - c);

		if (memmem(c, head, "-besteffort-", 12))
			out->qos = CGROUP_QOS_BESTEFFORT;
		else if (memmem(c, head, "-burstable-", 11))
			out->qos = CGROUP_QOS_BURSTABLE;
		else
			out->qos = CGROUP_QOS_GUARANTEED;
	}
	return true;
}

int cgroup_parse_path(const char *path, size_t len, struct cgroup_where *out)
{
	const char *end, *c, *slash;
	size_t clen, depth = 0;
	bool leaf_done = false;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!path || !out || !len || len > CGROUP_PATH_MAX)
		return -EINVAL;
	/* Walk components from the last. The container leaf is the last
	 * component or, for a scope with sub-cgroups (docker's "/init",
	 * systemd's payload), one of the two above it; the pod is above it. */
	for (end = path + len; end > path; end = slash) {
		slash = memrchr(path, '/', (size_t)(end - path));
		c = slash ? slash + 1 : path;
		clen = (size_t)(end - c);
		if (!slash)
			slash = path;
		if (!clen || (clen == 2 && !memcmp(c, "..", 2)) || (clen == 1 && *c == '.'))
			continue;
		depth++;
		/* Plain docker with cgroupfs: "/docker/<id>". */
		if (out->runtime == CGROUP_RT_UNKNOWN && clen == 6 && !memcmp(c, "docker", 6))
			out->runtime = CGROUP_RT_DOCKER;
		if (!leaf_done && !out->container_id[0] && depth <= 3 && parse_leaf(c, clen, out)) {
			leaf_done = true;
			/* The driver-mismatch form carries the pod slice too. */
			if (memchr(c, ':', clen))
				parse_pod(c, clen, out);
			if (out->pod_uid[0])
				break;
			continue;
		}
		if (parse_pod(c, clen, out)) {
			if (out->qos == CGROUP_QOS_NONE) {
				/* cgroupfs: the parent is the class, or kubepods itself. */
				const char *pe = slash, *ps;

				ps = pe > path ? memrchr(path, '/', (size_t)(pe - path)) : NULL;
				ps = ps ? ps + 1 : path;
				if (pe - ps == 10 && !memcmp(ps, "besteffort", 10))
					out->qos = CGROUP_QOS_BESTEFFORT;
				else if (pe - ps == 9 && !memcmp(ps, "burstable", 9))
					out->qos = CGROUP_QOS_BURSTABLE;
				else
					out->qos = CGROUP_QOS_GUARANTEED;
			}
			break;
		}
		/* No container among the leaf candidates: a pod cgroup further
		 * up is an ancestor of something else (a nested manager), not
		 * this process's pod. With a container, the walk goes on up to
		 * the root for its pod (there may be none: plain docker). */
		if (depth > 3 && !out->container_id[0])
			break;
	}
	return out->container_id[0] || out->pod_uid[0] ? 0 : -ENOENT;
}

/* Preference of a v1 line by its controllers: lower is better. */
static int v1_rank(const char *ctl, size_t len)
{
	static const char *const order[] = { "memory", "cpu", "name=systemd" };
	const char *p, *end = ctl + len, *comma;
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		for (p = ctl; p < end; p = comma + 1) {
			comma = memchr(p, ',', (size_t)(end - p));
			if (!comma)
				comma = end;
			if ((size_t)(comma - p) == strlen(order[i]) &&
			    !memcmp(p, order[i], (size_t)(comma - p)))
				return (int)i;
		}
	}
	return (int)i;
}

int cgroup_parse_proc(const char *text, size_t len, struct cgroup_where *out)
{
	const char *line, *nl, *end = text + len, *c1, *c2;
	struct cgroup_where w;
	int best_rank = 1 << 30, rank, err, ret = -ENOENT;
	bool is_v2;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!text || !out)
		return -EINVAL;
	for (line = text; line < end; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			nl = end;
		c1 = memchr(line, ':', (size_t)(nl - line));
		c2 = c1 ? memchr(c1 + 1, ':', (size_t)(nl - c1 - 1)) : NULL;
		if (!c2)
			continue;
		/* The v2 line ranks first; a container beats a pod alone. */
		is_v2 = c1 - line == 1 && *line == '0' && c2 == c1 + 1;
		rank = is_v2 ? -1 : v1_rank(c1 + 1, (size_t)(c2 - c1 - 1));
		err = cgroup_parse_path(c2 + 1, (size_t)(nl - c2 - 1), &w);
		if (err)
			continue;
		if (!w.container_id[0])
			rank += 100;
		if (rank < best_rank) {
			best_rank = rank;
			*out = w;
			out->from_v2 = is_v2;
			ret = 0;
		}
	}
	return ret;
}

const char *cgroup_runtime_name(enum cgroup_runtime rt)
{
	switch (rt) {
	case CGROUP_RT_CONTAINERD:
		return "containerd";
	case CGROUP_RT_CRIO:
		return "cri-o";
	case CGROUP_RT_DOCKER:
		return "docker";
	case CGROUP_RT_PODMAN:
		return "podman";
	default:
		return NULL;
	}
}

const char *cgroup_qos_name(enum cgroup_qos qos)
{
	switch (qos) {
	case CGROUP_QOS_GUARANTEED:
		return "guaranteed";
	case CGROUP_QOS_BURSTABLE:
		return "burstable";
	case CGROUP_QOS_BESTEFFORT:
		return "besteffort";
	default:
		return NULL;
	}
}

/* ---- the cache ---- */

/* Sweeps an entry may go unused before it is dropped, where the kernel
 * cannot say whether its cgroup still exists. */
#define CGROUP_IDLE_SWEEPS 4
/* FILEID_KERNFS: a cgroup v2 file handle is its 64-bit cgroup id. */
#define CGROUP_HANDLE_TYPE 0xfe

struct cgroup_entry {
	struct hchain_node node;
	struct lru_node lru;
	uint64_t id;
	uint64_t last_sweep;
	struct cgroup_where where;
};

struct cgroup_cache {
	struct hchain index;
	struct lru lru; /* head = most recently used */
	size_t max_entries;
	uint64_t sweeps;
	int root_fd; /* the cgroup v2 mount, -1 when not found */
	bool handles_ok; /* open_by_handle_at answers for this mount */
	struct cgroup_stats stats;
};

static uint64_t id_hash(uint64_t id)
{
	return id * 0x9e3779b97f4a7c15ull;
}

static struct cgroup_entry *entry_of(struct lru_node *n)
{
	return lru_entry(n, struct cgroup_entry, lru);
}

static void entry_drop(struct cgroup_cache *c, struct cgroup_entry *e)
{
	lru_unlink(&c->lru, &e->lru);
	hchain_remove(&c->index, &e->node);
	free(e);
	c->stats.entries--;
}

static char *find_cgroup2_mount(char *buf, size_t size)
{
	char line[1024], dev[256], dir[512], type[64];
	FILE *f = fopen("/proc/self/mounts", "re");

	if (!f)
		return NULL;
	buf[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %511s %63s", dev, dir, type) == 3 &&
		    !strcmp(type, "cgroup2")) {
			snprintf(buf, size, "%s", dir);
			break;
		}
	}
	fclose(f);
	return buf[0] ? buf : NULL;
}

struct cgroup_cache *cgroup_cache__new(const char *cgroup2_root, size_t max_entries)
{
	struct cgroup_cache *c = calloc(1, sizeof(*c));
	struct statfs sfs;
	char found[512];

	if (!c)
		return NULL;
	c->root_fd = -1;
	c->max_entries = max_entries ? max_entries : 1;
	if (hchain_init(&c->index, 256)) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	if (!cgroup2_root)
		cgroup2_root = find_cgroup2_mount(found, sizeof(found));
	if (cgroup2_root)
		c->root_fd = open(cgroup2_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* A cgroup id means something only to a cgroup v2 mount; any other
	 * file system would call every id stale. Assume handles work there
	 * until the kernel says otherwise. */
	c->handles_ok =
		c->root_fd >= 0 && !fstatfs(c->root_fd, &sfs) && sfs.f_type == CGROUP2_SUPER_MAGIC;
	if (!c->handles_ok)
		log_info("cgroup: no cgroup v2 mount at %s; cgroups are forgotten when unused "
			 "for %d windows",
			 cgroup2_root ? cgroup2_root : "(none)", CGROUP_IDLE_SWEEPS);
	return c;
}

void cgroup_cache__free(struct cgroup_cache *c)
{
	if (!c)
		return;
	while (c->lru.head)
		entry_drop(c, entry_of(c->lru.head));
	hchain_release(&c->index);
	if (c->root_fd >= 0)
		close(c->root_fd);
	free(c);
}

static struct cgroup_entry *lookup(const struct cgroup_cache *c, uint64_t id)
{
	struct hchain_node *n;

	for (n = hchain_first(&c->index, id_hash(id)); n; n = hchain_next(n)) {
		struct cgroup_entry *e = hchain_entry(n, struct cgroup_entry, node);

		if (e->id == id)
			return e;
	}
	return NULL;
}

const struct cgroup_where *cgroup_cache__find(struct cgroup_cache *c, uint64_t id)
{
	struct cgroup_entry *e = lookup(c, id);

	if (!e) {
		c->stats.misses++;
		return NULL;
	}
	c->stats.hits++;
	e->last_sweep = c->sweeps;
	lru_touch(&c->lru, &e->lru);
	return &e->where;
}

int cgroup_cache__put(struct cgroup_cache *c, uint64_t id, const struct cgroup_where *where)
{
	struct cgroup_entry *e = lookup(c, id);

	if (!where->container_id[0] && !where->pod_uid[0])
		c->stats.unknown++;
	if (!where->from_v2 || (!where->container_id[0] && !where->pod_uid[0]))
		return 0;
	if (e) {
		e->where = *where;
		e->last_sweep = c->sweeps;
		return 0;
	}
	if (c->stats.entries >= c->max_entries) {
		caps__hit(CAPS_CGROUP, 1, c->max_entries);
		c->stats.evicted++;
		entry_drop(c, entry_of(c->lru.tail));
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->id = id;
	e->where = *where;
	e->last_sweep = c->sweeps;
	hchain_add(&c->index, &e->node, id_hash(id));
	lru_push_front(&c->lru, &e->lru);
	c->stats.entries++;
	return 0;
}

/* 1: the cgroup exists, 0: it is gone, -1: the kernel cannot tell us. */
static int cgroup_alive(struct cgroup_cache *c, uint64_t id)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h;
	int fd;

	if (!c->handles_ok)
		return -1;
	h.fh.handle_bytes = sizeof(uint64_t);
	h.fh.handle_type = CGROUP_HANDLE_TYPE;
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(c->root_fd, &h.fh, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (errno == ESTALE || errno == ENOENT)
		return 0;
	/* EPERM (no CAP_DAC_READ_SEARCH), EOPNOTSUPP, EINVAL: an old kernel
	 * or a mount that is not cgroup v2. Said once, then age decides. */
	log_info("cgroup: cannot check cgroups by id (err=%d); entries unused for %d windows go",
		 -errno, CGROUP_IDLE_SWEEPS);
	c->handles_ok = false;
	return -1;
}

void cgroup_cache__sweep(struct cgroup_cache *c)
{
	struct lru_node *n, *next;
	struct cgroup_entry *e;
	int alive;

	c->sweeps++;
	for (n = c->lru.head; n; n = next) {
		next = n->next;
		e = entry_of(n);
		alive = cgroup_alive(c, e->id);
		if (alive == 0 || (alive < 0 && c->sweeps - e->last_sweep > CGROUP_IDLE_SWEEPS)) {
			c->stats.removed++;
			entry_drop(c, e);
		}
	}
}

void cgroup_cache__stats(const struct cgroup_cache *c, struct cgroup_stats *out)
{
	*out = c->stats;
}
