/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* fg_read.h - profiles into the call tree: folded text, pprof, window series
 *
 * Reads folded stacks (Ember's dry run, or any "frame;frame;... count" file),
 * pprof (gzipped or not; Ember's or any profiler's), "-" for stdin, and
 * directories of an --output-dir window series (every profile in it summed).
 * The format is told from the bytes, not the name. Strict on structure: a
 * line without a count, a truncated gzip stream, a protobuf that does not
 * decode or points at ids that do not exist fail the whole input with one
 * line of reason, since a comparison on half a file would mislead. Names
 * are free text: anything but ';' in folded text, anything at all in pprof.
 * Owned by its caller; no shared state.
 */
#ifndef EMBER_FG_READ_H
#define EMBER_FG_READ_H

#include <stddef.h>
#include <stdint.h>

#include "fg_tree.h"

/* Longest folded line accepted (a 4096-frame stack of long C++ names). */
#define FG_MAX_LINE (4u << 20)
/* Largest pprof read, compressed or inflated. */
#define FG_MAX_PPROF (1ull << 30)

struct fg_read {
	/* "type/unit" of what was read ("samples/count" for folded text): set
	 * by the first input, every later one must match. */
	char type[96];
	/* Set by a pprof with several sample types: which one was used. */
	char note[256];
	uint64_t inputs; /* files read */
	uint64_t lines; /* folded lines with a stack */
	uint64_t samples; /* pprof samples */
	/* The wall-clock span the pprof inputs cover (their time_nanos and
	 * duration_nanos: earliest start, latest end), 0 when none says. */
	uint64_t start_ns, end_ns;
	char err[512]; /* why a read failed: one line, names the input */
};

/* Reads path ("-": stdin; a directory: each non-hidden regular file in it,
 * in name order) into t. 0, or -errno with r->err set: -EPROTO corrupt or
 * truncated input, -EINVAL a type that does not match, -ENOENT/-EACCES/...
 * for the file itself, -ENOMEM. */
int fg_read_path(struct fg_tree *t, const char *path, struct fg_read *r);
/* The same for bytes in memory, told apart as above; what names the input
 * in messages. For the fuzz harness and the tests. */
int fg_read_buf(struct fg_tree *t, const char *what, const void *data, size_t len,
		struct fg_read *r);

#endif /* EMBER_FG_READ_H */
