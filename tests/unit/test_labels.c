// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_labels.c - derived labels, grouping by label set, start-up checks, the UTF-8 of derived values */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "caps.h"
#include "labels.h"
#include "relabel.h"
#include "utf8.h"
#include "log.h"

static void cfg_init(struct cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->host = "node-1";
}

static void add_label(struct cfg *cfg, const char *k, const char *v)
{
	cfg->labels[cfg->nlabels].name = k;
	cfg->labels[cfg->nlabels++].value = v;
}

static struct report_proc procs[] = {
	{ 10, "nginx", "/usr/sbin/nginx", "nginx.service", NULL, 1, NULL, 0, NULL, 0 },
	{ 11, "python3", "/usr/bin/python3.11", NULL, NULL, 1, NULL, 0, NULL, 0 },
	{ 12, "kworker/0:1", NULL, NULL, NULL, 1, NULL, 0, NULL, 0 },
	{ 13, "nginx", "/usr/sbin/nginx", "nginx.service", NULL, 1, NULL, 0, NULL, 0 },
	{ 14, "python3", "/usr/bin/python3.11", NULL, NULL, 1, NULL, 0, NULL, 0 },
	{ 15, "x", "/", NULL, NULL, 1, NULL, 0, NULL, 0 }, /* empty basename: comm */
	{ 16, "", NULL, "", NULL, 1, NULL, 0, NULL, 0 }, /* nothing known */
	{ 17, "bad\xff", NULL, NULL, NULL, 1, NULL, 0, NULL, 0 }, /* not UTF-8 */
	{ 18, "java", "/opt/j\xc3\xa9/bin/java", NULL, NULL, 1, NULL, 0, NULL, 0 }, /* UTF-8 kept */
};

#define NPROCS (sizeof(procs) / sizeof(procs[0]))

static void report_init(struct report *r)
{
	memset(r, 0, sizeof(*r));
	r->type = report_type_cpu(100);
	r->procs = procs;
	r->nprocs = NPROCS;
}

/* Each process's label set, then the groups; the sets live in r's arena. */
static int assign_and_group(const struct cfg *cfg, struct report *r, struct labels_group **gs,
			    size_t *n)
{
	struct labels_stats st = { 0 };
	int err = labels_assign(cfg, r, &st);

	return err ? err : labels_group(r, gs, n);
}

static void assert_sorted(const struct labels_group *g)
{
	size_t i;

	for (i = 1; i < g->nlabels; i++)
		assert_true(strcmp(g->labels[i - 1].name, g->labels[i].name) < 0);
}

static void test_group_derived(void **state)
{
	static const char *const want_service[] = {
		"bad_", "java", "kworker/0:1", "nginx.service", "python3.11", "unknown_service", "x"
	};
	struct labels_group *gs = NULL;
	struct report r;
	struct cfg cfg;
	size_t n = 0, i;

	cfg_init(&cfg);
	add_label(&cfg, "team", "core");
	add_label(&cfg, "env", "prod");
	report_init(&r);
	assert_int_equal(assign_and_group(&cfg, &r, &gs, &n), 0);
	assert_int_equal(n, 7);
	for (i = 0; i < n; i++) {
		const struct labels_group *g = &gs[i];

		assert_string_equal(labels_get(g, "service_name"), want_service[i]);
		assert_int_equal(g->nlabels, 5);
		assert_sorted(g);
		/* '_' sorts before lowercase letters */
		assert_string_equal(g->labels[0].name, "__name__");
		assert_string_equal(g->labels[0].value, "process_cpu");
		assert_string_equal(g->labels[1].name, "env");
		assert_string_equal(g->labels[1].value, "prod");
		assert_string_equal(g->labels[2].name, "host");
		assert_string_equal(g->labels[2].value, "node-1");
		assert_string_equal(g->labels[3].name, "service_name");
		assert_string_equal(g->labels[4].name, "team");
		assert_string_equal(g->labels[4].value, "core");
		assert_true(utf8_valid(g->labels[3].value, strlen(g->labels[3].value)));
	}
	/* a unit wins over the exe; both nginx processes share one series, in
	 * report order */
	assert_int_equal(gs[3].nprocs, 2);
	assert_ptr_equal(gs[3].procs[0], &procs[0]);
	assert_ptr_equal(gs[3].procs[1], &procs[3]);
	assert_int_equal(gs[4].nprocs, 2);
	assert_int_equal(gs[4].procs[0]->pid, 11);
	assert_int_equal(gs[4].procs[1]->pid, 14);
	assert_int_equal(gs[2].nprocs, 1);
	assert_int_equal(gs[2].procs[0]->pid, 12);
	assert_int_equal(gs[6].procs[0]->pid, 15);
	assert_int_equal(gs[5].procs[0]->pid, 16);
	assert_null(labels_get(&gs[0], "nope"));
	labels_groups_free(gs, n);
	arena_release(&r.arena);
}

static void add_rule(struct relabel *rl, struct relabel_spec spec)
{
	char why[256] = "";

	if (relabel__add(rl, &spec, why, sizeof(why)))
		fail_msg("rule refused: %s", why);
}

/* The rules see the discovery labels; what they leave is filtered: no __
 * names but __name__ (which they cannot change), no invalid names. */
static void test_relabel_rules(void **state)
{
	static const char *const nginx_src[] = { "__meta_process_comm" };
	static const char *const exe_src[] = { "__meta_process_exe" };
	static const char *const name_src[] = { "service_name" };
	struct labels_stats st = { 0 };
	struct labels_group *gs = NULL;
	struct report r;
	struct cfg cfg;
	size_t n = 0, i;

	cfg_init(&cfg);
	add_label(&cfg, "team", "core");
	cfg.relabel = relabel__new();
	assert_non_null(cfg.relabel);
	/* python3 goes; kworker has no exe and goes too */
	add_rule(cfg.relabel, (struct relabel_spec){ .action = "drop", .source_labels = nginx_src,
						     .nsource_labels = 1,
						     .regex = "python3|kworker.*" });
	add_rule(cfg.relabel, (struct relabel_spec){ .action = "keep", .source_labels = exe_src,
						     .nsource_labels = 1, .regex = ".+" });
	add_rule(cfg.relabel,
		 (struct relabel_spec){ .action = "labelmap", .regex = "__meta_process_(comm|pid)",
					.replacement = "proc_$1" });
	add_rule(cfg.relabel, (struct relabel_spec){ .target_label = "__name__",
						     .replacement = "renamed" });
	add_rule(cfg.relabel, (struct relabel_spec){ .action = "labelmap", .regex = "team",
						     .replacement = "9team" });
	add_rule(cfg.relabel, (struct relabel_spec){ .source_labels = name_src,
						     .nsource_labels = 1, .regex = "(.*)\\.service",
						     .target_label = "unit" });
	report_init(&r);
	assert_int_equal(labels_assign(&cfg, &r, &st), 0);
	assert_int_equal(labels_group(&r, &gs, &n), 0);
	/* dropped: 11, 12, 14 (python3, kworker), 16 (no exe) and 17 */
	assert_int_equal(st.procs_dropped, 5);
	assert_int_equal(st.samples_dropped, 5);
	assert_int_equal(st.labels_invalid, 4); /* 9team on each kept process */
	assert_int_equal(procs[1].nlabels, 0);
	for (i = 0; i < n; i++) {
		const struct labels_group *g = &gs[i];

		assert_sorted(g);
		assert_string_equal(labels_get(g, "__name__"), "process_cpu");
		assert_null(labels_get(g, "__meta_process_comm"));
		assert_null(labels_get(g, "9team"));
		assert_string_equal(labels_get(g, "team"), "core");
		assert_non_null(labels_get(g, "proc_comm"));
		assert_non_null(labels_get(g, "proc_pid"));
	}
	/* 10, 13 (nginx, pids differ: two sets), 15, 18 */
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++) {
		if (!strcmp(labels_get(&gs[i], "proc_pid"), "10")) {
			assert_string_equal(labels_get(&gs[i], "unit"), "nginx");
			assert_string_equal(labels_get(&gs[i], "proc_comm"), "nginx");
		}
	}
	labels_groups_free(gs, n);
	arena_release(&r.arena);
	relabel__free(cfg.relabel);
	for (i = 0; i < NPROCS; i++) {
		procs[i].labels = NULL;
		procs[i].nlabels = 0;
	}
}

static void test_group_host_default_and_static_service(void **state)
{
	struct labels_group *gs = NULL;
	struct report r;
	struct cfg cfg;
	size_t n = 0;

	cfg_init(&cfg);
	cfg.host = NULL;
	add_label(&cfg, "service_name", "api");
	report_init(&r);
	assert_int_equal(labels_check(&cfg), 0);
	assert_int_equal(assign_and_group(&cfg, &r, &gs, &n), 0);
	/* a static service_name replaces the derived one: one series */
	assert_int_equal(n, 1);
	assert_int_equal(gs[0].nprocs, NPROCS);
	assert_int_equal(gs[0].nlabels, 3);
	assert_string_equal(labels_get(&gs[0], "service_name"), "api");
	assert_string_equal(labels_get(&gs[0], "host"), "unknown");
	assert_string_equal(labels_get(&gs[0], "__name__"), "process_cpu");
	labels_groups_free(gs, n);

	/* no processes: no groups */
	r.nprocs = 0;
	gs = (void *)1;
	assert_int_equal(assign_and_group(&cfg, &r, &gs, &n), 0);
	assert_null(gs);
	assert_int_equal(n, 0);
	labels_groups_free(NULL, 0);
	arena_release(&r.arena);
}

/* Profiles are grouped by the whole label set, not by service alone: two
 * processes of one service in different pods are two series. */
static void test_group_by_whole_set(void **state)
{
	static const struct label pod_a[] = { { "__name__", "process_cpu" },
					      { "pod", "web-1" },
					      { "service_name", "web" } };
	static const struct label pod_b[] = { { "__name__", "process_cpu" },
					      { "pod", "web-2" },
					      { "service_name", "web" } };
	struct report_proc two[] = {
		{ 1, "web", NULL, NULL, NULL, 1, NULL, 0, pod_a, 3 },
		{ 2, "web", NULL, NULL, NULL, 1, NULL, 0, pod_b, 3 },
		{ 3, "web", NULL, NULL, NULL, 1, NULL, 0, pod_a, 3 },
	};
	struct labels_group *gs = NULL;
	struct report r = { .procs = two, .nprocs = 3 };
	size_t n = 0;

	assert_int_equal(labels_group(&r, &gs, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(labels_get(&gs[0], "pod"), "web-1");
	assert_int_equal(gs[0].nprocs, 2);
	assert_int_equal(gs[0].procs[0]->pid, 1);
	assert_int_equal(gs[0].procs[1]->pid, 3);
	assert_string_equal(labels_get(&gs[1], "pod"), "web-2");
	assert_int_equal(gs[1].nprocs, 1);
	assert_int_equal(gs[1].procs[0]->pid, 2);
	labels_groups_free(gs, n);
}

static void test_check_ok(void **state)
{
	static char names[16][8];
	struct cfg cfg;
	size_t i;

	cfg_init(&cfg);
	assert_int_equal(labels_check(&cfg), 0);
	add_label(&cfg, "env", "prod");
	add_label(&cfg, "Team_2", "caf\xc3\xa9");
	add_label(&cfg, "_x", "1");
	assert_int_equal(labels_check(&cfg), 0);
	/* the most cfg can hold: 16 static + 3 derived names, under 30 */
	cfg_init(&cfg);
	for (i = 0; i < CFG_MAX_LABELS; i++) {
		snprintf(names[i], sizeof(names[i]), "l%zu", i);
		add_label(&cfg, names[i], "v");
	}
	assert_int_equal(labels_check(&cfg), 0);
}

static int check_one(const char *k, const char *v)
{
	struct cfg cfg;

	cfg_init(&cfg);
	add_label(&cfg, "env", "prod");
	add_label(&cfg, k, v);
	return labels_check(&cfg);
}

static void test_check_rejects(void **state)
{
	char *long_name = malloc(LABELS_MAX_NAME_LEN + 2);
	char *long_value = malloc(LABELS_MAX_VALUE_LEN + 2);
	struct cfg cfg;

	assert_true(long_name && long_value);
	memset(long_name, 'a', LABELS_MAX_NAME_LEN + 1);
	long_name[LABELS_MAX_NAME_LEN + 1] = '\0';
	memset(long_value, 'v', LABELS_MAX_VALUE_LEN + 1);
	long_value[LABELS_MAX_VALUE_LEN + 1] = '\0';

	/* charset */
	assert_int_equal(check_one("my-label", "v"), -EINVAL);
	assert_int_equal(check_one("1abc", "v"), -EINVAL);
	assert_int_equal(check_one("a.b", "v"), -EINVAL);
	assert_int_equal(check_one("caf\xc3\xa9", "v"), -EINVAL);
	assert_int_equal(check_one("bad\xff", "v"), -EINVAL);
	assert_int_equal(check_one("", "v"), -EINVAL);
	/* lengths: at the limit passes, one past fails */
	assert_int_equal(check_one(long_name, "v"), -EINVAL);
	long_name[LABELS_MAX_NAME_LEN] = '\0';
	assert_int_equal(check_one(long_name, "v"), 0);
	assert_int_equal(check_one("k", long_value), -EINVAL);
	long_value[LABELS_MAX_VALUE_LEN] = '\0';
	assert_int_equal(check_one("k", long_value), 0);
	/* values */
	assert_int_equal(check_one("k", ""), -EINVAL);
	assert_int_equal(check_one("k", "\xc0\xaf"), -EINVAL);
	/* duplicates, reserved names */
	assert_int_equal(check_one("env", "dev"), -EINVAL);
	assert_int_equal(check_one("__name__", "x"), -EINVAL);
	assert_int_equal(check_one("__foo", "x"), -EINVAL);
	assert_int_equal(check_one("host", "x"), -EINVAL);
	assert_int_equal(check_one("_single", "x"), 0);
	/* the host value */
	cfg_init(&cfg);
	cfg.host = "";
	assert_int_equal(labels_check(&cfg), -EINVAL);
	cfg.host = "h\xff";
	assert_int_equal(labels_check(&cfg), -EINVAL);
	free(long_name);
	free(long_value);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_derived),
		cmocka_unit_test(test_group_host_default_and_static_service),
		cmocka_unit_test(test_group_by_whole_set),
		cmocka_unit_test(test_relabel_rules),
		cmocka_unit_test(test_check_ok),
		cmocka_unit_test(test_check_rejects),
	};

	/* the rejections log one error line each; keep the test output readable */
	log_level = LOG_ERR;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
