// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* main.c - wires Ember's modules together and runs the main loop
 *
 * The main loop drains the ring buffer (normalizing each sample while its
 * process lives) and, at each window's end, turns the window into a report
 * that every chosen output reads: folded text, pprof files, the push queue.
 * Only the push client has a thread of its own, so sampling never waits on
 * the network.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "agg.h"
#include "cfg.h"
#include "labels.h"
#include "log.h"
#include "out_files.h"
#include "out_folded.h"
#include "pprof.h"
#include "proc.h"
#include "push.h"
#include "sampler.h"
#include "sym.h"

#define POLL_MS 100
/* At exit, how long the last window may take to reach the server. */
#define FLUSH_MS 5000

static volatile sig_atomic_t stop_requested;

struct agent {
	struct cfg cfg;
	char host[256];
	struct sym *sym;
	struct proc_table *procs;
	struct agg *agg;
	struct sampler *sampler;
	struct push_client *push;
	uint64_t bad_records;
	uint64_t windows;
	bool output_broken;
};

static void on_signal(int sig)
{
	stop_requested = 1;
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void handle_sample(struct agent *ag, const struct prof_sample *s, size_t size,
			  uint64_t mono_ns)
{
	struct proc_frame frames[2 * PROF_MAX_STACK];
	uint64_t user[PROF_MAX_STACK];
	char comm[PROF_COMM_LEN + 1];
	struct proc *p;
	uint32_t i;

	if (s->knr > PROF_MAX_STACK || s->unr > PROF_MAX_STACK ||
	    size < PROF_SAMPLE_SIZE(s->knr + s->unr)) {
		ag->bad_records++;
		return;
	}
	memcpy(comm, s->comm, PROF_COMM_LEN);
	comm[PROF_COMM_LEN] = '\0';
	p = proc_table__get(ag->procs, s->hdr.pid, comm, mono_ns);
	if (!p) {
		ag->bad_records++;
		return;
	}
	for (i = 0; i < s->knr; i++) {
		/* Return addresses point past the call: look inside it. */
		frames[i].addr = i > 0 ? s->stack[i] - 1 : s->stack[i];
		frames[i].kind = REPORT_FRAME_KERNEL;
		frames[i].file = NULL;
	}
	/* __u64 is unsigned long long, uint64_t unsigned long: copy, don't alias. */
	memcpy(user, &s->stack[s->knr], s->unr * sizeof(*user));
	proc__normalize(ag->procs, p, user, s->unr, &frames[s->knr], mono_ns);
	agg__add(ag->agg, p, frames, s->knr + s->unr);
}

static int on_record(void *ctx, const void *data, size_t size)
{
	const struct prof_hdr *h = data;
	struct agent *ag = ctx;

	if (size < sizeof(*h)) {
		ag->bad_records++;
		return 0;
	}
	switch (h->type) {
	case PROF_EV_SAMPLE:
		handle_sample(ag, data, size, now_ns(CLOCK_MONOTONIC));
		break;
	case PROF_EV_EXEC:
	case PROF_EV_EXIT:
		/* Samples before the event were normalized already; the next
		 * sample of this pid reads the new image's maps. */
		proc_table__forget(ag->procs, h->pid);
		break;
	default:
		ag->bad_records++;
		break;
	}
	return 0;
}

/* pprof files and the push queue both need the window as profiles. */
static void emit_profiles(struct agent *ag, const struct report *r)
{
	uint64_t cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID), raw = 0, gz = 0;
	struct labels_group *groups = NULL;
	struct push_series *series = NULL;
	struct pprof_blob **blobs = NULL;
	size_t ngroups = 0, i, j, nseries = 0, *nblobs = NULL, nprofiles = 0;
	int err;

	err = labels_group(&ag->cfg, r, &groups, &ngroups);
	if (err) {
		log_err("agent: grouping the window by labels failed err=%d", err);
		return;
	}
	series = calloc(ngroups ? ngroups : 1, sizeof(*series));
	blobs = calloc(ngroups ? ngroups : 1, sizeof(*blobs));
	nblobs = calloc(ngroups ? ngroups : 1, sizeof(*nblobs));
	if (!series || !blobs || !nblobs) {
		log_err("agent: out of memory building profiles");
		goto cleanup;
	}
	for (i = 0; i < ngroups; i++) {
		err = pprof_build(r, groups[i].procs, groups[i].nprocs, 0, &blobs[i], &nblobs[i]);
		if (err) {
			log_err("agent: building a profile failed err=%d", err);
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
		if (ag->cfg.output_dir)
			out_files_write(ag->cfg.output_dir, r->start_ns, &groups[i], blobs[i],
					nblobs[i]);
		series[nseries].labels = groups[i].labels;
		series[nseries].nlabels = groups[i].nlabels;
		series[nseries].blobs = blobs[i];
		series[nseries].nblobs = nblobs[i];
		series[nseries].start_ns = r->start_ns;
		series[nseries].duration_ns = r->duration_ns;
		nseries++;
	}
	if (ag->push && nseries) {
		err = push_client__submit(ag->push, series, nseries);
		if (err)
			log_err("agent: queueing the window for push failed err=%d", err);
	}
	/* What bench/push.sh reads: the cost of turning a window into profiles. */
	log_info("agent: profiles samples=%llu series=%zu profiles=%zu raw_bytes=%llu "
		 "gzip_bytes=%llu build_cpu_us=%llu",
		 (unsigned long long)r->samples, nseries, nprofiles, (unsigned long long)raw,
		 (unsigned long long)gz,
		 (unsigned long long)(now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0) / 1000);
cleanup:
	for (i = 0; blobs && nblobs && i < ngroups; i++)
		pprof_blobs_free(blobs[i], nblobs[i]);
	free(blobs);
	free(nblobs);
	free(series);
	labels_groups_free(groups, ngroups);
}

static void emit_window(struct agent *ag, uint64_t start_wall_ns, uint64_t duration_ns)
{
	struct report *r;

	r = agg__finish(ag->agg, ag->sym, start_wall_ns, duration_ns);
	if (!r)
		return;
	r->frequency = ag->cfg.frequency;
	r->host = ag->cfg.host;
	ag->windows++;
	log_info("agent: window samples=%llu procs=%zu frames=%zu named_frames=%llu/%llu",
		 (unsigned long long)r->samples, r->nprocs, r->nframes,
		 (unsigned long long)r->named_frames, (unsigned long long)r->total_frames);

	if (ag->cfg.dry_run && !ag->output_broken && out_folded_write(stdout, r)) {
		/* Nobody reads stdout any more (ember --dry-run | head): stop. */
		ag->output_broken = true;
		stop_requested = 1;
	}
	if (r->samples && (ag->cfg.output_dir || ag->push))
		emit_profiles(ag, r);
	report__free(r);
}

/* Where samples were lost, per CPU: a stalled agent loses on every CPU, a
 * hot CPU (interrupt storm, one busy process) on one. */
static void print_lost_by_cpu(struct agent *ag)
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
		fprintf(stderr,
			"ember: warn sampler: samples lost to a full ring buffer:%s; the agent fell "
			"behind (stopped, starved of CPU, or --frequency too high)\n",
			line);
}

static void print_summary(struct agent *ag)
{
	uint64_t cnt[PROF_CNT_MAX] = { 0 };
	struct agg_stats as;
	struct proc_stats ps;
	struct push_stats pu;
	char push_part[256] = "";

	if (ag->sampler) {
		sampler__counters(ag->sampler, cnt);
		print_lost_by_cpu(ag);
	}
	agg__stats(ag->agg, &as);
	proc_table__stats(ag->procs, &ps);
	if (ag->push) {
		push_client__stats(ag->push, &pu);
		snprintf(push_part, sizeof(push_part),
			 " push_ok=%llu push_failed=%llu push_dropped=%llu push_retries=%llu",
			 (unsigned long long)pu.requests_ok, (unsigned long long)pu.requests_failed,
			 (unsigned long long)pu.dropped, (unsigned long long)pu.retries);
	}
	fprintf(stderr,
		"ember: summary samples=%llu lost=%llu processes=%llu named_pct=%.1f windows=%llu "
		"kstack_failed=%llu ustack_failed=%llu bad_records=%llu%s\n",
		(unsigned long long)as.samples,
		(unsigned long long)(cnt[PROF_CNT_LOST_RINGBUF] + as.dropped),
		(unsigned long long)ps.procs_seen,
		as.total_frames ? 100.0 * as.named_frames / as.total_frames : 0.0,
		(unsigned long long)ag->windows, (unsigned long long)cnt[PROF_CNT_KSTACK_FAILED],
		(unsigned long long)cnt[PROF_CNT_USTACK_FAILED],
		(unsigned long long)ag->bad_records, push_part);
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	/* One fd per distinct mapped file that samples touch. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int run(struct agent *ag)
{
	uint64_t start_mono, window_mono, window_wall, end_mono, now;
	uint64_t window_ns = (uint64_t)ag->cfg.window_s * 1000000000ull;
	int n, timeout;

	start_mono = window_mono = now_ns(CLOCK_MONOTONIC);
	window_wall = now_ns(CLOCK_REALTIME);
	end_mono = ag->cfg.duration_s ? start_mono + (uint64_t)ag->cfg.duration_s * 1000000000ull :
					UINT64_MAX;
	while (!stop_requested) {
		now = now_ns(CLOCK_MONOTONIC);
		if (now >= end_mono)
			break;
		if (now >= window_mono + window_ns) {
			emit_window(ag, window_wall, now - window_mono);
			proc_table__sweep(ag->procs, window_mono);
			window_mono = now;
			window_wall = now_ns(CLOCK_REALTIME);
			continue;
		}
		timeout = (window_mono + window_ns - now) / 1000000 + 1;
		if (timeout > POLL_MS)
			timeout = POLL_MS;
		n = sampler__poll(ag->sampler, timeout);
		if (n < 0) {
			log_err("agent: ring buffer poll failed err=%d", n);
			return n;
		}
	}
	/* The last, partial window is emitted too: nothing sampled is dropped. */
	sampler__poll(ag->sampler, 0);
	now = now_ns(CLOCK_MONOTONIC);
	emit_window(ag, window_wall, now - window_mono);
	if (ag->push && push_client__flush(ag->push, FLUSH_MS))
		log_warn("push: the last window did not reach the server before exit "
			 "timeout_ms=%d",
			 FLUSH_MS);
	return 0;
}

int main(int argc, char **argv)
{
	struct sampler_opts sopts = { 0 };
	struct sym_opts symopts = { .proc_root = "/proc", .kallsyms_path = "/proc/kallsyms" };
	struct agent ag = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	int err;

	err = cfg_parse(&ag.cfg, argc, argv);
	if (err)
		return err > 0 ? 0 : 2;
	log_level = ag.cfg.log_level;
	if (!ag.cfg.host) {
		if (gethostname(ag.host, sizeof(ag.host) - 1))
			snprintf(ag.host, sizeof(ag.host), "unknown");
		ag.cfg.host = ag.host;
	}
	if ((ag.cfg.server || ag.cfg.output_dir) && labels_check(&ag.cfg))
		return 2;

	/* Large short-lived buffers (ELF sections read to build a table, window
	 * tables) go back to the kernel when freed: a fixed threshold stops
	 * glibc raising it and keeping them on the heap, so RSS stays flat. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();

	/* The sampler goes first: without privileges or BTF, its error is the
	 * one line the user sees. Records only flow once run() polls. */
	sopts.frequency = ag.cfg.frequency;
	sopts.kernel = ag.cfg.kernel;
	sopts.pids = ag.cfg.pids;
	sopts.npids = ag.cfg.npids;
	ag.sampler = sampler__new(&sopts, on_record, &ag);
	if (!ag.sampler) {
		fprintf(stderr, "ember: error %s\n", sampler_strerror(errno));
		err = 2;
		goto cleanup;
	}
	if (!ag.cfg.kernel)
		symopts.kallsyms_path = NULL;
	ag.sym = sym__new(&symopts);
	ag.procs = ag.sym ? proc_table__new(ag.sym, "/proc") : NULL;
	ag.agg = ag.procs ? agg__new() : NULL;
	if (!ag.agg) {
		fprintf(stderr, "ember: error cannot start: %s\n", strerror(errno));
		err = 1;
		goto cleanup;
	}
	if (ag.cfg.server) {
		ag.push = push_client__new(&ag.cfg);
		if (!ag.push) {
			err = 2;
			goto cleanup;
		}
	}
	err = run(&ag) ? 1 : 0;
	print_summary(&ag);
cleanup:
	sampler__free(ag.sampler);
	push_client__free(ag.push);
	agg__free(ag.agg);
	proc_table__free(ag.procs);
	sym__free(ag.sym);
	return err;
}
