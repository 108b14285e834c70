// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* summary.c - the exit summary: one line of key=value counters
 *
 * What an operator (and the tests) read at exit: samples and losses, each
 * output's windows by how they ended, and every module's counters, in the
 * order documented in docs/operating.md; the bounds that were hit come last.
 */
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "caps.h"
#include "log.h"
#include "summary.h"

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

/* " <key>_<dest>=N" for the four ends of a destination's windows. */
static int dest_part(char *buf, size_t size, const char *dest, uint64_t windows, uint64_t delivered,
		     uint64_t failed, uint64_t dropped, uint64_t abandoned)
{
	return snprintf(buf, size,
			" windows_%s=%llu delivered_%s=%llu failed_%s=%llu dropped_%s=%llu "
			"abandoned_%s=%llu",
			dest, (unsigned long long)windows, dest, (unsigned long long)delivered,
			dest, (unsigned long long)failed, dest, (unsigned long long)dropped, dest,
			(unsigned long long)abandoned);
}

/* Prints the exit summary; returns true when a window with samples did
 * not reach a configured output (exit code 3). */
bool summary_print(const struct agent *ag)
{
	uint64_t cnt[PROF_CNT_MAX] = { 0 };
	struct pipeline_stats pls;
	struct ingest_stats is;
	struct agg_stats as;
	struct proc_stats ps;
	struct push_stats pu = { 0 };
	struct jit_stats js = { 0 };
	char push_part[512] = "", dest[3][256] = { "", "", "" }, jit_part[256];
	char sb_part[256] = "", dbg_part[256] = "", di_part[256] = "";
	char caps_part[512], oc_part[512] = "";
	uint64_t lost_windows = 0;
	int i;

	if (ag->sampler) {
		sampler__counters(ag->sampler, cnt);
		print_lost_by_cpu(ag);
	}
	agg__stats(ag->agg, &as);
	ingest__stats(ag->ingest, &is);
	pipeline__stats(ag->pipeline, &pls);
	proc_table__stats(ag->procs, &ps);
	if (ag->push) {
		push_client__stats(ag->push, &pu);
		snprintf(push_part, sizeof(push_part),
			 " push_ok=%llu push_failed=%llu push_dropped=%llu push_retries=%llu",
			 (unsigned long long)pu.requests_ok, (unsigned long long)pu.requests_failed,
			 (unsigned long long)pu.dropped, (unsigned long long)pu.retries);
		/* Like caps: the reasons that occurred, each its own field. */
		for (i = 0; i < PUSH_FAIL_N; i++) {
			size_t used = strlen(push_part);

			if (pu.failed_by[i])
				snprintf(push_part + used, sizeof(push_part) - used,
					 " push_failed_%s=%llu", push_fail_reason_name(i),
					 (unsigned long long)pu.failed_by[i]);
		}
		dest_part(dest[2], sizeof(dest[2]), "push", pu.windows + pls.push_unsent,
			  pu.windows_delivered, pu.windows_failed + pls.push_unsent,
			  pu.windows_dropped, pu.windows_abandoned);
		lost_windows += pu.windows + pls.push_unsent - pu.windows_delivered;
	}
	if (ag->cfg.dry_run) {
		dest_part(dest[0], sizeof(dest[0]), "stdout", pls.out_stdout.windows,
			  pls.out_stdout.delivered, pls.out_stdout.failed, 0, 0);
		lost_windows += pls.out_stdout.failed;
	}
	if (ag->cfg.output_dir) {
		dest_part(dest[1], sizeof(dest[1]), "files", pls.files.windows, pls.files.delivered,
			  pls.files.failed, 0, 0);
		lost_windows += pls.files.failed;
	}
	lost_windows += pls.profiles_failed;
	if (ag->jit)
		jit__stats(ag->jit, &js);
	snprintf(
		jit_part, sizeof(jit_part),
		" jvm_attached=%llu jvm_refused=%llu jvm_failed=%llu jit_frames=%llu "
		"perfmap_reads=%llu perfmap_refused=%llu perfmap_errors=%llu perfmap_bad_lines=%llu "
		"perfmap_bytes=%llu",
		(unsigned long long)js.jvm_attached, (unsigned long long)js.jvm_refused,
		(unsigned long long)js.jvm_failed, (unsigned long long)js.frames_named,
		(unsigned long long)js.maps_read, (unsigned long long)js.maps_refused,
		(unsigned long long)js.map_errors, (unsigned long long)js.bad_lines,
		(unsigned long long)js.map_bytes);
	{
		struct sym_stats ss;

		sym__stats(ag->sym, &ss);
		snprintf(dbg_part, sizeof(dbg_part),
			 " debug_files=%llu debug_crc_mismatch=%llu debug_buildid_mismatch=%llu "
			 "debug_bad=%llu",
			 (unsigned long long)ss.debug_files,
			 (unsigned long long)ss.debug_crc_mismatch,
			 (unsigned long long)ss.debug_buildid_mismatch,
			 (unsigned long long)ss.debug_bad_files);
		snprintf(di_part, sizeof(di_part),
			 " debuginfod_fetched=%llu debuginfod_missing=%llu debuginfod_bad=%llu "
			 "debuginfod_timeouts=%llu debuginfod_queue_full=%llu "
			 "debuginfod_evictions=%llu",
			 (unsigned long long)ss.debuginfod_fetched,
			 (unsigned long long)ss.debuginfod_missing,
			 (unsigned long long)ss.debuginfod_bad,
			 (unsigned long long)ss.debuginfod_timeouts,
			 (unsigned long long)ss.debuginfod_queue_full,
			 (unsigned long long)ss.debuginfod_evictions);
	}
	if (ag->sideband) {
		struct sideband_stats sb;
		struct mapstore_stats ms;

		sideband__stats(ag->sideband, &sb);
		mapstore__stats(ag->mapstore, &ms);
		snprintf(sb_part, sizeof(sb_part),
			 " mmap_records=%llu mmap_lost=%llu mmap_bad=%llu maps_from_records=%llu "
			 "store_procs=%llu",
			 (unsigned long long)sb.records, (unsigned long long)sb.lost,
			 (unsigned long long)sb.bad, (unsigned long long)ps.maps_from_store,
			 (unsigned long long)ms.procs);
	}
	if (ag->offcpu_agg) {
		uint64_t done = cnt[PROF_CNT_OFFCPU_EVENTS] + cnt[PROF_CNT_OFFCPU_SHORT] +
				cnt[PROF_CNT_OFFCPU_LOST];
		struct agg_stats os;

		/* Switch-outs kept = delivered + short + lost + still pending or
		 * evicted from the pending map (the rest). The counters are read
		 * one after the other while switches go on: never below 0. */
		agg__stats(ag->offcpu_agg, &os);
		snprintf(
			oc_part, sizeof(oc_part),
			" off_cpu_kept=%llu off_cpu_skipped=%llu off_cpu_events=%llu off_cpu_short=%llu "
			"off_cpu_lost=%llu off_cpu_unmatched=%llu off_cpu_pending_failed=%llu "
			"off_cpu_stack_failed=%llu off_cpu_dropped=%llu",
			(unsigned long long)cnt[PROF_CNT_OFFCPU_PENDING],
			(unsigned long long)cnt[PROF_CNT_OFFCPU_SKIPPED],
			(unsigned long long)cnt[PROF_CNT_OFFCPU_EVENTS],
			(unsigned long long)cnt[PROF_CNT_OFFCPU_SHORT],
			(unsigned long long)cnt[PROF_CNT_OFFCPU_LOST],
			(unsigned long long)(cnt[PROF_CNT_OFFCPU_PENDING] > done ?
						     cnt[PROF_CNT_OFFCPU_PENDING] - done :
						     0),
			(unsigned long long)cnt[PROF_CNT_OFFCPU_PENDING_FAILED],
			(unsigned long long)cnt[PROF_CNT_OFFCPU_STACK_FAILED],
			(unsigned long long)os.dropped);
	}
	/* Last on the line: every bound hit, by name (docs/operating.md). */
	caps__format(caps_part, sizeof(caps_part));
	log_summary("summary samples=%llu lost=%llu processes=%llu named_pct=%.1f windows=%llu "
		    "kstack_failed=%llu ustack_failed=%llu bad_records=%llu%s%s%s%s "
		    "profiles_failed=%llu maps_over_cap=%llu%s%s%s%s%s %s",
		    (unsigned long long)as.samples,
		    (unsigned long long)(cnt[PROF_CNT_LOST_RINGBUF] + as.dropped),
		    (unsigned long long)ps.procs_seen,
		    as.total_frames ? 100.0 * as.named_frames / as.total_frames : 0.0,
		    (unsigned long long)pls.windows,
		    (unsigned long long)cnt[PROF_CNT_KSTACK_FAILED],
		    (unsigned long long)cnt[PROF_CNT_USTACK_FAILED],
		    (unsigned long long)is.bad_records, push_part, dest[0], dest[1], dest[2],
		    (unsigned long long)pls.profiles_failed, (unsigned long long)ps.maps_over_cap,
		    jit_part, dbg_part, sb_part, di_part, oc_part, caps_part);
	return lost_windows != 0;
}
