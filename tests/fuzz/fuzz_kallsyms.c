// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_kallsyms.c - libFuzzer harness for the /proc/kallsyms parser, also
 * under a bound on symbols small enough for the input to reach */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "log.h"
#include "sym_ksym.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t fixed[] = {
		0, 1, 0xffffffff81000000, 0xffffffff81000010, 0xffffffffc0000000, UINT64_MAX
	};
	struct sym_ksym *k;
	struct sym_result r;
	uint64_t addr;
	size_t i, max;

	/* The warning at the bound, once per input, would fill the log. */
	log_level = LOG_ERR;
	k = sym_ksym__parse((const char *)data, size);
	if (!k)
		return 0;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		sym_ksym__lookup(k, fixed[i], &r);
		if (r.reason == SYM_OK &&
		    (!r.name || !*r.name ||
		     strnlen(r.name, SYM_KSYM_MAX_NAME + 1) > SYM_KSYM_MAX_NAME))
			__builtin_trap();
	}
	/* Addresses the input itself spells, 8 bytes at a time. */
	for (i = 0; i + 8 <= size && i < 256; i += 8) {
		memcpy(&addr, data + i, 8);
		sym_ksym__lookup(k, addr, &r);
		if (r.reason == SYM_OK && !r.name)
			__builtin_trap();
	}
	sym_ksym__free(k);
	/* Again with a bound this input can reach: the stop past it is the
	 * path a real file takes only with millions of symbols. */
	max = 1 + size % 32;
	k = sym_ksym__parse_max((const char *)data, size, max);
	if (!k)
		return 0;
	if (sym_ksym__count(k) > max)
		__builtin_trap();
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		sym_ksym__lookup(k, fixed[i], &r);
		if (r.reason == SYM_OK && (!r.name || !*r.name))
			__builtin_trap();
	}
	sym_ksym__free(k);
	return 0;
}
