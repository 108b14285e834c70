// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* push_retry.c - what the push client does with a server's answer
 *
 * Classifies a finished transfer (deliver, retry, give up), computes the
 * backoff before a retry, and extracts a printable reason from an error reply
 * body, which is untrusted: any bytes, any length, never trusted to be JSON or
 * text. Pure; any thread.
 */
#include <curl/curl.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "push_internal.h"

enum push_fail_reason push_fail_reason(long http_status, int curl_code, bool cut)
{
	if (cut)
		return PUSH_FAIL_REPLY;
	switch ((CURLcode)curl_code) {
	case CURLE_OK:
		break;
	case CURLE_OPERATION_TIMEDOUT:
		return PUSH_FAIL_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return PUSH_FAIL_CONNECT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return PUSH_FAIL_TLS;
	default:
		return PUSH_FAIL_OTHER;
	}
	/* 500 is also what Pyroscope answers for an undecodable profile; the
	 * retry bound keeps that from looping. */
	if (http_status == 408 || http_status == 429 || (http_status >= 500 && http_status < 600))
		return PUSH_FAIL_SERVER;
	if (http_status >= 400 && http_status < 500)
		return PUSH_FAIL_REJECTED;
	return PUSH_FAIL_OTHER;
}

enum push_verdict push_classify(long http_status, int curl_code)
{
	if (curl_code == CURLE_OK && http_status >= 200 && http_status < 300)
		return PUSH_VERDICT_OK;
	switch (push_fail_reason(http_status, curl_code, false)) {
	/* The server or the path to it may come back: what Alloy retries. */
	case PUSH_FAIL_TIMEOUT:
	case PUSH_FAIL_CONNECT:
	case PUSH_FAIL_SERVER:
		return PUSH_VERDICT_RETRY;
	/* A handshake cut short may pass next time; a certificate refused
	 * will be refused again. */
	case PUSH_FAIL_TLS:
		return curl_code == CURLE_SSL_CONNECT_ERROR ? PUSH_VERDICT_RETRY : PUSH_VERDICT_FAIL;
	/* Other 4xx, bad URLs, a non-HTTP peer, a stop request: sending the
	 * same bytes again would end the same way. */
	default:
		return PUSH_VERDICT_FAIL;
	}
}

const char *push_fail_reason_name(enum push_fail_reason r)
{
	static const char *const names[PUSH_FAIL_N] = {
		[PUSH_FAIL_REJECTED] = "rejected", [PUSH_FAIL_SERVER] = "server",
		[PUSH_FAIL_TIMEOUT] = "timeout",   [PUSH_FAIL_CONNECT] = "connect",
		[PUSH_FAIL_TLS] = "tls",	   [PUSH_FAIL_REPLY] = "reply",
		[PUSH_FAIL_OTHER] = "other",
	};

	return (unsigned)r < PUSH_FAIL_N ? names[r] : "other";
}

static uint64_t push_rng_next(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

uint32_t push_backoff_ms(uint32_t attempt, uint64_t *rng)
{
	uint32_t t = PUSH_BACKOFF_CAP_MS;

	if (attempt < 16 && (PUSH_BACKOFF_BASE_MS << attempt) < PUSH_BACKOFF_CAP_MS)
		t = PUSH_BACKOFF_BASE_MS << attempt;
	return t / 2 + (uint32_t)(push_rng_next(rng) % (t / 2 + 1));
}

/* Copies s (len bytes) into out as printable ASCII, '"' made '\''. */
static size_t push_sanitize(const char *s, size_t len, char *out, size_t out_size)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 1 < out_size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"')
			c = '\'';
		else if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		else if (c < 0x20 || c > 0x7e)
			c = '?';
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return n;
}

static const char *push_json_str(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

void push_error_message(const char *body, size_t len, char *out, size_t out_size)
{
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL;
	const char *code, *msg;
	size_t n;

	if (!out_size)
		return;
	out[0] = '\0';
	if (!body || !len)
		return;
	/* json-c bounds its nesting depth; the body is capped by the caller. */
	tok = json_tokener_new();
	if (tok && len < (size_t)INT32_MAX)
		obj = json_tokener_parse_ex(tok, body, (int)len);
	if (obj && json_tokener_get_error(tok) == json_tokener_success &&
	    json_object_is_type(obj, json_type_object) && (msg = push_json_str(obj, "message"))) {
		code = push_json_str(obj, "code");
		n = 0;
		if (code) {
			n = push_sanitize(code, strlen(code), out, out_size);
			n += push_sanitize(": ", 2, out + n, out_size - n);
		}
		push_sanitize(msg, strlen(msg), out + n, out_size - n);
	} else {
		push_sanitize(body, len, out, out_size);
	}
	json_object_put(obj);
	if (tok)
		json_tokener_free(tok);
}
