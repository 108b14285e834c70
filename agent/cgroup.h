/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* cgroup.h - where a process runs: cgroup path -> container, runtime, pod
 *
 * Reads the shapes kubelets and container runtimes give cgroups (systemd and
 * cgroupfs drivers, cgroup v2 and v1/hybrid lines, paths relative to a
 * cgroup namespace) and keeps what it found per cgroup id, so a process that
 * is gone before its /proc files are read still gets the labels of its
 * cgroup. Names (namespace, pod, container) are not here: a metadata source
 * looks them up later by pod uid and container id.
 * Thread: the main loop (the cache); the parsers are pure, any thread.
 */
#ifndef EMBER_CGROUP_H
#define EMBER_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CGROUP_ID_LEN 64 /* hex digits of a container id */
#define CGROUP_UID_LEN 36 /* a pod uid, 8-4-4-4-12 */
#define CGROUP_PATH_MAX 4096 /* longer cgroup lines are not read */

enum cgroup_runtime {
	CGROUP_RT_NONE, /* not in a container */
	CGROUP_RT_UNKNOWN, /* a bare 64-hex id: containerd or docker with cgroupfs */
	CGROUP_RT_CONTAINERD,
	CGROUP_RT_CRIO,
	CGROUP_RT_DOCKER,
	CGROUP_RT_PODMAN,
};

enum cgroup_qos {
	CGROUP_QOS_NONE, /* not a pod */
	CGROUP_QOS_GUARANTEED,
	CGROUP_QOS_BURSTABLE,
	CGROUP_QOS_BESTEFFORT,
};

/* Where one process runs. Empty strings when not known. */
struct cgroup_where {
	char container_id[CGROUP_ID_LEN + 1]; /* lower-case hex */
	char pod_uid[CGROUP_UID_LEN + 1]; /* with '-', as metadata.uid has it */
	uint8_t runtime; /* enum cgroup_runtime */
	uint8_t qos; /* enum cgroup_qos */
	/* Found on the v2 line: true of the cgroup the BPF record's id names,
	 * so it may be cached by that id. A v1 line's answer is not (on a
	 * hybrid host many containers share one v2 cgroup). */
	bool from_v2;
};

/* Reads one cgroup path (a v2 path, or the path part of a v1 line), from its
 * tail: "../" prefixes of a cgroup namespace and a trailing "/init" or other
 * sub-cgroup of a container's scope are allowed. Fills *out (zeroed first).
 * 0 when a container or a pod was found; -ENOENT when the path names
 * neither (a host process; not an error); -EINVAL for a NULL, empty or
 * over-long path. Bounded by len; pure. */
int cgroup_parse_path(const char *path, size_t len, struct cgroup_where *out);

/* Reads /proc/PID/cgroup text: the v2 ("0::") line first; when it names no
 * container (a hybrid host, where it may point at the runtime's own unit),
 * the v1 lines, memory then cpu then name=systemd then any. 0, -ENOENT or
 * -EINVAL as cgroup_parse_path. Pure. */
int cgroup_parse_proc(const char *text, size_t len, struct cgroup_where *out);

/* "containerd", "cri-o", "docker", "podman", or NULL (none or unknown). */
const char *cgroup_runtime_name(enum cgroup_runtime rt);
/* "guaranteed", "burstable", "besteffort", or NULL. */
const char *cgroup_qos_name(enum cgroup_qos qos);

/* What each cgroup id was found to be. Bounded: past max entries the least
 * recently used goes (counted, CAPS_CGROUP). An entry goes when its cgroup
 * is removed (checked by cgroup id at each sweep; where the kernel cannot
 * tell, entries unused for a few sweeps go). */
struct cgroup_cache;

struct cgroup_stats {
	uint64_t hits, misses;
	uint64_t entries; /* now */
	uint64_t evicted; /* over the bound */
	uint64_t removed; /* their cgroup went away */
	uint64_t unknown; /* paths that named neither container nor pod */
};

/* cgroup2_root: the cgroup v2 mount ("/sys/fs/cgroup" or, on hybrid hosts,
 * "/sys/fs/cgroup/unified"), or NULL to find it in /proc/self/mounts. NULL
 * with errno on failure. */
struct cgroup_cache *cgroup_cache__new(const char *cgroup2_root, size_t max_entries);
void cgroup_cache__free(struct cgroup_cache *c);
/* The entry for cgroup id, or NULL (a miss). Borrowed until the next call. */
const struct cgroup_where *cgroup_cache__find(struct cgroup_cache *c, uint64_t id);
/* Stores where for id (replacing what was there); only a where found on the
 * v2 line that names a container or pod is kept (else 0, nothing stored).
 * 0 or -ENOMEM. */
int cgroup_cache__put(struct cgroup_cache *c, uint64_t id, const struct cgroup_where *where);
/* Drops entries whose cgroup is gone. Once per window. */
void cgroup_cache__sweep(struct cgroup_cache *c);
void cgroup_cache__stats(const struct cgroup_cache *c, struct cgroup_stats *out);

#endif /* EMBER_CGROUP_H */
