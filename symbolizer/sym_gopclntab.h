/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sym_gopclntab.h - function names and lines of Go binaries without a
 * symbol table, from the runtime's own .gopclntab (internal)
 *
 * Go 1.16+ layouts (magics 0xfffffffa, 0xfffffff0, 0xfffffff1) and Go
 * 1.2-1.15 (0xfffffffb), little-endian, 8-byte pointers. Only the function
 * table (8 or 16 bytes per function) is held in memory; names, files and
 * line programs are read from the file when a lookup needs them. Untrusted
 * input: every offset, count and product is checked against the table's
 * bounds, line programs stop at the table's end and after a bounded number
 * of steps. Immutable once loaded; any thread may look up, each with its
 * own arena.
 */
#ifndef EMBER_SYM_GOPCLNTAB_H
#define EMBER_SYM_GOPCLNTAB_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

#define SYM_GO_MAX_NAME 1024

struct sym_go;

/* The table at [off, off + size) of the file open at fd (borrowed: it must
 * stay open while the table lives), or, when fd < 0, of mem (copied,
 * counted in the table's bytes). text is the address of .text, used when
 * the header has no text start (Go 1.2-1.17 keep absolute entries; 1.26
 * writes 0). 0 or -errno: -ENOEXEC not a table we read, -E2BIG over
 * max_bytes, -ENOMEM, -EIO. */
int sym_go__new(int fd, const void *mem, uint64_t off, uint64_t size, uint64_t text,
		size_t max_bytes, struct sym_go **out);
void sym_go__free(struct sym_go *g);
size_t sym_go__bytes(const struct sym_go *g);

/* The function at vaddr: its name (into names), entry address, and the
 * source file (into names, NULL when unknown) and line (0) of vaddr.
 * 0, -ENOENT (no function covers vaddr), -ENOEXEC (the table is corrupt
 * there), -EIO (the file ends early), -ENOMEM. */
int sym_go__lookup(const struct sym_go *g, uint64_t vaddr, struct arena *names, const char **name,
		   uint64_t *entry, const char **file, uint32_t *line);

/* Where a table may start in buf (a non-executable segment's bytes): the
 * offset of the first plausible header at or after from, or len. */
size_t sym_go__scan(const uint8_t *buf, size_t len, size_t from);

#endif /* EMBER_SYM_GOPCLNTAB_H */
