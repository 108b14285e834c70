/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* labels.h - the label set of each process, and grouping a report by label set
 *
 * __name__=process_cpu, service_name (systemd unit when the process runs in
 * one, else the executable's name), host, unit, container_id, pod_uid,
 * container_runtime, and static --label pairs, then the relabel rules
 * (agent/relabel.h) over those plus the __meta_process_* discovery labels.
 * Static names and values are checked against the server's limits once,
 * at start-up; what rules make is filtered after them. No __-prefixed label
 * other than __name__ is ever produced. Thread: the main loop (the rules
 * carry their match data).
 */
#ifndef EMBER_LABELS_H
#define EMBER_LABELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "report.h"

/* Server limits (reference/pyroscope-protocol.md, section 3). */
#define LABELS_MAX_NAMES 30
#define LABELS_MAX_NAME_LEN 1024
#define LABELS_MAX_VALUE_LEN 2048
/* Labels of where a process runs: unit, container_id, pod_uid, container_runtime. */
#define LABELS_DERIVED 4

/* Checks the static labels and host of cfg (call it after cfg->host is
 * final). Names: non-empty, <= LABELS_MAX_NAME_LEN bytes, [A-Za-z_][A-Za-z0-9_]*
 * (valid on Pyroscope 1.x without sanitization), not starting with "__" (only
 * __name__ is produced, by Ember), not "host" (use --host), no duplicates.
 * Values: non-empty valid UTF-8, <= LABELS_MAX_VALUE_LEN bytes. At most
 * LABELS_MAX_NAMES names in all. A static service_name is allowed and replaces
 * the derived one for every process (then all processes share one series).
 * Returns 0, or -EINVAL after logging one line that names the bad label and
 * the rule. */
int labels_check(const struct cfg *cfg);

/* Processes of one report that share a label set. */
struct labels_group {
	const struct label *labels; /* sorted by name; borrowed from the report */
	size_t nlabels;
	const struct report_proc **procs; /* borrowed from the report */
	size_t nprocs;
};

/* What the relabel rules did over the windows (labels_assign adds to it). */
struct labels_stats {
	uint64_t procs_dropped; /* process-windows a keep or drop rule dropped */
	uint64_t samples_dropped; /* their samples */
	uint64_t labels_invalid; /* labels a rule made with a name the server refuses */
	/* Kubernetes (labels_assign_k8s) */
	uint64_t k8s_pod_unknown; /* process-windows in a pod the store did not know */
	uint64_t k8s_not_profiled; /* process-windows of pods not to be profiled, dropped */
	uint64_t k8s_not_profiled_samples; /* their samples */
};

/* Gives each process of r its label set, in r's memory: __name__ (r's type
 * name), service_name (the static one, else the process's systemd unit, else
 * the basename of its exe, else its comm; invalid UTF-8 bytes become '_'),
 * host (cfg->host, "unknown" when NULL), where the process runs when known
 * (unit: its systemd unit; container_id, pod_uid, container_runtime: from
 * its cgroup; a static label of the same name wins) and the static labels.
 * With relabel rules (cfg->relabel), these and __meta_process_comm,
 * __meta_process_exe, __meta_process_cgroup and __meta_process_pid go
 * through the rules; then every __ label is removed, __name__ is put back as
 * r's type name (rules cannot rename the profile type), service_name comes
 * back when a rule removed it (the server refuses a series without one), a
 * name outside [A-Za-z_][A-Za-z0-9_]* is removed and counted, and values are
 * repaired to UTF-8 within LABELS_MAX_VALUE_LEN. A process the rules drop
 * gets no labels (nlabels 0) and is counted in st. Sets are sorted by name.
 * cfg must have passed labels_check and outlive r. 0 or -ENOMEM. */
int labels_assign(const struct cfg *cfg, struct report *r, struct labels_stats *st);

struct k8s;

/* labels_assign, and for a process in a pod (its cgroup's pod uid) what
 * the Kubernetes store k8s knows, looked up now, at the window's end:
 * namespace, pod, container, node, the controller (deployment,
 * statefulset, daemonset, job, replicaset, ... by name), service_name from
 * the annotation pyroscope.io/service_name else <namespace>/<container>
 * (a static service_name still wins, and so does any static label of the
 * same name), pod labels as pod_label_<name> with cfg->k8s_pod_labels
 * (as many as the server's name limit leaves room for), and for relabel
 * rules __meta_kubernetes_namespace, _pod_name, _pod_uid, _pod_node_name,
 * _pod_phase, _pod_container_name, _pod_container_id,
 * _pod_container_init, _pod_controller_kind, _pod_controller_name,
 * _pod_label_<name>, _pod_labelpresent_<name>, _pod_annotation_<name>,
 * _pod_annotationpresent_<name> (names sanitized as Prometheus does). A
 * process whose pod is not to be profiled (k8s__profiled) gets no labels,
 * like a relabel drop, and is counted; one whose pod is not known keeps its
 * cgroup labels and is counted. k8s NULL: labels_assign. */
int labels_assign_k8s(const struct cfg *cfg, struct k8s *k8s, struct report *r,
		      struct labels_stats *st);

/* Groups r's processes by their whole label set (labels_assign first): one
 * group per distinct set, groups ordered by set, procs in report order;
 * processes without labels (dropped by the rules) are in no group.
 * *groups is NULL and *ngroups 0 for a report without processes. 0 or
 * -ENOMEM; free with labels_groups_free (accepts NULL). */
int labels_group(const struct report *r, struct labels_group **groups, size_t *ngroups);
void labels_groups_free(struct labels_group *groups, size_t n);

/* Value of label name in g, borrowed from g, or NULL. */
const char *labels_get(const struct labels_group *g, const char *name);

#endif /* EMBER_LABELS_H */
