/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* triage_cmd.h - `ember report` on files: per service, what it spends and waits on
 *
 * Reads Ember's --output-dir series (the service is in each file's name),
 * pprof files with cpu or off_cpu samples and folded files (the dry run's:
 * the process name first, "[off-cpu]" before off-CPU lines in
 * microseconds), and prints output/triage.h's report. No sampling, no root.
 * Exit codes: 0 printed, 2 bad usage or input (one line on stderr).
 */
#ifndef EMBER_TRIAGE_CMD_H
#define EMBER_TRIAGE_CMD_H

#include <stdbool.h>

/* Options shared with the live report (agent/report_live.c). */
struct triage_out {
	bool json;
	unsigned int top;
};

/* The usage text, for both modes. */
extern const char triage_usage[];

int triage_cmd(int argc, char **argv);

#endif /* EMBER_TRIAGE_CMD_H */
