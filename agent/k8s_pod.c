// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* k8s_pod.c - v1 Pod, PodList and watch event JSON into what the store keeps
 *
 * Reads only the fields the labels need (k8s.io/api core/v1 types.go):
 * metadata (name, namespace, uid, labels, annotations, ownerReferences),
 * spec (nodeName, containers' names), status (phase, the containerID of
 * every container status: regular, init and ephemeral). Every value is
 * type-checked and bounded; anything else in the object is ignored. The
 * API server is trusted for nothing. Pure; any thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "k8s.h"
#include "utf8.h"

#define K8S_MAX_NAME 512 /* names, namespaces, kinds: the API allows 253 */

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_is_type(o, json_type_object))
		return NULL;
	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* A string field, or NULL when missing, not a string, empty or over max. */
static const char *str(struct json_object *o, const char *key, size_t max)
{
	struct json_object *v = get(o, key);
	const char *s;

	if (!v || !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	if (!s || !s[0] || (size_t)json_object_get_string_len(v) > max ||
	    strlen(s) != (size_t)json_object_get_string_len(v))
		return NULL; /* an embedded NUL is not a name */
	/* Label values and relabel rules' PCRE2 take UTF-8 unchecked: json-c
	 * passes invalid bytes through. */
	if (!utf8_valid(s, strlen(s)))
		return NULL;
	return s;
}

static const char *dup(struct k8s_pod *p, const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (d)
		p->bytes += strlen(s) + 1 + 16;
	return d;
}

#define FREE_CONST(x) free((void *)(uintptr_t)(x))

void k8s_pod_free(struct k8s_pod *p)
{
	size_t i;

	if (!p)
		return;
	FREE_CONST(p->ns);
	FREE_CONST(p->name);
	FREE_CONST(p->node);
	FREE_CONST(p->phase);
	FREE_CONST(p->ctrl_kind);
	FREE_CONST(p->ctrl_name);
	FREE_CONST(p->owner_kind);
	FREE_CONST(p->service_name);
	FREE_CONST(p->spec_first);
	for (i = 0; i < p->nlabels; i++) {
		FREE_CONST(p->labels[i].name);
		FREE_CONST(p->labels[i].value);
	}
	for (i = 0; i < p->nannotations; i++) {
		FREE_CONST(p->annotations[i].name);
		FREE_CONST(p->annotations[i].value);
	}
	for (i = 0; i < p->ncontainers; i++)
		FREE_CONST(p->containers[i].name);
	free(p->labels);
	free(p->annotations);
	free(p->containers);
	free(p);
}

/* A map of strings (labels, annotations), bounded in count and value size. */
static int read_map(struct k8s_pod *p, struct json_object *m, struct label **out, size_t *n)
{
	size_t cap;

	*out = NULL;
	*n = 0;
	if (!m || !json_object_is_type(m, json_type_object))
		return 0;
	cap = json_object_object_length(m);
	if (cap > K8S_MAX_KV)
		cap = K8S_MAX_KV;
	if (!cap)
		return 0;
	*out = calloc(cap, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	p->bytes += cap * sizeof(**out);
	json_object_object_foreach(m, key, val)
	{
		const char *v;
		struct label *l;

		if (*n == cap)
			break;
		if (!json_object_is_type(val, json_type_string))
			continue;
		v = json_object_get_string(val);
		if (!key[0] || strlen(key) > K8S_MAX_NAME || strlen(v) > K8S_MAX_VALUE ||
		    strlen(v) != (size_t)json_object_get_string_len(val) ||
		    !utf8_valid(key, strlen(key)) || !utf8_valid(v, strlen(v)))
			continue;
		l = &(*out)[(*n)++];
		l->name = dup(p, key);
		l->value = dup(p, v);
		if (!l->name || !l->value)
			return -ENOMEM;
	}
	return 0;
}

static const char *kv_get(const struct label *kv, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(kv[i].name, name))
			return kv[i].value;
	return NULL;
}

/* "containerd://<64 hex>" (cri-o://, docker://, ...) -> the id; false otherwise. */
static bool container_id(const char *s, char id[65])
{
	const char *sep = s ? strstr(s, "://") : NULL;
	size_t i;

	if (!sep || strlen(sep + 3) != 64)
		return false;
	for (i = 0; i < 64; i++) {
		char c = sep[3 + i];

		if (c >= 'A' && c <= 'F')
			c = c - 'A' + 'a';
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
		id[i] = c;
	}
	id[64] = '\0';
	return true;
}

static size_t array_len(struct json_object *list)
{
	return list && json_object_is_type(list, json_type_array) ? json_object_array_length(list) :
								    0;
}

static int read_statuses(struct k8s_pod *p, struct json_object *list, bool init, size_t cap)
{
	size_t i, n = array_len(list);

	for (i = 0; i < n && p->ncontainers < cap; i++) {
		struct json_object *cs = json_object_array_get_idx(list, i);
		const char *name = str(cs, "name", K8S_MAX_NAME);
		struct k8s_container *c = &p->containers[p->ncontainers];

		if (!name)
			continue;
		/* Early in a container's life its id is still empty: the name
		 * is kept for the one-container fallback only. */
		if (!container_id(str(cs, "containerID", 256), c->id))
			continue;
		c->init = init;
		if (!(c->name = dup(p, name)))
			return -ENOMEM;
		p->ncontainers++;
	}
	return 0;
}

/* The controller: the ownerReference with controller: true. A ReplicaSet
 * made by a Deployment is named <deployment>-<pod-template-hash>, and the
 * pod carries that hash as a label: strip it only then (a bare ReplicaSet
 * keeps its name). */
static int read_owner(struct k8s_pod *p, struct json_object *refs)
{
	const char *kind = NULL, *name = NULL, *hash;
	char lower[64], *deploy;
	size_t i, n, hl, nl;

	if (!refs || !json_object_is_type(refs, json_type_array))
		return 0;
	n = json_object_array_length(refs);
	for (i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(refs, i);
		struct json_object *c = get(r, "controller");

		if (c && json_object_is_type(c, json_type_boolean) && json_object_get_boolean(c)) {
			kind = str(r, "kind", 63);
			name = str(r, "name", K8S_MAX_NAME);
			break;
		}
	}
	if (!kind || !name)
		return 0;
	if (!(p->owner_kind = dup(p, kind)))
		return -ENOMEM;
	hash = kv_get(p->labels, p->nlabels, "pod-template-hash");
	hl = hash ? strlen(hash) : 0;
	nl = strlen(name);
	if (!strcmp(kind, "ReplicaSet") && hl && nl > hl + 1 && name[nl - hl - 1] == '-' &&
	    !strcmp(name + nl - hl, hash)) {
		deploy = strndup(name, nl - hl - 1);
		if (!deploy)
			return -ENOMEM;
		p->ctrl_kind = dup(p, "deployment");
		p->ctrl_name = dup(p, deploy);
		free(deploy);
	} else {
		for (i = 0; kind[i] && i < sizeof(lower) - 1; i++)
			lower[i] =
				(kind[i] >= 'A' && kind[i] <= 'Z') ? kind[i] - 'A' + 'a' : kind[i];
		lower[i] = '\0';
		p->ctrl_kind = dup(p, lower);
		p->ctrl_name = dup(p, name);
	}
	return p->ctrl_kind && p->ctrl_name ? 0 : -ENOMEM;
}

static bool uid_valid(const char *s)
{
	size_t i;

	if (!s || strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return false;
		}
	}
	return true;
}

int k8s_pod_from_json(struct json_object *obj, struct k8s_pod **out)
{
	struct json_object *md = get(obj, "metadata"), *spec = get(obj, "spec");
	struct json_object *status = get(obj, "status"), *ctrs;
	const char *uid = str(md, "uid", 64), *prof;
	struct k8s_pod *p;
	struct json_object *cs = get(status, "containerStatuses");
	struct json_object *ics = get(status, "initContainerStatuses");
	struct json_object *ecs = get(status, "ephemeralContainerStatuses");
	/* Room for every status, bounded: one exact allocation (a large one
	 * per event would make malloc consolidate its free lists each time). */
	size_t ncap = array_len(cs) + array_len(ics) + array_len(ecs);
	int err;

	*out = NULL;
	/* A pod uid as the kubelet writes it into cgroup paths: lower-case
	 * 8-4-4-4-12. Anything else can never match a process. */
	if (!uid_valid(uid) || !str(md, "name", K8S_MAX_NAME) ||
	    !str(md, "namespace", K8S_MAX_NAME))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->bytes = sizeof(*p);
	memcpy(p->uid, uid, 37);
	err = -ENOMEM;
	if (ncap > K8S_MAX_CONTAINERS)
		ncap = K8S_MAX_CONTAINERS;
	if (ncap && !(p->containers = calloc(ncap, sizeof(*p->containers))))
		goto cleanup;
	if (!(p->name = dup(p, str(md, "name", K8S_MAX_NAME))) ||
	    !(p->ns = dup(p, str(md, "namespace", K8S_MAX_NAME))))
		goto cleanup;
	if (str(spec, "nodeName", K8S_MAX_NAME) &&
	    !(p->node = dup(p, str(spec, "nodeName", K8S_MAX_NAME))))
		goto cleanup;
	if (str(status, "phase", 64) && !(p->phase = dup(p, str(status, "phase", 64))))
		goto cleanup;
	if ((err = read_map(p, get(md, "labels"), &p->labels, &p->nlabels)) ||
	    (err = read_map(p, get(md, "annotations"), &p->annotations, &p->nannotations)) ||
	    (err = read_owner(p, get(md, "ownerReferences"))) ||
	    (err = read_statuses(p, cs, false, ncap)) ||
	    (err = read_statuses(p, ics, true, ncap)) || (err = read_statuses(p, ecs, true, ncap)))
		goto cleanup;
	err = -ENOMEM;
	ctrs = get(spec, "containers");
	if (ctrs && json_object_is_type(ctrs, json_type_array)) {
		p->nspec = json_object_array_length(ctrs);
		if (p->nspec && str(json_object_array_get_idx(ctrs, 0), "name", K8S_MAX_NAME) &&
		    !(p->spec_first = dup(
			      p, str(json_object_array_get_idx(ctrs, 0), "name", K8S_MAX_NAME))))
			goto cleanup;
	}
	p->bytes += ncap * sizeof(*p->containers);
	if (p->annotations) {
		const char *sn =
			kv_get(p->annotations, p->nannotations, "pyroscope.io/service_name");

		if (sn && sn[0] && !(p->service_name = dup(p, sn)))
			goto cleanup;
	}
	prof = kv_get(p->annotations, p->nannotations, "ember.dev/profile");
	p->profile = !prof			? -1 :
		     !strcasecmp(prof, "true")	? 1 :
		     !strcasecmp(prof, "false") ? 0 :
						  -1;
	*out = p;
	return 0;
cleanup:
	k8s_pod_free(p);
	return err;
}

static const char *const event_types[] = {
	[K8S_EV_ADDED] = "ADDED",     [K8S_EV_MODIFIED] = "MODIFIED",
	[K8S_EV_DELETED] = "DELETED", [K8S_EV_BOOKMARK] = "BOOKMARK",
	[K8S_EV_ERROR] = "ERROR",
};

int k8s_event_from_json(struct json_object *obj, struct k8s_event *ev)
{
	const char *type = str(obj, "type", 16), *rv, *reason;
	struct json_object *o = get(obj, "object"), *code;
	size_t i;

	memset(ev, 0, sizeof(*ev));
	if (!type || !o || !json_object_is_type(o, json_type_object))
		return -EINVAL;
	for (i = 0; i < sizeof(event_types) / sizeof(event_types[0]); i++)
		if (!strcmp(type, event_types[i]))
			break;
	if (i == sizeof(event_types) / sizeof(event_types[0]))
		return -EINVAL;
	ev->type = (enum k8s_event_type)i;
	rv = str(get(o, "metadata"), "resourceVersion", sizeof(ev->rv) - 1);
	if (rv)
		snprintf(ev->rv, sizeof(ev->rv), "%s", rv);
	switch (ev->type) {
	case K8S_EV_ERROR:
		code = get(o, "code");
		if (code && json_object_is_type(code, json_type_int))
			ev->code = json_object_get_int(code);
		reason = str(o, "reason", sizeof(ev->reason) - 1);
		snprintf(ev->reason, sizeof(ev->reason), "%s", reason ? reason : "");
		return 0;
	case K8S_EV_BOOKMARK:
		/* A bookmark is worth only its resourceVersion. */
		return ev->rv[0] ? 0 : -EINVAL;
	default:
		return k8s_pod_from_json(o, &ev->pod);
	}
}

int k8s_event_parse(const char *text, size_t len, struct k8s_event *ev)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *obj;
	int err;

	memset(ev, 0, sizeof(*ev));
	if (!tok)
		return -ENOMEM;
	obj = json_tokener_parse_ex(tok, text, (int)(len > 0x7fffffff ? 0x7fffffff : len));
	if (!obj || json_tokener_get_error(tok) != json_tokener_success)
		err = -EINVAL;
	else
		err = k8s_event_from_json(obj, ev);
	json_object_put(obj);
	json_tokener_free(tok);
	return err;
}

int k8s_podlist_from_json(struct json_object *obj, char *rv, size_t rvlen,
			  void (*fn)(void *ctx, struct k8s_pod *pod), void *ctx)
{
	struct json_object *items = get(obj, "items");
	const char *v = str(get(obj, "metadata"), "resourceVersion", rvlen - 1);
	size_t i, n;

	if (!v || !items || !json_object_is_type(items, json_type_array))
		return -EINVAL;
	snprintf(rv, rvlen, "%s", v);
	n = json_object_array_length(items);
	for (i = 0; i < n; i++) {
		struct k8s_pod *p;
		int err = k8s_pod_from_json(json_object_array_get_idx(items, i), &p);

		if (err == -ENOMEM)
			return err;
		if (!err)
			fn(ctx, p);
	}
	return 0;
}

void k8s_sanitize(char *dst, size_t n, const char *name)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; name[i] && i < n - 1; i++) {
		char c = name[i];

		dst[i] =
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ?
				c :
				'_';
	}
	dst[i] = '\0';
}
