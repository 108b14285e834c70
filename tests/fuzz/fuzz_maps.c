// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_maps.c - libFuzzer harness for the /proc/PID/maps parser */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sym_maps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sym_maps *m = sym_maps__parse((const char *)data, size);
	size_t i, n;

	if (!m)
		return 0;
	n = sym_maps__count(m);
	if (n > SYM_MAPS_MAX_ENTRIES)
		__builtin_trap();
	for (i = 0; i < n; i++) {
		const struct sym_map *e = sym_maps__at(m, i);

		/* Sorted, non-empty, paths bounded and terminated. */
		if (e->end <= e->start || (i && e->start < sym_maps__at(m, i - 1)->start))
			__builtin_trap();
		if (e->path && strnlen(e->path, SYM_MAPS_MAX_PATH) >= SYM_MAPS_MAX_PATH)
			__builtin_trap();
		if (sym_maps__find(m, e->start) == NULL || sym_maps__find(m, e->end - 1) == NULL)
			__builtin_trap();
		sym_maps__find(m, e->end);
		sym_maps__find(m, e->start - 1);
	}
	sym_maps__free(m);
	return 0;
}
