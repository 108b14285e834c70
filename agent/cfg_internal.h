/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* cfg_internal.h - what cfg.c shares with cfg_file.c, and no one else
 *
 * One validation for flags and file: the file loader looks each key up as a
 * long option and hands its value to cfg_apply, as getopt's loop does.
 * Thread: main.
 */
#ifndef EMBER_CFG_INTERNAL_H
#define EMBER_CFG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg.h"

/* Where a value came from: the command line (file NULL), or a file line. */
struct cfg_where {
	const char *file;
	unsigned int line; /* 1-based; 0 = the file as a whole */
	bool reload; /* a SIGHUP's: the running configuration stays */
};

/* Prints "ember: error [FILE:LINE: ]<message>; see ..." and returns -EINVAL. */
__attribute__((format(printf, 2, 3))) int cfg_bad(const struct cfg_where *w, const char *fmt, ...);
/* Applies option opt (a long option's val) with its value arg (NULL for a
 * switch; kept by reference, so it must outlive cfg). 0 or -EINVAL after
 * cfg_bad. */
int cfg_apply(struct cfg *cfg, int opt, char *arg, const struct cfg_where *w);
/* The val of the long option name, and whether it takes a value; -1 when
 * there is no such option. */
int cfg_option(const char *name, bool *takes_value);
/* Loads the YAML file path into cfg (agent/cfg_file.c). 0 or -EINVAL after
 * one line naming the file and line (and, on a reload, that it is refused). */
int cfg_file_load(struct cfg *cfg, const char *path, bool reload);
/* The same for the file's text, len bytes (need not be NUL-terminated);
 * name is what the error line calls it. For cfg_file_load and the fuzzer. */
int cfg_file_parse(struct cfg *cfg, const char *name, const char *text, size_t len, bool reload);

#endif /* EMBER_CFG_INTERNAL_H */
