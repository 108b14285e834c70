/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* http.h - /metrics and /healthz, served by libmicrohttpd from a snapshot
 *
 * The server thread never touches the agent's modules: the main loop
 * publishes a snapshot (the rendered metrics and what health is judged by)
 * under a mutex at each window end and about every second, and the server
 * answers from it. Bounded: a few connections, each timed out, GET and HEAD
 * only. Thread: new/publish/free from the main loop; the rest is the
 * server's own thread.
 */
#ifndef EMBER_HTTP_H
#define EMBER_HTTP_H

#include <stdint.h>

#include "summary.h"

struct http_server;

/* Listens on addr: "HOST:PORT", "[IPv6]:PORT" or ":PORT" (every address).
 * window_ns: the agent's window, for the health rule. NULL with errno after
 * logging one line (a bad address: EINVAL; in use: EADDRINUSE). */
struct http_server *http_server__new(const char *addr, uint64_t window_ns);
/* Accepts NULL. Stops the thread, closes the socket. */
void http_server__free(struct http_server *h);

/* Publishes s (rendered here, in the caller's thread) as the next answer to
 * /metrics, and judges health from it at now_mono_ns: unhealthy when no
 * window ended for two windows (also when publishing stops), or when the
 * push queue dropped windows since the last window was delivered. */
void http_server__publish(struct http_server *h, const struct summary *s, uint64_t now_mono_ns);

#endif /* EMBER_HTTP_H */
