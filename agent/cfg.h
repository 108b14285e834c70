/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* cfg.h - command-line configuration
 *
 * Parses and validates every option once, at start-up, into a struct cfg that
 * the modules then only read. A bad option or value is one line naming the
 * cause and the fix, and exit code 2. Thread: main, before anything starts.
 */
#ifndef EMBER_CFG_H
#define EMBER_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "label.h"
#include "profiler.h"

#define CFG_MAX_LABELS 16
#define CFG_MAX_HEADERS 16

enum cfg_protocol { CFG_PROTO_PUSH = 0, CFG_PROTO_INGEST = 1 };

struct cfg {
	/* what and how to sample */
	uint32_t frequency; /* Hz, default 100 */
	bool profile_cpu; /* --profiles: CPU samples, default true */
	bool profile_off_cpu; /* --profiles: off-CPU time, default false */
	uint32_t off_cpu_min_us; /* shorter blocks are only counted, default 1000 */
	uint32_t off_cpu_sample; /* at least 1 in N switch-outs kept, default 1 */
	uint32_t off_cpu_max_rate; /* kept switch-outs a second, default 200; 0: no bound */
	bool off_cpu_runqueue; /* also runqueue latency, default false */
	uint32_t window_s; /* aggregation window, default 15 */
	uint32_t duration_s; /* 0 = until SIGINT/SIGTERM */
	uint32_t pids[PROF_MAX_PID_FILTER];
	size_t npids;
	bool kernel; /* kernel stacks, default true */
	bool mmap_events; /* side-band mmap records, default true */
	bool debuginfod; /* fetch debug files (also when DEBUGINFOD_URLS is set) */
	const char *debuginfod_cache; /* its cache directory, NULL = default */
	uint32_t debuginfod_cache_mb; /* its cap, 0 = 1024 */
	bool verbose; /* debug logs, libbpf's included */
	int log_level; /* enum log_level; --verbose means debug */
	bool jvm; /* ask HotSpot JVMs for their perf map, default true */
	uint32_t jvm_min_age_s; /* leave JVMs younger than this alone, default 10 */

	/* outputs */
	bool dry_run; /* folded stacks to stdout */
	const char *output_dir; /* pprof .pb.gz files, or NULL */
	bool no_demangle; /* names as the symbol table has them */
	bool lines; /* folded names end in ":LINE" */

	/* push */
	const char *server; /* base URL, or NULL */
	enum cfg_protocol protocol;
	const char *tenant; /* X-Scope-OrgID */
	const char *basic_user;
	const char *basic_password_file;
	const char *bearer_token_file;
	const char *ca_file;
	const char *cert_file; /* client certificate (PEM) */
	const char *key_file; /* its key (PEM) */
	bool insecure; /* skip TLS verification, explicitly asked for */
	uint32_t connect_timeout_ms; /* default 5000 */
	uint32_t timeout_ms; /* whole request, default 10000 */
	uint32_t queue_max; /* profiles (series) queued while the server is away */
	uint32_t max_retries;
	struct label headers[CFG_MAX_HEADERS];
	size_t nheaders;

	/* labels */
	struct label labels[CFG_MAX_LABELS];
	size_t nlabels;
	const char *host; /* host label; default: the hostname */
};

/* Fills cfg from argv. Returns 0, 1 after printing --help (caller exits 0), or
 * -EINVAL after printing one "ember: <cause>; <fix>" line (caller exits 2).
 * Strings point into argv. */
int cfg_parse(struct cfg *cfg, int argc, char **argv);
/* Writes the usage text to f. */
void cfg_usage(void *file);

#endif /* EMBER_CFG_H */
