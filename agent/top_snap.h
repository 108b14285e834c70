/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* top_snap.h - one interval of ember top: the hottest functions, processes, services
 *
 * Built from a CPU window's report, then independent of it (names are
 * copied into the snapshot's own table), so the screen can keep showing a
 * paused snapshot while windows go on. All three groupings are built at
 * once, so switching --by with a key redraws at once. Thread: main loop.
 */
#ifndef EMBER_TOP_SNAP_H
#define EMBER_TOP_SNAP_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "fg_tree.h"
#include "report.h"

enum top_by { TOP_BY_FUNCTION, TOP_BY_PROCESS, TOP_BY_SERVICE, TOP_BY_MAX };
enum top_sort { TOP_SORT_SELF, TOP_SORT_TOTAL, TOP_SORT_NAME, TOP_SORT_MAX };

struct top_row {
	const char *name; /* in the snapshot's name table */
	uint64_t self; /* samples whose leaf is this function (or of this process) */
	uint64_t total; /* samples with this function anywhere on the stack */
};

struct top_snap {
	struct fg_names *names;
	struct top_row *rows[TOP_BY_MAX];
	size_t nrows[TOP_BY_MAX];
	uint64_t samples; /* in the interval, all processes */
	uint64_t duration_ns;
};

/* The snapshot of r (a CPU report). Kernel functions end in " [k]" (two
 * functions of one name, one in the kernel, stay apart); a process is
 * "comm [pid]"; a service is the service_name label the agent would push
 * it under (labels_assign on r with cfg). NULL with errno (-ENOMEM). */
struct top_snap *top_snap__new(const struct cfg *cfg, struct report *r);
void top_snap__free(struct top_snap *s);

/* Sorts one grouping's rows: self or total share, largest first (ties by
 * name), or by name. */
void top_snap__sort(struct top_snap *s, enum top_by by, enum top_sort sort);

#endif /* EMBER_TOP_SNAP_H */
