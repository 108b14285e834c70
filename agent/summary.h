/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* summary.h - every counter of a running agent, gathered once: the exit line and /metrics
 *
 * summary_collect reads each module's counters into one list of items; the
 * exit summary prints the items that have a summary key, /metrics (agent/
 * metrics.c) the items that have a metric name. One list, two renderings:
 * a counter added here shows up in both.
 * Thread: the main loop (it reads the modules' stats).
 */
#ifndef EMBER_SUMMARY_H
#define EMBER_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.h"

#define SUMMARY_MAX_ITEMS 200

enum summary_kind {
	SUMMARY_COUNTER, /* only grows over the agent's life */
	SUMMARY_GAUGE, /* a level now */
};

struct summary_item {
	const char *key; /* in the exit summary line, or NULL */
	/* Prometheus name after "ember_" (counters get "_total"), or NULL; items
	 * of one name are consecutive and differ by labels. */
	const char *metric;
	const char *labels; /* `name="value",...` (static text), or NULL */
	const char *lname, *lvalue; /* one more label, value from a static table */
	const char *help; /* one line, the same for every item of a metric */
	uint8_t kind; /* enum summary_kind */
	bool fraction; /* printed with one decimal in the summary */
	double value;
};

/* Every counter, in the summary line's order (docs/operating.md). All
 * strings are static: a copy of the struct is a snapshot any thread may
 * read. */
struct summary {
	struct summary_item items[SUMMARY_MAX_ITEMS];
	size_t n;
	/* What /healthz judges by (docs/operating.md). */
	uint64_t windows; /* windows ended */
	uint64_t push_delivered, push_dropped; /* windows, when pushing */
};

/* Fills s from ag's modules (and the process's RSS). */
void summary_collect(const struct agent *ag, struct summary *s);

/* Prints the per-CPU loss line (when samples were lost) and the summary
 * through log_summary. Returns true when a window with samples did not
 * reach a configured output (the agent then exits 3). */
bool summary_print(const struct agent *ag);

#endif /* EMBER_SUMMARY_H */
