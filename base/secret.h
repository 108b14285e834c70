/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* secret.h - passwords and tokens leave memory wiped
 *
 * explicit_bzero, which the compiler may not drop as a dead store, before
 * the memory is freed. Pure; any thread.
 */
#ifndef EMBER_SECRET_H
#define EMBER_SECRET_H

#include <stdlib.h>
#include <string.h>

/* Wipes the string s (up to its NUL) in place. Accepts NULL. */
static inline void secret_wipe(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
}

/* Wipes the string s, then frees it. Accepts NULL. */
static inline void secret_free(char *s)
{
	secret_wipe(s);
	free(s);
}

/* Wipes size bytes at p, then frees p: for a buffer that may hold more than
 * one string, or none yet. Accepts NULL. */
static inline void secret_free_buf(void *p, size_t size)
{
	if (p) {
		explicit_bzero(p, size);
		free(p);
	}
}

#endif /* EMBER_SECRET_H */
