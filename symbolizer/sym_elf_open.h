/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sym_elf_open.h - libelf handles on files and memory images (internal)
 *
 * The one way the symbolizer hands ELF bytes to libelf, for the symbol
 * tables (sym_elf.c), the build-ids (sym_buildid.c) and any later reader:
 * files through pread (ELF_C_READ), never mmap, so a file truncated under us
 * is an error and not a SIGBUS; memory images through a private copy, as
 * elf_memory() wants a mutable one. Untrusted input: callers bound what they
 * walk with the limits below. Pure; any thread.
 */
#ifndef EMBER_SYM_ELF_OPEN_H
#define EMBER_SYM_ELF_OPEN_H

#include <gelf.h>
#include <libelf.h>
#include <stddef.h>

/* Program headers walked at most, whatever e_phnum says. */
#define SYM_ELF_MAX_PHDRS 4096

/* A handle reading fd with pread, or NULL (not ELF, no libelf). End it with
 * elf_end(); the fd's position is not used, so it may be shared. */
Elf *sym_elf_open_fd(int fd);
/* A handle on a copy of img in *copy. End both with sym_elf_close_mem(),
 * also on error. 0, -ENOEXEC or -ENOMEM. */
int sym_elf_open_mem(const void *img, size_t len, char **copy, Elf **e);
/* The first section called name, its header in *sh; NULL when there is
 * none or the section names cannot be read. */
Elf_Scn *sym_elf_section(Elf *e, const char *name, GElf_Shdr *sh);
/* Ends the handle, then frees the copy: libelf reads it until elf_end().
 * Either may be NULL. */
void sym_elf_close_mem(Elf *e, char *copy);

#endif /* EMBER_SYM_ELF_OPEN_H */
