// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_sym_elf.c - ELF symbol tables and build-ids on the fixture binaries
 * (PIE, non-PIE, stripped to .dynsym, shared library) against offsets taken
 * from the files themselves; corrupt, truncated, empty and non-ELF inputs */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "sym_elf.h"
#include "sym_test_elf.h"

#define BIG (16u << 20)

static struct sym_elf_table *load(const char *path, size_t max_bytes, int *err)
{
	struct sym_elf_table *t = NULL;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	*err = sym_elf_table__from_fd(fd, max_bytes, &t);
	close(fd);
	return t;
}

/* name at its first byte, in its middle and at its last byte. */
static void check_func(const struct sym_elf_table *t, const char *path, const char *name)
{
	struct sym_test_func fn;
	struct sym_result r;

	assert_true(sym_test_func(path, name, &fn));
	assert_true(fn.size > 2);
	sym_elf_table__lookup(t, fn.off, &r);
	assert_int_equal(r.reason, SYM_OK);
	assert_string_equal(r.name, name);
	assert_int_equal(r.offset, 0);
	sym_elf_table__lookup(t, fn.off + fn.size / 2, &r);
	assert_int_equal(r.reason, SYM_OK);
	assert_string_equal(r.name, name);
	assert_int_equal(r.offset, fn.size / 2);
	sym_elf_table__lookup(t, fn.off + fn.size - 1, &r);
	assert_string_equal(r.name, name);
	assert_null(r.module);
}

static void check_program(const char *file, bool dynsym)
{
	char path[512];
	struct sym_elf_table *t;
	struct sym_result r;
	int err;

	snprintf(path, sizeof(path), FIXTURES_DIR "/%s", file);
	t = load(path, BIG, &err);
	assert_int_equal(err, 0);
	assert_non_null(t);
	assert_int_equal(sym_elf_table__dynsym(t), dynsym);
	check_func(t, path, "sym_alpha");
	check_func(t, path, "sym_beta");
	check_func(t, path, "sym_gamma");
	if (!dynsym)
		check_func(t, path, "main");
	/* The ELF header is mapped but is no function; past the file is nothing. */
	sym_elf_table__lookup(t, 0, &r);
	assert_int_equal(r.reason, SYM_UNKNOWN_ADDR);
	assert_null(r.name);
	sym_elf_table__lookup(t, 1ull << 40, &r);
	assert_int_equal(r.reason, SYM_UNKNOWN_ADDR);
	assert_true(sym_elf_table__count(t) >= 3);
	assert_true(sym_elf_table__bytes(t) < 4096);
	sym_elf_table__free(t);
}

static void test_pie(void **state)
{
	check_program("sym_pie", false);
}

static void test_nopie(void **state)
{
	check_program("sym_nopie", false);
}

static void test_stripped(void **state)
{
	check_program("sym_stripped", true);
}

static void test_shared_lib(void **state)
{
	const char *path = FIXTURES_DIR "/libsym.so";
	struct sym_test_func fn;
	struct sym_elf_table *t;
	struct sym_result r;
	int err;

	t = load(path, BIG, &err);
	assert_int_equal(err, 0);
	check_func(t, path, "sym_lib_alpha");
	check_func(t, path, "sym_lib_beta");
	/* A size-0 symbol covers the bytes up to the next symbol. */
	assert_true(sym_test_func(path, "sym_lib_nosize", &fn));
	assert_int_equal(fn.size, 0);
	sym_elf_table__lookup(t, fn.off + 8, &r);
	assert_int_equal(r.reason, SYM_OK);
	assert_string_equal(r.name, "sym_lib_nosize");
	assert_int_equal(r.offset, 8);
	sym_elf_table__free(t);
}

static void test_build_id(void **state)
{
	static const char *const files[] = { "sym_pie", "sym_nopie", "sym_stripped", "libsym.so" };
	char path[512], want[SYM_ELF_BUILD_ID_HEX], got[SYM_ELF_BUILD_ID_HEX];
	size_t i;
	int fd;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), FIXTURES_DIR "/%s", files[i]);
		assert_true(sym_test_build_id(path, want, sizeof(want)));
		fd = open(path, O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(sym_elf_build_id_fd(fd, got), 0);
		close(fd);
		assert_string_equal(got, want);
		assert_int_equal(strlen(got), 40);
		assert_int_equal(strspn(got, "0123456789abcdef"), 40);
	}
}

static char *read_all(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc(st.st_size);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, st.st_size), st.st_size);
	close(fd);
	*len = st.st_size;
	return buf;
}

static void test_bad_files(void **state)
{
	char dir[] = "/tmp/ember-elf-XXXXXX", path[256], hex[SYM_ELF_BUILD_ID_HEX];
	struct sym_elf_table *t = (struct sym_elf_table *)1;
	int fd;

	assert_non_null(mkdtemp(dir));
	/* empty */
	snprintf(path, sizeof(path), "%s/empty", dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(sym_elf_table__from_fd(fd, BIG, &t), -ENOEXEC);
	assert_null(t);
	assert_int_equal(sym_elf_build_id_fd(fd, hex), -ENOEXEC);
	/* text */
	assert_int_equal(write(fd, "#!/bin/sh\necho hi\n", 18), 18);
	assert_int_equal(sym_elf_table__from_fd(fd, BIG, &t), -ENOEXEC);
	close(fd);
	unlink(path);
	/* a directory */
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(sym_elf_table__from_fd(fd, BIG, &t), -ENOEXEC);
	assert_int_equal(sym_elf_build_id_fd(fd, hex), -ENOEXEC);
	close(fd);
	/* a bad fd */
	assert_int_equal(sym_elf_table__from_fd(-1, BIG, &t), -ENOEXEC);
	/* not executable code: a relocatable object has no segments */
	assert_int_equal(sym_elf_table__from_mem("\x7f" "ELF", 4, BIG, &t), -ENOEXEC);
	assert_int_equal(sym_elf_table__from_mem("", 0, BIG, &t), -ENOEXEC);
	rmdir(dir);
}

/* Every prefix length class of a real binary: never a crash, a clean error
 * or a table whose lookups work. */
static void test_truncated(void **state)
{
	static const size_t cuts[] = { 1, 4, 16, 52, 63, 64, 65, 100, 0x200, 0x400, 0x1000, 0x3000 };
	char hex[SYM_ELF_BUILD_ID_HEX];
	struct sym_elf_table *t;
	struct sym_result r;
	size_t len, i;
	char *img = read_all(FIXTURES_DIR "/sym_pie", &len);
	int err;

	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]) + 2; i++) {
		size_t ncuts = sizeof(cuts) / sizeof(cuts[0]);
		/* then half the file, and all but the last byte */
		size_t cut = i < ncuts ? cuts[i] : i == ncuts ? len / 2 : len - 1;

		assert_true(cut < len);
		err = sym_elf_table__from_mem(img, cut, BIG, &t);
		if (cut < 64)
			assert_int_equal(err, -ENOEXEC);
		assert_true(err == 0 || err == -ENOEXEC || err == -ENODATA);
		if (!err) {
			sym_elf_table__lookup(t, 0x1100, &r);
			sym_elf_table__free(t);
		}
		err = sym_elf_build_id_mem(img, cut, hex);
		assert_true(err == 0 || err == -ENOEXEC || err == -ENODATA);
	}
	free(img);
}

/* Random corruption of the headers and tables, reproducibly seeded. */
static void test_corrupt(void **state)
{
	char hex[SYM_ELF_BUILD_ID_HEX];
	struct sym_elf_table *t;
	struct sym_result r;
	size_t len, i, j, ok = 0;
	char *img = read_all(FIXTURES_DIR "/libsym.so", &len);
	char *bad = malloc(len);
	unsigned int seed = 12345;

	assert_non_null(bad);
	for (i = 0; i < 500; i++) {
		memcpy(bad, img, len);
		for (j = 0; j < 1 + i % 8; j++) {
			/* Half the hits in the first 4 KiB, where headers live. */
			size_t at = rand_r(&seed) % (j % 2 ? len : (len < 4096 ? len : 4096));

			bad[at] = (char)rand_r(&seed);
		}
		if (!sym_elf_table__from_mem(bad, len, BIG, &t)) {
			ok++;
			for (j = 0; j < 64; j++)
				sym_elf_table__lookup(t, rand_r(&seed) % (2 * len), &r);
			sym_elf_table__free(t);
		}
		sym_elf_build_id_mem(bad, len, hex);
	}
	/* Most single-byte hits land where nothing is read. */
	assert_true(ok > 100);
	free(bad);
	free(img);
}

/* The bound holds: a .symtab over it falls back to .dynsym, and nothing
 * usable under it is -E2BIG. */
static void test_bound(void **state)
{
	const char *lib = FIXTURES_DIR "/libsym.so";
	struct sym_elf_table *t;
	size_t full;
	int err;

	t = load(lib, BIG, &err);
	assert_int_equal(err, 0);
	assert_false(sym_elf_table__dynsym(t));
	full = sym_elf_table__bytes(t);
	sym_elf_table__free(t);
	t = load(lib, full - 1, &err);
	assert_int_equal(err, 0);
	assert_true(sym_elf_table__dynsym(t));
	assert_true(sym_elf_table__bytes(t) <= full - 1);
	check_func(t, lib, "sym_lib_alpha");
	sym_elf_table__free(t);
	t = load(lib, 64, &err);
	assert_int_equal(err, -E2BIG);
	assert_null(t);
	t = load(FIXTURES_DIR "/sym_pie", 200, &err);
	assert_int_equal(err, -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pie),	      cmocka_unit_test(test_nopie),
		cmocka_unit_test(test_stripped),      cmocka_unit_test(test_shared_lib),
		cmocka_unit_test(test_build_id),      cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_truncated),     cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
