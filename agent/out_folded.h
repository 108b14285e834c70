/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* out_folded.h - a report as folded stacks, the dry run's output
 *
 * One line per unique named stack per process, sorted: "comm;root;...;leaf count", user
 * frames root first, then kernel frames suffixed "_[k]". Readable by
 * flamegraph.pl and speedscope. The number is the stack's count (samples),
 * except for off-CPU profiles, whose number is the time blocked in
 * microseconds. Thread: main.
 */
#ifndef EMBER_OUT_FOLDED_H
#define EMBER_OUT_FOLDED_H

#include <stdbool.h>
#include <stdio.h>

#include "report.h"

/* Writes r to f and flushes. lines: each name that has a source line ends
 * in ":LINE" (stacks then split by line, so off by default). 0 or -errno
 * (e.g. -EPIPE). */
int out_folded_write(FILE *f, const struct report *r, bool lines);

/* Like out_folded_write(), each line starting with the frame root (e.g.
 * "[off-cpu]"), so that two profiles on one stream stay told apart.
 * root NULL: none. */
int out_folded_write_root(FILE *f, const struct report *r, bool lines, const char *root);

#endif /* EMBER_OUT_FOLDED_H */
