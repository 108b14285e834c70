// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_perfmap.c - libFuzzer harness for the perf-map parser: whole, in
 * chunks with commits between them (an incremental re-read), and under a
 * bound on entries the input can reach */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "log.h"
#include "sym_perfmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct sym_perfmap *pm, const uint8_t *data, size_t size)
{
	static const uint64_t fixed[] = { 0, 1, 0x1000, 0x7f0000000000, UINT64_MAX };
	struct sym_result r;
	uint64_t addr;
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		sym_perfmap__lookup(pm, fixed[i], &r);
		if (r.reason == SYM_OK &&
		    (!r.name || !*r.name || strlen(r.name) > SYM_PERFMAP_MAX_NAME))
			__builtin_trap();
	}
	for (i = 0; i + 8 <= size && i < 256; i += 8) {
		memcpy(&addr, data + i, 8);
		sym_perfmap__lookup(pm, addr, &r);
		if (r.reason == SYM_OK && !r.name)
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sym_perfmap *pm;
	size_t off, chunk;

	log_level = LOG_ERR;
	pm = sym_perfmap__parse((const char *)data, size, 0);
	if (pm) {
		check(pm, data, size);
		sym_perfmap__free(pm);
	}
	pm = sym_perfmap__new(1 + size % 16);
	if (!pm)
		return 0;
	chunk = 1 + (size ? data[0] % 61 : 0);
	for (off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		sym_perfmap__feed(pm, (const char *)data + off, n, off + n == size);
		sym_perfmap__commit(pm);
		check(pm, data, size);
		/* An overlap splits a range: at most two per entry admitted. */
		if (sym_perfmap__count(pm) > 2 * (1 + size % 16))
			__builtin_trap();
	}
	sym_perfmap__free(pm);
	return 0;
}
