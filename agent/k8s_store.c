// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* k8s_store.c - the pods of the node, by uid: filled by the watcher, read at each window end
 *
 * An array under the client's mutex: a node runs a few hundred pods at
 * most, and each process is looked up once per window. A lookup copies
 * what it found into the window's report, so nothing borrowed outlives
 * the lock. Deleted pods stay for a grace period.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "k8s_internal.h"
#include "log.h"

ssize_t k8s_store_find(struct k8s *k, const char *uid)
{
	size_t i;

	for (i = 0; i < k->npods; i++)
		if (!strcmp(k->pods[i]->uid, uid))
			return (ssize_t)i;
	return -1;
}

void k8s_store_count(struct k8s *k)
{
	size_t i, n = 0;

	for (i = 0; i < k->npods; i++)
		n += !k->pods[i]->deleted_ns;
	k->st.pods = n;
}

/* Takes p. Under mu. */
void k8s_store_put(struct k8s *k, struct k8s_pod *p)
{
	ssize_t i = k8s_store_find(k, p->uid);

	if (i >= 0) {
		k8s_pod_free(k->pods[i]);
		k->pods[i] = p;
		return;
	}
	if (k->npods == K8S_MAX_PODS) {
		k->st.errors[K8S_ERR_PODS_CAP]++;
		log_warn_ratelimited("k8s: more than %d pods on this node; pod %.64s/%.64s is left "
				     "out and its processes keep their cgroup labels",
				     K8S_MAX_PODS, p->ns, p->name);
		k8s_pod_free(p);
		return;
	}
	k->pods[k->npods++] = p;
}

void k8s_store_delete(struct k8s *k, const char *uid, uint64_t now)
{
	ssize_t i = k8s_store_find(k, uid);

	if (i >= 0 && !k->pods[i]->deleted_ns)
		k->pods[i]->deleted_ns = now ? now : 1;
}

/* Drops pods deleted more than the grace ago. Under mu. */
void k8s_store_sweep(struct k8s *k, uint64_t now)
{
	size_t i, j = 0;

	for (i = 0; i < k->npods; i++) {
		struct k8s_pod *p = k->pods[i];

		if (p->deleted_ns && now - p->deleted_ns > K8S_DELETED_GRACE_S * CLOCK_NS_PER_SEC)
			k8s_pod_free(p);
		else
			k->pods[j++] = p;
	}
	k->npods = j;
}

bool k8s__wait_synced(struct k8s *k, uint32_t timeout_ms)
{
	uint64_t until = clock_ns(CLOCK_MONOTONIC) + (uint64_t)timeout_ms * 1000000ull;
	struct timespec ts = { (time_t)(until / CLOCK_NS_PER_SEC),
			       (long)(until % CLOCK_NS_PER_SEC) };
	bool synced;

	pthread_mutex_lock(&k->mu);
	while (!k->st.synced && !k->stop)
		if (pthread_cond_timedwait(&k->cond, &k->mu, &ts) == ETIMEDOUT)
			break;
	synced = k->st.synced;
	pthread_mutex_unlock(&k->mu);
	return synced;
}

static const char *rdup(struct report *r, const char *s)
{
	return s ? report__strdup(r, s) : NULL;
}

static int copy_kv(struct report *r, const struct label *in, size_t n, const struct label **out,
		   size_t *nout)
{
	struct label *v;
	size_t i;

	*out = NULL;
	*nout = 0;
	if (!n)
		return 0;
	v = report__alloc(r, n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		v[i].name = report__strdup(r, in[i].name);
		v[i].value = report__strdup(r, in[i].value);
		if (!v[i].name || !v[i].value)
			return -ENOMEM;
	}
	*out = v;
	*nout = n;
	return 0;
}

int k8s__lookup(struct k8s *k, const char *uid, const char *cid, struct report *r,
		struct k8s_meta *out)
{
	const struct k8s_pod *p;
	const char *cname = NULL;
	ssize_t i;
	size_t j;
	int err = 0;

	memset(out, 0, sizeof(*out));
	out->profile = -1;
	if (!uid || !uid[0])
		return 0;
	pthread_mutex_lock(&k->mu);
	i = k8s_store_find(k, uid);
	if (i < 0)
		goto unlock;
	p = k->pods[i];
	for (j = 0; cid && cid[0] && j < p->ncontainers; j++) {
		if (!strcmp(p->containers[j].id, cid)) {
			cname = p->containers[j].name;
			out->container_init = p->containers[j].init;
			break;
		}
	}
	/* The status may not name a new container's id yet: a pod of one
	 * container can only be running that one. */
	if (!cname && p->nspec == 1 && cid && cid[0])
		cname = p->spec_first;
	out->profile = p->profile;
	err = -ENOMEM;
	if (!(out->ns = rdup(r, p->ns)) || !(out->pod = rdup(r, p->name)))
		goto unlock;
	if ((p->node && !(out->node = rdup(r, p->node))) ||
	    (p->phase && !(out->phase = rdup(r, p->phase))) ||
	    (cname && !(out->container = rdup(r, cname))) ||
	    (cid && cid[0] && !(out->container_id = rdup(r, cid))) ||
	    (p->ctrl_kind && !(out->ctrl_kind = rdup(r, p->ctrl_kind))) ||
	    (p->ctrl_name && !(out->ctrl_name = rdup(r, p->ctrl_name))) ||
	    (p->service_name && !(out->service_name = rdup(r, p->service_name))))
		goto unlock;
	if (copy_kv(r, p->labels, p->nlabels, &out->labels, &out->nlabels) ||
	    copy_kv(r, p->annotations, p->nannotations, &out->annotations, &out->nannotations))
		goto unlock;
	err = 1;
unlock:
	pthread_mutex_unlock(&k->mu);
	return err;
}

bool k8s__profiled(const struct k8s *k, const struct k8s_meta *m)
{
	if (k->o.annotated_only)
		return m && m->profile == 1;
	return !m || m->profile != 0;
}

void k8s__stats(struct k8s *k, struct k8s_stats *out)
{
	pthread_mutex_lock(&k->mu);
	*out = k->st;
	pthread_mutex_unlock(&k->mu);
}
