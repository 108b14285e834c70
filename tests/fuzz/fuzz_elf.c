// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_elf.c - libFuzzer harness for ELF symbol tables and build-id notes */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sym_buildid.h"
#include "sym_elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char hex[SYM_BUILDID_HEX];
	struct arena names = { 0 };
	struct sym_elf_table *t;
	struct sym_result r;
	size_t off;

	if (!sym_buildid_mem(data, size, hex) && strnlen(hex, sizeof(hex)) >= sizeof(hex))
		__builtin_trap();
	if (sym_elf_table__from_mem(data, size, 1u << 20, &t))
		return 0;
	if (sym_elf_table__bytes(t) > 1u << 20)
		__builtin_trap();
	for (off = 0; off < size + 64; off += 1 + off / 4) {
		/* From memory a name read fails only for want of memory. */
		if (sym_elf_table__lookup(t, off, &names, &r) && r.reason != SYM_NO_FILE)
			__builtin_trap();
		if (r.reason == SYM_OK &&
		    (!r.name || !*r.name ||
		     strnlen(r.name, SYM_ELF_MAX_NAME + 1) > SYM_ELF_MAX_NAME))
			__builtin_trap();
		if (off % 64 == 0)
			arena_reset(&names);
	}
	arena_release(&names);
	sym_elf_table__free(t);
	return 0;
}
