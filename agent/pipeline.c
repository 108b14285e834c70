// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* pipeline.c - the end of a window: report -> labels -> outputs
 *
 * pprof files and the push queue both read the window as profiles, one per
 * label set, built once here and shared. What building them cost is logged
 * at info level (bench/push.py reads it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "labels.h"
#include "log.h"
#include "out_files.h"
#include "out_folded.h"
#include "pipeline.h"
#include "pprof.h"

struct pipeline {
	const struct cfg *cfg;
	struct agg *aggs[PIPELINE_MAX_PROFILES]; /* one window per profile type */
	size_t naggs;
	struct sym *sym;
	struct push_client *push;
	struct k8s *k8s; /* pod metadata, or NULL */
	bool stdout_broken;
	struct pipeline_stats stats;
	void (*view)(void *ctx, struct report *r);
	void *view_ctx;
};

struct pipeline *pipeline__new(const struct cfg *cfg, struct agg *agg, struct sym *sym,
			       struct push_client *push)
{
	struct pipeline *pl = calloc(1, sizeof(*pl));

	if (!pl)
		return NULL;
	pl->cfg = cfg;
	pl->aggs[0] = agg;
	pl->naggs = 1;
	pl->sym = sym;
	pl->push = push;
	return pl;
}

int pipeline__add_profile(struct pipeline *pl, struct agg *agg)
{
	if (pl->naggs == PIPELINE_MAX_PROFILES)
		return -ENOSPC;
	pl->aggs[pl->naggs++] = agg;
	return 0;
}

void pipeline__set_k8s(struct pipeline *pl, struct k8s *k8s)
{
	pl->k8s = k8s;
}

void pipeline__free(struct pipeline *pl)
{
	free(pl);
}

/* Builds the window's profiles and hands them to the files and the push
 * client; counts, per output, the window's end when it is not the push
 * client's to count. */
static void pipeline_profiles(struct pipeline *pl, const struct report *r)
{
	uint64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), raw = 0, gz = 0;
	struct labels_group *groups = NULL;
	struct push_series *series = NULL;
	struct pprof_blob **blobs = NULL;
	size_t ngroups = 0, i, j, nseries = 0, *nblobs = NULL, nprofiles = 0;
	bool files_ok = true, pushed = false;
	int err;

	err = labels_group(r, &groups, &ngroups);
	if (err) {
		log_err("agent: grouping the window by labels failed err=%d", err);
		files_ok = false;
		goto cleanup;
	}
	if (!ngroups) {
		/* The rules dropped every process: nothing was to go out. */
		pl->stats.windows_all_dropped++;
		labels_groups_free(groups, ngroups);
		return;
	}
	series = calloc(ngroups ? ngroups : 1, sizeof(*series));
	blobs = calloc(ngroups ? ngroups : 1, sizeof(*blobs));
	nblobs = calloc(ngroups ? ngroups : 1, sizeof(*nblobs));
	if (!series || !blobs || !nblobs) {
		log_err("agent: out of memory building profiles");
		files_ok = false;
		goto cleanup;
	}
	for (i = 0; i < ngroups; i++) {
		err = pprof_build(r, groups[i].procs, groups[i].nprocs, 0, &blobs[i], &nblobs[i]);
		if (err) {
			log_err("agent: building a profile failed err=%d", err);
			pl->stats.profiles_failed++;
			blobs[i] = NULL;
			nblobs[i] = 0;
			continue;
		}
		if (!nblobs[i])
			continue;
		for (j = 0; j < nblobs[i]; j++) {
			raw += blobs[i][j].raw_len;
			gz += blobs[i][j].len;
		}
		nprofiles += nblobs[i];
		/* A full disk or lost permission fails the window's files only. */
		if (pl->cfg->output_dir && files_ok &&
		    out_files_write(pl->cfg->output_dir, r->start_ns, &groups[i], blobs[i],
				    nblobs[i]))
			files_ok = false;
		series[nseries] = (struct push_series){
			.labels = groups[i].labels,
			.nlabels = groups[i].nlabels,
			.blobs = blobs[i],
			.nblobs = nblobs[i],
			.start_ns = r->start_ns,
			.duration_ns = r->duration_ns,
		};
		nseries++;
	}
	if (pl->push && nseries) {
		err = push_client__submit(pl->push, series, nseries);
		if (err)
			log_err("agent: queueing the window for push failed err=%d", err);
		pushed = !err;
	}
	log_info("agent: profiles samples=%llu series=%zu profiles=%zu raw_bytes=%llu "
		 "gzip_bytes=%llu build_cpu_us=%llu",
		 (unsigned long long)r->samples, nseries, nprofiles, (unsigned long long)raw,
		 (unsigned long long)gz,
		 (unsigned long long)(clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0) / 1000);
cleanup:
	if (pl->cfg->output_dir) {
		pl->stats.files.windows++;
		if (files_ok && nseries)
			pl->stats.files.delivered++;
		else
			pl->stats.files.failed++;
	}
	if (pl->push && !pushed)
		pl->stats.push_unsent++;
	for (i = 0; blobs && nblobs && i < ngroups; i++)
		pprof_blobs_free(blobs[i], nblobs[i]);
	free(blobs);
	free(nblobs);
	free(series);
	labels_groups_free(groups, ngroups);
}

/* The dry run: once stdout is closed or full it stays so (a pipe's reader
 * is gone, a device is full), so one error line, then windows are only
 * counted as failed; the other outputs go on. */
static void pipeline_stdout(struct pipeline *pl, const struct report *r)
{
	int err;

	pl->stats.out_stdout.windows++;
	if (pl->stdout_broken) {
		pl->stats.out_stdout.failed++;
		return;
	}
	/* Two profiles on one stream: the off-CPU lines (microseconds) get a
	 * root of their own, apart from the CPU lines (samples). */
	err = out_folded_write_root(
		stdout, r, pl->cfg->lines,
		pl->naggs > 1 && report_type_is_off_cpu(&r->type) ? "[off-cpu]" : NULL);
	if (!err) {
		pl->stats.out_stdout.delivered++;
		return;
	}
	pl->stats.out_stdout.failed++;
	pl->stdout_broken = true;
	log_err("agent: cannot write the dry run to stdout err=%d (%s); it stops, the other "
		"outputs go on",
		err, strerror(-err));
}

/* One profile type's window: its report, to every output. */
static void pipeline_report(struct pipeline *pl, struct agg *agg, uint64_t start_wall_ns,
			    uint64_t duration_ns)
{
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
	struct report *r;
	int err;

	r = agg__finish(agg, pl->sym, start_wall_ns, duration_ns);
	if (!r) {
		/* Out of memory: agg counted the window's samples as lost. */
		log_err("agent: ending the window failed err=%d", -errno);
		return;
	}
	pl->stats.windows++;
	/* finish_ms: wall time naming and aggregating took, what a window's
	 * end is delayed by (a slow symbolization shows here). */
	log_info("agent: window samples=%llu procs=%zu frames=%zu named_frames=%llu/%llu "
		 "finish_ms=%llu type=%s",
		 (unsigned long long)r->samples, r->nprocs, r->nframes,
		 (unsigned long long)r->named_frames, (unsigned long long)r->total_frames,
		 (unsigned long long)(clock_ns(CLOCK_MONOTONIC) - t0) / 1000000, r->type.name);

	if (pl->view)
		pl->view(pl->view_ctx, r);
	if (pl->cfg->dry_run && r->samples)
		pipeline_stdout(pl, r);
	if (r->samples && (pl->cfg->output_dir || pl->push)) {
		err = labels_assign_k8s(pl->cfg, pl->k8s, r, &pl->stats.labels);
		if (err) {
			log_err("agent: labelling the window's processes failed err=%d", err);
			if (pl->cfg->output_dir) {
				pl->stats.files.windows++;
				pl->stats.files.failed++;
			}
			if (pl->push)
				pl->stats.push_unsent++;
		} else {
			pipeline_profiles(pl, r);
		}
	}
	report__free(r);
}

void pipeline__window(struct pipeline *pl, uint64_t start_wall_ns, uint64_t duration_ns)
{
	size_t i;

	for (i = 0; i < pl->naggs; i++)
		pipeline_report(pl, pl->aggs[i], start_wall_ns, duration_ns);
}

void pipeline__stats(const struct pipeline *pl, struct pipeline_stats *out)
{
	*out = pl->stats;
}

void pipeline__set_view(struct pipeline *pl, void (*fn)(void *ctx, struct report *r), void *ctx)
{
	pl->view = fn;
	pl->view_ctx = ctx;
}
