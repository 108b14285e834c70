/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sym_elf.h - function symbol tables and build-ids from ELF files (internal)
 *
 * Reads an ELF file (an fd, or an image in memory such as the vDSO) with
 * libelf into a compact, immutable table: the PT_LOAD segments that map file
 * offsets to virtual addresses, and the function symbols (STT_FUNC,
 * STT_GNU_IFUNC) of .symtab, else .dynsym, sorted, with one name blob.
 * Untrusted input: corrupt files are errors, never crashes; sizes are bounded.
 * A table has no state after loading; any thread may read it.
 */
#ifndef EMBER_SYM_ELF_H
#define EMBER_SYM_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sym.h"

/* A GNU build-id is 20 bytes in practice; longer notes are ignored. */
#define SYM_ELF_BUILD_ID_MAX 64
#define SYM_ELF_BUILD_ID_HEX (2 * SYM_ELF_BUILD_ID_MAX + 1)
/* Longer names (hostile input, pathological C++) are cut here. */
#define SYM_ELF_MAX_NAME 4096

struct sym_elf_table;

/* Loads the table of the ELF file open at fd (read with pread; the fd's
 * position is not used, so it may be shared). max_bytes bounds the table
 * and, times two plus 1 MiB, the symbol and string sections read (and freed)
 * to build it.
 * 0 or -errno: -ENOEXEC not ELF, corrupt, or not an executable/shared object;
 * -ENODATA no function symbols; -E2BIG over max_bytes; -ENOMEM. */
int sym_elf_table__from_fd(int fd, size_t max_bytes, struct sym_elf_table **out);
/* Same from an image in memory; the image is not kept after return. */
int sym_elf_table__from_mem(const void *img, size_t len, size_t max_bytes,
			    struct sym_elf_table **out);
void sym_elf_table__free(struct sym_elf_table *t);

/* Names the function covering file offset off. Fills r (name valid while t
 * lives): SYM_OK, or SYM_UNKNOWN_ADDR when no segment or symbol covers it. */
void sym_elf_table__lookup(const struct sym_elf_table *t, uint64_t off, struct sym_result *r);
/* Bytes the table holds (what the cache accounts). */
size_t sym_elf_table__bytes(const struct sym_elf_table *t);
size_t sym_elf_table__count(const struct sym_elf_table *t);
/* True when the names came from .dynsym (the file has no .symtab). */
bool sym_elf_table__dynsym(const struct sym_elf_table *t);

/* Reads the GNU build-id of the ELF file at fd (or in memory) as lowercase
 * hex into hex[SYM_ELF_BUILD_ID_HEX]. 0, -ENOEXEC not ELF, -ENODATA none. */
int sym_elf_build_id_fd(int fd, char *hex);
int sym_elf_build_id_mem(const void *img, size_t len, char *hex);

#endif /* EMBER_SYM_ELF_H */
