// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_sym.c - the symbolizer front: opening and sharing mapped files, naming
 * frames of the fixture binaries, a live process with a shared library, a
 * deleted and a replaced executable (map_files, root), the vDSO, kernel
 * names, LRU eviction under a tiny cache, hostile files, the names of one
 * batch, and files changed under a cached table */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sym.h"
#include "sym_test_elf.h"

#define PROC_DIR TESTS_DIR "/fixtures/proc"

static struct sym *new_sym(size_t cache_bytes, const char *kallsyms)
{
	struct sym_opts opts = { .proc_root = "/proc",
				 .kallsyms_path = kallsyms,
				 .cache_bytes = cache_bytes };
	struct sym *s = sym__new(&opts);

	assert_non_null(s);
	return s;
}

/* A file that is not mapped is still reached through our own root: the
 * map_files name does not exist, the fallback by path does. */
static struct sym_file *open_path(struct sym *s, const char *path)
{
	struct sym_map m = { .start = 0x1000, .end = 0x2000, .path = path };

	return sym__open_file(s, getpid(), &m);
}

static void expect_name(struct sym *s, struct sym_file *f, const char *path,
			const char *name)
{
	struct sym_test_func fn;
	struct sym_result r[3];
	uint64_t offs[3];

	assert_true(sym_test_func(path, name, &fn));
	offs[0] = fn.off;
	offs[1] = fn.off + fn.size / 2;
	offs[2] = 1ull << 40;
	sym__user(s, f, offs, 3, r);
	assert_int_equal(r[0].reason, SYM_OK);
	assert_string_equal(r[0].name, name);
	assert_int_equal(r[0].offset, 0);
	assert_int_equal(r[1].reason, SYM_OK);
	assert_string_equal(r[1].name, name);
	assert_int_equal(r[1].offset, fn.size / 2);
	assert_int_equal(r[2].reason, SYM_UNKNOWN_ADDR);
	assert_null(r[2].name);
}

/* A stripped binary's static functions come back from its debug file, found
 * by build-id under the debug directory, with the binary's own segments. */
static void test_debug_file(void **state)
{
	struct sym_opts opts = { .proc_root = "/proc" };
	char dir[] = "/tmp/ember-debug-XXXXXX", path[PATH_MAX], id[130], cmd[PATH_MAX + 16];
	struct sym_test_func fn;
	struct sym_stats st;
	struct sym *s;
	struct sym_file *f;
	struct sym_result r;

	assert_non_null(mkdtemp(dir));
	assert_true(sym_test_build_id(FIXTURES_DIR "/sym_stripped", id, sizeof(id)));
	snprintf(path, sizeof(path), "%s/.build-id/%.2s", dir, id);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", path);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s.debug", dir, id, id + 2);
	assert_int_equal(symlink(FIXTURES_DIR "/sym_stripped.debug", path), 0);

	/* Without the debug file, a static function has no name. */
	opts.debug_dir = "";
	s = sym__new(&opts);
	assert_non_null(s);
	f = open_path(s, FIXTURES_DIR "/sym_stripped");
	assert_non_null(f);
	assert_true(sym_test_func(FIXTURES_DIR "/sym_stripped.full", "now_s", &fn));
	sym__user(s, f, &fn.off, 1, &r);
	assert_int_not_equal(r.reason, SYM_OK);
	sym_file__put(f);
	sym__free(s);

	opts.debug_dir = dir;
	s = sym__new(&opts);
	assert_non_null(s);
	f = open_path(s, FIXTURES_DIR "/sym_stripped");
	assert_non_null(f);
	expect_name(s, f, FIXTURES_DIR "/sym_stripped.full", "now_s");
	expect_name(s, f, FIXTURES_DIR "/sym_stripped.full", "sym_alpha");
	sym__stats(s, &st);
	assert_int_equal(st.debug_files, 1);
	sym_file__put(f);
	sym__free(s);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_open_and_share(void **state)
{
	struct sym *s = new_sym(0, NULL);
	const char *pie = FIXTURES_DIR "/sym_pie";
	char want[130];
	struct sym_file *a, *b, *c;
	struct sym_stats st;

	a = open_path(s, pie);
	assert_non_null(a);
	b = open_path(s, pie);
	/* One identity, one object, whichever process maps it. */
	assert_ptr_equal(a, b);
	assert_string_equal(sym_file__path(a), pie);
	assert_true(sym_test_build_id(pie, want, sizeof(want)));
	assert_string_equal(sym_file__build_id(a), want);
	c = open_path(s, FIXTURES_DIR "/libsym.so");
	assert_non_null(c);
	assert_ptr_not_equal(a, c);
	sym__stats(s, &st);
	assert_int_equal(st.files_open, 2);
	assert_ptr_equal(sym_file__get(a), a);
	sym_file__put(a);
	sym_file__put(a);
	sym__stats(s, &st);
	assert_int_equal(st.files_open, 2);
	sym_file__put(b);
	sym_file__put(c);
	sym_file__put(NULL);
	sym__stats(s, &st);
	assert_int_equal(st.files_open, 0);
	sym__free(s);
	sym__free(NULL);
}

static void test_fixtures(void **state)
{
	static const char *const progs[] = { "sym_pie", "sym_nopie", "sym_stripped" };
	struct sym *s = new_sym(0, NULL);
	const char *lib = FIXTURES_DIR "/libsym.so";
	struct sym_file *f;
	char path[512];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), FIXTURES_DIR "/%s", progs[i]);
		f = open_path(s, path);
		assert_non_null(f);
		expect_name(s, f, path, "sym_alpha");
		expect_name(s, f, path, "sym_beta");
		expect_name(s, f, path, "sym_gamma");
		sym_file__put(f);
	}
	f = open_path(s, lib);
	assert_non_null(f);
	expect_name(s, f, lib, "sym_lib_alpha");
	expect_name(s, f, lib, "sym_lib_beta");
	sym_file__put(f);
	sym__free(s);
}

struct child {
	pid_t pid;
	FILE *out;
	size_t n;
	char names[8][32];
	uint64_t addrs[8];
};

/* Runs a fixture that prints "name 0xADDR" lines, then "ready", then sleeps. */
static void spawn(struct child *c, const char *exe)
{
	char line[128];
	unsigned long long addr;
	int fds[2];
	bool ready = false;

	memset(c, 0, sizeof(*c));
	assert_int_equal(pipe(fds), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (!c->pid) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl(exe, exe, "sleep", "30", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	c->out = fdopen(fds[0], "r");
	assert_non_null(c->out);
	while (fgets(line, sizeof(line), c->out)) {
		if (!strcmp(line, "ready\n")) {
			ready = true;
			break;
		}
		if (c->n < 8 && sscanf(line, "%31s %llx", c->names[c->n], &addr) == 2)
			c->addrs[c->n++] = addr;
	}
	assert_true(ready);
}

static void reap(struct child *c)
{
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	fclose(c->out);
}

/* Names every function the child printed, through its live mappings. */
static void name_child(struct sym *s, const struct child *c, bool expect_deleted)
{
	struct sym_maps *maps = sym_maps__read("/proc", c->pid);
	size_t i;

	assert_non_null(maps);
	assert_true(c->n >= 3);
	for (i = 0; i < c->n; i++) {
		const struct sym_map *m = sym_maps__find(maps, c->addrs[i]);
		struct sym_result r;
		struct sym_file *f;
		uint64_t off;

		assert_non_null(m);
		assert_non_null(m->path);
		assert_true(m->prot & SYM_PROT_EXEC);
		if (!strncmp(c->names[i], "sym_lib_", 8))
			assert_non_null(strstr(m->path, "libsym.so"));
		else
			assert_int_equal(m->deleted, expect_deleted);
		f = sym__open_file(s, c->pid, m);
		assert_non_null(f);
		assert_string_equal(sym_file__path(f), m->path);
		/* The agent's rule: a file offset, not an address or a vaddr. */
		off = c->addrs[i] - m->start + m->pgoff;
		sym__user(s, f, &off, 1, &r);
		assert_int_equal(r.reason, SYM_OK);
		assert_string_equal(r.name, c->names[i]);
		assert_int_equal(r.offset, 0);
		off += 3;
		sym__user(s, f, &off, 1, &r);
		assert_string_equal(r.name, c->names[i]);
		assert_int_equal(r.offset, 3);
		sym_file__put(f);
	}
	sym_maps__free(maps);
}

static void test_live_process(void **state)
{
	struct sym *s = new_sym(0, NULL);
	struct child c;

	spawn(&c, FIXTURES_DIR "/sym_uselib");
	assert_int_equal(c.n, 5);
	name_child(s, &c, false);
	reap(&c);
	sym__free(s);
}

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	ssize_t n;

	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, n), n);
	close(in);
	close(out);
}

/* Deleted after exec, or replaced by another file of the same name: either
 * way only map_files still leads to the inode the process runs. */
static void run_gone(bool replace)
{
	struct sym *s;
	struct child c;
	char path[512], other[600];

	if (geteuid() != 0) {
		fprintf(stderr, "test_sym: /proc/PID/map_files needs root: skipped\n");
		skip();
		return;
	}
	snprintf(path, sizeof(path), FIXTURES_DIR "/sym_pie.gone.%d", getpid());
	copy_file(FIXTURES_DIR "/sym_pie", path);
	spawn(&c, path);
	if (replace) {
		snprintf(other, sizeof(other), "%s.new", path);
		copy_file(FIXTURES_DIR "/sym_nopie", other);
		assert_int_equal(rename(other, path), 0);
	}
	s = new_sym(0, NULL);
	if (!replace)
		assert_int_equal(unlink(path), 0);
	name_child(s, &c, true);
	reap(&c);
	sym__free(s);
	unlink(path);
}

static void test_deleted(void **state)
{
	run_gone(false);
}

static void test_replaced(void **state)
{
	run_gone(true);
}

/* The [vdso] mapping's extent, from our own maps. */
static size_t vdso_len(void)
{
	struct sym_maps *m = sym_maps__read("/proc", getpid());
	size_t i, len = 0;

	assert_non_null(m);
	for (i = 0; i < sym_maps__count(m); i++) {
		const struct sym_map *e = sym_maps__at(m, i);

		if (e->path && !strcmp(e->path, "[vdso]"))
			len = e->end - e->start;
	}
	sym_maps__free(m);
	return len;
}

static void test_vdso(void **state)
{
	const void *img = (const void *)getauxval(AT_SYSINFO_EHDR);
	struct sym *s = new_sym(0, NULL);
	struct sym_test_func fn;
	struct sym_result r[3];
	uint64_t offs[3];
	size_t len = vdso_len();

	if (!img || !len) {
		sym__free(s);
		fprintf(stderr, "test_sym: no vDSO in this process: skipped\n");
		skip();
		return;
	}
	assert_true(sym_test_func_mem(img, len, "__vdso_clock_gettime", &fn));
	offs[0] = fn.off;
	offs[1] = fn.off + fn.size / 2;
	offs[2] = 0;
	sym__vdso(s, offs, 3, r);
	assert_int_equal(r[0].reason, SYM_OK);
	/* clock_gettime is a weak alias at the same address. */
	assert_true(!strcmp(r[0].name, "__vdso_clock_gettime") ||
		    !strcmp(r[0].name, "clock_gettime"));
	assert_int_equal(r[0].offset, 0);
	assert_string_equal(r[1].name, r[0].name);
	assert_int_equal(r[1].offset, fn.size / 2);
	assert_int_equal(r[2].reason, SYM_UNKNOWN_ADDR);
	sym__free(s);
}

static void test_kernel(void **state)
{
	const uint64_t addrs[] = { 0xffffffff821f8be0 + 1, 0xffffffffc0a01200, 0x10 };
	struct sym *s;
	struct sym_result r[3];
	struct sym_stats st;

	s = new_sym(0, PROC_DIR "/kallsyms_normal.txt");
	sym__kernel(s, addrs, 3, r);
	assert_int_equal(r[0].reason, SYM_OK);
	assert_string_equal(r[0].name, "schedule");
	assert_int_equal(r[0].offset, 1);
	assert_null(r[0].module);
	assert_string_equal(r[1].name, "ext4_map_blocks");
	assert_string_equal(r[1].module, "ext4");
	assert_int_equal(r[2].reason, SYM_UNKNOWN_ADDR);
	sym__stats(s, &st);
	assert_int_equal(st.kernel_symbols, 17);
	assert_true(st.kernel_bytes > 0);
	assert_int_equal(sym__kernel_reload(s), 0);
	sym__kernel(s, addrs, 1, r);
	assert_string_equal(r[0].name, "schedule");
	sym__free(s);

	/* Hidden addresses, no path, or no file: no kernel names, no failure. */
	s = new_sym(0, PROC_DIR "/kallsyms_zero.txt");
	sym__kernel(s, addrs, 3, r);
	assert_int_equal(r[0].reason, SYM_NO_KERNEL);
	assert_int_equal(r[2].reason, SYM_NO_KERNEL);
	sym__free(s);
	s = new_sym(0, NULL);
	sym__kernel(s, addrs, 1, r);
	assert_int_equal(r[0].reason, SYM_NO_KERNEL);
	assert_int_equal(sym__kernel_reload(s), -ENOENT);
	sym__free(s);
	s = new_sym(0, PROC_DIR "/no-such-kallsyms");
	sym__kernel(s, addrs, 1, r);
	assert_int_equal(r[0].reason, SYM_NO_KERNEL);
	sym__free(s);
}

static void test_cache_eviction(void **state)
{
	static const char *const files[] = { "sym_pie", "sym_nopie", "sym_stripped", "libsym.so" };
	static const char *const funcs[] = { "sym_alpha", "sym_beta", "sym_gamma",
					     "sym_lib_alpha" };
	size_t sizes[4], smallest = SIZE_MAX, largest = 0, bound, i, round;
	struct sym_file *f[4];
	struct sym *s;
	struct sym_stats st;
	char path[4][512];

	for (i = 0; i < 4; i++) {
		snprintf(path[i], sizeof(path[i]), FIXTURES_DIR "/%s", files[i]);
		s = new_sym(0, NULL);
		f[i] = open_path(s, path[i]);
		assert_non_null(f[i]);
		expect_name(s, f[i], path[i], funcs[i]);
		sym__stats(s, &st);
		sizes[i] = st.cache_bytes;
		smallest = sizes[i] < smallest ? sizes[i] : smallest;
		largest = sizes[i] > largest ? sizes[i] : largest;
		sym_file__put(f[i]);
		sym__free(s);
	}
	/* Room for the largest table and half the smallest: never two tables. */
	bound = largest + smallest / 2;
	s = new_sym(bound, NULL);
	for (i = 0; i < 4; i++) {
		f[i] = open_path(s, path[i]);
		assert_non_null(f[i]);
	}
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 4; i++) {
			expect_name(s, f[i], path[i], funcs[i]);
			sym__stats(s, &st);
			assert_true(st.cache_bytes <= bound);
			assert_int_equal(st.cache_bytes, sizes[i]);
		}
	}
	sym__stats(s, &st);
	/* Every use after the first round was a reload from the kept fd. */
	assert_int_equal(st.cache_loads, 12);
	assert_int_equal(st.cache_evictions, 11);
	/* A hit does not reload. */
	expect_name(s, f[3], path[3], "sym_lib_beta");
	sym__stats(s, &st);
	assert_int_equal(st.cache_loads, 12);
	for (i = 0; i < 4; i++)
		sym_file__put(f[i]);
	sym__free(s);
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_bad_inputs(void **state)
{
	char dir[] = "/tmp/ember-sym-XXXXXX", empty[256], text[256], cut[256], img[0x1000];
	struct sym *s = new_sym(0, NULL);
	struct sym_map m = { .start = 0x1000, .end = 0x2000 };
	struct sym_file *fe, *ft, *fc;
	struct sym_result r[2];
	uint64_t offs[2] = { 0x10, 0x1100 };
	struct sym_stats st, st2;
	pid_t pid;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(empty, sizeof(empty), "%s/empty", dir);
	snprintf(text, sizeof(text), "%s/text", dir);
	snprintf(cut, sizeof(cut), "%s/cut", dir);
	write_file(empty, "", 0);
	write_file(text, "not an ELF file\n", 16);
	fd = open(FIXTURES_DIR "/sym_pie", O_RDONLY);
	assert_int_equal(read(fd, img, sizeof(img)), (ssize_t)sizeof(img));
	close(fd);
	write_file(cut, img, sizeof(img));

	fe = open_path(s, empty);
	ft = open_path(s, text);
	fc = open_path(s, cut);
	assert_non_null(fe);
	assert_non_null(ft);
	assert_non_null(fc);
	assert_null(sym_file__build_id(fe));
	sym__user(s, fe, offs, 2, r);
	assert_int_equal(r[0].reason, SYM_NOT_ELF);
	assert_int_equal(r[1].reason, SYM_NOT_ELF);
	assert_null(r[0].name);
	sym__user(s, ft, offs, 2, r);
	assert_int_equal(r[0].reason, SYM_NOT_ELF);
	/* Headers intact, symbol tables cut off. */
	sym__user(s, fc, offs, 2, r);
	assert_true(r[0].reason == SYM_NOT_ELF || r[0].reason == SYM_NO_SYMBOLS);
	sym__stats(s, &st);
	assert_int_equal(st.bad_files + st.no_symbols, 3);
	/* Known bad files are not parsed again. */
	sym__user(s, fc, offs, 2, r);
	sym__user(s, fe, offs, 2, r);
	sym__stats(s, &st2);
	assert_int_equal(st2.cache_loads, st.cache_loads);
	assert_int_equal(st2.bad_files, st.bad_files);
	sym__user(s, NULL, offs, 2, r);
	assert_int_equal(r[0].reason, SYM_NO_FILE);
	sym__user(s, fe, offs, 0, r);

	/* Not files: a directory, anonymous memory, pseudo files. */
	errno = 0;
	assert_null(open_path(s, dir));
	assert_int_equal(errno, EINVAL);
	assert_null(sym__open_file(s, getpid(), &m));
	assert_int_equal(errno, ENOENT);
	m.path = "[vdso]";
	assert_null(sym__open_file(s, getpid(), &m));
	assert_int_equal(errno, ENOENT);
	m.path = "/no/such/file";
	assert_null(sym__open_file(s, getpid(), &m));
	assert_int_equal(errno, ENOENT);
	/* A process that is gone. */
	pid = fork();
	assert_true(pid >= 0);
	if (!pid)
		_exit(0);
	waitpid(pid, NULL, 0);
	m.path = FIXTURES_DIR "/sym_pie";
	assert_null(sym__open_file(s, pid, &m));
	assert_int_equal(errno, ESRCH);
	sym__stats(s, &st);
	assert_int_equal(st.open_errors, 5);

	sym_file__put(fe);
	sym_file__put(ft);
	sym_file__put(fc);
	sym__free(s);
	unlink(empty);
	unlink(text);
	unlink(cut);
	rmdir(dir);
}

/* One batch names several functions: every name stays valid until the next
 * call, though each was read from the file into the symbolizer's buffer. */
static void test_batch_names(void **state)
{
	static const char *const funcs[] = { "sym_alpha", "sym_beta", "sym_gamma", "main" };
	const char *pie = FIXTURES_DIR "/sym_pie";
	struct sym *s = new_sym(0, NULL);
	struct sym_test_func fn;
	struct sym_result r[8];
	uint64_t offs[8];
	struct sym_file *f;
	size_t i;

	f = open_path(s, pie);
	assert_non_null(f);
	for (i = 0; i < 8; i++) {
		assert_true(sym_test_func(pie, funcs[i % 4], &fn));
		offs[i] = fn.off + i / 4;
	}
	sym__user(s, f, offs, 8, r);
	for (i = 0; i < 8; i++) {
		assert_int_equal(r[i].reason, SYM_OK);
		assert_string_equal(r[i].name, funcs[i % 4]);
		assert_int_equal(r[i].offset, i / 4);
	}
	sym_file__put(f);
	sym__free(s);
}

/* Two copies of a library share one table by build-id; the table reads
 * names through the fd of the copy it was loaded from. That copy cut short
 * under us: the table is loaded again from the other, which names. Both
 * cut: a clean reason, no crash. */
static void test_file_changed(void **state)
{
	char dir[] = "/tmp/ember-sym-XXXXXX", a[256], b[256];
	const char *lib = FIXTURES_DIR "/libsym.so";
	struct sym *s = new_sym(0, NULL);
	struct sym_file *fa, *fb;
	struct sym_test_func fn;
	struct sym_result r;
	struct sym_stats st;

	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/a.so", dir);
	snprintf(b, sizeof(b), "%s/b.so", dir);
	copy_file(lib, a);
	copy_file(lib, b);
	fa = open_path(s, a);
	fb = open_path(s, b);
	assert_non_null(fa);
	assert_non_null(fb);
	assert_ptr_not_equal(fa, fb);
	assert_string_equal(sym_file__build_id(fa), sym_file__build_id(fb));
	expect_name(s, fa, lib, "sym_lib_alpha");
	expect_name(s, fb, lib, "sym_lib_beta");
	sym__stats(s, &st);
	assert_int_equal(st.cache_loads, 1);

	assert_int_equal(truncate(a, 100), 0);
	expect_name(s, fb, lib, "sym_lib_alpha");
	expect_name(s, fa, lib, "sym_lib_beta");
	sym__stats(s, &st);
	assert_int_equal(st.cache_loads, 2);
	assert_int_equal(st.bad_files + st.no_symbols, 0);

	assert_int_equal(truncate(b, 0), 0);
	assert_true(sym_test_func(lib, "sym_lib_alpha", &fn));
	sym__user(s, fb, &fn.off, 1, &r);
	assert_int_equal(r.reason, SYM_NOT_ELF);
	assert_null(r.name);
	sym__stats(s, &st);
	assert_int_equal(st.cache_loads, 3);
	assert_int_equal(st.bad_files, 1);
	assert_int_equal(st.cache_bytes, 0);

	sym_file__put(fa);
	sym_file__put(fb);
	sym__free(s);
	unlink(a);
	unlink(b);
	rmdir(dir);
}

static void *put_thread(void *arg)
{
	sym_file__put(arg);
	return NULL;
}

/* The agent may drop its last references after the symbolizer, or from
 * another thread. */
static void test_outlive(void **state)
{
	struct sym *s = new_sym(0, NULL);
	struct sym_file *a = open_path(s, FIXTURES_DIR "/sym_pie");
	struct sym_file *b = open_path(s, FIXTURES_DIR "/libsym.so");
	pthread_t th;

	assert_non_null(a);
	assert_non_null(b);
	sym__free(s);
	assert_string_equal(sym_file__path(a), FIXTURES_DIR "/sym_pie");
	assert_int_equal(pthread_create(&th, NULL, put_thread, a), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	sym_file__put(b);
}

/* A file no process uses any more keeps its table for a grace period, so
 * the same binary run again is named without loading it anew; a deleted one
 * loses its table (and the fds that pin it) at the next release. */
static void test_release_grace(void **state)
{
	struct sym *s = new_sym(0, NULL);
	struct sym_stats st;
	struct sym_file *f;
	char path[512];

	snprintf(path, sizeof(path), FIXTURES_DIR "/sym_pie.grace.%d", getpid());
	copy_file(FIXTURES_DIR "/sym_pie", path);
	f = open_path(s, path);
	assert_non_null(f);
	expect_name(s, f, path, "sym_alpha");
	sym_file__put(f);
	sym__release_unused(s);
	sym__stats(s, &st);
	assert_int_equal(st.cache_loads, 1);
	assert_true(st.cache_bytes > 0);

	/* Run again within the grace: the table is still there. */
	f = open_path(s, path);
	assert_non_null(f);
	expect_name(s, f, path, "sym_beta");
	sym__stats(s, &st);
	assert_int_equal(st.cache_loads, 1);
	sym_file__put(f);
	sym__release_unused(s);

	/* Deleted: gone at the next release, whatever the grace. */
	assert_int_equal(unlink(path), 0);
	sym__release_unused(s);
	sym__stats(s, &st);
	assert_int_equal(st.cache_bytes, 0);
	sym__free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_and_share),
		cmocka_unit_test(test_debug_file), cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_live_process),   cmocka_unit_test(test_deleted),
		cmocka_unit_test(test_release_grace),
		cmocka_unit_test(test_replaced),       cmocka_unit_test(test_vdso),
		cmocka_unit_test(test_kernel),	       cmocka_unit_test(test_cache_eviction),
		cmocka_unit_test(test_bad_inputs),     cmocka_unit_test(test_outlive),
		cmocka_unit_test(test_batch_names),    cmocka_unit_test(test_file_changed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
