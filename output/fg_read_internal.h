/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* fg_read_internal.h - what the readers of fg_read share: their error
 * reporting, the sample-type check, and the two format readers. Not for
 * the views: they use fg_read.h. Owned by its caller; no shared state.
 */
#ifndef EMBER_FG_READ_INTERNAL_H
#define EMBER_FG_READ_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "fg_read.h"

#define FOLDED_TYPE "samples/count"

/* Bytes read into memory, grown with vec_reserve. */
struct fg_buf {
	unsigned char *p;
	size_t len, cap;
};

/* Sets r->err from fmt and returns err. */
__attribute__((format(printf, 3, 4))) int fg_read_fail(struct fg_read *r, int err, const char *fmt,
						       ...);
/* The first input sets r->type; every later one must match it (-EINVAL). */
int fg_read_check_type(struct fg_read *r, const char *what, const char *type);
/* gzip's magic, or a zlib header. */
bool fg_read_compressed(const unsigned char *p, size_t n);

/* Folded text: head[0..hlen), then the rest of fd unless fd is -1. */
int fg_read_folded(struct fg_tree *t, const char *what, const char *head, size_t hlen, int fd,
		   struct fg_read *r);
/* A pprof in data[0..len). maybe: the bytes might be text; -ENOMSG, with
 * nothing read, when they do not decode as a protobuf. */
int fg_read_pprof(struct fg_tree *t, const char *what, const unsigned char *data, size_t len,
		  bool maybe, struct fg_read *r);

#endif /* EMBER_FG_READ_INTERNAL_H */
