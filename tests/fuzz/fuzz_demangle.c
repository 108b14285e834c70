// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_demangle.c - libFuzzer harness for the demangling wrapper: any bytes
 * as a symbol name, with and without parameters; the result, when there is
 * one, is a bounded NUL-terminated string */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "sym_demangle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a = { 0 };
	const char *d;
	char *name;
	int params;

	/* Symbol names are C strings: stop at the first NUL like a reader. */
	name = malloc(size + 1);
	if (!name)
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';
	for (params = 0; params < 2; params++) {
		d = sym_demangle(&a, name, params);
		if (d && (!*d || strnlen(d, SYM_DEMANGLE_MAX_OUT + 1) > SYM_DEMANGLE_MAX_OUT))
			__builtin_trap();
	}
	arena_release(&a);
	free(name);
	return 0;
}
