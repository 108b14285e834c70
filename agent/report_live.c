// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* report_live.c - live windows into the triage report */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "label.h"
#include "labels.h"
#include "log.h"
#include "report_live.h"
#include "triage.h"

/* Frames handed per stack: a report stack's frames and their inline levels. */
#define RL_MAX_FRAMES 4096

enum { RL_OPT_LIVE, RL_OPT_DURATION, RL_OPT_JSON, RL_OPT_TOP, RL_OPT_HELP };

static const struct live_opt rl_opts[] = {
	{ "live", 0, false, RL_OPT_LIVE },   { "duration", 'd', true, RL_OPT_DURATION },
	{ "json", 0, false, RL_OPT_JSON },   { "top", 0, true, RL_OPT_TOP },
	{ "help", 'h', false, RL_OPT_HELP },
};

bool report_live_wanted(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--live"))
			return true;
	return false;
}

static int rl_num(const char *opt, const char *s, unsigned long max, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || !v || v > max) {
		fprintf(stderr, "ember report: error: %s '%s': a whole number from 1 to %lu\n", opt,
			s, max);
		return 2;
	}
	*out = (uint32_t)v;
	return 0;
}

static int rl_opt(void *ctx, int id, const char *value)
{
	struct report_live_opts *o = ctx;
	uint32_t top;
	int err;

	switch (id) {
	case RL_OPT_LIVE:
		return 0;
	case RL_OPT_DURATION:
		return rl_num("--duration", value, 3600, &o->duration_s);
	case RL_OPT_JSON:
		o->out.json = true;
		return 0;
	case RL_OPT_TOP:
		err = rl_num("--top", value, 100000, &top);
		o->out.top = top;
		return err;
	case RL_OPT_HELP:
		fputs(triage_usage, stdout);
		return 1;
	default:
		fprintf(stderr,
			"ember report: error: '%s': --live samples now and reads no "
			"files\n",
			value);
		return 2;
	}
}

int report_live_args(int argc, char **argv, struct report_live_opts *o, int *aargc, char ***aargv)
{
	/* One window over the whole run, CPU and off-CPU, with the time
	 * preempted (a service starved of CPU wants CPU: cpu-bound, not
	 * healthy). --dry-run passes cfg's "an output" check and main turns
	 * it off (the view prints). */
	static char prog[] = "ember", dry[] = "--dry-run", profiles[] = "--profiles",
		    both[] = "cpu,off-cpu", runq[] = "--off-cpu-runqueue", window[] = "--window",
		    duration[] = "--duration";
	char *extra[] = { prog,		  dry,	  profiles,	   both,
			  runq,		  window, o->duration_arg, duration,
			  o->duration_arg };
	int err;

	memset(o, 0, sizeof(*o));
	o->out.top = 5;
	err = live_argv("report", argc, argv, rl_opts, sizeof(rl_opts) / sizeof(rl_opts[0]), rl_opt,
			o, extra, sizeof(extra) / sizeof(extra[0]), aargc, aargv);
	if (err)
		return err;
	if (!o->duration_s) {
		fprintf(stderr, "ember report: error: --live needs --duration SECONDS\n");
		free(*aargv);
		*aargv = NULL;
		return 2;
	}
	snprintf(o->duration_arg, sizeof(o->duration_arg), "%u", o->duration_s);
	return 0;
}

struct report_live {
	struct report_live_opts o;
	const struct cfg *cfg;
	struct triage *tr;
	uint64_t wall_ns;
	const char *frames[RL_MAX_FRAMES];
	int status;
	bool printed;
};

struct report_live *report_live__new(const struct report_live_opts *o, const struct cfg *cfg)
{
	struct report_live *rl = calloc(1, sizeof(*rl));

	if (!rl)
		return NULL;
	rl->o = *o;
	rl->cfg = cfg;
	rl->tr = triage__new();
	if (!rl->tr) {
		free(rl);
		return NULL;
	}
	return rl;
}

void report_live__free(struct report_live *rl)
{
	if (!rl)
		return;
	triage__free(rl->tr);
	free(rl);
}

int report_live__status(const struct report_live *rl)
{
	return rl->status;
}

/* One stack, root first, each inline level a frame (as in folded text). */
static size_t stack_frames(struct report_live *rl, const struct report *r,
			   const struct report_stack *st)
{
	size_t n = 0;
	uint32_t k, l;

	for (k = st->nframes; k-- > 0;) {
		const struct report_frame *fr = &r->frames[st->frames[k]];

		if (!fr->nlines) {
			if (n < RL_MAX_FRAMES)
				rl->frames[n++] = fr->unnamed;
			continue;
		}
		for (l = fr->nlines; l-- > 0 && n < RL_MAX_FRAMES;)
			rl->frames[n++] = fr->lines[l].function;
	}
	return n;
}

void report_live__window(void *ctx, struct report *r)
{
	struct report_live *rl = ctx;
	enum triage_kind kind = report_type_is_off_cpu(&r->type) ? TRIAGE_OFF_CPU : TRIAGE_CPU;
	struct labels_stats lst = { 0 };
	size_t i, j, n;
	int err;

	if (kind == TRIAGE_CPU)
		rl->wall_ns += r->duration_ns;
	if (!r->samples)
		return;
	/* The service_name the agent would push each process under. */
	err = labels_assign(rl->cfg, r, &lst);
	if (err) {
		log_err("report: labelling the window failed err=%d", err);
		rl->status = 1;
		return;
	}
	for (i = 0; i < r->nprocs; i++) {
		const struct report_proc *p = &r->procs[i];
		const char *svc = label_set_get(p->labels, p->nlabels, "service_name");

		for (j = 0; j < p->nstacks; j++) {
			n = stack_frames(rl, r, &p->stacks[j]);
			err = triage__add(rl->tr, svc ? svc : p->comm, kind, rl->frames, n,
					  p->stacks[j].value);
			if (err) {
				log_err("report: adding a stack failed err=%d", err);
				rl->status = 1;
				return;
			}
		}
	}
}

bool report_live__tick(void *ctx)
{
	return true;
}

void report_live__end(void *ctx)
{
	struct report_live *rl = ctx;

	if (rl->printed)
		return;
	rl->printed = true;
	if (!triage__services(rl->tr)) {
		fprintf(stderr,
			"ember report: error: nothing was sampled in %u s (is the process "
			"running? --pid?)\n",
			rl->o.duration_s);
		rl->status = 1;
		return;
	}
	triage__set_wall(rl->tr, rl->wall_ns);
	if (triage__print(rl->tr, stdout, rl->o.out.json, rl->o.out.top)) {
		fprintf(stderr, "ember report: error: cannot write to stdout\n");
		rl->status = 1;
	}
}
