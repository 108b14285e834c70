// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* k8s.c - the watcher thread: list the node's pods, then watch them
 *
 * One thread, one libcurl handle: list the node's pods, watch from the
 * list's resourceVersion, follow every event's and bookmark's version,
 * re-watch when a watch ends, re-list on 410 (a status or an ERROR event),
 * and back off (capped, with jitter) on anything else. A watch is cut at
 * 1.25 x its timeoutSeconds: a server that never ends one, or stalls, does
 * not hold the thread. What it learns goes to the pod store (k8s_store.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "clock.h"
#include "file.h"
#include "k8s.h"
#include "k8s_internal.h"
#include "log.h"

#define K8S_CONNECT_TIMEOUT_MS 5000
#define K8S_LIST_TIMEOUT_S 60
#define K8S_BACKOFF_MIN_MS 500
#define K8S_BACKOFF_MAX_MS 30000
#define K8S_ERRBODY_MAX 4096
/* A watch that ends sooner than this is followed after a backoff, not at
 * once: a server that closes every watch at once is not hammered. */
#define K8S_WATCH_MIN_MS 1000

static const char *const err_names[K8S_ERR_N] = {
	"connect", "tls", "timeout", "http", "json", "too_large", "pods_cap", "other",
};

const char *k8s_err_name(enum k8s_err e)
{
	return (unsigned)e < K8S_ERR_N ? err_names[e] : "other";
}

static bool stopping(struct k8s *k)
{
	return __atomic_load_n(&k->stop, __ATOMIC_RELAXED);
}

static void count_err(struct k8s *k, enum k8s_err e)
{
	pthread_mutex_lock(&k->mu);
	k->st.errors[e]++;
	pthread_mutex_unlock(&k->mu);
}

/* --- transfers ----------------------------------------------------------- */

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	return stopping(ctx) ? 1 : 0;
}

/* Keeps up to max bytes in k->buf; false past it. */
static bool keep(struct k8s *k, const char *p, size_t n, size_t max)
{
	char *nb;
	size_t ncap;

	if (k->len + n > max)
		return false;
	if (k->len + n + 1 > k->cap) {
		ncap = k->cap ? k->cap : 65536;
		while (ncap < k->len + n + 1)
			ncap *= 2;
		if (ncap > max + 1)
			ncap = max + 1;
		nb = realloc(k->buf, ncap);
		if (!nb)
			return false;
		k->buf = nb;
		k->cap = ncap;
	}
	memcpy(k->buf + k->len, p, n);
	k->len += n;
	k->buf[k->len] = '\0';
	return true;
}

static void handle_event(struct k8s *k, struct json_object *obj)
{
	struct k8s_event ev;
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	int err = k8s_event_from_json(obj, &ev);

	if (err) {
		/* One bad pod is not a reason to drop the stream. */
		count_err(k, K8S_ERR_JSON);
		log_warn_ratelimited("k8s: a watch event is not a pod event ember can read; it is "
				     "skipped err=%d",
				     err);
		return;
	}
	pthread_mutex_lock(&k->mu);
	k->st.watch_events++;
	switch (ev.type) {
	case K8S_EV_ADDED:
	case K8S_EV_MODIFIED:
		k8s_store_put(k, ev.pod);
		ev.pod = NULL;
		break;
	case K8S_EV_DELETED:
		k8s_store_delete(k, ev.pod->uid, now);
		break;
	case K8S_EV_BOOKMARK:
		break;
	case K8S_EV_ERROR:
		if (ev.code == 410) {
			k->stream_result = R_GONE;
		} else {
			k->stream_result = R_ERR;
			k->st.errors[K8S_ERR_HTTP]++;
			log_warn_ratelimited(
				"k8s: the watch reported an error code=%d reason=%.64s", ev.code,
				ev.reason);
		}
		break;
	}
	k8s_store_sweep(k, now);
	k8s_store_count(k);
	pthread_mutex_unlock(&k->mu);
	if (ev.type != K8S_EV_ERROR && ev.rv[0])
		snprintf(k->rv, sizeof(k->rv), "%s", ev.rv);
	k8s_pod_free(ev.pod);
	k->events++;
}

/* A watch's body: a stream of JSON objects, cut anywhere by the network. */
static size_t on_watch_body(struct k8s *k, const char *p, size_t n)
{
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t used;

	while (n) {
		if (!k->ev_bytes) {
			while (n && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
				p++, n--;
			if (!n)
				break;
		}
		obj = json_tokener_parse_ex(k->tok, p, (int)(n > 0x40000000 ? 0x40000000 : n));
		jerr = json_tokener_get_error(k->tok);
		if (jerr == json_tokener_continue) {
			k->ev_bytes += n;
			if (k->ev_bytes > K8S_EVENT_MAX_BYTES) {
				k->too_large = true;
				return 0;
			}
			break;
		}
		if (jerr != json_tokener_success || !obj) {
			json_object_put(obj);
			k->bad_json = true;
			return 0;
		}
		used = json_tokener_get_parse_end(k->tok);
		json_tokener_reset(k->tok);
		k->ev_bytes = 0;
		handle_event(k, obj);
		json_object_put(obj);
		if (used > n)
			used = n;
		p += used;
		n -= used;
		/* 410 inside the stream: re-list now, the rest is history. */
		if (k->stream_result != R_OK)
			return 0;
	}
	return 1;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct k8s *k = ctx;
	size_t n = size * nmemb;

	if (!k->code)
		curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &k->code);
	if (k->code != 200) {
		/* An error's Status: kept for the log line, bounded. */
		keep(k, p, n, K8S_ERRBODY_MAX);
		return n;
	}
	if (k->watching)
		return on_watch_body(k, p, n) ? n : 0;
	if (!keep(k, p, n, K8S_LIST_MAX_BYTES)) {
		k->too_large = true;
		return 0;
	}
	return n;
}

/* The token file, read again (the kubelet swaps a symlink). */
static void read_token(struct k8s *k)
{
	char *buf;
	ssize_t n;

	k->token_read_ns = clock_ns(CLOCK_MONOTONIC);
	if (!k->o.config.token_file)
		return;
	buf = malloc(K8S_TOKEN_MAX);
	if (!buf)
		return;
	n = file_read(k->o.config.token_file, buf, K8S_TOKEN_MAX);
	if (n < 0) {
		log_warn_ratelimited("k8s: cannot read the token file %s err=%d; the last token "
				     "stays",
				     k->o.config.token_file, (int)n);
		free(buf);
		return;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	memcpy(k->token, buf, (size_t)n + 1);
	free(buf);
}

static enum k8s_err curl_err(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return K8S_ERR_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return K8S_ERR_TIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return K8S_ERR_TLS;
	default:
		return K8S_ERR_OTHER;
	}
}

/* One GET of url. R_OK with a 200 (the body handled as it came); the
 * other results counted and logged here. */
static enum k8s_result get(struct k8s *k, const char *url, bool watch, long timeout_ms)
{
	struct curl_slist *hdrs = NULL;
	char *auth = NULL;
	CURLcode rc;

	k->watching = watch;
	k->code = 0;
	k->len = 0;
	k->too_large = k->bad_json = false;
	k->stream_result = R_OK;
	k->ev_bytes = 0;
	k->events = 0;
	json_tokener_reset(k->tok);
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (k->token[0] && asprintf(&auth, "Authorization: Bearer %s", k->token) >= 0) {
		struct curl_slist *h = curl_slist_append(hdrs, auth);

		if (h)
			hdrs = h;
	}
	curl_easy_setopt(k->curl, CURLOPT_URL, url);
	curl_easy_setopt(k->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(k->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	k->errbuf[0] = '\0';
	rc = curl_easy_perform(k->curl);
	curl_slist_free_all(hdrs);
	if (auth) {
		/* The token does not stay in freed memory. */
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	if (!k->code)
		curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &k->code);
	if (stopping(k))
		return R_STOP;
	if (k->stream_result != R_OK)
		return k->stream_result;
	if (k->too_large) {
		count_err(k, K8S_ERR_TOO_LARGE);
		log_err("k8s: %s is over %u bytes and is refused; processes keep their cgroup "
			"labels",
			watch ? "a watch event" : "the pod list",
			watch ? K8S_EVENT_MAX_BYTES : K8S_LIST_MAX_BYTES);
		return R_ERR;
	}
	if (k->bad_json) {
		count_err(k, K8S_ERR_JSON);
		log_warn_ratelimited("k8s: the watch stream is not JSON; watching again");
		return R_ERR;
	}
	if (k->code == 401) {
		pthread_mutex_lock(&k->mu);
		k->st.unauthorized_401++;
		pthread_mutex_unlock(&k->mu);
		log_warn_ratelimited("k8s: the API server says 401 Unauthorized; reading the token "
				     "again");
		return R_UNAUTH;
	}
	if (k->code == 410)
		return R_GONE;
	/* A watch cut at its deadline (the server kept it past its
	 * timeoutSeconds, or it stalled) is counted, then watched again
	 * from the last version: what came before it is good. */
	if (watch && rc == CURLE_OPERATION_TIMEDOUT && k->code == 200) {
		count_err(k, K8S_ERR_TIMEOUT);
		log_info("k8s: a watch outlived its timeout and was cut; watching again");
		return R_OK;
	}
	if (rc != CURLE_OK) {
		count_err(k, curl_err(rc));
		log_warn_ratelimited("k8s: GET %s failed: %s", watch ? "watch" : "list",
				     k->errbuf[0] ? k->errbuf : curl_easy_strerror(rc));
		return R_ERR;
	}
	if (k->code != 200) {
		count_err(k, K8S_ERR_HTTP);
		log_warn_ratelimited("k8s: GET %s answered %ld: %.200s", watch ? "watch" : "list",
				     k->code, k->len ? k->buf : "");
		return R_ERR;
	}
	return R_OK;
}

static char *pods_url(struct k8s *k, const char *extra)
{
	char *node = curl_easy_escape(k->curl, k->o.node, 0), *url = NULL;

	if (!node)
		return NULL;
	if (asprintf(&url, "%s/api/v1/pods?fieldSelector=spec.nodeName%%3D%s%s", k->o.config.server,
		     node, extra) < 0)
		url = NULL;
	curl_free(node);
	return url;
}

struct list_ctx {
	struct k8s_pod **pods;
	size_t n;
	uint64_t over;
};

static void on_list_pod(void *ctx, struct k8s_pod *p)
{
	struct list_ctx *l = ctx;

	if (l->n == K8S_MAX_PODS) {
		l->over++;
		k8s_pod_free(p);
		return;
	}
	l->pods[l->n++] = p;
}

static enum k8s_result do_list(struct k8s *k, bool fresh)
{
	struct list_ctx l = { 0 };
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL;
	enum k8s_result r;
	char rv[128], *url;
	uint64_t now;
	size_t i;
	int err;

	/* resourceVersion=0: the API server's cache answers, not etcd (a
	 * DaemonSet's agents all start at once). After a 410 the cache may be
	 * as old as what expired: then a consistent read. */
	url = pods_url(k, fresh ? "" : "&resourceVersion=0");
	if (!url)
		return R_ERR;
	r = get(k, url, false, K8S_LIST_TIMEOUT_S * 1000L);
	free(url);
	pthread_mutex_lock(&k->mu);
	k->st.lists++;
	pthread_mutex_unlock(&k->mu);
	if (r != R_OK)
		return r;
	l.pods = calloc(K8S_MAX_PODS, sizeof(*l.pods));
	tok = json_tokener_new_ex(64);
	if (!l.pods || !tok) {
		r = R_ERR;
		goto cleanup;
	}
	obj = json_tokener_parse_ex(tok, k->buf ? k->buf : "", (int)k->len);
	err = !obj || json_tokener_get_error(tok) != json_tokener_success ?
		      -EINVAL :
		      k8s_podlist_from_json(obj, rv, sizeof(rv), on_list_pod, &l);
	/* The parsed tree and the body can be megabytes: gone before the
	 * store is built. */
	json_object_put(obj);
	obj = NULL;
	free(k->buf);
	k->buf = NULL;
	k->len = k->cap = 0;
	if (err) {
		count_err(k, K8S_ERR_JSON);
		log_warn_ratelimited("k8s: the pod list is not a v1 PodList err=%d; listing again "
				     "later",
				     err);
		r = R_ERR;
		goto cleanup;
	}
	now = clock_ns(CLOCK_MONOTONIC);
	pthread_mutex_lock(&k->mu);
	/* Pods gone since the last list are kept as deleted for the grace:
	 * their last samples may still come. */
	for (i = 0; i < k->npods; i++) {
		struct k8s_pod *p = k->pods[i];
		size_t j;

		for (j = 0; j < l.n && strcmp(l.pods[j]->uid, p->uid); j++)
			;
		if (j == l.n && l.n < K8S_MAX_PODS) {
			if (!p->deleted_ns)
				p->deleted_ns = now;
			l.pods[l.n++] = p;
		} else {
			k8s_pod_free(p);
		}
	}
	free(k->pods);
	k->pods = l.pods;
	k->npods = l.n;
	l.pods = NULL;
	k->st.errors[K8S_ERR_PODS_CAP] += l.over;
	k8s_store_sweep(k, now);
	k8s_store_count(k);
	k->st.synced = true;
	pthread_cond_broadcast(&k->cond);
	pthread_mutex_unlock(&k->mu);
	if (l.over)
		log_warn("k8s: the node has more than %d pods; %llu are left out and their "
			 "processes keep their cgroup labels",
			 K8S_MAX_PODS, (unsigned long long)l.over);
	snprintf(k->rv, sizeof(k->rv), "%s", rv);
	log_info("k8s: listed pods node=%s pods=%zu resource_version=%s", k->o.node, k->npods,
		 k->rv);
	r = R_OK;
cleanup:
	if (l.pods) {
		for (i = 0; i < l.n; i++)
			k8s_pod_free(l.pods[i]);
		free(l.pods);
	}
	json_tokener_free(tok);
	return r;
}

static enum k8s_result do_watch(struct k8s *k)
{
	char *rv = curl_easy_escape(k->curl, k->rv, 0), *url, extra[256];
	/* Spread the watches of many agents apart, as client-go does. */
	uint32_t timeout =
		k->o.watch_timeout_s + (uint32_t)(rand() % (k->o.watch_timeout_s / 4 + 1));
	enum k8s_result r;

	if (!rv)
		return R_ERR;
	snprintf(extra, sizeof(extra),
		 "&watch=1&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%u", rv,
		 timeout);
	curl_free(rv);
	url = pods_url(k, extra);
	if (!url)
		return R_ERR;
	r = get(k, url, true, (long)timeout * 1250L + 1000L);
	free(url);
	return r;
}

/* Sleeps the backoff (doubled each time, capped, half of it random) unless stopped. */
static void backoff(struct k8s *k, bool longest)
{
	uint32_t max = k->o.backoff_max_ms ? k->o.backoff_max_ms : K8S_BACKOFF_MAX_MS, ms;
	struct timespec ts;
	uint64_t until;

	k->backoff_ms = longest ? max : k->backoff_ms ? k->backoff_ms * 2 : K8S_BACKOFF_MIN_MS;
	if (k->backoff_ms > max)
		k->backoff_ms = max;
	ms = k->backoff_ms / 2 + (uint32_t)(rand() % (k->backoff_ms / 2 + 1));
	until = clock_ns(CLOCK_MONOTONIC) + (uint64_t)ms * 1000000ull;
	ts.tv_sec = (time_t)(until / CLOCK_NS_PER_SEC);
	ts.tv_nsec = (long)(until % CLOCK_NS_PER_SEC);
	pthread_mutex_lock(&k->mu);
	while (!k->stop && clock_ns(CLOCK_MONOTONIC) < until)
		if (pthread_cond_timedwait(&k->cond, &k->mu, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&k->mu);
}

static void *k8s_thread(void *arg)
{
	struct k8s *k = arg;
	bool need_list = true, fresh = false, retried_401 = false, watched = false;
	enum k8s_result r;
	uint64_t t0;

	while (!stopping(k)) {
		if (clock_ns(CLOCK_MONOTONIC) - k->token_read_ns >=
		    K8S_TOKEN_REREAD_S * CLOCK_NS_PER_SEC)
			read_token(k);
		t0 = clock_ns(CLOCK_MONOTONIC);
		if (need_list) {
			r = do_list(k, fresh);
			if (r == R_OK) {
				need_list = fresh = watched = false;
				retried_401 = false;
				k->backoff_ms = 0;
				continue;
			}
		} else {
			/* The first watch after a list is not a restart. */
			if (watched) {
				pthread_mutex_lock(&k->mu);
				k->st.watch_restarts++;
				pthread_mutex_unlock(&k->mu);
			}
			watched = true;
			r = do_watch(k);
		}
		switch (r) {
		case R_STOP:
			break;
		case R_OK:
			/* The watch ended as watches do: again from the last
			 * version at once, unless it ended at once. */
			retried_401 = false;
			if (k->events)
				k->backoff_ms = 0;
			if (clock_ns(CLOCK_MONOTONIC) - t0 < K8S_WATCH_MIN_MS * 1000000ull)
				backoff(k, false);
			break;
		case R_GONE:
			pthread_mutex_lock(&k->mu);
			k->st.gone_410++;
			pthread_mutex_unlock(&k->mu);
			log_info("k8s: resource version %s expired (410); listing again", k->rv);
			/* A 410 to the list itself: back off, then a consistent read. */
			if (need_list)
				backoff(k, false);
			need_list = fresh = true;
			k->rv[0] = '\0';
			break;
		case R_UNAUTH:
			/* A rotated token: read it now and try again once. */
			read_token(k);
			if (!retried_401) {
				retried_401 = true;
				break;
			}
			backoff(k, false);
			break;
		case R_ERR:
			backoff(k, k->too_large);
			/* A watch that failed may have missed events: only a
			 * 410 needs a re-list, the version is still good. */
			break;
		}
	}
	return NULL;
}

static int setup_curl(struct k8s *k)
{
	const struct k8s_config *c = &k->o.config;
	CURLcode rc = CURLE_OK;

#define K8S_OPT(opt, val)                                         \
	do {                                                      \
		if (rc == CURLE_OK)                               \
			rc = curl_easy_setopt(k->curl, opt, val); \
	} while (0)
	K8S_OPT(CURLOPT_NOSIGNAL, 1L);
	K8S_OPT(CURLOPT_CONNECTTIMEOUT_MS, (long)K8S_CONNECT_TIMEOUT_MS);
	K8S_OPT(CURLOPT_TCP_KEEPALIVE, 1L);
	K8S_OPT(CURLOPT_USERAGENT, "ember");
	K8S_OPT(CURLOPT_ERRORBUFFER, k->errbuf);
	K8S_OPT(CURLOPT_WRITEFUNCTION, on_body);
	K8S_OPT(CURLOPT_WRITEDATA, k);
	K8S_OPT(CURLOPT_NOPROGRESS, 0L);
	K8S_OPT(CURLOPT_XFERINFOFUNCTION, on_progress);
	K8S_OPT(CURLOPT_XFERINFODATA, k);
	K8S_OPT(CURLOPT_ACCEPT_ENCODING, "");
#if LIBCURL_VERSION_NUM >= 0x075500
	K8S_OPT(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	K8S_OPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (c->ca_file)
		K8S_OPT(CURLOPT_CAINFO, c->ca_file);
	if (c->ca_pem) {
		struct curl_blob b = { c->ca_pem, c->ca_pem_len, CURL_BLOB_COPY };

		K8S_OPT(CURLOPT_CAINFO_BLOB, &b);
	}
	if (c->cert_file)
		K8S_OPT(CURLOPT_SSLCERT, c->cert_file);
	if (c->key_file)
		K8S_OPT(CURLOPT_SSLKEY, c->key_file);
	if (c->cert_pem) {
		struct curl_blob b = { c->cert_pem, c->cert_pem_len, CURL_BLOB_COPY };

		K8S_OPT(CURLOPT_SSLCERTTYPE, "PEM");
		K8S_OPT(CURLOPT_SSLCERT_BLOB, &b);
	}
	if (c->key_pem) {
		struct curl_blob b = { c->key_pem, c->key_pem_len, CURL_BLOB_COPY };

		K8S_OPT(CURLOPT_SSLKEYTYPE, "PEM");
		K8S_OPT(CURLOPT_SSLKEY_BLOB, &b);
	}
	if (c->insecure) {
		K8S_OPT(CURLOPT_SSL_VERIFYPEER, 0L);
		K8S_OPT(CURLOPT_SSL_VERIFYHOST, 0L);
	}
#undef K8S_OPT
	if (rc != CURLE_OK) {
		log_err("k8s: cannot set up libcurl err=\"%s\"", curl_easy_strerror(rc));
		return -EINVAL;
	}
	return 0;
}

static void k8s_destroy(struct k8s *k)
{
	size_t i;

	for (i = 0; i < k->npods; i++)
		k8s_pod_free(k->pods[i]);
	free(k->pods);
	if (k->curl)
		curl_easy_cleanup(k->curl);
	json_tokener_free(k->tok);
	free(k->buf);
	memset(k->token, 0, sizeof(k->token));
	k8s_config_free(&k->o.config);
	pthread_cond_destroy(&k->cond);
	pthread_mutex_destroy(&k->mu);
	free(k);
}

struct k8s *k8s__new(struct k8s_opts *opts)
{
	struct k8s *k = calloc(1, sizeof(*k));
	pthread_condattr_t ca;
	int err = -ENOMEM;

	if (!k) {
		k8s_config_free(&opts->config);
		errno = ENOMEM;
		return NULL;
	}
	k->o = *opts;
	memset(&opts->config, 0, sizeof(opts->config));
	if (!k->o.watch_timeout_s)
		k->o.watch_timeout_s = 300;
	pthread_mutex_init(&k->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cond, &ca);
	pthread_condattr_destroy(&ca);
	k->pods = calloc(K8S_MAX_PODS, sizeof(*k->pods));
	k->curl = curl_easy_init();
	/* Depth 64: a pod nests about 10 deep; deeper is hostile. */
	k->tok = json_tokener_new_ex(64);
	if (!k->pods || !k->curl || !k->tok)
		goto cleanup;
	if (k->o.config.token)
		snprintf(k->token, sizeof(k->token), "%s", k->o.config.token);
	read_token(k);
	err = setup_curl(k);
	if (err)
		goto cleanup;
	err = -pthread_create(&k->thread, NULL, k8s_thread, k);
	if (err)
		goto cleanup;
	k->started = true;
	/* Named, so its CPU time can be told apart (bench/k8s.py, top -H). */
	pthread_setname_np(k->thread, "ember-k8s");
	log_info("k8s: watching the pods of node %s at %s", k->o.node, k->o.config.server);
	return k;
cleanup:
	k8s_destroy(k);
	errno = -err;
	return NULL;
}

void k8s__free(struct k8s *k)
{
	if (!k)
		return;
	if (k->started) {
		pthread_mutex_lock(&k->mu);
		__atomic_store_n(&k->stop, true, __ATOMIC_RELAXED);
		pthread_cond_broadcast(&k->cond);
		pthread_mutex_unlock(&k->mu);
		pthread_join(k->thread, NULL);
	}
	k8s_destroy(k);
}
