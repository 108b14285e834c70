// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_gopclntab.c - libFuzzer harness for the .gopclntab reader: any bytes
 * as a table (and as a segment to scan), looked up at every entry it
 * claims and at addresses the input spells */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "sym_gopclntab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void probe(const struct sym_go *g, uint64_t addr, struct arena *a)
{
	const char *name, *file;
	uint64_t entry;
	uint32_t line;

	if (sym_go__lookup(g, addr, a, &name, &entry, &file, &line))
		return;
	if (!name || !*name || strnlen(name, SYM_GO_MAX_NAME + 1) > SYM_GO_MAX_NAME || entry > addr)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a = { 0 };
	struct sym_go *g;
	size_t i, at;
	uint64_t addr;

	for (at = sym_go__scan(data, size, 0); at < size; at = sym_go__scan(data, size, at + 8)) {
		if (at & 7)
			__builtin_trap();
		if (sym_go__new(-1, data + at, 0, size - at, 0x401000, 1u << 20, &g))
			continue;
		for (i = 0; i < 64; i++)
			probe(g, 0x401000 + i * 16, &a);
		for (i = 0; i + 8 <= size && i < 512; i += 8) {
			memcpy(&addr, data + i, 8);
			probe(g, addr, &a);
			probe(g, 0x401000 + (addr & 0xffff), &a);
		}
		sym_go__free(g);
		arena_reset(&a);
	}
	arena_release(&a);
	return 0;
}
