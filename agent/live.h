/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* live.h - the agent's sampler and pipeline driving a view: ember top, report --live
 *
 * A live subcommand is the agent itself (same sampler, symbolizer, windows
 * and labels) with its outputs replaced by a view: each window's reports go
 * to view->window, and the main loop calls view->tick between polls (keys,
 * a batch that is done). live_argv turns the subcommand's command line into
 * the agent's, so every sampling option is validated by cfg_parse once.
 * Thread: the main loop only.
 */
#ifndef EMBER_LIVE_H
#define EMBER_LIVE_H

#include <stdbool.h>

#include "report.h"

struct live_view {
	void *ctx;
	/* Each profile type's report at each window's end (labels not yet
	 * given); the view may give them (labels_assign) and must not keep r. */
	void (*window)(void *ctx, struct report *r);
	/* Between polls, at least every 100 ms: false stops the agent (the
	 * last partial window still goes to window()). */
	bool (*tick)(void *ctx);
	/* After the last window, before the exit summary: a full-screen view
	 * gives the terminal back here. */
	void (*end)(void *ctx);
};

/* A subcommand's own option, told to live_argv's caller: its long name
 * without dashes, its short letter (0: none) and whether it takes a value. */
struct live_opt {
	const char *name;
	char letter;
	bool takes_value;
	int id; /* returned by live_argv's callback */
};

/* Walks argv[1..argc) (argv[0] is the subcommand): each of the subcommand's
 * own options (own[0..nown)) goes to fn(ctx, id, value); the agent's
 * sampling and naming options (--pid, --frequency, --no-kernel, --no-jvm,
 * --no-demangle, --log-level, --verbose, --host, --label, --config,
 * --off-cpu-*) are copied to the agent's command
 * line, which starts with extra[0..nextra); anything else is refused with
 * one line and usage. Positional arguments go to fn with id -1. *out_argv
 * (free it with free(); its strings are argv's and extra's) and *out_argc.
 * 0 to go on, 1 when fn asked to stop with success (--help), 2 bad usage. */
typedef int (*live_opt_fn)(void *ctx, int id, const char *value);
int live_argv(const char *cmd, int argc, char **argv, const struct live_opt *own, size_t nown,
	      live_opt_fn fn, void *ctx, char *const *extra, int nextra, int *out_argc,
	      char ***out_argv);

#endif /* EMBER_LIVE_H */
