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
#include <stdlib.h>
#include <string.h>

#include "labels.h"
#include "log.h"
#include "utf8.h"

#define LABELS_NAME "process_cpu"
#define LABELS_UNKNOWN_HOST "unknown"
#define LABELS_UNKNOWN_SERVICE "unknown_service"

static bool name_charset_ok(const char *s)
{
	const char *p;

	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (p = s + 1; *p; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	}
	return true;
}

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
	if (!utf8_valid(name, len) || !name_charset_ok(name)) {
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

/* p's label set, in r's arena: __name__ (the report's type), service_name,
 * host, where it runs (unit, container_id, pod_uid, container_runtime, each
 * when known and not given statically) and the static labels, sorted by name. */
static int assign_one(const struct cfg *cfg, struct report *r, struct report_proc *p)
{
	const char *host = cfg->host ? cfg->host : LABELS_UNKNOWN_HOST;
	char service[LABELS_MAX_VALUE_LEN + 1];
	struct label *set;
	size_t n = 0, i;

	const char *derived[LABELS_DERIVED] = { p->unit && p->unit[0] ? p->unit : NULL,
						p->container_id, p->pod_uid, p->container_runtime };

	set = report__alloc(r, (cfg->nlabels + 3 + LABELS_DERIVED) * sizeof(*set));
	if (!set)
		return -ENOMEM;
	if (!utf8_copy(service, service_of(cfg, p), LABELS_MAX_VALUE_LEN))
		strcpy(service, LABELS_UNKNOWN_SERVICE);
	set[n++] = (struct label){ "__name__", r->type.name ? r->type.name : LABELS_NAME };
	set[n++] = (struct label){ "service_name", report__strdup(r, service) };
	set[n++] = (struct label){ "host", host };
	if (!set[1].value)
		return -ENOMEM;
	/* The unit's name comes from the kernel: sanitized like service_name.
	 * Container ids, uids and runtimes are checked hex or constants. */
	for (i = 0; i < LABELS_DERIVED; i++) {
		if (!derived[i] || is_static(cfg, derived_names[i]))
			continue;
		if (i == 0) {
			if (!utf8_copy(service, derived[i], LABELS_MAX_VALUE_LEN))
				continue;
			derived[i] = report__strdup(r, service);
			if (!derived[i])
				return -ENOMEM;
		}
		set[n++] = (struct label){ derived_names[i], derived[i] };
	}
	/* The static service_name already decided service; labels_check
	 * rejected static __* and host names. cfg outlives the report. */
	for (i = 0; i < cfg->nlabels; i++) {
		if (strcmp(cfg->labels[i].name, "service_name"))
			set[n++] = cfg->labels[i];
	}
	qsort(set, n, sizeof(*set), label_cmp_name);
	p->labels = set;
	p->nlabels = n;
	return 0;
}

int labels_assign(const struct cfg *cfg, struct report *r)
{
	size_t i;
	int err;

	for (i = 0; i < r->nprocs; i++) {
		err = assign_one(cfg, r, &r->procs[i]);
		if (err)
			return err;
	}
	return 0;
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
	size_t i, j, ng = 0;
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
	for (i = 0; i < r->nprocs; i++)
		order[i] = &r->procs[i];
	qsort(order, r->nprocs, sizeof(*order), cmp_proc_set);
	for (i = 0; i < r->nprocs; i = j) {
		struct labels_group *g = &gs[ng++];

		for (j = i + 1;
		     j < r->nprocs && !label_set_cmp(order[i]->labels, order[i]->nlabels,
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
