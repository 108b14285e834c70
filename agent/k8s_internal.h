/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* k8s_internal.h - what the watcher thread (k8s.c) shares with the pod store (k8s_store.c)
 *
 * The store's functions marked "under mu" are called with k->mu held.
 * Thread: see k8s.h.
 */
#ifndef EMBER_K8S_INTERNAL_H
#define EMBER_K8S_INTERNAL_H

#include <pthread.h>
#include <sys/types.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "k8s.h"

#define K8S_TOKEN_MAX 16384

enum k8s_result { R_OK, R_GONE, R_UNAUTH, R_ERR, R_STOP };

struct k8s {
	struct k8s_opts o;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cond; /* stop and synced */
	bool stop; /* under mu; read unlocked by the transfer callbacks (atomic) */
	/* the store, under mu */
	struct k8s_pod **pods;
	size_t npods;
	struct k8s_stats st;

	/* the thread's own */
	CURL *curl;
	char errbuf[CURL_ERROR_SIZE];
	char rv[128];
	char token[K8S_TOKEN_MAX];
	uint64_t token_read_ns;
	uint32_t backoff_ms;
	bool watching; /* the transfer is a watch */
	long code; /* its HTTP status, once known */
	char *buf; /* a list's body, or an error status body */
	size_t len, cap;
	bool too_large, bad_json;
	enum k8s_result stream_result; /* what an event in the stream asked for */
	struct json_tokener *tok;
	size_t ev_bytes; /* bytes of the event being parsed */
	uint64_t events; /* of this watch */
};

/* The index of the pod with uid, or -1. Under mu. */
ssize_t k8s_store_find(struct k8s *k, const char *uid);
/* Sets st.pods to the live pods. Under mu. */
void k8s_store_count(struct k8s *k);
/* Stores p (taking it), replacing the pod of its uid; past K8S_MAX_PODS
 * it is freed and counted. Under mu. */
void k8s_store_put(struct k8s *k, struct k8s_pod *p);
/* Marks the pod of uid deleted at now (CLOCK_MONOTONIC). Under mu. */
void k8s_store_delete(struct k8s *k, const char *uid, uint64_t now);
/* Frees the pods deleted more than K8S_DELETED_GRACE_S before now. Under mu. */
void k8s_store_sweep(struct k8s *k, uint64_t now);

#endif /* EMBER_K8S_INTERNAL_H */
