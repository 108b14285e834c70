// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sym_demangle.c - libiberty's demanglers behind one bounded call
 *
 * Uses the callback interfaces, which allocate nothing for C++ and little
 * for Rust, writing into room reserved in the caller's arena; what a failed
 * attempt wrote is never committed. The only libiberty user: the Makefile
 * links libiberty.a (static, PIC-safe relocations) into the binaries that
 * need it.
 */
#include <string.h>

/* libiberty.h (included by demangle.h) tests these configure results;
 * glibc declares basename() itself under _GNU_SOURCE. */
#define HAVE_DECL_BASENAME 1
#include <demangle.h>

#include "sym_demangle.h"

struct sym_demangle_buf {
	char *p;
	size_t len;
	bool overflow;
};

static void sym_demangle_put(const char *s, size_t n, void *opaque)
{
	struct sym_demangle_buf *b = opaque;

	if (b->overflow || n > SYM_DEMANGLE_MAX_OUT - b->len) {
		b->overflow = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* libiberty's Rust v0 demangler expands each backreference ("B<offset>_")
 * in place and cannot be stopped from the output callback, so names whose
 * backreferences refer to backreferences print exponentially long: the
 * fuzzer found one that ran for minutes. A 'B' byte is an upper bound on
 * the backreferences a name holds; with at most this many the expansion
 * stays below 2^16 pieces, and real v0 names rarely come near it. */
#define SYM_DEMANGLE_MAX_BACKREFS 16

static bool sym_demangle_v0_bounded(const char *in)
{
	size_t backrefs = 0;

	for (in += 2; *in; in++)
		if (*in == 'B' && ++backrefs > SYM_DEMANGLE_MAX_BACKREFS)
			return false;
	return true;
}

bool sym_demangle_candidate(const char *name)
{
	return name[0] == '_' && (name[1] == 'Z' || name[1] == 'R');
}

const char *sym_demangle(struct arena *out, const char *mangled, bool params)
{
	char in[SYM_DEMANGLE_MAX_IN + 1];
	struct sym_demangle_buf b = { 0 };
	size_t len;
	int ok;

	if (!sym_demangle_candidate(mangled))
		return NULL;
	/* The version suffix is not part of the name; with DMGL_PARAMS the
	 * C++ demangler would refuse the whole name because of it. */
	len = strcspn(mangled, "@");
	if (len > SYM_DEMANGLE_MAX_IN)
		return NULL;
	memcpy(in, mangled, len);
	in[len] = '\0';
	b.p = arena_reserve(out, SYM_DEMANGLE_MAX_OUT + 1);
	if (!b.p)
		return NULL;
	if (in[1] == 'R' && !sym_demangle_v0_bounded(in))
		return NULL;
	/* DMGL_VERBOSE stays off: that is what drops the legacy Rust hash. */
	ok = rust_demangle_callback(in, params ? DMGL_PARAMS | DMGL_ANSI : 0, sym_demangle_put, &b);
	if (!ok || b.overflow || !b.len) {
		b.len = 0;
		b.overflow = false;
		ok = in[1] == 'Z' &&
		     cplus_demangle_v3_callback(in, params ? DMGL_PARAMS | DMGL_ANSI : 0,
						sym_demangle_put, &b);
	}
	if (!ok || b.overflow || !b.len)
		return NULL;
	b.p[b.len] = '\0';
	arena_commit(out, b.len + 1);
	return b.p;
}
