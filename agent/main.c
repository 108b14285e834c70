// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* main.c - wires Ember's modules together and runs the main loop
 *
 * The main loop drains the ring buffer into the window (ingest) and, at each
 * window's end, hands the window to the pipeline (report -> labels ->
 * outputs). Only the push client has a thread of its own, so sampling never
 * waits on the network.
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

#include "agent.h"
#include "agg.h"
#include "caps.h"
#include "cfg.h"
#include "clock.h"
#include "http.h"
#include "fg_cmd.h"
#include "ingest.h"
#include "jit.h"
#include "labels.h"
#include "live.h"
#include "log.h"
#include "mapstore.h"
#include "pipeline.h"
#include "preflight.h"
#include "proc.h"
#include "push.h"
#include "report_live.h"
#include "sampler.h"
#include "unwind_glue.h"
#include "sideband.h"
#include "summary.h"
#include "sym.h"
#include "top.h"
#include "triage_cmd.h"

#define POLL_MS 100
/* At exit, how long the last window may take to reach the server. */
#define FLUSH_MS 5000

/* The signal flags: stop (SIGINT, SIGTERM), reload (SIGHUP) and window now
 * (SIGUSR1). Set by the handler, read and cleared by the main loop. */
static volatile sig_atomic_t stop_requested, hup_requested, usr1_requested;

/* A process that exited is kept this long after its exit record, for its
 * samples still in the ring buffer. */
#define MAPSTORE_GRACE_NS (2 * CLOCK_NS_PER_SEC)
/* cgroups remembered by id: a node runs a few hundred pods, each with a few
 * containers; 4096 covers that with room, at ~200 bytes an entry. */
#define CGROUP_CACHE_MAX 4096
/* /metrics and /healthz are at most this old, and fresh after a window. */
#define PUBLISH_NS CLOCK_NS_PER_SEC

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		hup_requested = 1;
	else if (sig == SIGUSR1)
		usr1_requested = 1;
	else
		stop_requested = 1;
}

/* First thing in main: a signal's default action would kill the agent
 * with the window in progress and no summary. SA_RESTART so that start-up
 * (reading files, loading BPF) does not see EINTR; the poll loop wakes up
 * anyway. */
static void install_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1 };
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	size_t i;

	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	/* A closed stdout or socket is an error return, not a death. */
	signal(SIGPIPE, SIG_IGN);
}

/* The sampler starts before the modules that read its records (so a missing
 * privilege is the one error line); records only flow once run() polls. */
static void on_refill(void *ctx)
{
	struct agent *ag = ctx;

	sideband__drain(ag->sideband);
}

/* The unwinder hears of processes before the window does: an exec is read
 * at once (its libraries follow, found by the samples' unknown pcs). */
static void unwind_record(struct agent *ag, const void *data, size_t size)
{
	const struct prof_hdr *h = data;

	if (size < sizeof(*h))
		return;
	if (h->type == PROF_EV_SAMPLE && size >= PROF_SAMPLE_HDR_SIZE)
		unwind_glue__sample(ag->unwind, h->pid, ((const struct prof_sample *)data)->uflags,
				    clock_ns(CLOCK_MONOTONIC));
	else if (h->type == PROF_EV_EXEC)
		unwind_glue__exec(ag->unwind, h->pid);
	else if (h->type == PROF_EV_EXIT)
		unwind_glue__exit(ag->unwind, h->pid);
}

static int on_record(void *ctx, const void *data, size_t size)
{
	struct agent *ag = ctx;

	if (ag->unwind)
		unwind_record(ag, data, size);
	ingest__record(ag->ingest, data, size);
	return 0;
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

/* The file named by --config read again with the same command line: a
 * valid one replaces the labels, the relabel rules and the log level from
 * here on (the pipeline reads them at the next window end); anything else it
 * changes is logged as needing a restart. An invalid one is refused, and
 * the running configuration stays. */
static void reload(struct agent *ag)
{
	struct cfg next;
	size_t restart;
	int err;

	if (!ag->cfg.config_file) {
		log_warn("agent: SIGHUP ignored: ember runs without --config FILE; restart it to "
			 "change options");
		return;
	}
	err = cfg_reparse(&next, ag->argc, ag->argv);
	if (!err) {
		if (!next.host)
			next.host = ag->host;
		if (labels_check(&next)) {
			err = -EINVAL;
			log_err("agent: reload of %s refused (the line above says why); the "
				"running configuration stays",
				ag->cfg.config_file);
		}
	}
	/* cfg_reparse's refusal is its one line. */
	if (err) {
		ag->reloads_refused++;
		cfg_free(&next);
		return;
	}
	restart = cfg_take_reloadable(&ag->cfg, &next);
	cfg_free(&next);
	log_level = ag->cfg.log_level;
	ag->reloads++;
	log_warn("agent: reloaded %s labels=%zu relabel_rules=%zu needs_restart=%zu",
		 ag->cfg.config_file, ag->cfg.nlabels, relabel__count(ag->cfg.relabel), restart);
}

/* The counters, to the HTTP server's snapshot (its thread reads only that). */
static void publish(struct agent *ag, uint64_t now)
{
	summary_collect(ag, ag->snapshot);
	http_server__publish(ag->http, ag->snapshot, now);
}

static int run(struct agent *ag)
{
	uint64_t start_mono, window_mono, window_wall, end_mono, now, published = 0;
	uint64_t window_ns = (uint64_t)ag->cfg.window_s * 1000000000ull;
	int n, timeout;

	start_mono = window_mono = clock_ns(CLOCK_MONOTONIC);
	window_wall = clock_ns(CLOCK_REALTIME);
	end_mono = ag->cfg.duration_s ? start_mono + (uint64_t)ag->cfg.duration_s * 1000000000ull :
					UINT64_MAX;
	while (!stop_requested) {
		/* A live view (ember top) may end the run: q, a batch done. */
		if (ag->view && !ag->view->tick(ag->view->ctx))
			break;
		/* Between windows: the pipeline reads the labels only at a
		 * window's end, so no sample sees half a configuration. */
		if (hup_requested) {
			hup_requested = 0;
			/* A live view's SIGHUP is its terminal going away (a
			 * closed tmux or ssh session), not a reload: without
			 * this, ember top would sample on with nobody to see. */
			if (ag->view) {
				log_info("agent: SIGHUP: the terminal is gone; stopping");
				break;
			}
			reload(ag);
		}
		now = clock_ns(CLOCK_MONOTONIC);
		if (now >= end_mono)
			break;
		if (ag->http && now - published >= PUBLISH_NS) {
			publish(ag, now);
			published = now;
		}
		/* SIGUSR1 ends the window now: its profiles go out at once. */
		if (now >= window_mono + window_ns || usr1_requested) {
			if (usr1_requested)
				log_info("agent: SIGUSR1: ending the window early");
			usr1_requested = 0;
			pipeline__window(ag->pipeline, window_wall, now - window_mono);
			proc_table__sweep(ag->procs, window_mono);
			if (ag->cgroups)
				cgroup_cache__sweep(ag->cgroups);
			sym__release_unused(ag->sym);
			if (ag->unwind)
				unwind_glue__sweep(ag->unwind);
			/* A window frees most of what it allocated (its tables, the
			 * report, released files' tables) in small chunks between
			 * live ones: give those pages back, or RSS keeps the
			 * window's peak (4 MB of 37 in the soak). */
			malloc_trim(0);
			if (ag->sideband)
				mapstore__sweep(ag->mapstore,
						clock_ns(CLOCK_BOOTTIME) - MAPSTORE_GRACE_NS,
						"/proc");
			window_mono = now;
			window_wall = clock_ns(CLOCK_REALTIME);
			published = 0; /* the window's counters, at once */
			continue;
		}
		timeout = (window_mono + window_ns - now) / 1000000 + 1;
		if (timeout > POLL_MS)
			timeout = POLL_MS;
		/* Mappings first: the samples about to be read ran in them. */
		if (ag->sideband)
			sideband__drain(ag->sideband);
		/* Tables compiled since: into the maps, and to the processes. */
		if (ag->unwind)
			unwind_glue__poll(ag->unwind);
		n = sampler__poll(ag->sampler, timeout);
		if (n < 0) {
			log_err("agent: ring buffer poll failed err=%d", n);
			return n;
		}
	}
	/* The last, partial window is emitted too: nothing sampled is dropped. */
	sampler__poll(ag->sampler, 0);
	now = clock_ns(CLOCK_MONOTONIC);
	pipeline__window(ag->pipeline, window_wall, now - window_mono);
	if (ag->push && push_client__flush(ag->push, FLUSH_MS))
		log_warn("push: requests still queued or in flight at exit are abandoned "
			 "timeout_ms=%d",
			 FLUSH_MS);
	/* Before the summary: what is still queued is counted as abandoned. */
	if (ag->push)
		push_client__stop(ag->push);
	return 0;
}

int main(int argc, char **argv)
{
	struct sampler_opts sopts = { 0 };
	struct sym_opts symopts = { .proc_root = "/proc", .kallsyms_path = "/proc/kallsyms" };
	struct jit_opts jopts = { .proc_root = "/proc" };
	struct agent ag = { 0 };
	struct report_type type, offcpu_type = report_type_off_cpu();
	struct report_live_opts rlopts;
	struct report_live *rl = NULL;
	struct top_opts topts;
	struct top *top = NULL;
	struct live_view view = { 0 };
	enum { LIVE_NONE, LIVE_TOP, LIVE_REPORT } live = LIVE_NONE;
	char **live_argv = NULL;
	int err;

	/* The file subcommands sample nothing: no signals, no privileges. */
	if (argc > 1 && !strcmp(argv[1], "flamegraph"))
		return fg_cmd_flamegraph(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "diff"))
		return fg_cmd_diff(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "report") && !report_live_wanted(argc - 1, argv + 1))
		return triage_cmd(argc - 1, argv + 1);
	/* The live subcommands are the agent with a view for its output:
	 * their command line becomes the agent's. */
	if (argc > 1 && !strcmp(argv[1], "top")) {
		err = top_args(argc - 1, argv + 1, &topts, &argc, &live_argv);
		if (err)
			return err == 1 ? 0 : 2;
		argv = live_argv;
		live = LIVE_TOP;
		view = (struct live_view){ .window = top__window, .tick = top__tick, .end = top__end };
	} else if (argc > 1 && !strcmp(argv[1], "report")) {
		err = report_live_args(argc - 1, argv + 1, &rlopts, &argc, &live_argv);
		if (err)
			return err == 1 ? 0 : 2;
		argv = live_argv;
		live = LIVE_REPORT;
		view = (struct live_view){ .window = report_live__window,
					   .tick = report_live__tick,
					   .end = report_live__end };
	}
	install_signals();
	ag.argc = argc;
	ag.argv = argv;
	err = cfg_parse(&ag.cfg, argc, argv);
	if (err) {
		cfg_free(&ag.cfg);
		free(live_argv);
		return err > 0 ? 0 : 2;
	}
	log_level = ag.cfg.log_level;
	/* The view is the output (live.h): a --config file's outputs, which
	 * are the deployed agent's, stay off. */
	if (live != LIVE_NONE) {
		ag.cfg.dry_run = false;
		ag.cfg.output_dir = NULL;
		ag.cfg.server = NULL;
		ag.cfg.http_listen = NULL;
	}
	/* Warnings would scribble over the full screen. */
	if (live == LIVE_TOP && !topts.batch && !ag.cfg.verbose && log_level == LOG_WARN)
		log_level = LOG_ERR;
	if (!ag.cfg.host) {
		if (gethostname(ag.host, sizeof(ag.host) - 1))
			snprintf(ag.host, sizeof(ag.host), "unknown");
		ag.cfg.host = ag.host;
	}
	if ((ag.cfg.server || ag.cfg.output_dir || ag.cfg.config_file) && labels_check(&ag.cfg)) {
		err = 2;
		goto cleanup;
	}
	if (preflight_check(&ag.cfg)) {
		err = 2;
		goto cleanup;
	}
	/* Its own thread: a slow or hostile API server never holds sampling;
	 * a bad kubeconfig is refused here, before anything is loaded. */
	if (k8s_setup(&ag.cfg, &ag.k8s)) {
		err = 2;
		goto cleanup;
	}

	/* Large short-lived buffers (ELF sections read to build a table, window
	 * tables) go back to the kernel when freed: a fixed threshold stops
	 * glibc raising it and keeping them on the heap, so RSS stays flat. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	raise_fd_limit();

	/* The sampler goes first: without privileges or BTF, its error is the
	 * one line the user sees. Records only flow once run() polls. */
	sopts.cpu = ag.cfg.profile_cpu;
	sopts.frequency = ag.cfg.frequency;
	sopts.off_cpu = ag.cfg.profile_off_cpu;
	sopts.off_cpu_min_us = ag.cfg.off_cpu_min_us;
	sopts.off_cpu_sample = ag.cfg.off_cpu_sample;
	sopts.off_cpu_max_rate = ag.cfg.off_cpu_max_rate;
	sopts.off_cpu_runqueue = ag.cfg.off_cpu_runqueue;
	sopts.kernel = ag.cfg.kernel;
	sopts.pids = ag.cfg.pids;
	sopts.npids = ag.cfg.npids;
	sopts.unwind_cfi = ag.cfg.unwind_cfi;
	ag.sampler = sampler__new(&sopts, on_record, &ag);
	if (!ag.sampler) {
		fprintf(stderr, "ember: error %s\n", sampler_strerror(errno));
		err = 2;
		goto cleanup;
	}
	if (ag.cfg.unwind_cfi) {
		int tfd, ffd, pfd;

		sampler__unwind_fds(ag.sampler, &tfd, &ffd, &pfd);
		ag.unwind = unwind_glue__new(tfd, ffd, pfd, (size_t)ag.cfg.unwind_memory_mb << 20,
					     "/proc");
		if (ag.unwind) {
			size_t i;

			/* The processes asked for first: their files are
			 * compiled before the shared libraries' preload. */
			for (i = 0; i < ag.cfg.npids; i++)
				unwind_glue__exec(ag.unwind, ag.cfg.pids[i]);
			unwind_glue__preload(ag.unwind);
			/* A compiled table wakes the loop: a new process's
			 * stacks are complete a poll timeout sooner. */
			sampler__add_wake_fd(ag.sampler, unwind_glue__event_fd(ag.unwind));
		} else
			log_warn("agent: no CFI unwinding err=%d; user stacks follow frame "
				 "pointers only",
				 -errno);
	}
	if (!ag.cfg.kernel)
		symopts.kallsyms_path = NULL;
	symopts.no_demangle = ag.cfg.no_demangle;
	symopts.debuginfod = ag.cfg.debuginfod;
	symopts.debuginfod_cache = ag.cfg.debuginfod_cache;
	symopts.debuginfod_cache_bytes = (uint64_t)ag.cfg.debuginfod_cache_mb << 20;
	if (ag.cfg.server) {
		ag.push = push_client__new(&ag.cfg);
		if (!ag.push) {
			err = 2;
			goto cleanup;
		}
	}
	type = report_type_cpu(ag.cfg.frequency);
	ag.sym = sym__new(&symopts);
	ag.procs = ag.sym ? proc_table__new(ag.sym, "/proc") : NULL;
	/* Without it, each process's own cgroup file still names its container. */
	ag.cgroups = ag.procs ? cgroup_cache__new(NULL, CGROUP_CACHE_MAX) : NULL;
	if (ag.cgroups)
		proc_table__set_cgroups(ag.procs, ag.cgroups);
	if (ag.procs && ag.cfg.mmap_events) {
		ag.mapstore = mapstore__new();
		ag.sideband = ag.mapstore ? sideband__new(ag.mapstore) : NULL;
		if (ag.sideband) {
			mapstore__set_refill(ag.mapstore, on_refill, &ag);
			proc_table__set_store(ag.procs, ag.mapstore);
		} else {
			log_warn("agent: no mmap records err=%d; processes that exit within "
				 "milliseconds stay unnamed",
				 -errno);
		}
	}
	jopts.jvm = ag.cfg.jvm;
	jopts.jvm_min_age_s = ag.cfg.jvm_min_age_s;
	jopts.max_bytes = (uint64_t)ag.cfg.perfmap_max_mb << 20;
	ag.jit = ag.procs ? jit__new(&jopts) : NULL;
	ag.agg = ag.jit ? agg__new(&type) : NULL;
	if (ag.agg)
		agg__set_jit(ag.agg, ag.jit);
	ag.ingest = ag.agg ? ingest__new(ag.procs, ag.agg, type.period) : NULL;
	/* Off-CPU time has a window of its own: nanoseconds blocked never mix
	 * with CPU samples. */
	if (ag.ingest && ag.cfg.profile_off_cpu) {
		ag.offcpu_agg = agg__new(&offcpu_type);
		if (ag.offcpu_agg) {
			/* The window ends with the off-CPU report, the last one
			 * the pipeline builds: the JIT window ends there. */
			agg__share_jit(ag.agg, ag.jit);
			agg__set_jit(ag.offcpu_agg, ag.jit);
			ingest__set_offcpu(ag.ingest, ag.offcpu_agg, ag.sym);
		}
	}
	if (ag.ingest && (!ag.cfg.profile_off_cpu || ag.offcpu_agg)) {
		ag.pipeline = pipeline__new(&ag.cfg, ag.cfg.profile_cpu ? ag.agg : ag.offcpu_agg,
					    ag.sym, ag.push);
		if (ag.pipeline && ag.cfg.profile_cpu && ag.offcpu_agg)
			pipeline__add_profile(ag.pipeline, ag.offcpu_agg);
	}
	if (ag.pipeline && ag.k8s)
		pipeline__set_k8s(ag.pipeline, ag.k8s);
	if (ag.pipeline && live == LIVE_TOP)
		view.ctx = top = top__new(&topts, &ag.cfg, ag.cfg.host, ag.sampler);
	else if (ag.pipeline && live == LIVE_REPORT)
		view.ctx = rl = report_live__new(&rlopts, &ag.cfg);
	if (!ag.pipeline || (live != LIVE_NONE && !view.ctx)) {
		fprintf(stderr, "ember: error cannot start: %s\n", strerror(errno));
		err = 1;
		goto cleanup;
	}
	if (live != LIVE_NONE) {
		pipeline__set_view(ag.pipeline, view.window, view.ctx);
		ag.view = &view;
	}
	if (ag.cfg.http_listen) {
		ag.snapshot = calloc(1, sizeof(*ag.snapshot));
		ag.http = ag.snapshot ? http_server__new(ag.cfg.http_listen,
							 (uint64_t)ag.cfg.window_s * CLOCK_NS_PER_SEC) :
					NULL;
		if (!ag.http) {
			err = 2;
			goto cleanup;
		}
	}
	err = run(&ag) ? 1 : 0;
	/* The terminal back (top), the report out, before the summary. */
	if (ag.view) {
		ag.view->end(ag.view->ctx);
		if (!err)
			err = live == LIVE_TOP ? top__status(top) : report_live__status(rl);
	}
	/* 3: every window was produced, but not every one reached every
	 * output asked for (docs/operating.md). */
	if (summary_print(&ag) && !err)
		err = 3;
cleanup:
	/* The server first: its thread reads nothing of the others, but it
	 * should stop answering before they go. */
	http_server__free(ag.http);
	free(ag.snapshot);
	/* Before the sampler: its maps hold the tables the store unloads. */
	unwind_glue__free(ag.unwind);
	sampler__free(ag.sampler);
	push_client__free(ag.push);
	k8s__free(ag.k8s);
	pipeline__free(ag.pipeline);
	ingest__free(ag.ingest);
	agg__free(ag.agg);
	agg__free(ag.offcpu_agg);
	jit__free(ag.jit);
	proc_table__free(ag.procs);
	cgroup_cache__free(ag.cgroups);
	sideband__free(ag.sideband);
	mapstore__free(ag.mapstore);
	sym__free(ag.sym);
	top__free(top);
	report_live__free(rl);
	cfg_free(&ag.cfg);
	free(live_argv);
	return err;
}
