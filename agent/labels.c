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

int labels_check(const struct cfg *cfg)
{
	size_t i, j, names = 3; /* __name__, service_name, host */
	int err;

	if (cfg->host) {
		err = check_value("host", cfg->host, "--host NAME");
		if (err)
			return err;
	}
	for (i = 0; i < cfg->nlabels; i++) {
		const struct cfg_kv *kv = &cfg->labels[i];

		err = check_name(kv->key);
		if (err)
			return err;
		err = check_value(kv->key, kv->value, "--label NAME=VALUE");
		if (err)
			return err;
		for (j = 0; j < i; j++) {
			if (!strcmp(cfg->labels[j].key, kv->key)) {
				log_err("labels: duplicate label name %.64s; give each --label a "
					"different name",
					kv->key);
				return -EINVAL;
			}
		}
		/* A static service_name replaces the derived one: no new name. */
		if (strcmp(kv->key, "service_name"))
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
	size_t i;

	for (i = 0; i < g->nlabels; i++) {
		if (!strcmp(g->labels[i].key, name))
			return g->labels[i].value;
	}
	return NULL;
}

/* The service a process belongs to, borrowed from p or cfg (not sanitized). */
static const char *service_of(const struct cfg *cfg, const struct report_proc *p)
{
	const char *base;
	size_t i;

	for (i = 0; i < cfg->nlabels; i++) {
		if (!strcmp(cfg->labels[i].key, "service_name"))
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

struct proc_key {
	const struct report_proc *proc;
	char *service; /* sanitized */
};

static int cmp_proc_key(const void *a, const void *b)
{
	const struct proc_key *x = a, *y = b;
	int c = strcmp(x->service, y->service);

	if (c)
		return c;
	/* Stable, report order within a service: the report is in pid order. */
	return x->proc < y->proc ? -1 : x->proc > y->proc;
}

static int cmp_kv(const void *a, const void *b)
{
	const struct cfg_kv *x = a, *y = b;

	return strcmp(x->key, y->key);
}

/* Builds g's label array; keys and values live in the same allocation. */
static int group_labels(const struct cfg *cfg, const char *service, struct labels_group *g)
{
	struct cfg_kv kv[LABELS_MAX_NAMES + 3];
	const char *host = cfg->host ? cfg->host : LABELS_UNKNOWN_HOST;
	size_t n = 0, bytes = 0, i;
	char *p;

	kv[n++] = (struct cfg_kv){ "__name__", LABELS_NAME };
	kv[n++] = (struct cfg_kv){ "service_name", service };
	kv[n++] = (struct cfg_kv){ "host", host };
	/* The static service_name already decided `service`; labels_check
	 * rejected static __* and host names. */
	for (i = 0; i < cfg->nlabels && n < sizeof(kv) / sizeof(kv[0]); i++) {
		if (strcmp(cfg->labels[i].key, "service_name"))
			kv[n++] = cfg->labels[i];
	}
	qsort(kv, n, sizeof(kv[0]), cmp_kv);
	for (i = 0; i < n; i++)
		bytes += strlen(kv[i].key) + strlen(kv[i].value) + 2;
	g->labels = malloc(n * sizeof(kv[0]) + bytes);
	if (!g->labels)
		return -ENOMEM;
	p = (char *)(g->labels + n);
	for (i = 0; i < n; i++) {
		size_t kl = strlen(kv[i].key) + 1, vl = strlen(kv[i].value) + 1;

		g->labels[i].key = memcpy(p, kv[i].key, kl);
		p += kl;
		g->labels[i].value = memcpy(p, kv[i].value, vl);
		p += vl;
	}
	g->nlabels = n;
	return 0;
}

int labels_group(const struct cfg *cfg, const struct report *r, struct labels_group **groups,
		 size_t *ngroups)
{
	struct labels_group *gs = NULL;
	struct proc_key *keys = NULL;
	size_t i, j, ng = 0;
	int err = 0;

	*groups = NULL;
	*ngroups = 0;
	if (!r->nprocs)
		return 0;
	keys = calloc(r->nprocs, sizeof(*keys));
	gs = calloc(r->nprocs, sizeof(*gs));
	if (!keys || !gs) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < r->nprocs; i++) {
		keys[i].proc = &r->procs[i];
		keys[i].service = malloc(LABELS_MAX_VALUE_LEN + 1);
		if (!keys[i].service) {
			err = -ENOMEM;
			goto cleanup;
		}
		if (!utf8_copy(keys[i].service, service_of(cfg, &r->procs[i]),
				      LABELS_MAX_VALUE_LEN))
			strcpy(keys[i].service, LABELS_UNKNOWN_SERVICE);
	}
	/* Every label but service_name is the same for all processes, so equal
	 * service names mean equal label sets. */
	qsort(keys, r->nprocs, sizeof(*keys), cmp_proc_key);
	for (i = 0; i < r->nprocs; i = j) {
		struct labels_group *g = &gs[ng++];

		for (j = i + 1; j < r->nprocs && !strcmp(keys[i].service, keys[j].service); j++)
			;
		g->procs = calloc(j - i, sizeof(*g->procs));
		if (!g->procs) {
			err = -ENOMEM;
			goto cleanup;
		}
		for (g->nprocs = 0; g->nprocs < j - i; g->nprocs++)
			g->procs[g->nprocs] = keys[i + g->nprocs].proc;
		err = group_labels(cfg, keys[i].service, g);
		if (err)
			goto cleanup;
	}
	*groups = gs;
	*ngroups = ng;
	gs = NULL;
cleanup:
	if (gs)
		labels_groups_free(gs, ng);
	if (keys) {
		for (i = 0; i < r->nprocs; i++)
			free(keys[i].service);
		free(keys);
	}
	return err;
}

void labels_groups_free(struct labels_group *groups, size_t n)
{
	size_t i;

	if (!groups)
		return;
	for (i = 0; i < n; i++) {
		free(groups[i].labels);
		free(groups[i].procs);
	}
	free(groups);
}
