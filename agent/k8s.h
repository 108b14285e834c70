/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* k8s.h - the pods of this node, from the Kubernetes API server
 *
 * A thread of its own lists the pods of one node (fieldSelector=
 * spec.nodeName) and then watches them (bookmarks, resourceVersion
 * tracking, a re-list on 410 Gone as a status or as an ERROR event, the
 * token re-read each minute and on 401, capped backoff with jitter), so
 * sampling never waits on the network. What it keeps is a bounded store
 * pod uid -> names, controller, annotations, labels, container id ->
 * name; the window pipeline looks processes up in it by the pod uid and
 * container id their cgroup names (agent/cgroup.h), copying what it needs.
 * A bad or absent API server never stops profiling: processes keep their
 * cgroup labels and the counters say what went wrong.
 * Thread: k8s__new/free and lookups from the main loop; the watcher thread
 * owns the connection; the store is shared under a mutex.
 */
#ifndef EMBER_K8S_H
#define EMBER_K8S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "label.h"
#include "report.h"

struct json_object;

/* The service account directory of in-cluster config. */
#define K8S_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
/* Bounds (docs/operating.md): the list's bytes, one watch event's bytes,
 * pods kept, labels and annotations kept per pod. A list past its bound is
 * refused whole (one line, k8s_errors{reason="too_large"}): the agent keeps
 * its cgroup labels and tries again after a long backoff. */
#define K8S_LIST_MAX_BYTES (16u << 20)
#define K8S_EVENT_MAX_BYTES (2u << 20)
#define K8S_MAX_PODS 2048
#define K8S_MAX_CONTAINERS 64
#define K8S_MAX_KV 64
#define K8S_MAX_VALUE 2048 /* longer annotation values (last-applied-configuration) are left out \
			    */
/* A DELETED pod is kept this long: samples of its last moments still come. */
#define K8S_DELETED_GRACE_S 60
/* The service account token is read again this often (client-go does). */
#define K8S_TOKEN_REREAD_S 60

/* How to reach the API server, from a kubeconfig or in-cluster files. */
struct k8s_config {
	char *server; /* https://host:port, no trailing '/' */
	char *ca_file; /* PEM file, or NULL */
	char *ca_pem; /* PEM bytes (certificate-authority-data), or NULL */
	size_t ca_pem_len;
	bool insecure; /* insecure-skip-tls-verify */
	char *token; /* a static token, or NULL */
	char *token_file; /* read again each minute and on 401, or NULL */
	char *cert_file, *key_file; /* client certificate and key files, or NULL */
	char *cert_pem, *key_pem; /* ... or their bytes */
	size_t cert_pem_len, key_pem_len;
};

void k8s_config_free(struct k8s_config *c);

/* Reads a kubeconfig (YAML, len bytes): current-context -> its cluster
 * (server, certificate-authority[-data], insecure-skip-tls-verify) and
 * user (token, tokenFile, client-certificate[-data], client-key[-data]).
 * Relative paths are taken from base_dir (the file's directory; NULL: as
 * they are). exec and auth-provider users are refused (not supported).
 * 0; -EINVAL with the reason in why (no newline); -ENOMEM. Pure. */
int k8s_kubeconfig_parse(const char *text, size_t len, const char *base_dir, struct k8s_config *out,
			 char *why, size_t whylen);
/* The same for a file. */
int k8s_kubeconfig_load(const char *path, struct k8s_config *out, char *why, size_t whylen);
/* In-cluster config: https://host:port, dir/token (re-read), dir/ca.crt.
 * -ENOENT when host is NULL or dir/token is missing (not in a pod);
 * -EINVAL with why for a bad host or port. */
int k8s_incluster(const char *host, const char *port, const char *dir, struct k8s_config *out,
		  char *why, size_t whylen);

/* One pod as kept in the store. Strings are the pod's own (one arena). */
struct k8s_container {
	char id[65]; /* lower-case hex from status.*containerStatuses[].containerID, or "" */
	const char *name;
	bool init; /* an init or ephemeral container */
};

struct k8s_pod {
	char uid[37];
	const char *ns, *name, *node, *phase; /* phase may be NULL */
	/* The controller, from the ownerReference with controller: true:
	 * kind "deployment" (a ReplicaSet whose name ends in the pod's
	 * pod-template-hash), "replicaset", "statefulset", "daemonset", "job",
	 * or another kind lower-cased; NULL when none. */
	const char *ctrl_kind, *ctrl_name;
	const char *owner_kind; /* the owner's kind as the API says it, or NULL */
	const char *service_name; /* annotation pyroscope.io/service_name, or NULL */
	int8_t profile; /* annotation ember.dev/profile: 1 "true", 0 "false", -1 absent/other */
	struct label *labels, *annotations;
	size_t nlabels, nannotations;
	struct k8s_container *containers;
	size_t ncontainers;
	/* spec.containers' names in order: the container of a process whose
	 * id the status does not name yet, when the pod has only one. */
	size_t nspec;
	const char *spec_first;
	uint64_t deleted_ns; /* CLOCK_MONOTONIC of its DELETED event, 0 while live */
	size_t bytes; /* memory it holds */
	void *mem; /* its arena */
};

/* Reads a v1 Pod object. 0 and *out (free with k8s_pod_free); -EINVAL
 * when it is not a pod with a uid, name and namespace; -ENOMEM. Values
 * past the bounds above are left out, never an error. Pure. */
int k8s_pod_from_json(struct json_object *obj, struct k8s_pod **out);
void k8s_pod_free(struct k8s_pod *p);

enum k8s_event_type {
	K8S_EV_ADDED,
	K8S_EV_MODIFIED,
	K8S_EV_DELETED,
	K8S_EV_BOOKMARK,
	K8S_EV_ERROR,
};

/* One watch event. */
struct k8s_event {
	enum k8s_event_type type;
	char rv[128]; /* the object's metadata.resourceVersion, or "" */
	int code; /* ERROR: the Status's code (410: expired), else 0 */
	char reason[64]; /* ERROR: the Status's reason */
	struct k8s_pod *pod; /* ADDED, MODIFIED, DELETED: the pod (caller frees) */
};

/* Reads a watch event object {"type":..., "object":...}. 0 and *ev;
 * -EINVAL for anything else (an unknown type, a pod event without a
 * valid pod); -ENOMEM. Pure. */
int k8s_event_from_json(struct json_object *obj, struct k8s_event *ev);
/* The same from text (one JSON object, len bytes). For tests and the fuzzer. */
int k8s_event_parse(const char *text, size_t len, struct k8s_event *ev);
/* Reads a v1 PodList: calls fn for each pod (fn takes the pod) and
 * copies metadata.resourceVersion to rv. 0; -EINVAL when not a PodList. */
int k8s_podlist_from_json(struct json_object *obj, char *rv, size_t rvlen,
			  void (*fn)(void *ctx, struct k8s_pod *pod), void *ctx);

/* name with every byte outside [A-Za-z0-9_] as '_' (Prometheus's
 * sanitizing of meta label names), into dst of size n (truncated). */
void k8s_sanitize(char *dst, size_t n, const char *name);

struct k8s_opts {
	struct k8s_config config; /* taken by k8s__new (freed by k8s__free) */
	const char *node; /* spec.nodeName to watch; required */
	uint32_t watch_timeout_s; /* timeoutSeconds of each watch */
	bool annotated_only; /* only pods annotated ember.dev/profile: "true" */
	/* Test hook: the cap on the backoff (default 30 s). */
	uint32_t backoff_max_ms;
};

/* What a lookup found, copied into the report's arena. */
struct k8s_meta {
	const char *ns, *pod, *node, *container, *container_id, *phase;
	const char *ctrl_kind, *ctrl_name;
	const char *service_name; /* the annotation, or NULL */
	bool container_init;
	int8_t profile; /* ember.dev/profile: 1 "true", 0 "false", -1 absent */
	const struct label *labels, *annotations;
	size_t nlabels, nannotations;
};

struct k8s;

/* Starts the watcher thread. NULL with errno (the config is freed then). */
struct k8s *k8s__new(struct k8s_opts *opts);
/* Stops the thread (a transfer in progress is aborted) and frees. Accepts NULL. */
void k8s__free(struct k8s *k);
/* The pod with uid and its container container_id (either may be ""),
 * copied into r. 1 found; 0 not known (yet); -ENOMEM. */
int k8s__lookup(struct k8s *k, const char *uid, const char *container_id, struct report *r,
		struct k8s_meta *out);
/* Whether a process is profiled under the annotation rules, from what
 * k8s__lookup gave (m NULL: the process is in no pod known to the store,
 * or in no pod at all). By default every process but those of pods
 * annotated "false"; with annotated_only, only those of pods annotated
 * "true". */
bool k8s__profiled(const struct k8s *k, const struct k8s_meta *m);
/* Waits until the first list was stored or timeout_ms passed. true when stored. */
bool k8s__wait_synced(struct k8s *k, uint32_t timeout_ms);

enum k8s_err {
	K8S_ERR_CONNECT, /* no connection, DNS */
	K8S_ERR_TLS,
	K8S_ERR_TIMEOUT, /* a stalled or never-ending transfer cut at its deadline */
	K8S_ERR_HTTP, /* a status other than 200, 401 and 410 */
	K8S_ERR_JSON, /* a reply or event that does not parse or is not what it should be */
	K8S_ERR_TOO_LARGE, /* a list or event over its bound */
	K8S_ERR_PODS_CAP, /* pods left out over K8S_MAX_PODS */
	K8S_ERR_OTHER,
	K8S_ERR_N,
};

struct k8s_stats {
	uint64_t lists, watch_restarts, watch_events, gone_410, unauthorized_401;
	uint64_t errors[K8S_ERR_N];
	uint64_t pods; /* gauge: live pods in the store */
	bool synced; /* a list has been stored */
};

void k8s__stats(struct k8s *k, struct k8s_stats *out);
/* "connect", "tls", ... for the counters' labels. */
const char *k8s_err_name(enum k8s_err e);

struct cfg;

/* What --kubernetes, --kubeconfig and --node-name (else $NODE_NAME) ask
 * for, started: *out is the client, or NULL when Kubernetes is off (off,
 * or auto with neither a kubeconfig nor in-cluster config). 0, or -EINVAL
 * after one "ember: error" line (a bad kubeconfig, on without config or
 * node): the caller exits 2. Test hooks: $EMBER_K8S_SA_DIR replaces the
 * service account directory, $EMBER_K8S_BACKOFF_MAX_MS the backoff cap. */
int k8s_setup(const struct cfg *cfg, struct k8s **out);

#endif /* EMBER_K8S_H */
