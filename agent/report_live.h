/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* report_live.h - `ember report --live`: sample for a while, then the triage report
 *
 * A live view (agent/live.h) over CPU and off-CPU windows: each window's
 * stacks go to output/triage.h under the service_name the agent would push
 * them with; at the end, the report is printed (text or JSON).
 * Thread: the main loop only.
 */
#ifndef EMBER_REPORT_LIVE_H
#define EMBER_REPORT_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "live.h"
#include "triage_cmd.h"

struct report_live_opts {
	struct triage_out out;
	uint32_t duration_s;
	char duration_arg[16];
};

/* True when argv (argv[0] "report") asks for --live. */
bool report_live_wanted(int argc, char **argv);
/* Parses `ember report --live ...` into o and the agent's command line
 * (live_argv; free *aargv). 0 go on, 1 --help printed, 2 bad usage. */
int report_live_args(int argc, char **argv, struct report_live_opts *o, int *aargc, char ***aargv);

/* cfg is borrowed. NULL with errno. */
struct report_live *report_live__new(const struct report_live_opts *o, const struct cfg *cfg);
void report_live__free(struct report_live *rl);
/* The hooks for struct live_view, ctx a struct report_live; end prints. */
void report_live__window(void *ctx, struct report *r);
bool report_live__tick(void *ctx);
void report_live__end(void *ctx);
/* 0 printed, 1 nothing sampled or stdout failed. */
int report_live__status(const struct report_live *rl);

#endif /* EMBER_REPORT_LIVE_H */
