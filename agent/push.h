/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* push.h - the push client: bounded queue, sender thread, retries
 *
 * The main loop hands over each window's series; they are encoded into
 * request bodies at once (Push: one push.v1.PushRequest with several series;
 * ingest: one /ingest request per profile) and queued. A sender thread owns
 * libcurl and the network: retries 429, 5xx, timeouts and connection errors
 * with exponential backoff and jitter, never 400/401/403 (whose server message
 * is logged once). While the server is away the queue drops its oldest
 * request and counts it. Nothing here ever blocks the caller on the network.
 * Thread: push_client__* from the main thread; the sender is internal.
 */
#ifndef EMBER_PUSH_H
#define EMBER_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "pprof.h"

struct push_client;

struct push_series {
	const struct label *labels; /* includes __name__ and service_name */
	size_t nlabels;
	const struct pprof_blob *blobs; /* one RawSample each */
	size_t nblobs;
	/* The window (wall clock, ns since the epoch) for /ingest's from/until;
	 * 0 means "the window that ends now". Push does not use it. */
	uint64_t start_ns;
	uint64_t duration_ns;
};

struct push_stats {
	uint64_t requests_ok;
	uint64_t requests_failed; /* given up: not retryable, or retries exhausted */
	uint64_t retries;
	uint64_t dropped; /* requests dropped from a full queue */
	uint64_t bytes_sent; /* request bodies accepted by the server */
	uint64_t queued; /* requests waiting now, the one in flight included */
};

/* Validates the push options of cfg (URL, tenant, headers, TLS files
 * readable), reads the password / token files once, and starts the sender
 * thread. cfg is only read during the call: nothing of it is kept. Calls
 * curl_global_init, which is not thread-safe before libcurl 7.84: call it from
 * the main thread before any other thread uses libcurl (in Ember, none does).
 * NULL with errno set (ENOENT, EACCES, ENODATA, EINVAL, ENOMEM) after logging
 * one line. */
struct push_client *push_client__new(const struct cfg *cfg);
/* Encodes and queues one window's series (series, labels and blobs stay the
 * caller's: they are copied into the request body before this returns). Never
 * touches the network; a full queue drops its oldest request. 0 (also when
 * there is nothing to send) or -ENOMEM (nothing queued). */
int push_client__submit(struct push_client *p, const struct push_series *series, size_t n);
/* Waits up to timeout_ms for the queue to drain and the request in flight to
 * end (used at exit to push the last window). Returns 0, or -ETIMEDOUT with
 * requests still queued or in flight. */
int push_client__flush(struct push_client *p, int timeout_ms);
/* A consistent copy of the counters. */
void push_client__stats(struct push_client *p, struct push_stats *out);
/* Stops the sender (abandoning an in-flight request within about a second,
 * and a backoff wait at once), frees everything. Accepts NULL. */
void push_client__free(struct push_client *p);

/*
 * The pure pieces below are the client's internals, declared here for the
 * unit tests (tests/unit/test_push.c). Any thread; no network.
 */

enum push_verdict {
	PUSH_VERDICT_OK = 0, /* delivered: never send again */
	PUSH_VERDICT_RETRY = 1, /* 408, 429, 5xx, timeouts, connection errors */
	PUSH_VERDICT_FAIL = 2, /* other 4xx, TLS verification, bad URL, ...: drop */
};

/* What to do after a transfer that ended with libcurl code curl_code
 * (a CURLcode) and, when curl_code is CURLE_OK, HTTP status http_status. */
enum push_verdict push_classify(long http_status, int curl_code);

#define PUSH_BACKOFF_BASE_MS 500u
#define PUSH_BACKOFF_CAP_MS 30000u
/* Delay before retry number attempt (0 = the first retry): equal jitter over
 * t = min(cap, base * 2^attempt), i.e. a value in [t/2, t], so gaps grow and
 * clients spread out. *rng is an xorshift state, advanced. */
uint32_t push_backoff_ms(uint32_t attempt, uint64_t *rng);

/* Encodes series as one push.v1.PushRequest (all series, one RawSample per
 * blob; series without blobs are skipped, and __-labels other than __name__
 * are left out). 0 with *body (free()) and *len, -ENODATA when nothing is to
 * be sent, -ENOMEM. */
int push_encode_request(const struct push_series *series, size_t n, uint8_t **body, size_t *len);

/* The /ingest "name" of a label set: APP{k=v,...} with APP the service_name
 * (characters outside [A-Za-z0-9_.-/] become '_', and then the exact value
 * goes along as a service_name tag), label names reduced to [A-Za-z0-9_.],
 * values stripped of ',', '}', '=' (the labelset syntax has no escaping),
 * __name__ and other __-labels and empty values left out.
 * 0 with *name (free()), or -ENOMEM. */
int push_ingest_name(const struct label *labels, size_t n, char **name);
/* base + "/ingest?name=...&from=...&until=...&format=pprof&sampleRate=hz
 * &spyName=ember", name URL-escaped. 0 with *url (free()), or -ENOMEM. */
int push_ingest_url(const char *base, const char *name, uint64_t from_s, uint64_t until_s,
		    uint32_t hz, char **url);

/* The server's reason from an error reply body: the "message" (and "code")
 * of a Connect JSON error, else the raw body; at most out_size - 1 bytes,
 * printable ASCII only, '"' turned into '\''. Never fails; body may be
 * anything. */
void push_error_message(const char *body, size_t len, char *out, size_t out_size);

struct curl_slist;
/* Reads a one-line secret file (trailing CR/LF dropped; empty, oversized or
 * multi-line files refused) into *out (wipe and free()). opt names the option
 * in the one log line on failure; the content is never logged. 0, -ENOENT,
 * -EACCES, -ENODATA, -EINVAL, -EFBIG, -ENOMEM. */
int push_read_secret(const char *path, const char *opt, char **out);
/* Builds the header lists of Push and /ingest requests: content type, the
 * tenant (validated), "Authorization: Bearer token" when token is not NULL,
 * and cfg's extra headers (no control characters). 0, or -EINVAL after one
 * log line, or -ENOMEM; free with push_slist_free. */
int push_build_headers(const struct cfg *cfg, const char *token, struct curl_slist **hdr_push,
		       struct curl_slist **hdr_ingest);
/* Wipes each header (a token may be inside), then frees the list. */
void push_slist_free(struct curl_slist *l);

/* One encoded request waiting to be sent. */
struct push_req {
	uint8_t *body;
	size_t len;
	char *url; /* /ingest URL, or NULL for the Push endpoint */
	uint64_t samples; /* pprof samples (unique stacks) inside, for logs */
};
void push_req_free(struct push_req *r);

/* Bounded FIFO of requests (caller locks). */
struct push_queue {
	struct push_req **slots;
	size_t cap, head, n;
};
/* 0 or -ENOMEM; cap >= 1. */
int push_queue_init(struct push_queue *q, size_t cap);
/* Appends r. When the queue was full, the oldest request is taken out and
 * returned (the caller frees and counts it); else NULL. */
struct push_req *push_queue_put(struct push_queue *q, struct push_req *r);
/* The oldest request, or NULL when empty. */
struct push_req *push_queue_take(struct push_queue *q);
/* Frees every queued request and the slots. Accepts a zeroed queue. */
void push_queue_fini(struct push_queue *q);

#endif /* EMBER_PUSH_H */
