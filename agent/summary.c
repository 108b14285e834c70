// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* summary.c - every module's counters in one list: the exit summary line, and /metrics
 *
 * What an operator (and the tests) read at exit: samples and losses, each
 * output's windows by how they ended, and every module's counters, in the
 * order documented in docs/operating.md; the bounds that were hit come last.
 * The same list, with the items the line leaves out (levels such as RSS and
 * cache sizes), is what /metrics serves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "agent.h"
#include "caps.h"
#include "file.h"
#include "log.h"
#include "summary.h"
#include "unwind_glue.h"
#include "unwind_store.h"

/* Where samples were lost, per CPU: a stalled agent loses on every CPU, a
 * hot CPU (interrupt storm, one busy process) on one. */
static void print_lost_by_cpu(const struct agent *ag)
{
	uint64_t lost[256];
	char line[1024];
	int n, cpu, len = 0;

	n = sampler__lost_by_cpu(ag->sampler, lost, 256);
	for (cpu = 0; cpu < n && len < (int)sizeof(line) - 32; cpu++)
		if (lost[cpu])
			len += snprintf(line + len, sizeof(line) - len, " cpu%d=%llu", cpu,
					(unsigned long long)lost[cpu]);
	if (len)
		log_warn("sampler: samples lost to a full ring buffer:%s; the agent fell behind "
			 "(stopped, starved of CPU, or --frequency too high)",
			 line);
}

static struct summary_item *add(struct summary *s, const char *key, const char *metric,
				const char *labels, uint8_t kind, const char *help, double value)
{
	struct summary_item *it;

	/* A programming error, not input: the list is fixed at build time. */
	if (s->n == SUMMARY_MAX_ITEMS) {
		log_warn_ratelimited("summary: more than %d items; raise SUMMARY_MAX_ITEMS",
				     SUMMARY_MAX_ITEMS);
		return NULL;
	}
	it = &s->items[s->n++];
	*it = (struct summary_item){ key, metric, labels, NULL, NULL, help, kind, false, value };
	return it;
}

#define COUNTER(s, key, metric, labels, help, v) \
	add(s, key, metric, labels, SUMMARY_COUNTER, help, (double)(v))
#define GAUGE(s, key, metric, labels, help, v) \
	add(s, key, metric, labels, SUMMARY_GAUGE, help, (double)(v))

#define WINDOWS_HELP "Windows given to an output, and how each ended"

/* The five ends of an output's windows, summary keys "<end>_<dest>". */
#define DEST(s, dest, w, d, f, dr, ab)                                                             \
	do {                                                                                       \
		COUNTER(s, "windows_" dest, "output_windows", "output=\"" dest "\",end=\"all\"",   \
			WINDOWS_HELP, w);                                                          \
		COUNTER(s, "delivered_" dest, "output_windows",                                    \
			"output=\"" dest "\",end=\"delivered\"", WINDOWS_HELP, d);                 \
		COUNTER(s, "failed_" dest, "output_windows", "output=\"" dest "\",end=\"failed\"", \
			WINDOWS_HELP, f);                                                          \
		COUNTER(s, "dropped_" dest, "output_windows",                                      \
			"output=\"" dest "\",end=\"dropped\"", WINDOWS_HELP, dr);                  \
		COUNTER(s, "abandoned_" dest, "output_windows",                                    \
			"output=\"" dest "\",end=\"abandoned\"", WINDOWS_HELP, ab);                \
	} while (0)

/* Indexed by enum push_fail_reason (push.h). */
static const char *const push_failed_keys[PUSH_FAIL_N] = {
	"push_failed_rejected", "push_failed_server", "push_failed_timeout", "push_failed_connect",
	"push_failed_tls",	"push_failed_reply",  "push_failed_other",
};
static const char *const push_failed_labels[PUSH_FAIL_N] = {
	"reason=\"rejected\"", "reason=\"server\"", "reason=\"timeout\"", "reason=\"connect\"",
	"reason=\"tls\"",	 "reason=\"reply\"",	"reason=\"other\"",
};

/* Indexed by enum k8s_err (k8s.h): the summary line's keys. */
static const char *const k8s_error_keys[K8S_ERR_N] = {
	[K8S_ERR_CONNECT] = "k8s_errors_connect",   [K8S_ERR_TLS] = "k8s_errors_tls",
	[K8S_ERR_TIMEOUT] = "k8s_errors_timeout",   [K8S_ERR_HTTP] = "k8s_errors_http",
	[K8S_ERR_JSON] = "k8s_errors_json",	    [K8S_ERR_TOO_LARGE] = "k8s_errors_too_large",
	[K8S_ERR_PODS_CAP] = "k8s_errors_pods_cap", [K8S_ERR_OTHER] = "k8s_errors_other",
};

static uint64_t rss_bytes(void)
{
	char buf[128];
	unsigned long long size, resident;
	ssize_t n = file_read("/proc/self/statm", buf, sizeof(buf));

	if (n <= 0 || sscanf(buf, "%llu %llu", &size, &resident) != 2)
		return 0;
	return resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

void summary_collect(const struct agent *ag, struct summary *s)
{
	uint64_t cnt[PROF_CNT_MAX] = { 0 };
	struct pipeline_stats pls;
	struct ingest_stats is;
	struct agg_stats as;
	struct proc_stats ps;
	struct push_stats pu = { 0 };
	struct jit_stats js = { 0 };
	struct sym_stats ss;
	struct summary_item *it;
	int i;

	s->n = 0;
	if (ag->sampler)
		sampler__counters(ag->sampler, cnt);
	agg__stats(ag->agg, &as);
	ingest__stats(ag->ingest, &is);
	pipeline__stats(ag->pipeline, &pls);
	proc_table__stats(ag->procs, &ps);
	sym__stats(ag->sym, &ss);
	if (ag->jit)
		jit__stats(ag->jit, &js);
	if (ag->push)
		push_client__stats(ag->push, &pu);
	s->windows = pls.windows;
	s->push_delivered = pu.windows_delivered;
	s->push_dropped = pu.windows_dropped;

	COUNTER(s, "samples", "samples", NULL, "Samples read and aggregated", as.samples);
	COUNTER(s, "lost", NULL, NULL, NULL, cnt[PROF_CNT_LOST_RINGBUF] + as.dropped);
	COUNTER(s, NULL, "samples_lost", "reason=\"ring_buffer\"", "Samples lost, by reason",
		cnt[PROF_CNT_LOST_RINGBUF]);
	COUNTER(s, NULL, "samples_lost", "reason=\"window_full\"", "Samples lost, by reason",
		as.dropped);
	COUNTER(s, NULL, "samples_lost", "reason=\"bad_record\"", "Samples lost, by reason",
		is.bad_records);
	COUNTER(s, "processes", "processes", NULL, "Processes seen in samples", ps.procs_seen);
	it = GAUGE(s, "named_pct", "named_frames_ratio", NULL,
		   "Share of frame occurrences named, over all finished windows",
		   as.total_frames ? 100.0 * as.named_frames / as.total_frames : 0.0);
	if (it) {
		it->fraction = true;
		/* Prometheus ratios are 0..1; the summary prints a percentage. */
		it->metric = NULL;
	}
	GAUGE(s, NULL, "named_frames_ratio", NULL,
	      "Share of frame occurrences named, over all finished windows",
	      as.total_frames ? (double)as.named_frames / as.total_frames : 0.0);
	COUNTER(s, "windows", "windows", NULL, "Windows ended", pls.windows);
	COUNTER(s, "kstack_failed", "stack_copy_failed", "stack=\"kernel\"",
		"Samples whose stack could not be copied (the sample is kept)",
		cnt[PROF_CNT_KSTACK_FAILED]);
	COUNTER(s, "ustack_failed", "stack_copy_failed", "stack=\"user\"",
		"Samples whose stack could not be copied (the sample is kept)",
		cnt[PROF_CNT_USTACK_FAILED]);
	COUNTER(s, "bad_records", NULL, NULL, NULL, is.bad_records);
	COUNTER(s, "stacks_truncated", "stacks_truncated", NULL,
		"User stacks cut at 1024 frames (marked [truncated])", is.stacks_truncated);
	COUNTER(s, "unwind_stopped_read", "unwind_stopped", "reason=\"read\"",
		"User stack walks stopped on bad data, by reason",
		is.unwind_stopped[PROF_USTOP_READ]);
	COUNTER(s, "unwind_stopped_loop", "unwind_stopped", "reason=\"loop\"",
		"User stack walks stopped on bad data, by reason",
		is.unwind_stopped[PROF_USTOP_LOOP]);
	COUNTER(s, "unwind_stopped_rbp", "unwind_stopped", "reason=\"rbp\"",
		"User stack walks stopped on bad data, by reason",
		is.unwind_stopped[PROF_USTOP_RBP]);
	COUNTER(s, "unwind_stopped_noregs", "unwind_stopped", "reason=\"noregs\"",
		"User stack walks stopped on bad data, by reason",
		is.unwind_stopped[PROF_USTOP_NOREGS]);
	COUNTER(s, "unwind_cfi_frames", "unwind_cfi_frames", NULL,
		"User frames found through a CFI table row", is.unwind_cfi_frames);
	if (ag->unwind) {
		struct unwind_glue_stats ug;
		struct unwind_store_stats us;

		unwind_glue__stats(ag->unwind, &ug);
		unwind_store_stats(unwind_glue__store(ag->unwind), &us);
		GAUGE(s, "unwind_procs", "unwind_processes", NULL,
		      "Processes whose mappings the BPF unwinder has now", ug.procs);
		COUNTER(s, "unwind_syncs", "unwind_syncs", NULL,
			"Process mappings read for the unwinder", ug.syncs);
		COUNTER(s, "unwind_resyncs", "unwind_resyncs", NULL,
			"Of them, read again after a pc outside every known mapping", ug.resyncs);
		COUNTER(s, "unwind_sync_failed", "unwind_sync_failed", NULL,
			"Process mappings that could not be read (process gone)", ug.sync_failed);
		COUNTER(s, "unwind_rewrites", "unwind_rewrites", NULL,
			"Process entries written again as their tables were loaded", ug.rewrites);
		COUNTER(s, "unwind_write_failed", "unwind_write_failed", NULL,
			"Process entries the unwind_procs map refused (full)", ug.write_failed);
		COUNTER(s, "unwind_maps_over_cap", "unwind_maps_over_cap", NULL,
			"Executable mappings left out past 128 per process", ug.maps_over_cap);
		COUNTER(s, "unwind_bias_failed", "unwind_bias_failed", NULL,
			"Mapped files whose load bias could not be read", ug.bias_failed);
		GAUGE(s, "unwind_tables", "unwind_tables", NULL, "CFI tables in the BPF maps now",
		      us.tables_loaded);
		GAUGE(s, "unwind_table_bytes", "unwind_table_bytes", NULL,
		      "Kernel memory of the CFI tables now", us.table_bytes);
		COUNTER(s, "unwind_compiles", "unwind_compiles", NULL, "CFI tables compiled",
			us.compiles);
		COUNTER(s, "unwind_compile_failed", "unwind_compile_failed", NULL,
			"Files whose CFI could not be compiled", us.compile_failed);
		COUNTER(s, "unwind_too_big", "unwind_too_big", NULL,
			"Files whose table is over the row or memory cap", us.too_big);
		COUNTER(s, "unwind_evictions", "unwind_evictions", NULL,
			"CFI tables unloaded to make room", us.evictions);
	}
	if (ag->push) {
		COUNTER(s, "push_ok", "push_requests", "result=\"ok\"",
			"Push requests, by how they ended", pu.requests_ok);
		COUNTER(s, "push_failed", "push_requests", "result=\"failed\"",
			"Push requests, by how they ended", pu.requests_failed);
		COUNTER(s, "push_dropped", "push_requests", "result=\"dropped\"",
			"Push requests, by how they ended", pu.dropped);
		/* Like caps: on the line only the reasons that occurred. */
		for (i = 0; i < PUSH_FAIL_N; i++)
			COUNTER(s, pu.failed_by[i] ? push_failed_keys[i] : NULL,
				"push_requests_failed", push_failed_labels[i],
				"Push requests given up, by reason", pu.failed_by[i]);
		COUNTER(s, "push_retries", "push_retries", NULL, "Push requests retried",
			pu.retries);
		COUNTER(s, NULL, "push_bytes", NULL, "Request body bytes the server accepted",
			pu.bytes_sent);
		GAUGE(s, NULL, "push_queue_requests", NULL, "Push requests queued or in flight now",
		      pu.queued);
	}
	if (ag->cfg.dry_run)
		DEST(s, "stdout", pls.out_stdout.windows, pls.out_stdout.delivered,
		     pls.out_stdout.failed, 0, 0);
	if (ag->cfg.output_dir)
		DEST(s, "files", pls.files.windows, pls.files.delivered, pls.files.failed, 0, 0);
	if (ag->push)
		DEST(s, "push", pu.windows + pls.push_unsent, pu.windows_delivered,
		     pu.windows_failed + pls.push_unsent, pu.windows_dropped, pu.windows_abandoned);
	COUNTER(s, "profiles_failed", "profiles_failed", NULL,
		"Profiles (label sets) that could not be built", pls.profiles_failed);
	COUNTER(s, "relabel_dropped", "relabel_dropped_processes", NULL,
		"Processes (per window) a relabel rule dropped", pls.labels.procs_dropped);
	COUNTER(s, "relabel_dropped_samples", "relabel_dropped_samples", NULL,
		"Samples of processes a relabel rule dropped", pls.labels.samples_dropped);
	COUNTER(s, "relabel_windows_empty", "relabel_windows_empty", NULL,
		"Windows whose every process a relabel rule dropped", pls.windows_all_dropped);
	COUNTER(s, "labels_invalid", "labels_invalid", NULL,
		"Labels a relabel rule made that the server refuses, left out",
		pls.labels.labels_invalid);
	if (ag->k8s) {
		struct k8s_stats ks;

		k8s__stats(ag->k8s, &ks);
		COUNTER(s, "k8s_lists", "k8s_lists", NULL, "Pod lists asked of the API server",
			ks.lists);
		COUNTER(s, "k8s_watch_restarts", "k8s_watch_restarts", NULL,
			"Pod watches started again (after one ended) from the same list", ks.watch_restarts);
		COUNTER(s, "k8s_watch_events", "k8s_watch_events", NULL,
			"Pod watch events read (bookmarks included)", ks.watch_events);
		COUNTER(s, "k8s_410", "k8s_gone", NULL,
			"Resource versions expired (410 Gone, as a status or an event): re-lists",
			ks.gone_410);
		COUNTER(s, "k8s_401", "k8s_unauthorized", NULL,
			"401 Unauthorized answers (the token is read again)", ks.unauthorized_401);
		for (i = 0; i < K8S_ERR_N; i++) {
			it = COUNTER(s, ks.errors[i] ? k8s_error_keys[i] : NULL, "k8s_errors", NULL,
				     "Kubernetes API errors, by reason", ks.errors[i]);
			if (it) {
				it->lname = "reason";
				it->lvalue = k8s_err_name(i);
			}
		}
		GAUGE(s, "k8s_pods", "k8s_pods", NULL, "Pods of this node known now", ks.pods);
		COUNTER(s, "k8s_pod_unknown", "k8s_pod_unknown", NULL,
			"Processes (per window) in a pod not known to the API server's list yet",
			pls.labels.k8s_pod_unknown);
		COUNTER(s, "k8s_pods_not_profiled", "k8s_not_profiled_processes", NULL,
			"Processes (per window) of pods annotated not to be profiled, dropped",
			pls.labels.k8s_not_profiled);
		COUNTER(s, "k8s_not_profiled_samples", "k8s_not_profiled_samples", NULL,
			"Samples of pods annotated not to be profiled, dropped",
			pls.labels.k8s_not_profiled_samples);
	}
	COUNTER(s, "reloads", "config_reloads", "result=\"ok\"", "Config file reloads (SIGHUP)",
		ag->reloads);
	COUNTER(s, "reloads_refused", "config_reloads", "result=\"refused\"",
		"Config file reloads (SIGHUP)", ag->reloads_refused);
	COUNTER(s, "maps_over_cap", "maps_over_cap", NULL, "Mappings left out of a full maps table",
		ps.maps_over_cap);
	COUNTER(s, "jvm_attached", "jvm_attaches", "result=\"attached\"",
		"JVMs asked for their perf map, by result", js.jvm_attached);
	COUNTER(s, "jvm_refused", "jvm_attaches", "result=\"refused\"",
		"JVMs asked for their perf map, by result", js.jvm_refused);
	COUNTER(s, "jvm_failed", "jvm_attaches", "result=\"failed\"",
		"JVMs asked for their perf map, by result", js.jvm_failed);
	COUNTER(s, "jit_frames", "jit_frames_named", NULL, "Unique frames named from perf maps",
		js.frames_named);
	COUNTER(s, "perfmap_reads", "perfmap_reads", NULL, "Reads of a perf map", js.maps_read);
	COUNTER(s, "perfmap_read_bytes", "perfmap_read_bytes", NULL, "Bytes read from perf maps",
		js.bytes_read);
	COUNTER(s, "perfmap_refused", "perfmap_refused", NULL,
		"Perf maps not opened (symlink, not a regular file, wrong owner, stale)",
		js.maps_refused);
	COUNTER(s, "perfmap_stale", "perfmap_stale", NULL,
		"Perf maps older than their process (a reused pid's), refused", js.maps_stale);
	COUNTER(s, "perfmap_errors", "perfmap_errors", NULL, "Perf map read errors", js.map_errors);
	COUNTER(s, "perfmap_bad_lines", "perfmap_bad_lines", NULL, "Perf map lines skipped",
		js.bad_lines);
	GAUGE(s, "perfmap_bytes", "perfmap_bytes", NULL, "Memory held by perf maps now",
	      js.map_bytes);
	COUNTER(s, "perfmap_capped", "perfmap_capped", NULL,
		"Perf maps read only in part (their newest), over the per-process bound",
		js.maps_capped);
	COUNTER(s, "perfmap_evicted", "perfmap_evicted", NULL,
		"Perf maps dropped whole, over the total bound", js.maps_evicted);
	COUNTER(s, "debug_files", "debug_files", NULL,
		"Symbol tables whose symbols came from a debug file", ss.debug_files);
	COUNTER(s, "debug_crc_mismatch", "debug_crc_mismatch", NULL,
		"Debug link candidates with the wrong CRC", ss.debug_crc_mismatch);
	COUNTER(s, "debug_buildid_mismatch", "debug_buildid_mismatch", NULL,
		"Build-id paths holding another build-id", ss.debug_buildid_mismatch);
	COUNTER(s, "debug_bad", "debug_bad", NULL, "Debug files that did not parse",
		ss.debug_bad_files);
	if (ag->sideband) {
		struct sideband_stats sb;
		struct mapstore_stats ms;

		sideband__stats(ag->sideband, &sb);
		mapstore__stats(ag->mapstore, &ms);
		COUNTER(s, "mmap_records", "mmap_records", NULL, "Kernel mmap records read",
			sb.records);
		COUNTER(s, "mmap_lost", "mmap_lost", NULL, "Kernel mmap records lost", sb.lost);
		COUNTER(s, "mmap_bad", "mmap_bad", NULL, "Kernel mmap records malformed", sb.bad);
		COUNTER(s, "maps_from_records", "maps_from_records", NULL,
			"Processes whose maps came from mmap records", ps.maps_from_store);
		GAUGE(s, "store_procs", "mapstore_processes", NULL,
		      "Processes held in the mmap record store now", ms.procs);
	}
	COUNTER(s, "debuginfod_fetched", "debuginfod_fetched", NULL,
		"Debug files fetched from debuginfod", ss.debuginfod_fetched);
	COUNTER(s, "debuginfod_missing", "debuginfod_missing", NULL,
		"Build-ids no debuginfod server had", ss.debuginfod_missing);
	COUNTER(s, "debuginfod_bad", "debuginfod_bad", NULL,
		"Fetched files not ELF or of another build-id", ss.debuginfod_bad);
	COUNTER(s, "debuginfod_timeouts", "debuginfod_timeouts", NULL,
		"debuginfod fetches aborted at their deadline", ss.debuginfod_timeouts);
	COUNTER(s, "debuginfod_queue_full", "debuginfod_queue_full", NULL,
		"debuginfod requests turned away, the queue full", ss.debuginfod_queue_full);
	COUNTER(s, "debuginfod_evictions", "debuginfod_evictions", NULL,
		"debuginfod cached files removed past the cap", ss.debuginfod_evictions);

	if (ag->offcpu_agg) {
		uint64_t done = cnt[PROF_CNT_OFFCPU_EVENTS] + cnt[PROF_CNT_OFFCPU_SHORT] +
				cnt[PROF_CNT_OFFCPU_LOST];
		struct agg_stats os;

		/* Switch-outs kept = delivered + short + lost + still pending or
		 * evicted from the pending map (the rest). The counters are read
		 * one after the other while switches go on: never below 0. */
		agg__stats(ag->offcpu_agg, &os);
		COUNTER(s, "off_cpu_kept", "off_cpu_switch_outs", "result=\"kept\"",
			"Switch-outs of blocked tasks, by what became of them",
			cnt[PROF_CNT_OFFCPU_PENDING]);
		COUNTER(s, "off_cpu_skipped", "off_cpu_switch_outs", "result=\"skipped\"",
			"Switch-outs of blocked tasks, by what became of them",
			cnt[PROF_CNT_OFFCPU_SKIPPED]);
		COUNTER(s, "off_cpu_events", "off_cpu_events", NULL,
			"Off-CPU records read (block at least --off-cpu-min-us)",
			cnt[PROF_CNT_OFFCPU_EVENTS]);
		COUNTER(s, "off_cpu_short", "off_cpu_short", NULL,
			"Blocks shorter than --off-cpu-min-us, not sent", cnt[PROF_CNT_OFFCPU_SHORT]);
		COUNTER(s, "off_cpu_lost", "off_cpu_lost", NULL,
			"Off-CPU records lost to a full ring buffer", cnt[PROF_CNT_OFFCPU_LOST]);
		COUNTER(s, "off_cpu_unmatched", "off_cpu_unmatched", NULL,
			"Kept switch-outs never matched by a switch-in (pending or evicted)",
			cnt[PROF_CNT_OFFCPU_PENDING] > done ? cnt[PROF_CNT_OFFCPU_PENDING] - done : 0);
		COUNTER(s, "off_cpu_pending_failed", "off_cpu_pending_failed", NULL,
			"Switch-outs the pending map refused", cnt[PROF_CNT_OFFCPU_PENDING_FAILED]);
		COUNTER(s, "off_cpu_stack_failed", "off_cpu_stack_failed", NULL,
			"Switch-outs whose stack could not be copied",
			cnt[PROF_CNT_OFFCPU_STACK_FAILED]);
		COUNTER(s, "off_cpu_dropped", "off_cpu_dropped", NULL,
			"Off-CPU records refused by a full window", os.dropped);
		/* The agent's join of stack records with their ends: records
		 * in = joined + waiting + unended + evicted + nomem. Against the
		 * BPF counters above, the records still in the ring buffer
		 * (sent after the last read) make the difference. */
		COUNTER(s, "off_cpu_joined", "off_cpu_stack_records", "result=\"joined\"",
			"Off-CPU stack records by outcome in the join (unended: short block, end lost)",
			is.offcpu_join.joined);
		COUNTER(s, "off_cpu_unended", "off_cpu_stack_records", "result=\"unended\"",
			"Off-CPU stack records by outcome in the join (unended: short block, end lost)",
			is.offcpu_join.unended);
		COUNTER(s, "off_cpu_evicted", "off_cpu_stack_records", "result=\"evicted\"",
			"Off-CPU stack records by outcome in the join (unended: short block, end lost)",
			is.offcpu_join.evicted);
		COUNTER(s, "off_cpu_join_nomem", "off_cpu_stack_records", "result=\"nomem\"",
			"Off-CPU stack records by outcome in the join (unended: short block, end lost)",
			is.offcpu_join.nomem);
		COUNTER(s, "off_cpu_ends_unmatched", "off_cpu_ends_unmatched", NULL,
			"Off-CPU end records whose stack record was not waiting",
			is.offcpu_join.ends_unmatched);
		GAUGE(s, "off_cpu_waiting", "off_cpu_stack_records_waiting", NULL,
		      "Off-CPU stack records waiting for their end now", is.offcpu_join.waiting);
	}

	/* Only in /metrics: levels and the counters the line leaves out. */
	COUNTER(s, NULL, "frames", "named=\"true\"",
		"Frame occurrences, named or not (symbolization hits and misses)", as.named_frames);
	COUNTER(s, NULL, "frames", "named=\"false\"",
		"Frame occurrences, named or not (symbolization hits and misses)",
		as.total_frames - as.named_frames);
	COUNTER(s, NULL, "symbol_table_loads", NULL,
		"Symbol tables loaded into the cache (cache misses)", ss.cache_loads);
	COUNTER(s, NULL, "symbol_table_evictions", NULL, "Symbol tables evicted from the cache",
		ss.cache_evictions);
	GAUGE(s, NULL, "cache_bytes", "cache=\"symbol_tables\"", "Bytes held by each cache now",
	      ss.cache_bytes);
	GAUGE(s, NULL, "cache_bytes", "cache=\"kernel_symbols\"", "Bytes held by each cache now",
	      ss.kernel_bytes);
	GAUGE(s, NULL, "cache_bytes", "cache=\"dwarf\"", "Bytes held by each cache now",
	      ss.dwarf_bytes);
	GAUGE(s, NULL, "cache_bytes", "cache=\"perf_maps\"", "Bytes held by each cache now",
	      js.map_bytes);
	GAUGE(s, NULL, "open_files", NULL, "Mapped files held open for symbolization",
	      ss.files_open);
	GAUGE(s, NULL, "processes_tracked", NULL, "Processes in the process table now",
	      ps.procs_live);
	if (ag->cgroups) {
		struct cgroup_stats cs;

		cgroup_cache__stats(ag->cgroups, &cs);
		GAUGE(s, NULL, "cgroup_cache_entries", NULL, "Cgroups remembered by id now",
		      cs.entries);
		COUNTER(s, NULL, "cgroup_cache_lookups", "result=\"hit\"",
			"Cgroup id lookups, by result", cs.hits);
		COUNTER(s, NULL, "cgroup_cache_lookups", "result=\"miss\"",
			"Cgroup id lookups, by result", cs.misses);
		COUNTER(s, NULL, "cgroup_unknown_paths", NULL,
			"Cgroup paths that named neither container nor pod", cs.unknown);
	}
	COUNTER(s, NULL, "cgroup_bad", NULL, "Cgroup files that could not be read", ps.cgroup_bad);
	GAUGE(s, NULL, "resident_memory_bytes", NULL, "The agent's resident set size", rss_bytes());
	for (i = 0; i < CAPS_N; i++) {
		it = COUNTER(s, NULL, "caps_hit", NULL,
			     "Refusals of each bound (docs/operating.md, bounds)", caps__count(i));
		if (it) {
			it->lname = "bound";
			it->lvalue = caps__name(i);
		}
	}
}

/* Prints the exit summary; returns true when a window with samples did
 * not reach a configured output (exit code 3). */
bool summary_print(const struct agent *ag)
{
	struct summary *s = malloc(sizeof(*s));
	struct pipeline_stats pls;
	struct push_stats pu = { 0 };
	uint64_t lost_windows = 0;
	char caps_part[512], line[4096];
	size_t off = 0, i;
	int n;

	if (ag->sampler)
		print_lost_by_cpu(ag);
	pipeline__stats(ag->pipeline, &pls);
	if (ag->push) {
		push_client__stats(ag->push, &pu);
		lost_windows += pu.windows + pls.push_unsent - pu.windows_delivered;
	}
	if (ag->cfg.dry_run)
		lost_windows += pls.out_stdout.failed;
	if (ag->cfg.output_dir)
		lost_windows += pls.files.failed;
	lost_windows += pls.profiles_failed;
	if (!s) {
		log_summary("summary unavailable: out of memory");
		return lost_windows != 0;
	}
	summary_collect(ag, s);
	line[0] = '\0';
	for (i = 0; i < s->n && off < sizeof(line); i++) {
		const struct summary_item *it = &s->items[i];

		if (!it->key)
			continue;
		if (it->fraction)
			n = snprintf(line + off, sizeof(line) - off, " %s=%.1f", it->key,
				     it->value);
		else
			n = snprintf(line + off, sizeof(line) - off, " %s=%llu", it->key,
				     (unsigned long long)it->value);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	/* Last on the line: every bound hit, by name (docs/operating.md). */
	caps__format(caps_part, sizeof(caps_part));
	log_summary("summary%s %s", line, caps_part);
	free(s);
	return lost_windows != 0;
}
