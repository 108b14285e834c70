/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sym_minidebug.h - MiniDebugInfo: an xz-compressed ELF in .gnu_debugdata
 *
 * Fedora-style binaries keep, besides .dynsym, a small ELF whose .symtab
 * has the function symbols .dynsym lacks, xz-compressed in .gnu_debugdata
 * (gdb's "MiniDebugInfo"). Its sections are NOBITS copies at the binary's
 * addresses, so its symbols map with the binary's segments. Untrusted
 * input: the output size is capped, a corrupt stream is an error. Pure;
 * any thread.
 */
#ifndef EMBER_SYM_MINIDEBUG_H
#define EMBER_SYM_MINIDEBUG_H

#include <stddef.h>

/* Decompressed bound: real ones are well under 1 MiB. */
#define SYM_MINIDEBUG_MAX (64u << 20)
/* Compressed bound on the section read. */
#define SYM_MINIDEBUG_IN_MAX (16u << 20)

/* Decompresses the xz stream in[0..len) into a new malloc'd *out of at most
 * max bytes (*out_len). 0, -EINVAL (not xz, corrupt, truncated), -E2BIG
 * (more than max), -ENOMEM. */
int sym_minidebug_unxz(const void *in, size_t len, size_t max, void **out, size_t *out_len);
/* Reads and decompresses .gnu_debugdata of the ELF file at fd. 0, -ENODATA
 * (no such section, or a NOBITS one), -ENOEXEC (not ELF), or the errors
 * of sym_minidebug_unxz(). */
int sym_minidebug_read(int fd, size_t max, void **out, size_t *out_len);

#endif /* EMBER_SYM_MINIDEBUG_H */
