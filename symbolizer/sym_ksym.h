/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sym_ksym.h - kernel symbols from /proc/kallsyms (internal to the symbolizer)
 *
 * Parses "addr type name [module]" lines, keeps text symbols (t T w W) in a
 * sorted array with one name blob, and answers address lookups by binary
 * search. Untrusted text: bounded fields, bad lines skipped and counted.
 * Immutable after parsing; any thread may read it.
 */
#ifndef EMBER_SYM_KSYM_H
#define EMBER_SYM_KSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sym.h"

/* KSYM_NAME_LEN is 512 with the NUL. */
#define SYM_KSYM_MAX_NAME 511
#define SYM_KSYM_MAX_MODULE 255
#define SYM_KSYM_MAX_SYMS (4u << 20)
#define SYM_KSYM_MAX_BLOB (64u << 20)
/* No kernel function comes near this; past it an address is not the
 * previous symbol's (e.g. a BPF program loaded after kallsyms was read). */
#define SYM_KSYM_MAX_SPAN (128u << 10)

struct sym_ksym;

/* Parses kallsyms text. NULL with errno ENOMEM only: bad input yields an
 * object with fewer symbols and bad lines counted. Free with sym_ksym__free().
 * Past SYM_KSYM_MAX_SYMS symbols or SYM_KSYM_MAX_BLOB name bytes the rest of
 * the text is ignored: the table keeps the symbols before the bound, each
 * once, sym_ksym__truncated() tells, the stop counts as one bad line, and
 * one warning is logged. */
struct sym_ksym *sym_ksym__parse(const char *text, size_t len);
/* The same with a lower bound on symbols (1 to SYM_KSYM_MAX_SYMS; anything
 * else means SYM_KSYM_MAX_SYMS), so that tests reach it with a few lines. */
struct sym_ksym *sym_ksym__parse_max(const char *text, size_t len, size_t max_syms);
/* Reads and parses a kallsyms file, streaming (the text is ~10 MB), with
 * the bounds of sym_ksym__parse() and one on the bytes read.
 * NULL with errno (ENOENT, EACCES, ENOMEM). */
struct sym_ksym *sym_ksym__load(const char *path);
void sym_ksym__free(struct sym_ksym *k);

/* Fills r: SYM_OK with name, module (NULL for the core kernel) and offset;
 * the padding before a function ("__pfx_NAME", CONFIG_FUNCTION_PADDING) is
 * named after the function, offset counted from the padding's start;
 * SYM_UNKNOWN_ADDR; SYM_NO_KERNEL when the file only had zero addresses
 * (kptr_restrict, not root) or no text symbols at all. Pointers in r are
 * valid until sym_ksym__free(). */
void sym_ksym__lookup(const struct sym_ksym *k, uint64_t addr, struct sym_result *r);

size_t sym_ksym__count(const struct sym_ksym *k);
size_t sym_ksym__bad_lines(const struct sym_ksym *k);
/* Bytes held by the table. */
size_t sym_ksym__bytes(const struct sym_ksym *k);
/* True when a bound was reached and the rest of the input was ignored. */
bool sym_ksym__truncated(const struct sym_ksym *k);
/* True when addresses were hidden (all zero): no kernel names. */
bool sym_ksym__restricted(const struct sym_ksym *k);

#endif /* EMBER_SYM_KSYM_H */
