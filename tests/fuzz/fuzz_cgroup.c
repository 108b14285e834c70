// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_cgroup.c - libFuzzer harness for the /proc/PID/cgroup parser */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], unit[16];

	if (!proc_parse_cgroup((const char *)data, size, path, sizeof(path), unit, sizeof(unit))) {
		/* Both outputs must be terminated within their buffers. */
		if (strnlen(path, sizeof(path)) == sizeof(path) ||
		    strnlen(unit, sizeof(unit)) == sizeof(unit))
			__builtin_trap();
	}
	return 0;
}
