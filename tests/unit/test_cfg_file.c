// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_cfg_file.c - the --config YAML file: a good file, each refusal with its line, flags over
 * file, reload */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "log.h"
#include "relabel.h"

static char path[64];
static char err_path[64];
static char errbuf[4096];

/* Writes text to a fresh file; its name in path. */
static void write_file(const char *text)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/ember-cfg-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* cfg_parse with "ember --config path ARGS...", its stderr caught in
 * errbuf. argv strings must outlive cfg, hence the static store. */
static int parse_with(struct cfg *cfg, const char *const *extra)
{
	static char store[16][128];
	char *argv[20];
	int argc = 0, saved, fd, ret;
	ssize_t n;

	snprintf(store[argc], sizeof(store[0]), "ember");
	argv[argc] = store[argc], argc++;
	snprintf(store[argc], sizeof(store[0]), "--config");
	argv[argc] = store[argc], argc++;
	snprintf(store[argc], sizeof(store[0]), "%s", path);
	argv[argc] = store[argc], argc++;
	for (; extra && *extra && argc < 15; extra++, argc++) {
		snprintf(store[argc], sizeof(store[0]), "%s", *extra);
		argv[argc] = store[argc];
	}
	argv[argc] = NULL;

	snprintf(err_path, sizeof(err_path), "/tmp/ember-cfg-err-XXXXXX");
	fd = mkstemp(err_path);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	ret = cfg_parse(cfg, argc, argv);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, errbuf, sizeof(errbuf) - 1);
	errbuf[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(err_path);
	return ret;
}

static void test_good_file(void **state)
{
	static const char text[] = "# every kind of key\n"
				   "dry-run: true\n"
				   "frequency: 49\n"
				   "window: 5\n"
				   "pid: [1, 2]\n"
				   "no-kernel: true\n"
				   "lines: false\n"
				   "output-dir: /tmp/out\n"
				   "server: https://profiles.example.com\n"
				   "basic-auth-user: me\n"
				   "basic-auth-password-file: /etc/ember/password\n"
				   "timeout: 2.5\n"
				   "log-level: info\n"
				   "labels:\n"
				   "  team: core\n"
				   "  env: prod\n"
				   "label: [zone=a]\n"
				   "headers:\n"
				   "  X-Extra: yes\n"
				   "relabel_configs:\n"
				   "  - source_labels: [__meta_process_comm]\n"
				   "    regex: 'python.*'\n"
				   "    action: drop\n"
				   "  - action: hashmod\n"
				   "    source_labels: [service_name]\n"
				   "    target_label: shard\n"
				   "    modulus: 4\n";
	struct cfg cfg;

	write_file(text);
	assert_int_equal(parse_with(&cfg, NULL), 0);
	assert_true(cfg.dry_run);
	assert_int_equal(cfg.frequency, 49);
	assert_int_equal(cfg.window_s, 5);
	assert_int_equal(cfg.npids, 2);
	assert_int_equal(cfg.pids[1], 2);
	assert_false(cfg.kernel);
	assert_false(cfg.lines);
	assert_string_equal(cfg.output_dir, "/tmp/out");
	assert_string_equal(cfg.server, "https://profiles.example.com");
	assert_string_equal(cfg.basic_user, "me");
	assert_string_equal(cfg.basic_password_file, "/etc/ember/password");
	assert_int_equal(cfg.timeout_ms, 2500);
	assert_int_equal(cfg.log_level, LOG_INFO);
	assert_int_equal(cfg.nlabels, 3);
	assert_string_equal(cfg.labels[0].name, "team");
	assert_string_equal(cfg.labels[0].value, "core");
	assert_string_equal(cfg.labels[2].name, "zone");
	assert_string_equal(cfg.labels[2].value, "a");
	assert_int_equal(cfg.nheaders, 1);
	assert_string_equal(cfg.headers[0].name, "X-Extra");
	assert_string_equal(cfg.headers[0].value, "yes");
	assert_int_equal(relabel__count(cfg.relabel), 2);
	assert_string_equal(cfg.config_file, path);
	cfg_free(&cfg);
	unlink(path);
}

/* An empty file (or only comments) is a valid file that sets nothing. */
static void test_empty_file(void **state)
{
	static const char *const flags[] = { "--dry-run", NULL };
	struct cfg cfg;

	write_file("# nothing yet\n");
	assert_int_equal(parse_with(&cfg, flags), 0);
	assert_int_equal(cfg.frequency, 100);
	assert_null(cfg.relabel);
	cfg_free(&cfg);
	unlink(path);
}

struct bad_file {
	const char *text;
	const char *want; /* after "FILE:" in the one line */
};

static const struct bad_file bad_files[] = {
	{ "dry-run: true\nfrequency: fast\n", ":2: invalid --frequency value 'fast'" },
	{ "dry-run: true\nfrequency: 0\n", ":2: invalid --frequency value '0'" },
	{ "dry-run: true\n\nnosuch: 1\n", ":3: unknown key 'nosuch'" },
	{ "dry-run: yes\n", ":1: dry-run expects true or false, not 'yes'" },
	{ "dry-run: true\nwindow: [1, 2]\n", ":2: window takes one value, not a list" },
	{ "dry-run: true\nserver: {url: x}\n", ":2: server expects a single value, not a mapping" },
	{ "dry-run: true\nlabels: [a]\n", ":2: labels expects a mapping of names to values" },
	{ "dry-run: true\nlabel: novalue\n", ":2: invalid --label 'novalue'" },
	{ "- just\n- a list\n", ":1: the file must be a mapping" },
	{ "dry-run: true\nframes: [\n", ":3: not valid YAML" },
	{ "dry-run: true\nconfig: other.yaml\n", ":2: config cannot be set" },
	{ "dry-run: true\nwindow: 5\nwindow: 6\n", ":3: key window is given twice" },
	{ "dry-run: true\nprotocol: grpc\n", ":2: invalid --protocol 'grpc'" },
	{ "dry-run: true\nrelabel_configs:\n  - source_labels: [a]\n    regex: '('\n"
	  "    target_label: b\n",
	  ":3: relabel_configs entry 1: regex '(' does not compile" },
	{ "dry-run: true\nrelabel_configs:\n  - action: keep\n    source_labels: [a]\n"
	  "  - action: explode\n",
	  ":5: relabel_configs entry 2: unknown relabel action 'explode'" },
	{ "dry-run: true\nrelabel_configs:\n  - action: keep\n    source_labelz: [a]\n",
	  ":4: unknown relabel_configs field 'source_labelz'" },
	{ "dry-run: true\nrelabel_configs:\n  - action: hashmod\n    source_labels: [a]\n"
	  "    target_label: b\n    modulus: -1\n",
	  ":6: invalid modulus '-1'" },
	{ "dry-run: true\nrelabel_configs:\n  - source_labels: a\n    target_label: b\n",
	  ":3: source_labels expects a list of names, not a value" },
	{ "dry-run: true\nrelabel_configs: {}\n", ":2: relabel_configs expects a list of rules" },
	/* a check across keys names the file, not a line */
	{ "server: http://x\nbasic-auth-user: me\n", ": --basic-auth-user needs" },
	{ "frequency: 10\n", ": no output chosen" },
};

static void test_bad_files(void **state)
{
	char want[512];
	size_t i;

	for (i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		struct cfg cfg;
		int ret;

		write_file(bad_files[i].text);
		ret = parse_with(&cfg, NULL);
		snprintf(want, sizeof(want), "ember: error %s%s", path, bad_files[i].want);
		if (ret != -EINVAL || strncmp(errbuf, want, strlen(want)))
			fail_msg("file %zu: ret %d, stderr '%s', want '%s'", i, ret, errbuf, want);
		/* one line */
		assert_non_null(strchr(errbuf, '\n'));
		assert_int_equal(strchr(errbuf, '\n')[1], '\0');
		cfg_free(&cfg);
		unlink(path);
	}
}

static void test_missing_file(void **state)
{
	struct cfg cfg;

	snprintf(path, sizeof(path), "/nonexistent/ember.yaml");
	assert_int_equal(parse_with(&cfg, NULL), -EINVAL);
	assert_non_null(strstr(errbuf, "/nonexistent/ember.yaml: cannot read"));
	cfg_free(&cfg);
}

/* Flags override the file, wherever --config stands; a flag label of a file
 * label's name replaces it, a header name matches in any case. */
static void test_flags_override(void **state)
{
	static const char *const flags[] = { "--frequency", "99",      "--label",  "team=edge",
					     "--label",	    "extra=1", "--header", "x-extra: 2",
					     "--window=7",  NULL };
	struct cfg cfg;

	write_file("dry-run: true\nfrequency: 49\nwindow: 3\nduration: 60\n"
		   "labels: {team: core, env: prod}\nheaders: {X-Extra: 1}\n");
	assert_int_equal(parse_with(&cfg, flags), 0);
	assert_int_equal(cfg.frequency, 99);
	assert_int_equal(cfg.window_s, 7);
	assert_int_equal(cfg.duration_s, 60); /* from the file, no flag */
	assert_int_equal(cfg.nlabels, 3);
	assert_string_equal(cfg.labels[0].name, "team");
	assert_string_equal(cfg.labels[0].value, "edge");
	assert_string_equal(cfg.labels[1].value, "prod");
	assert_string_equal(cfg.labels[2].name, "extra");
	assert_int_equal(cfg.nheaders, 1);
	assert_string_equal(cfg.headers[0].value, "2");
	cfg_free(&cfg);
	unlink(path);
}

/* --config=FILE and an abbreviation find the file as getopt does; flags
 * before --config still override it. */
static void test_config_spellings(void **state)
{
	static const char *const spellings[] = { "--config=%s", "--conf=%s" };
	size_t i;

	write_file("dry-run: true\nfrequency: 49\nwindow: 4\n");
	for (i = 0; i < 2; i++) {
		char store[3][128], *argv[5];
		struct cfg cfg;

		snprintf(store[0], sizeof(store[0]), "ember");
		snprintf(store[1], sizeof(store[1]), "--window=9");
		snprintf(store[2], sizeof(store[2]), spellings[i], path);
		argv[0] = store[0], argv[1] = store[1], argv[2] = store[2], argv[3] = NULL;
		assert_int_equal(cfg_parse(&cfg, 3, argv), 0);
		assert_int_equal(cfg.frequency, 49);
		assert_int_equal(cfg.window_s, 9);
		cfg_free(&cfg);
	}
	unlink(path);
}

/* A reload takes labels, host, rules and log level; a changed frequency
 * stays and is counted as needing a restart. */
static void test_reload(void **state)
{
	struct cfg cur, next;

	write_file("dry-run: true\nfrequency: 49\nlabels: {team: core}\n");
	assert_int_equal(parse_with(&cur, NULL), 0);
	unlink(path);
	write_file("dry-run: true\nfrequency: 50\nlog-level: debug\nhost: h2\n"
		   "labels: {team: edge, zone: b}\n"
		   "relabel_configs:\n  - action: labeldrop\n    regex: zone\n");
	assert_int_equal(parse_with(&next, NULL), 0);
	assert_int_equal(cfg_take_reloadable(&cur, &next), 1);
	cfg_free(&next);
	assert_int_equal(cur.frequency, 49);
	assert_int_equal(cur.log_level, LOG_DEBUG);
	assert_string_equal(cur.host, "h2");
	assert_int_equal(cur.nlabels, 2);
	assert_string_equal(cur.labels[0].value, "edge");
	assert_string_equal(cur.labels[1].name, "zone");
	assert_int_equal(relabel__count(cur.relabel), 1);
	unlink(path);
	/* again: the previous reload's strings are released, not leaked */
	write_file("dry-run: true\nfrequency: 49\nlabels: {team: third}\n");
	assert_int_equal(parse_with(&next, NULL), 0);
	assert_int_equal(cfg_take_reloadable(&cur, &next), 0);
	cfg_free(&next);
	assert_string_equal(cur.labels[0].value, "third");
	assert_int_equal(cur.nlabels, 1);
	assert_null(cur.relabel);
	cfg_free(&cur);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),      cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_bad_files),      cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_flags_override), cmocka_unit_test(test_config_spellings),
		cmocka_unit_test(test_reload),
	};

	log_level = LOG_ERR;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
