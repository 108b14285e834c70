/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* push_internal.h - the push client's pieces, shared by its files and tests
 *
 * Not for the rest of the agent, which uses push.h only: the verdict on a
 * reply, backoff, request encoding, /ingest names and URLs, reply messages,
 * secrets and headers, and the request queue. The pure pieces are tested
 * one by one in tests/unit/test_push.c. Any thread; no network.
 */
#ifndef EMBER_PUSH_INTERNAL_H
#define EMBER_PUSH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "push.h"

enum push_verdict {
	PUSH_VERDICT_OK = 0, /* delivered: never send again */
	PUSH_VERDICT_RETRY = 1, /* 408, 429, 5xx, timeouts, connection errors */
	PUSH_VERDICT_FAIL = 2, /* other 4xx, TLS verification, bad URL, ...: drop */
};

/* What to do after a transfer that ended with libcurl code curl_code
 * (a CURLcode) and, when curl_code is CURLE_OK, HTTP status http_status. */
enum push_verdict push_classify(long http_status, int curl_code);
/* Why a request that ended so was given up (cut: the reply was cut at a
 * size bound). */
enum push_fail_reason push_fail_reason(long http_status, int curl_code, bool cut);

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

/* How one request, and so its window, ended. */
enum push_outcome {
	PUSH_DELIVERED = 0,
	PUSH_FAILED = 1, /* rejected, or out of retries */
	PUSH_DROPPED = 2, /* pushed out of a full queue */
	PUSH_ABANDONED = 3, /* still queued or in flight at exit */
};

/* One window's requests (one for Push, one per profile for /ingest): the
 * window counts once, when its last request ends, under the first outcome
 * of its requests that was not "delivered" (delivered when all were). */
struct push_window {
	size_t pending; /* requests not ended yet */
	enum push_outcome outcome;
};

/* One encoded request waiting to be sent. */
struct push_req {
	uint8_t *body;
	size_t len;
	char *url; /* /ingest URL, or NULL for the Push endpoint */
	uint64_t samples; /* pprof samples (unique stacks) inside, for logs */
	struct push_window *win; /* shared with the window's other requests */
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

#endif /* EMBER_PUSH_INTERNAL_H */
