// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_unwind_store.c - the unwind table store on real BPF maps (root):
 * the maps are made here as the BPF object declares them (an ARRAY_OF_MAPS
 * with a BPF_F_INNER_MAP template, an ARRAY of prof_unwind_file). A file is
 * compiled off the caller's thread and loaded by poll, with exactly the
 * compiler's rows; one file acquired twice is compiled and loaded once;
 * eviction under a tiny cap takes the unheld least recently used first, a
 * held file only when nothing else frees room, and bumps the slot's gen; a
 * table larger than the cap, an unreadable file, a file without CFI and a
 * path that now names another file are counted; free unloads everything. */
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "profiler.h"
#include "unwind_store.h"
#include "unwind_table.h"

#define FIX(name) FIXTURES_DIR "/" name
#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"

struct maps {
	int tables, files, tmpl;
};

static int setup(void **state)
{
	LIBBPF_OPTS(bpf_map_create_opts, iopts, .map_flags = BPF_F_INNER_MAP);
	struct maps *m;

	if (geteuid() != 0) {
		print_message("not root: the store tests need BPF maps\n");
		return 0;
	}
	m = calloc(1, sizeof(*m));
	assert_non_null(m);
	m->tmpl = bpf_map_create(BPF_MAP_TYPE_ARRAY, "unwind_tmpl", 4,
				 sizeof(struct prof_unwind_row), 1, &iopts);
	assert_true(m->tmpl >= 0);
	LIBBPF_OPTS(bpf_map_create_opts, oopts, .inner_map_fd = (__u32)m->tmpl);
	m->tables = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "unwind_tables", 4, 4,
				   PROF_UNWIND_MAX_FILES, &oopts);
	assert_true(m->tables >= 0);
	m->files = bpf_map_create(BPF_MAP_TYPE_ARRAY, "unwind_files", 4,
				  sizeof(struct prof_unwind_file), PROF_UNWIND_MAX_FILES, NULL);
	assert_true(m->files >= 0);
	*state = m;
	return 0;
}

static int teardown(void **state)
{
	struct maps *m = *state;

	if (m) {
		close(m->tables);
		close(m->files);
		close(m->tmpl);
		free(m);
	}
	*state = NULL;
	return 0;
}

static struct maps *maps_or_skip(void **state)
{
	if (!*state)
		skip();
	return *state;
}

static void key_of(const char *path, struct unwind_file_key *k)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	unwind_file_key_from_stat(&st, k);
}

static void acquire(struct unwind_store *s, const char *path, struct unwind_ref *ref)
{
	struct unwind_file_key k;

	key_of(path, &k);
	assert_int_equal(unwind_store_acquire(s, &k, path, ref), 0);
}

static struct prof_unwind_file file_entry(const struct maps *m, uint32_t slot)
{
	struct prof_unwind_file pf;

	assert_int_equal(bpf_map_lookup_elem(m->files, &slot, &pf), 0);
	return pf;
}

/* The inner map at slot, or -1 when the slot is empty. */
static int inner_fd(const struct maps *m, uint32_t slot)
{
	__u32 id;

	if (bpf_map_lookup_elem(m->tables, &slot, &id))
		return -1;
	return bpf_map_get_fd_by_id(id);
}

static long fdinfo_memlock(int fd)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* The slot holds exactly the compiler's rows for path. */
static void assert_loaded(const struct maps *m, const struct unwind_ref *ref, const char *path)
{
	struct unwind_table t;
	struct unwind_table_stats st;
	struct prof_unwind_file pf;
	size_t i;
	int fd;

	assert_int_not_equal(ref->slot, PROF_UNWIND_NO_TABLE);
	assert_int_equal(unwind_table_compile(path, NULL, 0, &t, &st), 0);
	pf = file_entry(m, ref->slot);
	assert_int_equal(pf.rows, t.nr);
	assert_int_equal(pf.gen, ref->gen);
	fd = inner_fd(m, ref->slot);
	assert_true(fd >= 0);
	for (i = 0; i < t.nr; i++) {
		struct prof_unwind_row r;
		__u32 k = (__u32)i;

		assert_int_equal(bpf_map_lookup_elem(fd, &k, &r), 0);
		assert_memory_equal(&r, &t.rows[i], sizeof(r));
	}
	close(fd);
	unwind_table_free(&t);
}

static void test_load_after_poll(void **state)
{
	struct maps *m = maps_or_skip(state);
	struct unwind_store *s = unwind_store_new(m->tables, m->files, 16 << 20);
	struct unwind_store_stats st;
	struct unwind_ref ref;
	uint64_t seq;

	assert_non_null(s);
	seq = unwind_store_ready_seq(s);
	acquire(s, FIX("libcfi_asm.so"), &ref);
	/* not compiled yet: the walker uses frame pointers meanwhile */
	assert_int_equal(ref.slot, PROF_UNWIND_NO_TABLE);
	unwind_store_stats(s, &st);
	assert_int_equal(st.pending, 1);
	assert_false(unwind_store_refresh(s, &ref));

	assert_true(unwind_store_drain(s, 10000));
	assert_int_equal(unwind_store_ready_seq(s), seq + 1);
	assert_true(unwind_store_refresh(s, &ref));
	assert_int_equal(ref.gen, 1);
	assert_loaded(m, &ref, FIX("libcfi_asm.so"));
	assert_false(unwind_store_refresh(s, &ref));

	unwind_store_stats(s, &st);
	assert_int_equal(st.tables_loaded, 1);
	assert_int_equal(st.table_rows, 18);
	assert_int_equal(st.table_bytes, unwind_store_table_bytes(18));
	assert_int_equal(st.compiles, 1);
	assert_int_equal(st.pending, 0);

	/* a second holder gets the slot at once, with no compile */
	{
		struct unwind_ref ref2;

		acquire(s, FIX("libcfi_asm.so"), &ref2);
		assert_int_equal(ref2.slot, ref.slot);
		assert_int_equal(ref2.gen, ref.gen);
		unwind_store_release(s, &ref2);
		assert_null(ref2.file);
		unwind_store_release(s, &ref2); /* a cleared ref: nothing */
	}
	unwind_store_release(s, &ref);
	unwind_store_stats(s, &st);
	assert_int_equal(st.compiles, 1);
	/* released, still cached */
	assert_int_equal(st.tables_loaded, 1);

	unwind_store_free(s);
	/* free unloads: the slot is empty for the walker */
	assert_int_equal(file_entry(m, 0).rows, 0);
	assert_int_equal(inner_fd(m, 0), -1);
}

/* One file through two paths before the compile finished: one compile,
 * one table. */
static void test_shared_once(void **state)
{
	struct maps *m = maps_or_skip(state);
	struct unwind_store *s = unwind_store_new(m->tables, m->files, 16 << 20);
	struct unwind_store_stats st;
	struct unwind_ref a, b;
	char other[512];

	assert_non_null(s);
	snprintf(other, sizeof(other), "/proc/self/root%s", FIX("cfi_nofp"));
	acquire(s, FIX("cfi_nofp"), &a);
	acquire(s, other, &b);
	assert_int_equal(unwind_store_preload(s, FIX("cfi_nofp")), 0);
	assert_true(unwind_store_drain(s, 10000));
	unwind_store_stats(s, &st);
	assert_int_equal(st.compiles, 1);
	assert_int_equal(st.tables_loaded, 1);
	assert_int_equal(st.files, 1);
	unwind_store_refresh(s, &a);
	unwind_store_refresh(s, &b);
	assert_int_equal(a.slot, b.slot);
	assert_int_equal(a.gen, b.gen);
	assert_loaded(m, &a, FIX("cfi_nofp"));
	unwind_store_release(s, &a);
	unwind_store_release(s, &b);
	unwind_store_free(s);
}

static void load_one(struct unwind_store *s, const char *path, struct unwind_ref *ref)
{
	acquire(s, path, ref);
	assert_true(unwind_store_drain(s, 10000));
	unwind_store_refresh(s, ref);
}

/* Room for two small tables: the unheld least recently used goes first,
 * then a held one; each eviction empties the slot, the next file in that
 * slot has a new gen. */
static void test_eviction(void **state)
{
	struct maps *m = maps_or_skip(state);
	size_t page = unwind_store_table_bytes(18);
	struct unwind_store *s;
	struct unwind_store_stats st;
	struct unwind_ref a, b, c, d;
	uint32_t slot_a, slot_b;

	/* each fixture's table is one page */
	assert_int_equal(unwind_store_table_bytes(26), page);
	s = unwind_store_new(m->tables, m->files, 2 * page);
	assert_non_null(s);

	load_one(s, FIX("libcfi_asm.so"), &a);
	load_one(s, FIX("cfi_nofp"), &b);
	assert_int_not_equal(a.slot, PROF_UNWIND_NO_TABLE);
	assert_int_not_equal(b.slot, PROF_UNWIND_NO_TABLE);
	slot_a = a.slot;
	slot_b = b.slot;
	unwind_store_release(s, &a); /* a is cached, b is held */

	load_one(s, FIX("cfi_fp"), &c);
	unwind_store_stats(s, &st);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.evictions_held, 0);
	assert_int_equal(st.tables_loaded, 2);
	assert_true(st.table_bytes <= 2 * page);
	/* a's slot went to c, with a new generation */
	assert_int_equal(c.slot, slot_a);
	assert_int_equal(c.gen, 2);
	assert_loaded(m, &c, FIX("cfi_fp"));
	assert_false(unwind_store_refresh(s, &b));

	/* b and c are held: d takes the least recently used of them (b) */
	load_one(s, FIX("libcfi_dbgframe.so"), &d);
	unwind_store_stats(s, &st);
	assert_int_equal(st.evictions, 2);
	assert_int_equal(st.evictions_held, 1);
	assert_int_equal(d.slot, slot_b);
	assert_int_equal(d.gen, 2);
	assert_loaded(m, &d, FIX("libcfi_dbgframe.so"));
	/* b's holder learns it has no table any more */
	assert_true(unwind_store_refresh(s, &b));
	assert_int_equal(b.slot, PROF_UNWIND_NO_TABLE);

	unwind_store_release(s, &b);
	unwind_store_release(s, &c);
	unwind_store_release(s, &d);
	unwind_store_free(s);
}

/* A table bigger than the whole cap is refused and counted; nothing is
 * evicted for it. */
static void test_too_big(void **state)
{
	struct maps *m = maps_or_skip(state);
	struct unwind_store *s =
		unwind_store_new(m->tables, m->files, unwind_store_table_bytes(18));
	struct unwind_store_stats st;
	struct unwind_ref a, big;

	assert_non_null(s);
	load_one(s, FIX("libcfi_asm.so"), &a);
	assert_int_not_equal(a.slot, PROF_UNWIND_NO_TABLE);
	load_one(s, LIBC, &big);
	assert_int_equal(big.slot, PROF_UNWIND_NO_TABLE);
	unwind_store_stats(s, &st);
	assert_int_equal(st.too_big, 1);
	assert_int_equal(st.evictions, 0);
	assert_int_equal(st.tables_loaded, 1);
	assert_false(unwind_store_refresh(s, &a));
	unwind_store_release(s, &a);
	unwind_store_release(s, &big);
	unwind_store_free(s);
}

/* Files that give no table: each counted, none loaded, none retried in a
 * loop. */
static void test_bad_files(void **state)
{
	struct maps *m = maps_or_skip(state);
	struct unwind_store *s = unwind_store_new(m->tables, m->files, 16 << 20);
	struct unwind_store_stats st;
	struct unwind_file_key k;
	struct unwind_ref notelf, nocfi, stale, gone, bad;
	char corrupt[] = "/tmp/ember-unwind-corrupt-XXXXXX";
	int fd;

	assert_non_null(s);
	/* an ELF header and garbage */
	fd = mkstemp(corrupt);
	assert_true(fd >= 0);
	assert_int_equal(
		write(fd, "\177ELF\2\1\1\0garbage-garbage-garbage-garbage-garbage-garbage-garbage",
		      64),
		64);
	close(fd);

	acquire(s, corrupt, &notelf);
	acquire(s, FIX("libcfi_dbgfile.so"), &nocfi);
	/* the key of one file, the path of another (a pid reused) */
	key_of(FIX("libcfi_asm.so"), &k);
	assert_int_equal(unwind_store_acquire(s, &k, FIX("cfi_fp"), &stale), 0);
	/* a path that is gone */
	k.ino ^= 1;
	assert_int_equal(unwind_store_acquire(s, &k, "/nonexistent/lib.so", &gone), 0);
	assert_int_equal(unwind_store_acquire(s, NULL, "/x", &bad), -EINVAL);
	assert_null(bad.file);
	assert_true(unwind_store_drain(s, 10000));

	unwind_store_stats(s, &st);
	assert_int_equal(st.compile_failed, 3);
	assert_int_equal(st.files_no_cfi, 1);
	assert_int_equal(st.tables_loaded, 0);
	assert_int_equal(st.compiles, 4);
	assert_false(unwind_store_refresh(s, &notelf));
	assert_false(unwind_store_refresh(s, &nocfi));
	assert_false(unwind_store_refresh(s, &stale));
	/* acquired again at once: no second compile of any of them */
	unwind_store_release(s, &notelf);
	acquire(s, corrupt, &notelf);
	assert_true(unwind_store_drain(s, 10000));
	unwind_store_stats(s, &st);
	assert_int_equal(st.compiles, 4);

	unwind_store_release(s, &notelf);
	unwind_store_release(s, &nocfi);
	unwind_store_release(s, &stale);
	unwind_store_release(s, &gone);
	unwind_store_free(s);
	unlink(corrupt);
}

/* libc preloaded: its size in the kernel against the store's estimate. */
static void test_preload_libc(void **state)
{
	struct maps *m = maps_or_skip(state);
	struct unwind_store *s = unwind_store_new(m->tables, m->files, 64 << 20);
	struct unwind_store_stats st;
	struct unwind_ref ref;
	long memlock;
	int fd;

	assert_non_null(s);
	assert_int_equal(unwind_store_preload(s, LIBC), 0);
	assert_true(unwind_store_drain(s, 20000));
	unwind_store_stats(s, &st);
	assert_int_equal(st.tables_loaded, 1);
	assert_true(st.table_rows > 10000);
	acquire(s, LIBC, &ref);
	assert_loaded(m, &ref, LIBC);
	fd = inner_fd(m, ref.slot);
	memlock = fdinfo_memlock(fd);
	print_message(
		"libc: %lu rows, store charges %lu bytes, kernel memlock %ld, compile %lu ms\n",
		(unsigned long)st.table_rows, (unsigned long)st.table_bytes, memlock,
		(unsigned long)st.compile_ms_total);
	/* the estimate is the kernel's figure within a page */
	if (memlock > 0)
		assert_true((long)st.table_bytes >= memlock - 4096 &&
			    (long)st.table_bytes <= memlock + 4096);
	close(fd);
	unwind_store_release(s, &ref);
	unwind_store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_after_poll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eviction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preload_libc, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
