/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sym_elf_table.h - the layout of an ELF symbol table (private to the
 * loader, sym_elf.c, and the lookup, sym_elf_lookup.c)
 *
 * 16 bytes per function and the PT_LOAD segments; names are offsets into
 * the string section, which stays in the file (or, from memory, is copied).
 * Immutable once loaded.
 */
#ifndef EMBER_SYM_ELF_TABLE_H
#define EMBER_SYM_ELF_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sym_gopclntab.h"

struct sym_elf_seg {
	uint64_t off;
	uint64_t filesz;
	uint64_t vaddr;
	uint64_t memsz;
};

struct sym_elf_sym {
	uint64_t addr;
	uint32_t size; /* computed for size-0 symbols: up to the next one */
	uint32_t name; /* offset in the string section */
};

struct sym_elf_table {
	struct sym_elf_sym *syms;
	size_t n;
	struct sym_elf_seg *segs;
	size_t nsegs;
	int fd; /* our dup() of the file; -1 for a table from memory */
	uint64_t str_off; /* of the string section in the file */
	uint64_t str_size; /* every syms[].name is below it */
	char *strs; /* from memory: a copy of the string section */
	/* The file when loaded, to notice it changing under us. */
	int64_t file_size;
	int64_t mtime_sec;
	int64_t mtime_nsec;
	bool dynsym;
	/* A Go binary without symbols: named from its .gopclntab (then n is 0). */
	struct sym_go *go;
	uint64_t go_off, go_size; /* where it is, once found */
	uint64_t text; /* address of .text, for Go tables that omit it */
};

#endif /* EMBER_SYM_ELF_TABLE_H */
