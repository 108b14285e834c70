// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_debuginfo.c - libFuzzer harness for .gnu_debuglink sections and
 * MiniDebugInfo (xz, then the ELF inside it), and perf side-band records */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mapstore.h"
#include "sideband.h"
#include "sym_debuglink.h"
#include "sym_elf.h"
#include "sym_minidebug.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[SYM_DEBUGLINK_NAME_MAX];
	struct sym_elf_table *t;
	struct mapstore *ms;
	uint32_t crc;
	size_t len;
	void *out;

	if (!sym_debuglink_parse(data, size, size & 1, name, &crc) &&
	    (!name[0] || strchr(name, '/') || strlen(name) >= SYM_DEBUGLINK_NAME_MAX))
		__builtin_trap();
	/* A small cap keeps each run fast; the bound is what is tested. */
	if (!sym_minidebug_unxz(data, size, 1u << 20, &out, &len)) {
		if (len > 1u << 20)
			__builtin_trap();
		if (!sym_elf_table__from_mem(out, len, 1u << 20, &t))
			sym_elf_table__free(t);
		free(out);
	}
	ms = mapstore__new();
	if (ms) {
		sideband_record(ms, data, size);
		mapstore__free(ms);
	}
	return 0;
}
