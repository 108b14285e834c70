/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sym_perfmap.h - one process's JIT symbols from a perf map (/tmp/perf-PID.map)
 *
 * Parses "START SIZE name" lines (hex, with or without 0x, as HotSpot, V8,
 * .NET, LuaJIT and CPython write them), fed in chunks of any size, so a file
 * that only grew is read on from where the last read stopped. Symbols are
 * kept compactly: a sorted array of non-overlapping (start, size, name
 * offset) ranges and one name blob, the later of two overlapping entries
 * winning. Untrusted text: bounded lines, entries and name bytes; bad lines
 * skipped and counted. Reads no file itself. Thread: one owner.
 */
#ifndef EMBER_SYM_PERFMAP_H
#define EMBER_SYM_PERFMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sym.h"

#define SYM_PERFMAP_MAX_NAME 2048
#define SYM_PERFMAP_MAX_LINE (2 * (2 + 16) + 2 + SYM_PERFMAP_MAX_NAME)
#define SYM_PERFMAP_MAX_ENTRIES (1u << 20)
#define SYM_PERFMAP_MAX_NAMES (64u << 20)
/* HotSpot's name for its template interpreter, and what Ember shows. */
#define SYM_PERFMAP_INTERPRETER "[interpreter]"

struct sym_perfmap;

/* An empty map. max_entries bounds the entries admitted (0: the default,
 * SYM_PERFMAP_MAX_ENTRIES); an overlap can split a range, so the table
 * holds at most twice as many ranges. NULL with errno ENOMEM. */
struct sym_perfmap *sym_perfmap__new(size_t max_entries);
void sym_perfmap__free(struct sym_perfmap *pm);
/* Forgets every symbol and a partly fed line: the file is read again from
 * its start (it was replaced or rewritten). */
void sym_perfmap__reset(struct sym_perfmap *pm);

/* Parses n more bytes of the file. Complete lines become pending entries;
 * a last line without '\n' waits for the next feed (or eof: it is parsed
 * then). Past a bound, the rest is ignored (sym_perfmap__full()). 0 or
 * -ENOMEM. Lookups see the new entries only after sym_perfmap__commit(). */
int sym_perfmap__feed(struct sym_perfmap *pm, const char *data, size_t n, bool eof);
/* Merges the pending entries into the lookup table, later entries winning
 * where ranges overlap. 0 or -ENOMEM (the table is then unchanged). */
int sym_perfmap__commit(struct sym_perfmap *pm);

/* new + feed(eof) + commit, for tests and the fuzzer. NULL with errno. */
struct sym_perfmap *sym_perfmap__parse(const char *text, size_t n, size_t max_entries);

/* Fills r: SYM_OK with name (valid until the next feed/commit/reset/free)
 * and offset from the start of the range that holds addr, or
 * SYM_UNKNOWN_ADDR. */
void sym_perfmap__lookup(const struct sym_perfmap *pm, uint64_t addr, struct sym_result *r);

/* The lowest and highest address named (the code cache, roughly), for
 * telling a stale map from a stray address. false when empty. */
bool sym_perfmap__span(const struct sym_perfmap *pm, uint64_t *lo, uint64_t *hi);
size_t sym_perfmap__count(const struct sym_perfmap *pm); /* ranges in the table */
size_t sym_perfmap__lines(const struct sym_perfmap *pm); /* lines parsed, good or bad */
size_t sym_perfmap__bad_lines(const struct sym_perfmap *pm);
size_t sym_perfmap__bytes(const struct sym_perfmap *pm); /* memory held */
bool sym_perfmap__full(const struct sym_perfmap *pm); /* a bound was reached */

#endif /* EMBER_SYM_PERFMAP_H */
