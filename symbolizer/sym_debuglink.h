/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sym_debuglink.h - .gnu_debuglink: a stripped file's pointer to its debug file
 *
 * The section holds the debug file's base name, NUL, padding to 4 bytes and
 * the CRC-32 (zlib's, IEEE reflected) of the whole debug file in the ELF's
 * byte order. A candidate file is the right one only when its CRC matches:
 * a stale or unrelated file under that name must not name frames. Untrusted
 * input: bounded, never a crash. Pure; any thread.
 */
#ifndef EMBER_SYM_DEBUGLINK_H
#define EMBER_SYM_DEBUGLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longer names are not debug links a toolchain writes. */
#define SYM_DEBUGLINK_NAME_MAX 256

/* Parses a .gnu_debuglink section of len bytes (big_endian: the ELF's byte
 * order) into name[SYM_DEBUGLINK_NAME_MAX] and *crc. 0, or -EINVAL when the
 * name is empty, unterminated, too long, holds a '/', or no CRC follows. */
int sym_debuglink_parse(const void *data, size_t len, bool big_endian, char *name, uint32_t *crc);
/* Reads the .gnu_debuglink of the ELF file at fd. 0, -ENODATA (none),
 * -ENOEXEC (not ELF), -EINVAL (a section that does not parse), -ENOMEM. */
int sym_debuglink_read(int fd, char *name, uint32_t *crc);
/* The CRC-32 of the whole file at fd, read with pread. 0 or -errno. */
int sym_debuglink_crc_fd(int fd, uint32_t *crc);

#endif /* EMBER_SYM_DEBUGLINK_H */
