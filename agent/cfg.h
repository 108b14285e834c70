/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* cfg.h - configuration: command-line options and the --config file
 *
 * Parses and validates every option once, at start-up, into a struct cfg that
 * the modules then only read; the file (agent/cfg_file.c) goes through the
 * same validation as the flags, and the flags override it. A bad option or
 * value is one line naming the cause (and the file and line) and the fix,
 * and exit code 2. On SIGHUP the main loop parses a new struct cfg and takes
 * only what can change while running (cfg_take_reloadable). Thread: main.
 */
#ifndef EMBER_CFG_H
#define EMBER_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "arena.h"
#include "label.h"
#include "profiler.h"
#include "relabel.h"

#define CFG_MAX_LABELS 16
#define CFG_MAX_HEADERS 16

enum cfg_protocol { CFG_PROTO_PUSH = 0, CFG_PROTO_INGEST = 1 };
enum cfg_k8s { CFG_K8S_AUTO = 0, CFG_K8S_ON = 1, CFG_K8S_OFF = 2 };

struct cfg {
	/* what and how to sample */
	uint32_t frequency; /* Hz, default 100 */
	bool profile_cpu; /* --profiles: CPU samples, default true */
	bool profile_off_cpu; /* --profiles: off-CPU time, default false */
	uint32_t off_cpu_min_us; /* shorter blocks are only counted, default 1000 */
	uint32_t off_cpu_sample; /* at least 1 in N switch-outs kept, default 1 */
	uint32_t off_cpu_max_rate; /* kept switch-outs a second, default 50; 0: no bound */
	bool off_cpu_runqueue; /* also runqueue latency, default false */
	uint32_t window_s; /* aggregation window, default 15 */
	uint32_t duration_s; /* 0 = until SIGINT/SIGTERM */
	uint32_t pids[PROF_MAX_PID_FILTER];
	size_t npids;
	bool kernel; /* kernel stacks, default true */
	bool mmap_events; /* side-band mmap records, default true */
	bool unwind_cfi; /* user stacks from CFI tables, default true; false: frame pointers */
	bool debuginfod; /* fetch debug files (also when DEBUGINFOD_URLS is set) */
	const char *debuginfod_cache; /* its cache directory, NULL = default */
	uint32_t debuginfod_cache_mb; /* its cap, 0 = 1024 */
	bool verbose; /* debug logs, libbpf's included */
	int log_level; /* enum log_level; --verbose means debug */
	bool jvm; /* ask HotSpot JVMs for their perf map, default true */
	uint32_t jvm_min_age_s; /* leave JVMs younger than this alone, default 10 */
	uint32_t perfmap_max_mb; /* memory for all perf maps, default 8 */
	uint32_t unwind_memory_mb; /* the unwind tables' BPF memory, default 32 */

	/* outputs */
	bool dry_run; /* folded stacks to stdout */
	const char *output_dir; /* pprof .pb.gz files, or NULL */
	bool no_demangle; /* names as the symbol table has them */
	bool lines; /* folded names end in ":LINE" */
	const char *http_listen; /* /metrics and /healthz address, or NULL (off) */

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
	struct relabel *relabel; /* relabel_configs from the file, or NULL */

	/* Kubernetes metadata (agent/k8s.h) */
	enum cfg_k8s kubernetes; /* auto (default): on when a kubeconfig or in-cluster config is there */
	const char *kubeconfig; /* --kubeconfig FILE, or NULL: in-cluster */
	const char *node_name; /* --node-name, else $NODE_NAME */
	bool k8s_pod_labels; /* pod labels as pod_label_<name> */
	bool profile_annotated_only; /* only pods annotated ember.dev/profile: "true" */
	uint32_t k8s_watch_timeout_s; /* timeoutSeconds of each watch, default 300 */

	/* the file */
	const char *config_file; /* --config, or NULL */
	size_t nlabels_file, nheaders_file; /* the first ones came from the file */
	struct arena strings; /* the file's strings */
	struct arena reload_strings; /* the strings of the labels last reloaded */
	/* Each key of the file with its value as text, to name what a reload
	 * changed that needs a restart; strings in strings. */
	struct label *file_opts;
	size_t nfile_opts;
};

/* Fills cfg from the --config file named in argv, if any, then from argv.
 * Returns 0, 1 after printing --help (caller exits 0), or -EINVAL after
 * printing one "ember: error [FILE:LINE: ]<cause>; <fix>" line (caller exits
 * 2); cfg_free it in every case. Strings point into argv or cfg's arenas. */
int cfg_parse(struct cfg *cfg, int argc, char **argv);
/* cfg_parse on SIGHUP: a refusal's line says the running configuration
 * stays, instead of pointing at --help. */
int cfg_reparse(struct cfg *cfg, int argc, char **argv);
/* Frees what cfg owns (the file's strings, the relabel rules). */
void cfg_free(struct cfg *cfg);
/* After a reload parsed next (cfg_parse, labels_check passed): cur takes
 * next's labels, host, relabel rules and log level; next keeps cur's old
 * ones for cfg_free. Every other file key whose value differs from the
 * running one is logged as needing a restart and left as it runs. Returns
 * how many keys need a restart. */
size_t cfg_take_reloadable(struct cfg *cur, struct cfg *next);
/* Writes the usage text to f. */
void cfg_usage(void *file);

#endif /* EMBER_CFG_H */
