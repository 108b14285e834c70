/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* top.h - ember top: the hottest functions, processes or services, live
 *
 * A live view (agent/live.h): each CPU window becomes a snapshot
 * (agent/top_snap.h) shown full-screen with ncurses, or, with --batch N,
 * printed as N plain-text tables on stdout. The terminal is the view's from
 * the first tick to top__end(); a stop signal reaches the main loop, which
 * ends the view, so the terminal is given back on q, SIGINT and SIGTERM.
 * Thread: the main loop only.
 */
#ifndef EMBER_TOP_H
#define EMBER_TOP_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "live.h"
#include "sampler.h"
#include "top_snap.h"

struct top_opts {
	enum top_by by;
	uint32_t interval_s;
	uint32_t batch; /* 0: full screen */
	uint32_t limit; /* rows a batch snapshot prints */
	char interval_arg[16]; /* interval_s as text, for the agent's --window */
};

/* Parses `ember top ...` (argv[0] "top") into o and the agent's command
 * line (see live_argv; free *aargv). 0 go on, 1 --help printed, 2 bad usage. */
int top_args(int argc, char **argv, struct top_opts *o, int *aargc, char ***aargv);

/* The view; cfg, host and sampler are borrowed. NULL with errno. */
struct top *top__new(const struct top_opts *o, const struct cfg *cfg, const char *host,
		     struct sampler *sampler);
void top__free(struct top *t);
/* The hooks for struct live_view, ctx a struct top. */
void top__window(void *ctx, struct report *r);
bool top__tick(void *ctx);
void top__end(void *ctx);
/* The exit code: 0, or 1 when the screen could not be set up or stdout
 * failed. */
int top__status(const struct top *t);

#endif /* EMBER_TOP_H */
