// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* relabel.c - what labels_assign costs per window with 0 and 50 relabel rules
 *
 * Builds a report of N processes with Kubernetes-shaped cgroups, then times
 * labels_assign (thread CPU time, the agent's cost at each window end) with
 * no rules and with a 50-rule mix of every action. Prints one markdown row
 * per case, with the share of one core at a 15 s window. `make bench-relabel`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg.h"
#include "labels.h"
#include "log.h"
#include "relabel.h"
#include "report.h"

#define ITERS 20
#define WINDOW_S 15

static double cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static struct report *make_report(size_t n)
{
	struct report *r = report__new();
	char b[256];
	size_t i;

	if (!r)
		return NULL;
	r->type = report_type_cpu(100);
	r->procs = report__alloc(r, n * sizeof(*r->procs));
	r->nprocs = n;
	for (i = 0; i < n; i++) {
		struct report_proc *p = &r->procs[i];

		p->pid = 1000 + i;
		p->samples = 10;
		snprintf(b, sizeof(b), "svc%zu", i % 97);
		p->comm = report__strdup(r, b);
		snprintf(b, sizeof(b), "/usr/local/bin/svc%zu", i % 97);
		p->exe = report__strdup(r, b);
		snprintf(
			b, sizeof(b),
			"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%04zx.slice/"
			"cri-containerd-%016zx.scope",
			i / 3, i);
		p->cgroup = report__strdup(r, b);
	}
	return r;
}

static int add(struct relabel *rl, struct relabel_spec s)
{
	char why[256];

	if (relabel__add(rl, &s, why, sizeof(why))) {
		fprintf(stderr, "rule refused: %s\n", why);
		return -1;
	}
	return 0;
}

/* Ten each of drop (not matching), replace (a capture into a label),
 * labelmap, five hashmod, five labeldrop, five lowercase, five keep
 * (matching everything): 50. */
static int fifty_rules(struct relabel *rl)
{
	static const char *const comm[] = { "__meta_process_comm" };
	static const char *const exe[] = { "__meta_process_exe" };
	static const char *const cg[] = { "__meta_process_cgroup" };
	static const char *const svc[] = { "service_name" };
	static char targets[50][16], regexes[50][48];
	int i, err = 0;

	for (i = 0; i < 50 && !err; i++) {
		snprintf(targets[i], sizeof(targets[i]), "l%d", i);
		if (i < 10) {
			snprintf(regexes[i], sizeof(regexes[i]), "nomatch%d|other%d.*", i, i);
			err = add(rl, (struct relabel_spec){ .action = "drop",
							     .source_labels = comm,
							     .nsource_labels = 1,
							     .regex = regexes[i] });
		} else if (i < 20) {
			err = add(rl, (struct relabel_spec){
					      .source_labels = i % 2 ? exe : cg,
					      .nsource_labels = 1,
					      .regex = i % 2 ? "/usr/local/bin/(.*)" :
							       ".*-pod([0-9a-f]+)\\.slice.*",
					      .target_label = targets[i] });
		} else if (i < 30) {
			snprintf(regexes[i], sizeof(regexes[i]), "__meta_process_(comm|pid)%s",
				 i == 20 ? "" : "_never");
			err = add(rl, (struct relabel_spec){ .action = "labelmap",
							     .regex = regexes[i],
							     .replacement = "proc_$1" });
		} else if (i < 35) {
			err = add(rl, (struct relabel_spec){ .action = "hashmod",
							     .source_labels = svc,
							     .nsource_labels = 1,
							     .target_label = targets[i],
							     .modulus = 16 });
		} else if (i < 40) {
			err = add(rl, (struct relabel_spec){ .action = "labeldrop",
							     .regex = targets[i - 5] });
		} else if (i < 45) {
			err = add(rl, (struct relabel_spec){ .action = "lowercase",
							     .source_labels = comm,
							     .nsource_labels = 1,
							     .target_label = targets[i] });
		} else {
			err = add(rl, (struct relabel_spec){ .action = "keep",
							     .source_labels = cg,
							     .nsource_labels = 1,
							     .regex = "/kubepods.*" });
		}
	}
	return err;
}

static int run(const char *name, const struct cfg *cfg, size_t n)
{
	struct labels_stats st = { 0 };
	double total = 0, per_window;
	int i;

	for (i = 0; i < ITERS; i++) {
		struct report *r = make_report(n);
		double t0;

		if (!r)
			return -1;
		t0 = cpu_s();
		if (labels_assign(cfg, r, &st))
			return -1;
		total += cpu_s() - t0;
		report__free(r);
	}
	per_window = total / ITERS;
	printf("| %s | %zu | %.0f | %.1f | %.3f %% |\n", name, n, per_window * 1e6,
	       per_window * 1e6 / n, 100.0 * per_window / WINDOW_S);
	return 0;
}

int main(void)
{
	static const size_t sizes[] = { 200, 1000 };
	struct cfg cfg;
	size_t i;

	log_level = LOG_ERR;
	memset(&cfg, 0, sizeof(cfg));
	cfg.host = "node-1";
	cfg.labels[cfg.nlabels++] = (struct label){ "env", "prod" };
	printf("| rules | processes | us per window (CPU) | us per process | one core at a %d s window |\n",
	       WINDOW_S);
	printf("|---|---|---|---|---|\n");
	for (i = 0; i < 2; i++) {
		if (run("0", &cfg, sizes[i]))
			return 1;
	}
	cfg.relabel = relabel__new();
	if (!cfg.relabel || fifty_rules(cfg.relabel))
		return 1;
	for (i = 0; i < 2; i++) {
		if (run("50", &cfg, sizes[i]))
			return 1;
	}
	relabel__free(cfg.relabel);
	return 0;
}
