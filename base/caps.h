/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* caps.h - every bound that refuses data, logged once and counted
 *
 * Ember promises that nothing is dropped without being counted. Each bound
 * in the agent and the symbolizer that refuses something (a sample, a
 * symbol table, a line, a name) reports here when it is hit: the first hit
 * of each bound logs one warning naming the bound, its value and what is
 * dropped; every hit adds to the bound's counter, which the exit summary
 * prints as caps_hit=. Process-wide because the bounds sit in modules that
 * share no owner (base parsers, the symbolizer, the push thread); the
 * counters are atomic for that last reason.
 */
#ifndef EMBER_CAPS_H
#define EMBER_CAPS_H

#include <stddef.h>
#include <stdint.h>

enum caps_id {
	CAPS_AGG_STACKS, /* distinct stacks per window */
	CAPS_AGG_FRAMES, /* distinct frames per window */
	CAPS_AGG_POOL, /* frame indexes over all stacks of a window */
	CAPS_AGG_PROCS, /* processes per window */
	CAPS_AGG_DEPTH, /* frames per stack */
	CAPS_SYM_TABLE, /* one file's symbol table over the cache's max_table */
	CAPS_KSYM, /* kallsyms symbols or bytes */
	CAPS_STRTAB, /* bytes of one string blob (paths, names) */
	CAPS_LINE, /* a text line over its parser's max_line */
	CAPS_PERFMAP, /* perf-map entries or bytes of one process */
	CAPS_DWARF, /* DWARF too large to open */
	CAPS_MAPSTORE_MAPS, /* mmap records kept per process image */
	CAPS_MAPSTORE_IMAGES, /* exec images kept per process */
	CAPS_JVM, /* JVMs tracked for attaching */
	CAPS_PERFMAP_TOTAL, /* perf-map bytes held over all processes */
	CAPS_RELABEL_SET, /* labels one process's set may grow to under relabel rules */
	CAPS_LABEL_NAMES, /* label names per series (the server's limit) */
	CAPS_RELABEL_MATCH, /* backtracking steps of one relabel regex match */
	CAPS_N
};

/* Counts n refusals of bound id, whose value is limit; the first hit of the
 * bound logs a warning. Thread-safe. */
void caps__hit(enum caps_id id, uint64_t n, uint64_t limit);
uint64_t caps__count(enum caps_id id);
/* The bound's short name, as printed in the summary ("agg_stacks"). */
const char *caps__name(enum caps_id id);
/* "caps_hit=0", or the total and one field per bound hit:
 * "caps_hit=15 cap_agg_stacks=3 cap_line=12" into buf (whole fields only,
 * always terminated). */
void caps__format(char *buf, size_t size);
/* Zeroes the counters and re-arms the warnings: for tests. */
void caps__reset(void);

#endif /* EMBER_CAPS_H */
