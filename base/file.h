/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* file.h - reading a small file whole, bounded
 *
 * For /proc and /sys files, secrets and configuration: one open, reads until
 * EOF or the buffer is full, one close. Retries EINTR. Pure; any thread.
 */
#ifndef EMBER_FILE_H
#define EMBER_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Reads the file at path into buf (size >= 1), NUL-terminated. Returns the
 * bytes read (at most size - 1), -EFBIG when the file holds more than that
 * (buf then holds its first size - 1 bytes), or -errno from open/read. */
ssize_t file_read(const char *path, char *buf, size_t size);

#endif /* EMBER_FILE_H */
