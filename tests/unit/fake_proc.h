/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* fake_proc.h - a canned /proc tree for one fake process, shared by the unit
 * tests of the modules that read /proc (header-only: tests are one file each)
 *
 * PID's root links to the real "/", so its mappings name the real fixture
 * binaries and the symbolizer's fallback path opens them.
 */
#ifndef EMBER_FAKE_PROC_H
#define EMBER_FAKE_PROC_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"

#define PID 4242

struct fake {
	char root[64];
	struct sym *sym;
	struct proc_table *t;
};

static void fake_write_file(const char *root, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/%s", root, PID, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int fake_setup(void **state)
{
	struct sym_opts opts = { 0 };
	struct fake *fk = calloc(1, sizeof(*fk));
	char path[256], maps[1024];

	snprintf(fk->root, sizeof(fk->root), "/tmp/ember-proc-XXXXXX");
	assert_non_null(mkdtemp(fk->root));
	snprintf(path, sizeof(path), "%s/%d", fk->root, PID);
	assert_int_equal(mkdir(path, 0755), 0);
	/* The fake process's root is the real one, so mapped paths resolve. */
	snprintf(path, sizeof(path), "%s/%d/root", fk->root, PID);
	assert_int_equal(symlink("/", path), 0);
	snprintf(path, sizeof(path), "%s/%d/exe", fk->root, PID);
	assert_int_equal(symlink(FIXTURES_DIR "/sym_pie (deleted)", path), 0);
	fake_write_file(fk->root, "comm", "fakeproc\n");
	fake_write_file(fk->root, "cgroup",
		   "12:pids:/system.slice/web.service\n"
		   "0::/system.slice/web.service/worker.scope\n");
	snprintf(maps, sizeof(maps),
		 "555555554000-555555556000 r-xp 00001000 08:01 1234 %s/sym_pie\n"
		 "7ffff7fc1000-7ffff7fc3000 r-xp 00000000 00:00 0 [vdso]\n"
		 "7ffff0000000-7ffff0100000 rwxp 00000000 00:00 0 \n",
		 FIXTURES_DIR);
	fake_write_file(fk->root, "maps", maps);

	opts.proc_root = fk->root;
	fk->sym = sym__new(&opts);
	assert_non_null(fk->sym);
	fk->t = proc_table__new(fk->sym, fk->root);
	assert_non_null(fk->t);
	*state = fk;
	return 0;
}

static int fake_teardown(void **state)
{
	struct fake *fk = *state;
	char cmd[128];

	proc_table__free(fk->t);
	sym__free(fk->sym);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fk->root);
	assert_int_equal(system(cmd), 0);
	free(fk);
	return 0;
}

#endif /* EMBER_FAKE_PROC_H */
