/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* fg_cmd.h - the `ember flamegraph` and `ember diff` subcommands
 *
 * Each takes its own argv (argv[0] is the subcommand's name), reads its
 * inputs, writes its outputs and returns the process's exit code: 0 done,
 * 1 a share grew past the gate (diff), 2 bad usage or input (one line on
 * stderr). No sampling, no root; main() only dispatches here.
 */
#ifndef EMBER_FG_CMD_H
#define EMBER_FG_CMD_H

int fg_cmd_flamegraph(int argc, char **argv);
int fg_cmd_diff(int argc, char **argv);

#endif /* EMBER_FG_CMD_H */
