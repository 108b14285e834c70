// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_cfg_file.c - libFuzzer harness for the --config YAML loader and the relabel rules it builds
 *
 * Any bytes: a refusal (one line on stderr) or a configuration whose rules
 * then run over a small label set, without crashing, leaking or looping.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "cfg.h"
#include "cfg_internal.h"
#include "relabel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	if (!cfg_file_parse(&cfg, "fuzz.yaml", (const char *)data, size, false) && cfg.relabel) {
		struct arena arena = { 0 };
		struct relabel_set set = { .arena = &arena };

		relabel_set_put(&set, "__name__", "process_cpu");
		relabel_set_put(&set, "service_name", "nginx.service");
		relabel_set_put(&set, "__meta_process_comm", "nginx");
		relabel_set_put(&set, "__meta_process_pid", "42");
		relabel__apply(cfg.relabel, &set);
		relabel_set_release(&set);
		arena_release(&arena);
	}
	cfg_free(&cfg);
	return 0;
}
