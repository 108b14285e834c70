// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* http.c - the /metrics and /healthz endpoints (libmicrohttpd)
 *
 * One internal polling thread, not one per connection: two cheap endpoints
 * need no more. Each answer is copied out of the published snapshot under
 * the mutex, so a slow client holds nothing of the agent's.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "clock.h"
#include "http.h"
#include "log.h"
#include "metrics.h"

#define HTTP_MAX_CONNECTIONS 16
#define HTTP_PER_IP_CONNECTIONS 8
#define HTTP_TIMEOUT_S 5 /* idle connections go */
#define HTTP_MEMORY_LIMIT (32 * 1024) /* per connection: request headers */
/* A window may end up to a poll late; publishing is once a second. */
#define HTTP_HEALTH_SLACK_NS (2 * CLOCK_NS_PER_SEC)

struct http_server {
	struct MHD_Daemon *daemon;
	uint64_t window_ns;
	pthread_mutex_t mu;
	/* Under mu: */
	char *metrics;
	size_t metrics_len;
	uint64_t windows; /* as last published */
	uint64_t window_seen_ns; /* monotonic time the window count last moved */
	uint64_t delivered, dropped_base; /* push windows: at the last delivery */
	uint64_t dropped_since; /* windows dropped since the last delivery */
};

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warn_ratelimited("http: %s", line);
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned int status, const char *type,
			      const char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	/* MUST_COPY reads body and copies it; the API (before 0.9.76's
	 * _copy variant) takes it as non-const only. */
	union {
		const char *in;
		void *out;
	} unconst = { .in = body };

	r = MHD_create_response_from_buffer(len, unconst.out, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The health verdict into reason ("" when healthy), under h->mu. */
static void judge(struct http_server *h, uint64_t now, char *reason, size_t size)
{
	uint64_t limit = 2 * h->window_ns + HTTP_HEALTH_SLACK_NS;

	reason[0] = '\0';
	if (now > h->window_seen_ns && now - h->window_seen_ns > limit)
		snprintf(reason, size,
			 "no window completed in %llu s (window %llu s): sampling is stuck\n",
			 (unsigned long long)((now - h->window_seen_ns) / CLOCK_NS_PER_SEC),
			 (unsigned long long)(h->window_ns / CLOCK_NS_PER_SEC));
	else if (h->dropped_since)
		snprintf(reason, size,
			 "push failing: %llu windows dropped from the full queue since the last "
			 "delivery\n",
			 (unsigned long long)h->dropped_since);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	static int first_call_marker;
	struct http_server *h = cls;
	char reason[256];
	enum MHD_Result ret;
	char *copy;
	size_t len;

	(void)version;
	(void)upload_data;
	/* A body (any method may send one) is read and thrown away: the
	 * answer is queued once it is all in, within the connection timeout. */
	if (!*req_cls) {
		*req_cls = &first_call_marker;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			      "only GET and HEAD\n", 18);
	if (!strcmp(url, "/metrics")) {
		pthread_mutex_lock(&h->mu);
		len = h->metrics_len;
		copy = len ? malloc(len) : NULL;
		if (copy)
			memcpy(copy, h->metrics, len);
		pthread_mutex_unlock(&h->mu);
		if (!copy)
			return answer(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
				      "no metrics yet\n", 15);
		ret = answer(conn, MHD_HTTP_OK, METRICS_CONTENT_TYPE, copy, len);
		free(copy);
		return ret;
	}
	if (!strcmp(url, "/healthz")) {
		pthread_mutex_lock(&h->mu);
		judge(h, clock_ns(CLOCK_MONOTONIC), reason, sizeof(reason));
		pthread_mutex_unlock(&h->mu);
		if (reason[0])
			return answer(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", reason,
				      strlen(reason));
		return answer(conn, MHD_HTTP_OK, "text/plain", "ok\n", 3);
	}
	return answer(conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found: /metrics, /healthz\n",
		      30);
}

/* "HOST:PORT", "[V6]:PORT", ":PORT" -> a socket address. 0 or -EINVAL. */
static int resolve(const char *addr, struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	char host[256];
	const char *colon, *h0 = addr, *h1;
	struct addrinfo *res = NULL;
	char *end;
	long port;
	int err;

	if (addr[0] == '[') {
		h1 = strchr(addr, ']');
		if (!h1 || h1[1] != ':')
			return -EINVAL;
		h0 = addr + 1;
		colon = h1 + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return -EINVAL;
		h1 = colon;
	}
	if ((size_t)(h1 - h0) >= sizeof(host))
		return -EINVAL;
	memcpy(host, h0, (size_t)(h1 - h0));
	host[h1 - h0] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 0 || port > 65535)
		return -EINVAL;
	if (!host[0])
		hints.ai_flags |= AI_PASSIVE;
	err = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
	if (err || !res)
		return -EINVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

struct http_server *http_server__new(const char *addr, uint64_t window_ns)
{
	struct http_server *h;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;

	if (resolve(addr, &ss, &sslen)) {
		log_err("http: invalid --http-listen '%s': expected HOST:PORT, [IPv6]:PORT or :PORT",
			addr);
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	pthread_mutex_init(&h->mu, NULL);
	h->window_ns = window_ns;
	h->window_seen_ns = clock_ns(CLOCK_MONOTONIC);
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)HTTP_MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned int)HTTP_PER_IP_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)HTTP_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)HTTP_MEMORY_LIMIT, MHD_OPTION_END);
	if (!h->daemon) {
		int e = errno ? errno : EADDRINUSE;

		log_err("http: cannot listen on %s: %s", addr, strerror(e));
		http_server__free(h);
		errno = e;
		return NULL;
	}
	log_info("http: serving /metrics and /healthz on %s", addr);
	return h;
}

void http_server__free(struct http_server *h)
{
	if (!h)
		return;
	if (h->daemon)
		MHD_stop_daemon(h->daemon);
	pthread_mutex_destroy(&h->mu);
	free(h->metrics);
	free(h);
}

void http_server__publish(struct http_server *h, const struct summary *s, uint64_t now_mono_ns)
{
	char *text = NULL, *old;
	size_t len = 0;

	/* Rendered outside the lock: the server waits for a pointer swap only.
	 * Out of memory keeps the previous snapshot. */
	if (metrics_render(s, &text, &len))
		log_warn_ratelimited("http: no memory to render /metrics; serving the last one");
	pthread_mutex_lock(&h->mu);
	if (text) {
		old = h->metrics;
		h->metrics = text;
		h->metrics_len = len;
		text = old;
	}
	if (s->windows != h->windows) {
		h->windows = s->windows;
		h->window_seen_ns = now_mono_ns;
	}
	/* Failing past the queue: windows pushed out of it with none
	 * delivered since. The next delivery clears it. */
	if (s->push_delivered != h->delivered) {
		h->delivered = s->push_delivered;
		h->dropped_base = s->push_dropped;
	}
	h->dropped_since = s->push_dropped - h->dropped_base;
	pthread_mutex_unlock(&h->mu);
	free(text);
}
