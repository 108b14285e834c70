/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sym_dwarf.h - source lines and inline chains from DWARF, through elfutils
 * libdw (internal)
 *
 * One libdw handle per file, opened the first time a frame of that file is
 * named and kept in a small LRU of its own, bounded by the memory the
 * handles are estimated to hold (libdw builds its structures per compile
 * unit, lazily: a CU counts from the first lookup that touches it). Files
 * without DWARF are remembered as such, so they are looked at once. The
 * file is read (ELF_C_READ, pread), not mapped, so a file truncated under
 * the agent cannot fault it (SIGBUS); libdw reads its debug sections whole
 * at open (and inflates compressed ones), so they count up front and a
 * file whose DWARF cannot fit the bound is not read.
 * Thread: one owner (the symbolizer's).
 */
#ifndef EMBER_SYM_DWARF_H
#define EMBER_SYM_DWARF_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "sym.h"
#include "sym_cache.h"

/* Inline levels reported at most per address (the outermost is kept). */
#define SYM_DWARF_MAX_LEVELS 16

struct sym_dwarf_cache;
struct sym_dwarf;

/* NULL with errno ENOMEM. Free with sym_dwarf_cache__free() (accepts NULL). */
struct sym_dwarf_cache *sym_dwarf_cache__new(size_t max_bytes);
void sym_dwarf_cache__free(struct sym_dwarf_cache *c);
/* Closes the entry of key k, if any: its file is no longer in use. */
void sym_dwarf_cache__remove(struct sym_dwarf_cache *c, const struct sym_cache_key *k);

/* The DWARF of the file under key k, opened from fd on a miss (the handle
 * keeps its own dup). NULL when the file has no usable DWARF (remembered),
 * with *err: 0 for none, -ENOEXEC corrupt (log once), -E2BIG over the
 * bound, -ENOMEM, -EMFILE. Valid until the next sym_dwarf_cache__get(). */
struct sym_dwarf *sym_dwarf_cache__get(struct sym_dwarf_cache *c, const struct sym_cache_key *k,
				       int fd, int *err);

/* The inline chain at vaddr (a link-time address of the file), innermost
 * first, into out[0..max): function names as DWARF has them (linkage names
 * when given, so C++ and Rust come mangled), file and line. Strings go into
 * names. Returns the number of levels (0: no line information covers
 * vaddr), or -errno: -ENOEXEC corrupt DWARF, -ENOMEM. */
int sym_dwarf__lookup(struct sym_dwarf_cache *c, struct sym_dwarf *d, uint64_t vaddr,
		      struct arena *names, struct sym_line *out, size_t max);

struct sym_dwarf_stats {
	uint64_t bytes; /* estimated memory held by the handles */
	uint64_t handles; /* open handles (files with DWARF) */
	uint64_t loads; /* files opened */
	uint64_t evictions;
};
void sym_dwarf_cache__stats(const struct sym_dwarf_cache *c, struct sym_dwarf_stats *out);

#endif /* EMBER_SYM_DWARF_H */
