// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_sym_maps.c - /proc/PID/maps parser on canned and generated inputs:
 * normal, paths with spaces, deleted, huge lines, garbage, truncated, bounds,
 * streaming reads, and a vanished process */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sym_maps.h"

#include "sym_test_elf.h"

#define PROC_DIR TESTS_DIR "/fixtures/proc"

static struct sym_maps *parse_file(const char *name)
{
	struct sym_maps *m;
	size_t len;
	char path[512], *text;

	snprintf(path, sizeof(path), PROC_DIR "/%s", name);
	text = sym_test_read_file(path, &len);

	m = sym_maps__parse(text, len);
	free(text);
	assert_non_null(m);
	return m;
}

static void check_normal(const struct sym_maps *m)
{
	const struct sym_map *e;

	assert_int_equal(sym_maps__count(m), 25);
	assert_int_equal(sym_maps__bad_lines(m), 0);
	e = sym_maps__at(m, 1);
	assert_int_equal(e->start, 0x55dd52d8e000);
	assert_int_equal(e->end, 0x55dd52d93000);
	assert_int_equal(e->pgoff, 0x2000);
	assert_int_equal(e->dev_major, 0xfe);
	assert_int_equal(e->dev_minor, 0);
	assert_int_equal(e->ino, 247134);
	assert_int_equal(e->prot, SYM_PROT_READ | SYM_PROT_EXEC | SYM_PROT_PRIVATE);
	assert_false(e->deleted);
	assert_string_equal(e->path, "/usr/bin/cat");
	/* Mappings of one file share one copy of its path. */
	assert_ptr_equal(sym_maps__at(m, 0)->path, e->path);
	/* Anonymous memory (the kernel pads such lines with a space). */
	assert_null(sym_maps__at(m, 6)->path);
	assert_string_equal(sym_maps__at(m, 5)->path, "[heap]");
	assert_int_equal(sym_maps__at(m, 14)->prot, SYM_PROT_READ);
	assert_null(sym_maps__at(m, 25));
}

static void test_normal(void **state)
{
	struct sym_maps *m = parse_file("maps_normal.txt");
	const struct sym_map *e;

	check_normal(m);
	e = sym_maps__find(m, 0x7fdc9ebb2000 + 0x1234);
	assert_non_null(e);
	assert_string_equal(e->path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	assert_int_equal(e->pgoff, 0x26000);
	e = sym_maps__find(m, 0x7fdc9ed81000);
	assert_non_null(e);
	assert_string_equal(e->path, "[vdso]");
	/* end is exclusive; gaps and the space before the first map are empty. */
	assert_ptr_equal(sym_maps__find(m, 0x55dd52d8e000 - 1), sym_maps__at(m, 0));
	assert_ptr_equal(sym_maps__find(m, 0x55dd52d98000 - 1), sym_maps__at(m, 4));
	assert_null(sym_maps__find(m, 0x55dd52d98000));
	assert_null(sym_maps__find(m, 0x1000));
	assert_non_null(sym_maps__find(m, 0xffffffffff600fff));
	assert_null(sym_maps__find(m, 0xffffffffff601000));
	sym_maps__free(m);
}

static void test_spaces_and_deleted(void **state)
{
	struct sym_maps *m = parse_file("maps_spaces_deleted.txt");
	const struct sym_map *e;

	assert_int_equal(sym_maps__count(m), 11);
	assert_int_equal(sym_maps__bad_lines(m), 0);
	assert_string_equal(sym_maps__at(m, 0)->path, "/opt/my app/bin/my server");
	assert_false(sym_maps__at(m, 0)->deleted);
	e = sym_maps__at(m, 2);
	assert_string_equal(e->path, "/usr/lib/libold.so.1");
	assert_true(e->deleted);
	assert_ptr_equal(sym_maps__at(m, 3)->path, e->path);
	assert_string_equal(sym_maps__at(m, 4)->path, "/memfd:jit-code");
	assert_true(sym_maps__at(m, 4)->deleted);
	assert_string_equal(sym_maps__at(m, 5)->path, "anon_inode:[perf_event]");
	assert_int_equal(sym_maps__at(m, 5)->prot, SYM_PROT_READ | SYM_PROT_WRITE);
	assert_string_equal(sym_maps__at(m, 6)->path, "/tmp/trailing space ");
	/* Only the last suffix is the kernel's; the rest is the file's name. */
	assert_string_equal(sym_maps__at(m, 7)->path, "/tmp/a (deleted)");
	assert_true(sym_maps__at(m, 7)->deleted);
	assert_string_equal(sym_maps__at(m, 8)->path, "/tmp/just (deleted)x");
	assert_false(sym_maps__at(m, 8)->deleted);
	assert_string_equal(sym_maps__at(m, 9)->path, "[anon:my arena]");
	assert_int_equal(sym_maps__at(m, 10)->dev_major, 0x103);
	assert_int_equal(sym_maps__at(m, 10)->dev_minor, 5);
	sym_maps__free(m);
}

static void test_garbage(void **state)
{
	struct sym_maps *m = parse_file("maps_garbage.txt");

	assert_int_equal(sym_maps__count(m), 2);
	assert_int_equal(sym_maps__bad_lines(m), 11);
	assert_string_equal(sym_maps__at(m, 0)->path, "/usr/bin/cat");
	assert_string_equal(sym_maps__at(m, 1)->path, "[vdso]");
	sym_maps__free(m);
}

static void test_truncated(void **state)
{
	struct sym_maps *m = parse_file("maps_truncated.txt");

	/* A line cut mid-field is bad; the complete one before it stands. */
	assert_int_equal(sym_maps__count(m), 1);
	assert_int_equal(sym_maps__bad_lines(m), 1);
	sym_maps__free(m);
	m = parse_file("maps_no_newline.txt");
	assert_int_equal(sym_maps__count(m), 2);
	assert_int_equal(sym_maps__bad_lines(m), 0);
	assert_string_equal(sym_maps__at(m, 1)->path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	sym_maps__free(m);
}

static void test_unsorted(void **state)
{
	struct sym_maps *m = parse_file("maps_unsorted.txt");

	assert_int_equal(sym_maps__count(m), 3);
	assert_string_equal(sym_maps__at(m, 0)->path, "/usr/bin/cat");
	assert_string_equal(sym_maps__at(m, 2)->path, "[vdso]");
	assert_string_equal(sym_maps__find(m, 0x7fdc9ebb2001)->path,
			    "/usr/lib/x86_64-linux-gnu/libc.so.6");
	sym_maps__free(m);
}

/* Overlaps never come from the kernel; keeping them would make find() guess. */
static void test_overlap(void **state)
{
	static const char text[] = "1000-5000 r-xp 0 0:0 1 /a\n"
				   "2000-3000 r-xp 0 0:0 2 /inside\n"
				   "4fff-6000 r-xp 0 0:0 3 /straddle\n"
				   "5000-6000 r-xp 0 0:0 4 /b\n";
	struct sym_maps *m = sym_maps__parse(text, sizeof(text) - 1);

	assert_non_null(m);
	assert_int_equal(sym_maps__count(m), 2);
	assert_int_equal(sym_maps__bad_lines(m), 2);
	assert_string_equal(sym_maps__find(m, 0x4fff)->path, "/a");
	assert_string_equal(sym_maps__find(m, 0x5000)->path, "/b");
	sym_maps__free(m);
}

static void test_empty_and_nothing(void **state)
{
	static const char junk[] = "junk\n\n\x01\x02\xff\n";
	static const char nul[] = "1000-2000 r-xp 0 0:0 1 /a\0b\n3000-4000 r-xp 0 0:0 1 /c\n";
	struct sym_maps *m;

	m = sym_maps__parse("", 0);
	assert_non_null(m);
	assert_int_equal(sym_maps__count(m), 0);
	assert_null(sym_maps__find(m, 0x1000));
	sym_maps__free(m);
	errno = 0;
	assert_null(sym_maps__parse(junk, sizeof(junk) - 1));
	assert_int_equal(errno, EINVAL);
	/* NUL bytes inside a path are not a C string's end. */
	m = sym_maps__parse(nul, sizeof(nul) - 1);
	assert_non_null(m);
	assert_int_equal(sym_maps__count(m), 1);
	assert_int_equal(sym_maps__bad_lines(m), 1);
	assert_string_equal(sym_maps__at(m, 0)->path, "/c");
	sym_maps__free(m);
	sym_maps__free(NULL);
}

static char *make_path_line(char *p, size_t path_len, char fill)
{
	p += sprintf(p, "10000-20000 r-xp 00000000 08:01 42 /");
	memset(p, fill, path_len - 1);
	p += path_len - 1;
	*p++ = '\n';
	return p;
}

static void test_huge_lines(void **state)
{
	size_t junk = 1 << 20;
	char *text = malloc(junk + 3 * 6000), *p = text;
	struct sym_maps *m;

	assert_non_null(text);
	p = make_path_line(p, SYM_MAPS_MAX_PATH - 1, 'a'); /* the longest accepted */
	p = make_path_line(p, SYM_MAPS_MAX_PATH, 'b'); /* one too long */
	memset(p, 'x', junk); /* 1 MiB without a newline */
	p += junk;
	*p++ = '\n';
	p += sprintf(p, "30000-40000 r-xp 00000000 08:01 43 /after\n");
	m = sym_maps__parse(text, p - text);
	assert_non_null(m);
	assert_int_equal(sym_maps__count(m), 2);
	assert_int_equal(sym_maps__bad_lines(m), 2);
	assert_int_equal(strlen(sym_maps__at(m, 0)->path), SYM_MAPS_MAX_PATH - 1);
	assert_string_equal(sym_maps__at(m, 1)->path, "/after");
	sym_maps__free(m);
	free(text);
}

static void test_entry_bound(void **state)
{
	size_t n = SYM_MAPS_MAX_ENTRIES + 10, i;
	char *text = malloc(n * 64), *p = text;
	struct sym_maps *m;

	assert_non_null(text);
	for (i = 0; i < n; i++)
		p += sprintf(p, "%zx-%zx r-xp 0 0:0 0\n", (i + 1) << 12, (i + 2) << 12);
	m = sym_maps__parse(text, p - text);
	assert_non_null(m);
	assert_int_equal(sym_maps__count(m), SYM_MAPS_MAX_ENTRIES);
	assert_true(sym_maps__bad_lines(m) >= 1);
	/* What the cap left out is counted apart from bad lines. */
	assert_int_equal(sym_maps__over_cap(m), 10);
	sym_maps__free(m);
	free(text);
}

static void test_read_canned(void **state)
{
	struct sym_maps *m = sym_maps__read(PROC_DIR, 4242);

	assert_non_null(m);
	check_normal(m);
	sym_maps__free(m);
	errno = 0;
	assert_null(sym_maps__read(PROC_DIR, 4243));
	assert_int_equal(errno, ESRCH);
}

/* Lines split across the reader's 64 KiB chunks come out the same. */
static void test_read_streaming(void **state)
{
	char dir[] = "/tmp/ember-maps-XXXXXX", path[256], *text, *p;
	struct sym_maps *a, *b;
	size_t i, n = 4000;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/77", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	text = malloc(n * 200);
	assert_non_null(text);
	p = text;
	for (i = 0; i < n; i++)
		p += sprintf(p, "%zx-%zx r-xp %08zx fd:01 %zu %*s/lib%zu.so\n", (i + 1) << 16,
			     ((i + 1) << 16) + 0x1000, i * 0x1000, i, (int)(i % 97), "", i);
	snprintf(path, sizeof(path), "%s/77/maps", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(text, 1, p - text, f);
	fclose(f);
	a = sym_maps__parse(text, p - text);
	b = sym_maps__read(dir, 77);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(sym_maps__count(a), n);
	assert_int_equal(sym_maps__count(b), n);
	assert_int_equal(sym_maps__bad_lines(b), 0);
	for (i = 0; i < n; i++) {
		const struct sym_map *x = sym_maps__at(a, i), *y = sym_maps__at(b, i);

		assert_int_equal(x->start, y->start);
		assert_int_equal(x->pgoff, y->pgoff);
		assert_int_equal(x->ino, y->ino);
		assert_string_equal(x->path, y->path);
	}
	sym_maps__free(a);
	sym_maps__free(b);
	free(text);
	unlink(path);
	snprintf(path, sizeof(path), "%s/77", dir);
	rmdir(path);
	rmdir(dir);
}

static void test_read_self(void **state)
{
	struct sym_maps *m = sym_maps__read("/proc", getpid());
	const struct sym_map *e;

	assert_non_null(m);
	e = sym_maps__find(m, (uint64_t)(uintptr_t)test_read_self);
	assert_non_null(e);
	assert_non_null(e->path);
	assert_non_null(strstr(e->path, "test_sym_maps"));
	assert_true(e->prot & SYM_PROT_EXEC);
	sym_maps__free(m);
}

static void test_read_vanished(void **state)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (!pid)
		_exit(0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	errno = 0;
	assert_null(sym_maps__read("/proc", pid));
	assert_int_equal(errno, ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal),
		cmocka_unit_test(test_spaces_and_deleted),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_unsorted),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_empty_and_nothing),
		cmocka_unit_test(test_huge_lines),
		cmocka_unit_test(test_entry_bound),
		cmocka_unit_test(test_read_canned),
		cmocka_unit_test(test_read_streaming),
		cmocka_unit_test(test_read_self),
		cmocka_unit_test(test_read_vanished),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
