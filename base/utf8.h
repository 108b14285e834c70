/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* utf8.h - checking and repairing UTF-8 by the server's rules
 *
 * Pyroscope (Go) rejects strings that are not valid UTF-8; names and comms
 * from the kernel and from ELF files may hold any bytes. Every output that
 * writes such a string repairs it the same way, here. Pure; any thread.
 */
#ifndef EMBER_UTF8_H
#define EMBER_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is valid UTF-8 by the server's rules (no overlong
 * forms, no surrogates, nothing past U+10FFFF). */
bool utf8_valid(const char *s, size_t len);

/* Copies src into dst (room for max + 1 bytes) as valid UTF-8: each byte that
 * starts no valid sequence becomes '_'; the copy stops at a character boundary
 * within max bytes. Returns the length written (dst is NUL-terminated). */
size_t utf8_copy(char *dst, const char *src, size_t max);

#endif /* EMBER_UTF8_H */
