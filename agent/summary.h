/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* summary.h - the exit summary line
 *
 * Thread: the main loop, once, at exit.
 */
#ifndef EMBER_SUMMARY_H
#define EMBER_SUMMARY_H

#include <stdbool.h>

#include "agent.h"

/* Prints the per-CPU loss line (when samples were lost) and the summary
 * through log_summary. Returns true when a window with samples did not
 * reach a configured output (the agent then exits 3). */
bool summary_print(const struct agent *ag);

#endif /* EMBER_SUMMARY_H */
