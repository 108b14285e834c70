/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* preflight.h - refuse at start what cannot work later
 *
 * cfg_parse checks each option's syntax; this checks the options against the
 * machine once, before the sampler starts: the output directory can be made
 * and written, the server URL is one libcurl will use, every --pid exists.
 * Each refusal is one "ember: error ..." line on stderr. Thread: main, at
 * start-up.
 */
#ifndef EMBER_PREFLIGHT_H
#define EMBER_PREFLIGHT_H

#include "cfg.h"

/* 0, or -EINVAL after printing one line per refused option (caller exits 2).
 * Creates --output-dir (and its parents) when missing, and creates and
 * removes one probe file in it. */
int preflight_check(const struct cfg *cfg);

#endif /* EMBER_PREFLIGHT_H */
