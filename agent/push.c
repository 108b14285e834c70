// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* push.c - the push client: bounded queue, sender thread, libcurl
 *
 * The caller's thread only encodes and queues (push_client__submit); one
 * sender thread owns the curl handle (kept alive between requests) and the
 * network, retries with backoff, and is woken through a condition variable
 * on CLOCK_MONOTONIC so backoff sleeps and transfers end promptly at free.
 * A request that got a 2xx is never sent again. Secrets are read once, at
 * start, and never logged. mu guards the queue, stats and the stop flag.
 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "secret.h"
#include "push_internal.h"

#define PUSH_RESP_MAX 4096 /* reply bytes kept for the reason; the rest is counted */
/* A reply bigger than these is cut and the request fails: a Connect error
 * (the largest legitimate reply) names at most 30 labels of 2 KiB, far
 * below; an endless body would otherwise be read until the timeout, at
 * full CPU. */
#define PUSH_REPLY_MAX_BODY (256u << 10)
#define PUSH_REPLY_MAX_HEADERS (64u << 10)
#define PUSH_REASON_MAX 201 /* server reasons in log lines */
#define PUSH_REPEAT_LOG_NS (60ull * 1000000000ull)
#define PUSH_LOG_SLOTS 4
#define PUSH_XSTR(x) #x
#define PUSH_STR(x) PUSH_XSTR(x)

struct push_client {
	pthread_mutex_t mu;
	pthread_cond_t wake; /* sender: work queued, or stop */
	pthread_cond_t idle; /* flush: a request finished */
	struct push_queue q;
	struct push_req *inflight;
	struct push_stats st;
	int stop; /* written under mu; also read by the transfer callback */
	bool mu_ok, wake_ok, idle_ok, thread_ok, curl_global;
	pthread_t thread;

	/* Read-only once built. */
	enum cfg_protocol protocol;
	uint32_t hz, window_s, max_retries;
	char *base; /* server URL without trailing '/' */
	char *push_url; /* base + Push path */

	/* The sender thread's alone once it runs. */
	CURL *curl;
	struct curl_slist *hdr_push, *hdr_ingest;
	char *password, *token;
	char errbuf[CURL_ERROR_SIZE];
	char resp[PUSH_RESP_MAX];
	size_t resp_len;
	size_t body_bytes, header_bytes; /* of the reply being read */
	const char *cut; /* why the reply was cut, or NULL */
	uint64_t rng;
	bool failing; /* the last attempt failed: log recovery */
	struct {
		uint64_t key, ns;
	} logged[PUSH_LOG_SLOTS]; /* recent failure lines, each shown once a minute */
};

static struct timespec push_deadline(uint64_t ms)
{
	uint64_t t = clock_ns(CLOCK_MONOTONIC) + ms * 1000000ull;
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull),
			       .tv_nsec = (long)(t % 1000000000ull) };

	return ts;
}

static size_t push_on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct push_client *p = ud;
	size_t n = size * nmemb, room = sizeof(p->resp) - 1 - p->resp_len;

	p->body_bytes += n;
	if (p->body_bytes > PUSH_REPLY_MAX_BODY) {
		p->cut = "reply body over " PUSH_STR(PUSH_REPLY_MAX_BODY) " bytes";
		return 0; /* CURLE_WRITE_ERROR: the transfer ends here */
	}
	/* Only the head is kept: it holds the reason. */
	if (n < room)
		room = n;
	memcpy(p->resp + p->resp_len, data, room);
	p->resp_len += room;
	return n;
}

static size_t push_on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct push_client *p = ud;
	size_t n = size * nmemb;

	p->header_bytes += n;
	if (p->header_bytes > PUSH_REPLY_MAX_HEADERS) {
		p->cut = "reply headers over " PUSH_STR(PUSH_REPLY_MAX_HEADERS) " bytes";
		return 0;
	}
	return n;
}

static int push_on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct push_client *p = ud;

	/* Non-zero aborts the transfer: push_client__free is waiting. */
	return __atomic_load_n(&p->stop, __ATOMIC_RELAXED);
}

static int push_setup_curl(struct push_client *p, const struct cfg *cfg)
{
	CURL *c = p->curl;
	CURLcode rc = CURLE_OK;

#define PUSH_OPT(opt, val)                                  \
	do {                                                \
		if (rc == CURLE_OK)                         \
			rc = curl_easy_setopt(c, opt, val); \
	} while (0)
	/* Several threads: no signals from libcurl (name resolution timeouts). */
	PUSH_OPT(CURLOPT_NOSIGNAL, 1L);
	PUSH_OPT(CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->connect_timeout_ms);
	PUSH_OPT(CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
	PUSH_OPT(CURLOPT_TCP_KEEPALIVE, 1L);
	PUSH_OPT(CURLOPT_POST, 1L);
	PUSH_OPT(CURLOPT_USERAGENT, "ember");
	PUSH_OPT(CURLOPT_ERRORBUFFER, p->errbuf);
	PUSH_OPT(CURLOPT_WRITEFUNCTION, push_on_body);
	PUSH_OPT(CURLOPT_WRITEDATA, p);
	PUSH_OPT(CURLOPT_HEADERFUNCTION, push_on_header);
	PUSH_OPT(CURLOPT_HEADERDATA, p);
	PUSH_OPT(CURLOPT_NOPROGRESS, 0L);
	PUSH_OPT(CURLOPT_XFERINFOFUNCTION, push_on_progress);
	PUSH_OPT(CURLOPT_XFERINFODATA, p);
#if LIBCURL_VERSION_NUM >= 0x075500
	PUSH_OPT(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	PUSH_OPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (cfg->ca_file)
		PUSH_OPT(CURLOPT_CAINFO, cfg->ca_file);
	if (cfg->cert_file)
		PUSH_OPT(CURLOPT_SSLCERT, cfg->cert_file);
	if (cfg->key_file)
		PUSH_OPT(CURLOPT_SSLKEY, cfg->key_file);
	if (cfg->insecure) {
		PUSH_OPT(CURLOPT_SSL_VERIFYPEER, 0L);
		PUSH_OPT(CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (cfg->basic_user) {
		PUSH_OPT(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		PUSH_OPT(CURLOPT_USERNAME, cfg->basic_user);
		PUSH_OPT(CURLOPT_PASSWORD, p->password);
	}
#undef PUSH_OPT
	if (rc != CURLE_OK) {
		log_err("push: cannot set up libcurl err=\"%s\"", curl_easy_strerror(rc));
		return rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
	}
	return 0;
}

/* Runs one transfer; returns the libcurl code and *status. */
static CURLcode push_perform(struct push_client *p, const struct push_req *r, long *status)
{
	CURLcode rc;

	*status = 0;
	p->resp_len = 0;
	p->body_bytes = 0;
	p->header_bytes = 0;
	p->cut = NULL;
	p->errbuf[0] = '\0';
	curl_easy_setopt(p->curl, CURLOPT_URL, r->url ? r->url : p->push_url);
	curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, r->url ? p->hdr_ingest : p->hdr_push);
	curl_easy_setopt(p->curl, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(p->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len);
	rc = curl_easy_perform(p->curl);
	p->resp[p->resp_len] = '\0';
	if (rc == CURLE_OK)
		curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, status);
	return rc;
}

static const char *push_hint(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return "; check --ca-file (or --insecure to skip verification)";
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
		return "; check --cert-file and --key-file";
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		return "; is the server running at --server?";
	case CURLE_OPERATION_TIMEDOUT:
		return "; the server is slow: check it or raise --timeout";
	default:
		return "";
	}
}

/* True when the line with this key was shown less than a minute ago;
 * otherwise remembers it now, replacing the oldest slot. */
static bool push_logged_recently(struct push_client *p, uint64_t key, uint64_t now)
{
	size_t i, old = 0;

	for (i = 0; i < PUSH_LOG_SLOTS; i++) {
		if (p->logged[i].ns && p->logged[i].key == key &&
		    now - p->logged[i].ns < PUSH_REPEAT_LOG_NS)
			return true;
		if (p->logged[i].ns < p->logged[old].ns)
			old = i;
	}
	p->logged[old].key = key;
	p->logged[old].ns = now;
	return false;
}

/* One line per failure cause and outcome: the same again within a minute
 * goes to debug only, so an unreachable server or a rejecting proxy is one
 * line, not one per window. */
static void push_log_failure(struct push_client *p, const struct push_req *r, CURLcode rc,
			     long status, const char *what)
{
	char reason[PUSH_REASON_MAX], detail[PUSH_REASON_MAX];
	uint64_t key = ((uint64_t)rc << 32) ^ (uint64_t)status, now = clock_ns(CLOCK_MONOTONIC);
	const char *endpoint = r->url ? "ingest" : "push";
	enum log_level lvl = LOG_WARN;
	size_t i;

	push_error_message(p->resp, p->resp_len, reason, sizeof(reason));
	push_error_message(p->errbuf, strnlen(p->errbuf, sizeof(p->errbuf)), detail,
			   sizeof(detail));
	for (i = 0; reason[i]; i++)
		key = (key ^ (unsigned char)reason[i]) * 0x100000001b3ull;
	for (i = 0; what[i]; i++)
		key = (key ^ (unsigned char)what[i]) * 0x100000001b3ull;
	if (push_logged_recently(p, key, now))
		lvl = LOG_DEBUG;
	if (p->cut)
		log_at(lvl, "push: %s endpoint=%s stacks=%" PRIu64 " err=\"%s\" status=%ld", what,
		       endpoint, r->samples, p->cut, status);
	else if (rc != CURLE_OK)
		log_at(lvl, "push: %s endpoint=%s stacks=%" PRIu64 " err=\"%s\" detail=\"%s\"%s",
		       what, endpoint, r->samples, curl_easy_strerror(rc), detail, push_hint(rc));
	else
		log_at(lvl, "push: %s endpoint=%s stacks=%" PRIu64 " status=%ld reason=\"%s\"",
		       what, endpoint, r->samples, status, reason);
}

/* Sleeps up to ms unless stopped; returns true when stopped. */
static bool push_sleep(struct push_client *p, uint32_t ms)
{
	struct timespec ts = push_deadline(ms);
	bool stopped;

	pthread_mutex_lock(&p->mu);
	while (!p->stop && pthread_cond_timedwait(&p->wake, &p->mu, &ts) != ETIMEDOUT)
		;
	stopped = p->stop;
	pthread_mutex_unlock(&p->mu);
	return stopped;
}

static void push_count(struct push_client *p, uint64_t *counter, uint64_t bytes)
{
	pthread_mutex_lock(&p->mu);
	(*counter)++;
	p->st.bytes_sent += bytes;
	pthread_mutex_unlock(&p->mu);
}

/* A request given up, counted under its reason too. */
static void push_count_failed(struct push_client *p, CURLcode rc, long status)
{
	enum push_fail_reason why = push_fail_reason(status, rc, p->cut != NULL);

	pthread_mutex_lock(&p->mu);
	p->st.requests_failed++;
	p->st.failed_by[why]++;
	pthread_mutex_unlock(&p->mu);
}

/* Sends r until it is delivered, rejected, out of retries, or the client
 * stops (abandoned); returns which. */
static enum push_outcome push_deliver(struct push_client *p, const struct push_req *r)
{
	enum push_verdict v;
	curl_off_t after = -1;
	uint32_t attempt, delay;
	long status;
	CURLcode rc;

	for (attempt = 0;; attempt++) {
		rc = push_perform(p, r, &status);
		/* libcurl (7.88) refuses a header line over 100 KiB as "Out of
		 * memory", with no detail: mid-headers, that is what it means. */
		if (!p->cut && rc == CURLE_OUT_OF_MEMORY && p->header_bytes && !p->body_bytes)
			p->cut = "reply header line too long (over libcurl's 100 KiB)";
		v = push_classify(status, rc);
		/* A cut reply is the server's doing, whatever it said before. */
		if (p->cut)
			v = PUSH_VERDICT_FAIL;
		if (v == PUSH_VERDICT_OK) {
			push_count(p, &p->st.requests_ok, r->len);
			if (p->failing)
				log_info("push: server accepts requests again");
			p->failing = false;
			return PUSH_DELIVERED;
		}
		/* Cut short by push_client__stop: not the server's verdict. */
		if (__atomic_load_n(&p->stop, __ATOMIC_RELAXED))
			return PUSH_ABANDONED;
		p->failing = true;
		if (v == PUSH_VERDICT_FAIL) {
			push_count_failed(p, rc, status);
			push_log_failure(p, r, rc, status, "request rejected, not retrying");
			return PUSH_FAILED;
		}
		if (attempt >= p->max_retries) {
			push_count_failed(p, rc, status);
			push_log_failure(p, r, rc, status, "request failed after retries");
			return PUSH_FAILED;
		}
		if (!attempt)
			push_log_failure(p, r, rc, status,
					 "server unavailable, retrying with backoff");
		push_count(p, &p->st.retries, 0);
		delay = push_backoff_ms(attempt, &p->rng);
		/* A server asking for a longer pause gets it, up to the cap. */
#if LIBCURL_VERSION_NUM >= 0x074200
		if (rc == CURLE_OK &&
		    curl_easy_getinfo(p->curl, CURLINFO_RETRY_AFTER, &after) == CURLE_OK &&
		    after > 0 && after * 1000 > delay)
			delay = after * 1000 > PUSH_BACKOFF_CAP_MS ? PUSH_BACKOFF_CAP_MS :
								     (uint32_t)(after * 1000);
#endif
		log_debug("push: retry attempt=%u delay_ms=%u status=%ld err=%d", attempt + 1,
			  delay, status, (int)rc);
		if (push_sleep(p, delay))
			return PUSH_ABANDONED;
	}
}

/* Ends one request of w with outcome o; the window counts when its last
 * request ends. Caller holds mu. */
static void push_window_end(struct push_client *p, struct push_window *w, enum push_outcome o)
{
	if (!w)
		return;
	if (w->outcome == PUSH_DELIVERED)
		w->outcome = o;
	if (--w->pending)
		return;
	switch (w->outcome) {
	case PUSH_DELIVERED:
		p->st.windows_delivered++;
		break;
	case PUSH_FAILED:
		p->st.windows_failed++;
		break;
	case PUSH_DROPPED:
		p->st.windows_dropped++;
		break;
	case PUSH_ABANDONED:
		p->st.windows_abandoned++;
		break;
	}
	free(w);
}

static void *push_sender(void *arg)
{
	struct push_client *p = arg;
	enum push_outcome o;
	struct push_req *r;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		r = push_queue_take(&p->q);
		if (!r) {
			pthread_cond_broadcast(&p->idle);
			pthread_cond_wait(&p->wake, &p->mu);
			continue;
		}
		p->inflight = r;
		pthread_mutex_unlock(&p->mu);
		o = push_deliver(p, r);
		pthread_mutex_lock(&p->mu);
		p->inflight = NULL;
		push_window_end(p, r->win, o);
		push_req_free(r);
		pthread_cond_broadcast(&p->idle);
	}
	pthread_cond_broadcast(&p->idle);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static int push_init_sync(struct push_client *p)
{
	pthread_condattr_t ca;
	int err;

	if ((err = pthread_mutex_init(&p->mu, NULL)))
		return -err;
	p->mu_ok = true;
	if ((err = pthread_condattr_init(&ca)))
		return -err;
	err = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!err && !(err = pthread_cond_init(&p->wake, &ca)))
		p->wake_ok = true;
	if (!err && !(err = pthread_cond_init(&p->idle, &ca)))
		p->idle_ok = true;
	pthread_condattr_destroy(&ca);
	return -err;
}

struct push_client *push_client__new(const struct cfg *cfg)
{
	struct push_client *p = NULL;
	char why[128];
	sigset_t all, old;
	size_t len;
	int err = 0;

	if (!cfg->server || push_check_url(cfg->server, why, sizeof(why))) {
		err = -EINVAL;
		log_err("push: invalid server URL: %s", cfg->server ? why : "none given");
		goto cleanup;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		err = -ENOMEM;
		goto cleanup;
	}
	p->protocol = cfg->protocol;
	p->hz = cfg->frequency ? cfg->frequency : 100;
	p->window_s = cfg->window_s ? cfg->window_s : 15;
	p->max_retries = cfg->max_retries;
	if (getrandom(&p->rng, sizeof(p->rng), GRND_NONBLOCK) != sizeof(p->rng))
		p->rng = clock_ns(CLOCK_MONOTONIC) ^ ((uint64_t)getpid() << 32);
	if ((err = push_init_sync(p)) ||
	    (err = push_queue_init(&p->q, cfg->queue_max ? cfg->queue_max : 64)))
		goto cleanup;

	len = strlen(cfg->server);
	while (len > 0 && cfg->server[len - 1] == '/')
		len--;
	p->base = strndup(cfg->server, len);
	if (!p->base || asprintf(&p->push_url, "%s/push.v1.PusherService/Push", p->base) < 0) {
		p->push_url = NULL;
		err = -ENOMEM;
		goto cleanup;
	}

	if (cfg->basic_user && cfg->bearer_token_file) {
		err = -EINVAL;
		log_err("push: both basic auth and a bearer token given; choose one");
		goto cleanup;
	}
	if (cfg->basic_user &&
	    (err = push_read_secret(cfg->basic_password_file ? cfg->basic_password_file : "",
				    "--basic-auth-password-file", &p->password)))
		goto cleanup;
	if (cfg->bearer_token_file &&
	    (err = push_read_secret(cfg->bearer_token_file, "--bearer-token-file", &p->token)))
		goto cleanup;
	if ((err = push_build_headers(cfg, p->token, &p->hdr_push, &p->hdr_ingest)))
		goto cleanup;
	/* The header list holds its own copy: keep the secret no longer. */
	secret_free(p->token);
	p->token = NULL;
	if (cfg->ca_file && access(cfg->ca_file, R_OK)) {
		err = -errno;
		log_err("push: cannot read --ca-file path=%s err=%s", cfg->ca_file, strerror(-err));
		goto cleanup;
	}
	if (cfg->cert_file && access(cfg->cert_file, R_OK)) {
		err = -errno;
		log_err("push: cannot read --cert-file path=%s err=%s", cfg->cert_file,
			strerror(-err));
		goto cleanup;
	}
	if (cfg->key_file && access(cfg->key_file, R_OK)) {
		err = -errno;
		log_err("push: cannot read --key-file path=%s err=%s", cfg->key_file,
			strerror(-err));
		goto cleanup;
	}

	/* Not thread-safe before libcurl 7.84: Ember calls it here, from the
	 * main thread, before any thread that uses libcurl exists. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		err = -ENOMEM;
		log_err("push: cannot initialize libcurl");
		goto cleanup;
	}
	p->curl_global = true;
	p->curl = curl_easy_init();
	if (!p->curl) {
		err = -ENOMEM;
		goto cleanup;
	}
	if ((err = push_setup_curl(p, cfg)))
		goto cleanup;
	secret_free(p->password); /* libcurl copied it */
	p->password = NULL;
	if (cfg->insecure)
		log_warn("push: --insecure: the server's TLS certificate is not verified");

	/* The sender must not take the main loop's signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&p->thread, NULL, push_sender, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		log_err("push: cannot start the sender thread err=%s", strerror(-err));
		goto cleanup;
	}
	p->thread_ok = true;
	/* user:password@ in the URL is a secret too. */
	log_debug("push: client ready url=%s protocol=%s queue_size=%zu max_retries=%u",
		  strchr(p->base, '@') ? "(with credentials)" : p->base,
		  p->protocol == CFG_PROTO_INGEST ? "ingest" : "push", p->q.cap, p->max_retries);
	return p;
cleanup:
	push_client__free(p);
	errno = -err;
	return NULL;
}

/* The requests of one window: one Push request, or one /ingest request per
 * profile. *out (free()) holds *nout requests. */
static int push_encode(struct push_client *p, const struct push_series *series, size_t n,
		       struct push_req ***out, size_t *nout)
{
	struct push_req **reqs = NULL, *r = NULL;
	size_t i, j, total = 0, k = 0;
	char *name = NULL;
	uint64_t from, until, now;
	int err = 0;

	*out = NULL;
	*nout = 0;
	for (i = 0; i < n; i++)
		total += series[i].nblobs;
	if (!total)
		return 0;
	reqs = calloc(p->protocol == CFG_PROTO_INGEST ? total : 1, sizeof(*reqs));
	if (!reqs)
		return -ENOMEM;

	if (p->protocol != CFG_PROTO_INGEST) {
		r = calloc(1, sizeof(*r));
		if (!r) {
			err = -ENOMEM;
			goto cleanup;
		}
		err = push_encode_request(series, n, &r->body, &r->len);
		if (err)
			goto cleanup;
		for (i = 0; i < n; i++)
			for (j = 0; j < series[i].nblobs; j++)
				r->samples += series[i].blobs[j].samples;
		reqs[k++] = r;
		r = NULL;
		goto done;
	}

	now = clock_ns(CLOCK_REALTIME) / 1000000000ull;
	for (i = 0; i < n; i++) {
		const struct push_series *s = &series[i];

		if (!s->nblobs)
			continue;
		until = now;
		from = now > p->window_s ? now - p->window_s : 0;
		if (s->start_ns) {
			from = s->start_ns / 1000000000ull;
			until = (s->start_ns + s->duration_ns + 999999999ull) / 1000000000ull;
		}
		free(name);
		if ((err = push_ingest_name(s->labels, s->nlabels, &name)))
			goto cleanup;
		for (j = 0; j < s->nblobs; j++) {
			r = calloc(1, sizeof(*r));
			if (!r || !(r->body = malloc(s->blobs[j].len ? s->blobs[j].len : 1))) {
				err = -ENOMEM;
				goto cleanup;
			}
			memcpy(r->body, s->blobs[j].data, s->blobs[j].len);
			r->len = s->blobs[j].len;
			r->samples = s->blobs[j].samples;
			if ((err = push_ingest_url(p->base, name, from, until, p->hz, &r->url)))
				goto cleanup;
			reqs[k++] = r;
			r = NULL;
		}
	}
done:
	*out = reqs;
	*nout = k;
	reqs = NULL;
cleanup:
	push_req_free(r);
	free(name);
	if (reqs) {
		for (i = 0; i < k; i++)
			push_req_free(reqs[i]);
		free(reqs);
	}
	return err == -ENODATA ? 0 : err;
}

int push_client__submit(struct push_client *p, const struct push_series *series, size_t n)
{
	struct push_req **reqs = NULL, **evicted = NULL;
	struct push_window *w = NULL;
	size_t i, nreqs = 0, nevicted = 0;
	uint64_t dropped;
	int err;

	err = push_encode(p, series, n, &reqs, &nreqs);
	if (err)
		goto cleanup;
	if (!nreqs) {
		/* Nothing to send is nothing lost: the window is delivered. */
		pthread_mutex_lock(&p->mu);
		p->st.windows++;
		p->st.windows_delivered++;
		pthread_mutex_unlock(&p->mu);
		goto cleanup;
	}
	evicted = calloc(nreqs, sizeof(*evicted));
	w = calloc(1, sizeof(*w));
	if (!evicted || !w) {
		err = -ENOMEM;
		goto cleanup;
	}
	w->pending = nreqs;
	for (i = 0; i < nreqs; i++)
		reqs[i]->win = w;
	w = NULL; /* the requests own it now */
	pthread_mutex_lock(&p->mu);
	p->st.windows++;
	for (i = 0; i < nreqs; i++) {
		evicted[nevicted] = push_queue_put(&p->q, reqs[i]);
		if (evicted[nevicted])
			push_window_end(p, evicted[nevicted++]->win, PUSH_DROPPED);
		reqs[i] = NULL;
	}
	p->st.dropped += nevicted;
	dropped = p->st.dropped;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->mu);
	if (nevicted)
		log_warn_ratelimited("push: queue full, dropped the oldest requests queue_size=%zu "
				     "dropped_total=%" PRIu64,
				     p->q.cap, dropped);
cleanup:
	for (i = 0; i < nevicted; i++)
		push_req_free(evicted[i]);
	for (i = 0; reqs && i < nreqs; i++)
		push_req_free(reqs[i]);
	free(w);
	free(evicted);
	free(reqs);
	return err;
}

int push_client__flush(struct push_client *p, int timeout_ms)
{
	struct timespec ts = push_deadline(timeout_ms > 0 ? (uint64_t)timeout_ms : 0);
	int err = 0;

	pthread_mutex_lock(&p->mu);
	while ((p->q.n || p->inflight) && !p->stop) {
		if (pthread_cond_timedwait(&p->idle, &p->mu, &ts) == ETIMEDOUT)
			break;
	}
	if (p->q.n || p->inflight)
		err = -ETIMEDOUT;
	pthread_mutex_unlock(&p->mu);
	return err;
}

void push_client__stop(struct push_client *p)
{
	struct push_req *r;

	if (!p || !p->thread_ok)
		return;
	pthread_mutex_lock(&p->mu);
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&p->wake);
	pthread_cond_broadcast(&p->idle);
	pthread_mutex_unlock(&p->mu);
	/* The sender counts the request in flight as abandoned. */
	pthread_join(p->thread, NULL);
	p->thread_ok = false;
	pthread_mutex_lock(&p->mu);
	while ((r = push_queue_take(&p->q))) {
		push_window_end(p, r->win, PUSH_ABANDONED);
		push_req_free(r);
	}
	pthread_mutex_unlock(&p->mu);
}

void push_client__stats(struct push_client *p, struct push_stats *out)
{
	pthread_mutex_lock(&p->mu);
	*out = p->st;
	out->queued = p->q.n + (p->inflight ? 1 : 0);
	pthread_mutex_unlock(&p->mu);
}

void push_client__free(struct push_client *p)
{
	if (!p)
		return;
	push_client__stop(p);
	push_queue_fini(&p->q);
	if (p->curl)
		curl_easy_cleanup(p->curl);
	if (p->curl_global)
		curl_global_cleanup();
	push_slist_free(p->hdr_push);
	push_slist_free(p->hdr_ingest);
	secret_free(p->password);
	secret_free(p->token);
	free(p->base);
	free(p->push_url);
	if (p->idle_ok)
		pthread_cond_destroy(&p->idle);
	if (p->wake_ok)
		pthread_cond_destroy(&p->wake);
	if (p->mu_ok)
		pthread_mutex_destroy(&p->mu);
	free(p);
}
