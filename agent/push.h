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

#include <stdbool.h>
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

/* Why a request was given up: the summary and /metrics count each. */
enum push_fail_reason {
	PUSH_FAIL_REJECTED, /* a 4xx other than 408/429: the server refuses these bytes */
	PUSH_FAIL_SERVER, /* 408, 429 or 5xx, retries exhausted */
	PUSH_FAIL_TIMEOUT, /* the total --timeout, retries exhausted */
	PUSH_FAIL_CONNECT, /* no connection, no name, or the connection broke */
	PUSH_FAIL_TLS, /* handshake or certificate */
	PUSH_FAIL_REPLY, /* a reply over the size bounds, cut */
	PUSH_FAIL_OTHER, /* anything libcurl reports otherwise (bad URL, ...) */
	PUSH_FAIL_N
};
/* "rejected", "server", ...: the names in the summary. */
const char *push_fail_reason_name(enum push_fail_reason r);

struct push_stats {
	uint64_t requests_ok;
	uint64_t requests_failed; /* given up: not retryable, or retries exhausted */
	uint64_t failed_by[PUSH_FAIL_N]; /* requests_failed, by reason */
	uint64_t retries;
	uint64_t dropped; /* requests dropped from a full queue */
	uint64_t bytes_sent; /* request bodies accepted by the server */
	uint64_t queued; /* requests waiting now, the one in flight included */
	/* Windows: each submitted window ends in exactly one of the four once
	 * all its requests ended (windows = the four summed + those pending). A
	 * window with several requests (/ingest) counts under the first of its
	 * requests that was not delivered. */
	uint64_t windows; /* submitted */
	uint64_t windows_delivered; /* every request got a 2xx */
	uint64_t windows_failed; /* a request rejected or out of retries */
	uint64_t windows_dropped; /* a request pushed out of a full queue */
	uint64_t windows_abandoned; /* a request queued or in flight at exit */
};

/* Validates the push options of cfg (URL, tenant, headers, TLS files
 * readable), reads the password / token files once, and starts the sender
 * thread. cfg is only read during the call: nothing of it is kept. Calls
 * curl_global_init, which is not thread-safe before libcurl 7.84: call it from
 * the main thread before any other thread uses libcurl (in Ember, none does).
 * NULL with errno set (ENOENT, EACCES, ENODATA, EINVAL, ENOMEM) after logging
 * one line. */
struct push_client *push_client__new(const struct cfg *cfg);
/* Whether url can be a --server base URL: what libcurl's URL parser accepts
 * (unsupported schemes refused), http or https, a host, a port other than 0,
 * no query, fragment, control characters or spaces. 0, or -EINVAL with the
 * reason in why (always NUL-terminated), or -ENOMEM. Pure; any thread. */
int push_check_url(const char *url, char *why, size_t why_size);
/* Encodes and queues one window's series (series, labels and blobs stay the
 * caller's: they are copied into the request body before this returns). Never
 * touches the network; a full queue drops its oldest request. 0 (also when
 * there is nothing to send) or -ENOMEM (nothing queued). */
int push_client__submit(struct push_client *p, const struct push_series *series, size_t n);
/* Waits up to timeout_ms for the queue to drain and the request in flight to
 * end (used at exit to push the last window). Returns 0, or -ETIMEDOUT with
 * requests still queued or in flight. */
int push_client__flush(struct push_client *p, int timeout_ms);
/* Stops the sender: the request in flight is cut (within about a second),
 * and it and every queued request end as abandoned, so that the window
 * counters add up. Call after flush and before the final stats. */
void push_client__stop(struct push_client *p);
/* A consistent copy of the counters. */
void push_client__stats(struct push_client *p, struct push_stats *out);
/* Stops the sender (abandoning an in-flight request within about a second,
 * and a backoff wait at once), frees everything. Accepts NULL. */
void push_client__free(struct push_client *p);

#endif /* EMBER_PUSH_H */
