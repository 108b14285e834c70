// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_cfg.c - option parsing: defaults, every value checked, clear refusals */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cfg.h"
#include "log.h"

#define ARGV(...) ((const char *[]){ "ember", __VA_ARGS__, NULL })

/* cfg_parse wants argv as main gets it: mutable strings that outlive cfg. */
static char arg_store[32][128];

static int parse(struct cfg *cfg, const char **argv)
{
	char *args[33];
	int argc = 0;

	for (; argv[argc] && argc < 32; argc++) {
		snprintf(arg_store[argc], sizeof(arg_store[argc]), "%s", argv[argc]);
		args[argc] = arg_store[argc];
	}
	args[argc] = NULL;
	return cfg_parse(cfg, argc, args);
}

static void test_defaults(void **state)
{
	struct cfg cfg;

	assert_int_equal(parse(&cfg, ARGV("--dry-run")), 0);
	assert_true(cfg.dry_run);
	assert_int_equal(cfg.frequency, 100);
	assert_int_equal(cfg.window_s, 15);
	assert_int_equal(cfg.duration_s, 0);
	assert_true(cfg.kernel);
	assert_int_equal(cfg.npids, 0);
	assert_int_equal(cfg.protocol, CFG_PROTO_PUSH);
	assert_int_equal(cfg.connect_timeout_ms, 5000);
	assert_int_equal(cfg.timeout_ms, 10000);
	assert_int_equal(cfg.log_level, LOG_WARN);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--log-level", "info")), 0);
	assert_int_equal(cfg.log_level, LOG_INFO);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--verbose")), 0);
	assert_int_equal(cfg.log_level, LOG_DEBUG);
}

static void test_sampling_options(void **state)
{
	struct cfg cfg;

	assert_int_equal(
		parse(&cfg, ARGV("--dry-run", "--pid", "42", "-p", "43", "--frequency", "99",
				 "--window", "5", "--duration", "30", "--no-kernel")),
		0);
	assert_int_equal(cfg.npids, 2);
	assert_int_equal(cfg.pids[0], 42);
	assert_int_equal(cfg.pids[1], 43);
	assert_int_equal(cfg.frequency, 99);
	assert_int_equal(cfg.window_s, 5);
	assert_int_equal(cfg.duration_s, 30);
	assert_false(cfg.kernel);
}

static void test_profiles_options(void **state)
{
	struct cfg cfg;

	assert_int_equal(parse(&cfg, ARGV("--dry-run")), 0);
	assert_true(cfg.profile_cpu);
	assert_false(cfg.profile_off_cpu);
	assert_int_equal(cfg.off_cpu_min_us, 1000);
	assert_int_equal(cfg.off_cpu_sample, 1);
	assert_false(cfg.off_cpu_runqueue);
	assert_int_equal(cfg.off_cpu_max_rate, 200);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--off-cpu-max-rate", "0")), 0);
	assert_int_equal(cfg.off_cpu_max_rate, 0);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--off-cpu-max-rate", "x")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--profiles", "off-cpu")), 0);
	assert_false(cfg.profile_cpu);
	assert_true(cfg.profile_off_cpu);
	assert_int_equal(
		parse(&cfg, ARGV("--dry-run", "--profiles", "off-cpu,cpu", "--off-cpu-min-us", "0",
				 "--off-cpu-sample", "10", "--off-cpu-runqueue")),
		0);
	assert_true(cfg.profile_cpu);
	assert_true(cfg.profile_off_cpu);
	assert_int_equal(cfg.off_cpu_min_us, 0);
	assert_int_equal(cfg.off_cpu_sample, 10);
	assert_true(cfg.off_cpu_runqueue);
	/* Unknown, repeated, empty: one line, exit 2. */
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--profiles", "mem")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--profiles", "cpu,cpu")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--profiles", "")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--profiles", "cpu,")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--profiles", "offcpu")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--off-cpu-sample", "0")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--off-cpu-min-us", "-1")), -EINVAL);
}

static void test_push_options(void **state)
{
	struct cfg cfg;

	assert_int_equal(parse(&cfg, ARGV("--server", "https://p.example:4040", "--protocol",
					  "ingest", "--label", "env=prod", "--label", "team=a=b",
					  "--header", "X-A:  1", "--tenant", "t1", "--timeout",
					  "2.5", "--connect-timeout", "0.25", "--queue-size", "3",
					  "--max-retries", "0", "--insecure")),
			 0);
	assert_string_equal(cfg.server, "https://p.example:4040");
	assert_int_equal(cfg.protocol, CFG_PROTO_INGEST);
	assert_int_equal(cfg.nlabels, 2);
	assert_string_equal(cfg.labels[0].name, "env");
	assert_string_equal(cfg.labels[0].value, "prod");
	/* Only the first '=' separates: values may hold more. */
	assert_string_equal(cfg.labels[1].name, "team");
	assert_string_equal(cfg.labels[1].value, "a=b");
	assert_string_equal(cfg.headers[0].name, "X-A");
	assert_string_equal(cfg.headers[0].value, "1");
	assert_string_equal(cfg.tenant, "t1");
	assert_int_equal(cfg.timeout_ms, 2500);
	assert_int_equal(cfg.connect_timeout_ms, 250);
	assert_int_equal(cfg.queue_max, 3);
	assert_int_equal(cfg.max_retries, 0);
	assert_true(cfg.insecure);
}

static void test_refusals(void **state)
{
	struct cfg cfg;

	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--frequency", "0")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--frequency", "10001")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--frequency", "12abc")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--frequency", "-5")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--window", "0")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--pid", "x")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--bogus")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--pid")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "extra")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--label", "novalue")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--label", "=v")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--timeout", "nan")), -EINVAL);
	/* Blanks, signs and other strtod spellings are typos, like " 10" for
	 * --frequency. */
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--timeout", " 1")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--timeout", "\t1")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--timeout", "+1")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--timeout", "1 ")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--timeout", "0x10")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--timeout", "1e2")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--timeout", "inf")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--timeout", ".")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--connect-timeout", " 0.5")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--frequency", " 10")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--window", " 5")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--duration", "+5")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--max-retries", " 1")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--queue-size", " 2")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--jvm-min-age", " 1")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--perfmap-max-mb", "0")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--perfmap-max-mb", "4097")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run")), 0);
	assert_int_equal(cfg.perfmap_max_mb, 8);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--perfmap-max-mb", "2")), 0);
	assert_int_equal(cfg.perfmap_max_mb, 2);
	assert_int_equal(cfg.unwind_memory_mb, 32);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--unwind-memory", "0")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--unwind-memory", "4097")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--unwind-memory", "64")), 0);
	assert_int_equal(cfg.unwind_memory_mb, 64);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--timeout", ".5")), 0);
	assert_int_equal(cfg.timeout_ms, 500);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--protocol", "grpc")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--dry-run", "--log-level", "loud")), -EINVAL);
	/* No output at all is a mistake, not a silent run. */
	assert_int_equal(parse(&cfg, ARGV("--frequency", "50")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--server", "ftp://x")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--server", "http://x", "--cert-file", "c")), -EINVAL);
	assert_int_equal(parse(&cfg, ARGV("--server", "http://x", "--basic-auth-user", "u")),
			 -EINVAL);
}

static void test_help(void **state)
{
	struct cfg cfg;
	FILE *saved = stdout;

	stdout = fopen("/dev/null", "w");
	assert_int_equal(parse(&cfg, ARGV("--help")), 1);
	fclose(stdout);
	stdout = saved;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),     cmocka_unit_test(test_sampling_options),
		cmocka_unit_test(test_push_options), cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_help),	     cmocka_unit_test(test_profiles_options),
	};

	return cmocka_run_group_tests_name("cfg", tests, NULL, NULL);
}
