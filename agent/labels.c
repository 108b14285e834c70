// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* labels.c - each process's label set, start-up checks of the static labels, grouping
 *
 * Owns the label rules: names in the legacy Prometheus charset (so Pyroscope
 * 1.x accepts them unsanitized), values valid UTF-8, the server's length and
 * count limits. Derived values (service_name from a unit, exe or comm) come
 * from the kernel and are sanitized, never rejected. Pure; any thread.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "k8s.h"
#include "labels.h"
#include "log.h"
#include "relabel.h"
#include "utf8.h"

#define LABELS_NAME "process_cpu"
#define LABELS_UNKNOWN_HOST "unknown"
#define LABELS_UNKNOWN_SERVICE "unknown_service"

static int check_value(const char *name, const char *value, const char *option)
{
	size_t len = value ? strlen(value) : 0;

	if (!len) {
		log_err("labels: label %.64s has an empty value; give it a value with %s", name,
			option);
		return -EINVAL;
	}
	if (len > LABELS_MAX_VALUE_LEN) {
		log_err("labels: value of label %.64s is %zu bytes; the limit is %d bytes (%s)",
			name, len, LABELS_MAX_VALUE_LEN, option);
		return -EINVAL;
	}
	if (!utf8_valid(value, len)) {
		log_err("labels: value of label %.64s is not valid UTF-8; give a UTF-8 value with %s",
			name, option);
		return -EINVAL;
	}
	return 0;
}

static int check_name(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (!len) {
		log_err("labels: a label has an empty name; use --label NAME=VALUE");
		return -EINVAL;
	}
	if (len > LABELS_MAX_NAME_LEN) {
		log_err("labels: label name %.64s... is %zu bytes; the limit is %d bytes", name,
			len, LABELS_MAX_NAME_LEN);
		return -EINVAL;
	}
	if (!utf8_valid(name, len) || !relabel_name_valid(name)) {
		log_err("labels: invalid label name %.64s; names must match [A-Za-z_][A-Za-z0-9_]*",
			name);
		return -EINVAL;
	}
	/* The server and Alloy treat __* names as private; Ember only ever
	 * produces __name__ itself. */
	if (name[0] == '_' && name[1] == '_') {
		log_err("labels: label name %.64s is reserved: names starting with __ belong to the "
			"server (Ember sets __name__ itself); rename the label",
			name);
		return -EINVAL;
	}
	if (!strcmp(name, "host")) {
		log_err("labels: label name host is set by Ember; use --host NAME to change its value");
		return -EINVAL;
	}
	return 0;
}

static const char *const derived_names[LABELS_DERIVED] = { "unit", "container_id", "pod_uid",
							   "container_runtime" };

static bool is_derived(const char *name)
{
	size_t i;

	for (i = 0; i < LABELS_DERIVED; i++)
		if (!strcmp(name, derived_names[i]))
			return true;
	return false;
}

static bool is_static(const struct cfg *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nlabels; i++)
		if (!strcmp(cfg->labels[i].name, name))
			return true;
	return false;
}

int labels_check(const struct cfg *cfg)
{
	/* __name__, service_name, host and the derived ones of where a
	 * process runs: unit, container_id, pod_uid, container_runtime. */
	size_t i, j, names = 3 + LABELS_DERIVED;
	int err;

	if (cfg->host) {
		err = check_value("host", cfg->host, "--host NAME");
		if (err)
			return err;
	}
	for (i = 0; i < cfg->nlabels; i++) {
		const struct label *kv = &cfg->labels[i];

		err = check_name(kv->name);
		if (err)
			return err;
		err = check_value(kv->name, kv->value, "--label NAME=VALUE");
		if (err)
			return err;
		for (j = 0; j < i; j++) {
			if (!strcmp(cfg->labels[j].name, kv->name)) {
				log_err("labels: duplicate label name %.64s; give each --label a "
					"different name",
					kv->name);
				return -EINVAL;
			}
		}
		/* A static service_name (or unit, ...) replaces the derived one:
		 * no new name. */
		if (strcmp(kv->name, "service_name") && !is_derived(kv->name))
			names++;
	}
	if (names > LABELS_MAX_NAMES) {
		log_err("labels: %zu label names (with __name__, service_name, host); the server's "
			"limit is %d; use fewer --label options",
			names, LABELS_MAX_NAMES);
		return -EINVAL;
	}
	return 0;
}

const char *labels_get(const struct labels_group *g, const char *name)
{
	return label_set_get(g->labels, g->nlabels, name);
}

/* The service a process belongs to, borrowed from p or cfg (not sanitized). */
static const char *service_of(const struct cfg *cfg, const struct report_proc *p)
{
	const char *base;
	size_t i;

	for (i = 0; i < cfg->nlabels; i++) {
		if (!strcmp(cfg->labels[i].name, "service_name"))
			return cfg->labels[i].value;
	}
	if (p->unit && p->unit[0])
		return p->unit;
	if (p->exe) {
		base = strrchr(p->exe, '/');
		base = base ? base + 1 : p->exe;
		if (base[0])
			return base;
	}
	if (p->comm && p->comm[0])
		return p->comm;
	return LABELS_UNKNOWN_SERVICE;
}

/* s, repaired to valid UTF-8 within the value limit, in r's arena; NULL on
 * -ENOMEM. Kernel strings (comm, paths) are bytes, not text. */
static const char *sanitized(struct report *r, const char *s)
{
	char buf[LABELS_MAX_VALUE_LEN + 1];

	utf8_copy(buf, s ? s : "", LABELS_MAX_VALUE_LEN);
	return report__strdup(r, buf);
}

static bool is_static_service(const struct cfg *cfg)
{
	return is_static(cfg, "service_name");
}

/* Names outside __ in set, __name__ counted: what the server will see. */
static size_t visible_names(const struct relabel_set *set)
{
	size_t i, n = 1;

	for (i = 0; i < set->n; i++)
		n += !(set->v[i].name[0] == '_' && set->v[i].name[1] == '_');
	return n;
}

/* prefix + sanitized name, in r. */
static const char *meta_name(struct report *r, const char *prefix, const char *name)
{
	char buf[LABELS_MAX_NAME_LEN + 1];
	size_t n = strlen(prefix);

	if (n >= sizeof(buf))
		return NULL;
	memcpy(buf, prefix, n);
	k8s_sanitize(buf + n, sizeof(buf) - n, name);
	return report__strdup(r, buf);
}

static int put_unless_static(const struct cfg *cfg, struct relabel_set *set, const char *name,
			     const char *value)
{
	if (!value || !value[0] || is_static(cfg, name))
		return 0;
	return relabel_set_put(set, name, value);
}

static int put_kv_meta(struct report *r, struct relabel_set *set, const char *prefix,
		       const char *present, const struct label *kv, size_t n)
{
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		const char *name = meta_name(r, prefix, kv[i].name);
		const char *pname = meta_name(r, present, kv[i].name);

		if (!name || !pname)
			return -ENOMEM;
		/* An empty value reads as absent; the presence label tells. */
		if ((kv[i].value[0] && (err = relabel_set_put(set, name, kv[i].value))) ||
		    (err = relabel_set_put(set, pname, "true")))
			return err;
	}
	return 0;
}

static bool is_workload_kind(const char *kind)
{
	static const char *const kinds[] = { "deployment", "replicaset", "statefulset",
					     "daemonset",  "job",	 "cronjob" };
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kind, kinds[i]))
			return true;
	return false;
}

/* What the pod of the process tells, after the static labels. */
static int k8s_labels(const struct cfg *cfg, struct report *r, const struct k8s_meta *m,
		      const char *pod_uid, struct relabel_set *set)
{
	size_t i;
	int err;

	if ((err = put_unless_static(cfg, set, "namespace", m->ns)) ||
	    (err = put_unless_static(cfg, set, "pod", m->pod)) ||
	    (err = put_unless_static(cfg, set, "container", m->container)) ||
	    (err = put_unless_static(cfg, set, "node", m->node)))
		return err;
	/* The controller by its kind: deployment=checkout. Only the
	 * workload kinds: a static pod's owner is its Node, and a custom
	 * resource's kind could be "host" or "pod"; those stay in the
	 * __meta_kubernetes_pod_controller_* labels. */
	if (m->ctrl_kind && m->ctrl_name && is_workload_kind(m->ctrl_kind) &&
	    (err = put_unless_static(cfg, set, m->ctrl_kind, m->ctrl_name)))
		return err;
	if (cfg->k8s_pod_labels) {
		for (i = 0; i < m->nlabels; i++) {
			const char *name;

			if (visible_names(set) >= LABELS_MAX_NAMES) {
				caps__hit(CAPS_LABEL_NAMES, m->nlabels - i, LABELS_MAX_NAMES);
				break;
			}
			if (!m->labels[i].value[0])
				continue;
			name = meta_name(r, "pod_label_", m->labels[i].name);
			if (!name)
				return -ENOMEM;
			if ((err = put_unless_static(cfg, set, name, m->labels[i].value)))
				return err;
		}
	}
	if (!relabel__count(cfg->relabel))
		return 0;
	if ((err = relabel_set_put(set, "__meta_kubernetes_namespace", m->ns)) ||
	    (err = relabel_set_put(set, "__meta_kubernetes_pod_name", m->pod)) ||
	    (err = relabel_set_put(set, "__meta_kubernetes_pod_uid", pod_uid)) ||
	    (err = relabel_set_put(set, "__meta_kubernetes_pod_node_name", m->node)) ||
	    (err = relabel_set_put(set, "__meta_kubernetes_pod_phase", m->phase)) ||
	    (err = relabel_set_put(set, "__meta_kubernetes_pod_container_name", m->container)) ||
	    (err = relabel_set_put(set, "__meta_kubernetes_pod_container_id", m->container_id)) ||
	    (err = relabel_set_put(set, "__meta_kubernetes_pod_container_init",
				   m->container ? (m->container_init ? "true" : "false") : NULL)) ||
	    (err = relabel_set_put(set, "__meta_kubernetes_pod_controller_kind", m->ctrl_kind)) ||
	    (err = relabel_set_put(set, "__meta_kubernetes_pod_controller_name", m->ctrl_name)))
		return err;
	if ((err = put_kv_meta(r, set, "__meta_kubernetes_pod_label_",
			       "__meta_kubernetes_pod_labelpresent_", m->labels, m->nlabels)) ||
	    (err = put_kv_meta(r, set, "__meta_kubernetes_pod_annotation_",
			       "__meta_kubernetes_pod_annotationpresent_", m->annotations,
			       m->nannotations)))
		return err;
	return 0;
}

/* The service of a process in a known pod: the annotation, else
 * <namespace>/<container> (<namespace>/<pod> while the container is not
 * known); a static service_name wins over both. NULL on -ENOMEM. */
static const char *k8s_service(const struct cfg *cfg, struct report *r, const struct k8s_meta *m,
			       const struct report_proc *p)
{
	char buf[LABELS_MAX_VALUE_LEN + 1];

	if (is_static_service(cfg))
		return sanitized(r, service_of(cfg, p));
	if (m->service_name)
		return sanitized(r, m->service_name);
	snprintf(buf, sizeof(buf), "%s/%s", m->ns, m->container ? m->container : m->pod);
	return sanitized(r, buf);
}

/* The set before any rule: __name__, service_name, host, the static
 * labels, the pod's (m, when the process is in a known pod); and, when
 * rules will read them, the discovery labels. */
static int base_set(const struct cfg *cfg, struct report *r, const struct report_proc *p,
		    const struct k8s_meta *m, struct relabel_set *set)
{
	const char *host = cfg->host ? cfg->host : LABELS_UNKNOWN_HOST;
	const char *service = m ? k8s_service(cfg, r, m, p) : sanitized(r, service_of(cfg, p));
	const char *derived[LABELS_DERIVED] = { p->unit && p->unit[0] ? p->unit : NULL,
						p->container_id, p->pod_uid, p->container_runtime };
	char pid[16];
	size_t i;
	int err;

	if (!service)
		return -ENOMEM;
	if (!service[0])
		service = LABELS_UNKNOWN_SERVICE;
	if ((err = relabel_set_put(set, "__name__", r->type.name ? r->type.name : LABELS_NAME)) ||
	    (err = relabel_set_put(set, "service_name", service)) ||
	    (err = relabel_set_put(set, "host", host)))
		return err;
	/* Where the process runs, unless given statically. The unit's name
	 * comes from the kernel: sanitized like service_name. Container ids,
	 * uids and runtimes are checked hex or constants. */
	for (i = 0; i < LABELS_DERIVED; i++) {
		const char *v = derived[i];

		if (!v || is_static(cfg, derived_names[i]))
			continue;
		if (i == 0 && !(v = sanitized(r, v)))
			return -ENOMEM;
		if ((err = relabel_set_put(set, derived_names[i], v)))
			return err;
	}
	/* The static service_name already decided service; labels_check
	 * rejected static __* and host names. cfg outlives the report. */
	for (i = 0; i < cfg->nlabels; i++) {
		if (strcmp(cfg->labels[i].name, "service_name") &&
		    (err = relabel_set_put(set, cfg->labels[i].name, cfg->labels[i].value)))
			return err;
	}
	if (m && (err = k8s_labels(cfg, r, m, p->pod_uid, set)))
		return err;
	if (!relabel__count(cfg->relabel))
		return 0;
	snprintf(pid, sizeof(pid), "%u", p->pid);
	if ((err = relabel_set_put(set, "__meta_process_pid", report__strdup(r, pid))) ||
	    (err = relabel_set_put(set, "__meta_process_comm", sanitized(r, p->comm))) ||
	    (err = relabel_set_put(set, "__meta_process_exe", sanitized(r, p->exe))) ||
	    (err = relabel_set_put(set, "__meta_process_cgroup", sanitized(r, p->cgroup))))
		return err;
	return 0;
}

/* What the rules left, as the set the server gets: no __ names but
 * __name__, names the server accepts, values within its limits. */
static int final_set(struct report *r, struct report_proc *p, const struct relabel_set *set,
		     const char *service, struct labels_stats *st)
{
	struct label *out = report__alloc(r, (set->n + 2) * sizeof(*out));
	size_t n = 0, i;

	if (!out)
		return -ENOMEM;
	out[n++] = (struct label){ "__name__", r->type.name ? r->type.name : LABELS_NAME };
	for (i = 0; i < set->n; i++) {
		const char *name = set->v[i].name, *value = set->v[i].value;

		if (name[0] == '_' && name[1] == '_')
			continue;
		if (!relabel_name_valid(name) || strlen(name) > LABELS_MAX_NAME_LEN) {
			st->labels_invalid++;
			log_warn_ratelimited("labels: a relabel rule made the label name %.64s, "
					     "which the server refuses; the label is left out",
					     name);
			continue;
		}
		/* Values made by rules from valid pieces are valid; a regex
		 * group can still cut a long one. */
		if (strlen(value) > LABELS_MAX_VALUE_LEN || !utf8_valid(value, strlen(value))) {
			value = sanitized(r, value);
			if (!value)
				return -ENOMEM;
		}
		out[n++] = (struct label){ name, value };
	}
	/* The server refuses a series without service_name: a rule that
	 * removed it gets the derived one back. */
	if (!relabel_set_get(set, "service_name"))
		out[n++] = (struct label){ "service_name", service };
	qsort(out, n, sizeof(*out), label_cmp_name);
	if (n > LABELS_MAX_NAMES) {
		caps__hit(CAPS_LABEL_NAMES, n - LABELS_MAX_NAMES, LABELS_MAX_NAMES);
		n = LABELS_MAX_NAMES;
	}
	p->labels = out;
	p->nlabels = n;
	return 0;
}

static int assign_one(const struct cfg *cfg, struct k8s *k8s, struct report *r,
		      struct report_proc *p, struct relabel_set *set, struct labels_stats *st)
{
	uint64_t overflows = set->overflows;
	const char *service = NULL;
	struct k8s_meta meta, *m = NULL;
	int ret;

	if (k8s) {
		ret = k8s__lookup(k8s, p->pod_uid, p->container_id, r, &meta);
		if (ret < 0)
			return ret;
		if (ret)
			m = &meta;
		else if (p->pod_uid)
			st->k8s_pod_unknown++;
		if (!k8s__profiled(k8s, m)) {
			p->labels = NULL;
			p->nlabels = 0;
			st->k8s_not_profiled++;
			st->k8s_not_profiled_samples += p->samples;
			return 0;
		}
	}
	relabel_set_clear(set);
	ret = base_set(cfg, r, p, m, set);
	if (!ret) {
		service = relabel_set_get(set, "service_name");
		ret = relabel__apply(cfg->relabel, set);
	}
	if (set->overflows > overflows)
		caps__hit(CAPS_RELABEL_SET, set->overflows - overflows, RELABEL_MAX_SET);
	if (ret < 0)
		return ret;
	if (ret == 0) {
		p->labels = NULL;
		p->nlabels = 0;
		st->procs_dropped++;
		st->samples_dropped += p->samples;
		return 0;
	}
	return final_set(r, p, set, service, st);
}

int labels_assign_k8s(const struct cfg *cfg, struct k8s *k8s, struct report *r,
		      struct labels_stats *st)
{
	struct relabel_set set = { .arena = &r->arena };
	size_t i;
	int err = 0;

	for (i = 0; i < r->nprocs && !err; i++)
		err = assign_one(cfg, k8s, r, &r->procs[i], &set, st);
	relabel_set_release(&set);
	return err;
}

int labels_assign(const struct cfg *cfg, struct report *r, struct labels_stats *st)
{
	return labels_assign_k8s(cfg, NULL, r, st);
}

static int cmp_proc_set(const void *a, const void *b)
{
	const struct report_proc *x = *(const struct report_proc *const *)a;
	const struct report_proc *y = *(const struct report_proc *const *)b;
	int c = label_set_cmp(x->labels, x->nlabels, y->labels, y->nlabels);

	if (c)
		return c;
	/* Stable, report order within a set: the report is in pid order. */
	return x < y ? -1 : x > y;
}

int labels_group(const struct report *r, struct labels_group **groups, size_t *ngroups)
{
	const struct report_proc **order = NULL;
	struct labels_group *gs = NULL;
	size_t i, j, ng = 0, nkept = 0;
	int err = 0;

	*groups = NULL;
	*ngroups = 0;
	if (!r->nprocs)
		return 0;
	order = calloc(r->nprocs, sizeof(*order));
	gs = calloc(r->nprocs, sizeof(*gs));
	if (!order || !gs) {
		err = -ENOMEM;
		goto cleanup;
	}
	/* A process without labels was dropped by the rules. */
	for (i = 0; i < r->nprocs; i++) {
		if (r->procs[i].nlabels)
			order[nkept++] = &r->procs[i];
	}
	qsort(order, nkept, sizeof(*order), cmp_proc_set);
	for (i = 0; i < nkept; i = j) {
		struct labels_group *g = &gs[ng++];

		for (j = i + 1;
		     j < nkept && !label_set_cmp(order[i]->labels, order[i]->nlabels,
						     order[j]->labels, order[j]->nlabels);
		     j++)
			;
		g->labels = order[i]->labels;
		g->nlabels = order[i]->nlabels;
		g->procs = calloc(j - i, sizeof(*g->procs));
		if (!g->procs) {
			err = -ENOMEM;
			goto cleanup;
		}
		memcpy(g->procs, &order[i], (j - i) * sizeof(*g->procs));
		g->nprocs = j - i;
	}
	*groups = gs;
	*ngroups = ng;
	gs = NULL;
cleanup:
	if (gs)
		labels_groups_free(gs, ng);
	free(order);
	return err;
}

void labels_groups_free(struct labels_group *groups, size_t n)
{
	size_t i;

	if (!groups)
		return;
	for (i = 0; i < n; i++)
		free(groups[i].procs);
	free(groups);
}
