/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sym_elf.h - function symbol tables from ELF files (internal)
 *
 * Reads an ELF file (an fd, or an image in memory such as the vDSO) with
 * libelf into a compact, immutable table: the PT_LOAD segments that map file
 * offsets to virtual addresses, and the function symbols (STT_FUNC,
 * STT_GNU_IFUNC) of .symtab, else .dynsym, sorted. Names stay where they are:
 * a table made from an fd keeps its own dup() of it and reads a name from the
 * string section when a lookup needs it; a table made from memory keeps a
 * copy of its (small) string section. Untrusted input: corrupt files are
 * errors, never crashes; sizes are bounded. A table has no mutable state
 * after loading; any thread may read it, each with its own names arena.
 * Loading is sym_elf.c's and lookups sym_elf_lookup.c's; the table's layout
 * (sym_elf_table.h) is private to the two.
 */
#ifndef EMBER_SYM_ELF_H
#define EMBER_SYM_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "sym.h"

/* Longer names (hostile input, pathological C++) are cut here. */
#define SYM_ELF_MAX_NAME 4096

struct sym_elf_table;

/* Loads the table of the ELF file open at fd (read with pread; the fd's
 * position is not used, so it may be shared). The table keeps a dup() of fd,
 * closed by sym_elf_table__free(), so the file stays readable even when the
 * caller closes fd or the file is unlinked. max_bytes bounds the table and,
 * times two plus 1 MiB, the symbol section read (and freed) to build it.
 * 0 or -errno: -ENOEXEC not ELF, corrupt, or not an executable/shared object;
 * -ENODATA no function symbols; -E2BIG over max_bytes; -ENOMEM; the errors
 * of fstat() and dup() (-EMFILE). */
int sym_elf_table__from_fd(int fd, size_t max_bytes, struct sym_elf_table **out);
/* Same from an image in memory; the image is not kept after return (the
 * table copies the string section it names from into its own bytes). */
int sym_elf_table__from_mem(const void *img, size_t len, size_t max_bytes,
			    struct sym_elf_table **out);
/* A table of only the PT_LOAD segments of the ELF file at fd, no symbols:
 * what a stripped binary lends the symbols of its debug file
 * (sym_elf_table__take_segments). 0, -ENOEXEC, -ENOMEM. */
int sym_elf_table__segments_from_fd(int fd, struct sym_elf_table **out);
/* Closes the table's fd and frees it. Accepts NULL. */
void sym_elf_table__free(struct sym_elf_table *t);
/* Gives dst the PT_LOAD segments of src. A separate debug file has the
 * binary's symbols but zeroed segment offsets, so file offsets must be
 * turned into addresses with the binary's own segments. 0 or -ENOMEM. */
int sym_elf_table__take_segments(struct sym_elf_table *dst, const struct sym_elf_table *src);

/* Names the function covering file offset off, reading its name into names,
 * a base/arena (one per reader): its memory never moves, so r->name stays
 * valid until arena_reset() or arena_release() of names, however many
 * lookups follow; t may be freed before that. Names
 * longer than SYM_ELF_MAX_NAME, or running past the end of the string
 * section, are cut. Returns 0 with r filled: SYM_OK, or SYM_UNKNOWN_ADDR
 * when no segment or symbol covers off or the symbol's name is empty.
 * Returns -errno when the name could not be read, with r->reason
 * SYM_NO_FILE: -EIO when the file now ends before the name (truncated under
 * us), -ENOMEM, or pread()'s error. */
int sym_elf_table__lookup(const struct sym_elf_table *t, uint64_t off, struct arena *names,
			  struct sym_result *r);
/* The link-time virtual address of file offset off, through the PT_LOAD
 * segment holding it (what DWARF and .gopclntab are keyed by). False when
 * no segment holds off. */
bool sym_elf_table__vaddr(const struct sym_elf_table *t, uint64_t off, uint64_t *vaddr);
/* True when the file a table was loaded from changed size or mtime since
 * (truncated or rewritten in place): its names may be wrong or missing, so
 * the table should be loaded again. False for tables made from memory. */
bool sym_elf_table__stale(const struct sym_elf_table *t);
/* Bytes the table holds in memory (what the cache accounts): 16 per
 * function, the segments, and a memory table's string section. */
size_t sym_elf_table__bytes(const struct sym_elf_table *t);
size_t sym_elf_table__count(const struct sym_elf_table *t);
/* True when the names come from a Go .gopclntab (no symbol table). */
bool sym_elf_table__go(const struct sym_elf_table *t);
/* True when the names came from .dynsym (the file has no .symtab). */
bool sym_elf_table__dynsym(const struct sym_elf_table *t);

#endif /* EMBER_SYM_ELF_H */
