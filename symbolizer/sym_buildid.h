/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sym_buildid.h - GNU build-ids of ELF files and memory images (internal)
 *
 * The build-id names a binary across paths, containers and package
 * versions: the symbolizer keys its table cache by it and finds separate
 * debug files with it. Untrusted input: a corrupt file is -ENOEXEC or
 * -ENODATA, never a crash. Pure; any thread.
 */
#ifndef EMBER_SYM_BUILDID_H
#define EMBER_SYM_BUILDID_H

#include <stddef.h>

/* A GNU build-id is 20 bytes in practice; longer notes are ignored. */
#define SYM_BUILDID_MAX 64
#define SYM_BUILDID_HEX (2 * SYM_BUILDID_MAX + 1)

/* Reads the GNU build-id of the ELF file at fd (read with pread, the fd's
 * position unused) or of the image in memory as lowercase hex into
 * hex[SYM_BUILDID_HEX]. 0, -ENOEXEC not ELF, -ENODATA none, -ENOMEM. */
int sym_buildid_fd(int fd, char *hex);
int sym_buildid_mem(const void *img, size_t len, char *hex);

#endif /* EMBER_SYM_BUILDID_H */
