/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* pipeline.h - the end of a window: report -> labels -> outputs
 *
 * At each window's end the aggregator's window becomes a report (named once,
 * frame by frame), each process gets its label set, and every chosen output
 * reads it: folded text on stdout, pprof files, the push queue. The push
 * client sends from its own thread, so the window never waits on the network.
 * Thread: the main loop only.
 */
#ifndef EMBER_PIPELINE_H
#define EMBER_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "agg.h"
#include "cfg.h"
#include "labels.h"
#include "push.h"
#include "sym.h"

struct pipeline;

/* Profile types a window can carry (CPU, off-CPU). */
#define PIPELINE_MAX_PROFILES 2

/* One synchronous output's windows: each window with samples that the
 * output was asked to take ends as delivered or failed (whole: a window
 * with one file not written is failed). */
struct pipeline_dest {
	uint64_t windows;
	uint64_t delivered;
	uint64_t failed;
};

/* Each profile type's window counts as a window of its own. */
struct pipeline_stats {
	uint64_t windows; /* windows turned into reports */
	struct pipeline_dest out_stdout; /* --dry-run */
	struct pipeline_dest files; /* --output-dir */
	/* Windows for the push client that never reached it (labels or
	 * profiles could not be built, or it could not queue them): failed. */
	uint64_t push_unsent;
	/* Profiles (label sets) that could not be built: their window still
	 * goes out with the others, so they are counted here. */
	uint64_t profiles_failed;
	/* What the relabel rules dropped. A window whose every process they
	 * dropped has nothing to deliver: no output counts it. */
	struct labels_stats labels;
	uint64_t windows_all_dropped;
};

/* cfg, agg (the first profile type's window), sym and push (NULL when not
 * pushing) are borrowed. NULL with errno. */
struct pipeline *pipeline__new(const struct cfg *cfg, struct agg *agg, struct sym *sym,
			       struct push_client *push);
void pipeline__free(struct pipeline *pl);

/* Another profile type: each window also ends agg's window and hands its
 * report to every output. agg is borrowed. 0, or -ENOSPC past
 * PIPELINE_MAX_PROFILES. */
int pipeline__add_profile(struct pipeline *pl, struct agg *agg);
struct k8s;
/* Processes in pods get their pod's labels from k8s at each window end
 * (labels_assign_k8s); k8s must outlive pl. */
void pipeline__set_k8s(struct pipeline *pl, struct k8s *k8s);

/* Ends the window that started at start_wall_ns (CLOCK_REALTIME) and lasted
 * duration_ns, and hands it to every output. Outputs are independent: one
 * that fails (stdout closed or full, a full disk) is counted and logged,
 * and the others go on. */
void pipeline__window(struct pipeline *pl, uint64_t start_wall_ns, uint64_t duration_ns);

void pipeline__stats(const struct pipeline *pl, struct pipeline_stats *out);

/* A live view (ember top, report --live, agent/live.h) gets every profile
 * type's report at each window's end, empty ones too (a quiet interval is
 * news to a live view), before the other outputs read it. fn may give the
 * report its labels; it must not keep r. NULL: none. */
void pipeline__set_view(struct pipeline *pl, void (*fn)(void *ctx, struct report *r), void *ctx);

#endif /* EMBER_PIPELINE_H */
