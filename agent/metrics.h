/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* metrics.h - the summary's items as Prometheus text exposition format 0.0.4
 *
 * Pure: renders a struct summary (agent/summary.h); any thread.
 */
#ifndef EMBER_METRICS_H
#define EMBER_METRICS_H

#include <stddef.h>

#include "summary.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The items of s that have a metric name, as "ember_<name>[_total]" with
 * one # HELP and # TYPE per name. *out is malloc'd (caller frees), *len its
 * length. 0 or -ENOMEM. */
int metrics_render(const struct summary *s, char **out, size_t *len);

#endif /* EMBER_METRICS_H */
