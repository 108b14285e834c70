/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lines.h - bounded line splitting for the text parsers
 *
 * Cuts a byte stream, fed in chunks of any size, into lines and hands each
 * complete line to a callback. A line longer than the bound is dropped whole
 * and counted, so a hostile file costs at most one line buffer. Lines inside a
 * chunk are passed without copying; only a line split across chunks is
 * copied. Owned by its caller; no shared state.
 */
#ifndef EMBER_LINES_H
#define EMBER_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Called once per line, without its '\n' (len may be 0). Returns 0 to go on,
 * 1 to stop quietly (the parser is full), or -errno to stop with an error. */
typedef int (*lines_fn)(void *ctx, const char *line, size_t len);

struct lines {
	char *buf; /* the start of a line split across chunks */
	size_t len; /* bytes in buf */
	size_t max_line; /* longest line accepted, '\n' excluded */
	size_t overlong_lines; /* lines dropped for exceeding max_line */
	bool overlong; /* the current line is being dropped */
	bool stopped; /* the callback asked to stop */
	lines_fn fn;
	void *ctx;
};

/* 0 or -ENOMEM. Release with lines__release(). */
int lines__init(struct lines *l, size_t max_line, lines_fn fn, void *ctx);
void lines__release(struct lines *l);
/* Feeds n bytes. Returns 0, or the callback's -errno. */
int lines__feed(struct lines *l, const char *data, size_t n);
/* Ends the stream: a last line without '\n' is passed too. 0 or -errno. */
int lines__finish(struct lines *l);
/* Feeds everything read from fd until EOF or max_bytes (then stops early,
 * returning 0 with *truncated set). 0 or -errno (read errors as -errno). */
int lines__read_fd(struct lines *l, int fd, size_t max_bytes, bool *truncated);

/* Parses at most max_digits hex digits at p (before end) into *out. Returns
 * the first byte after them, or NULL when there are none or too many. */
const char *lines_hex(const char *p, const char *end, size_t max_digits, uint64_t *out);

#endif /* EMBER_LINES_H */
