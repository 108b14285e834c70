// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_proc.c - process table on a canned /proc tree: identity, cgroup and
 * unit, and normalization of user addresses into (file, file offset) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fake_proc.h"
#include "mapstore.h"

static void test_identity(void **state)
{
	struct fake *fk = *state;
	struct proc *p = proc_table__get(fk->t, PID, "from-sample", 1);
	struct proc_stats st;

	assert_non_null(p);
	assert_int_equal(proc__pid(p), PID);
	assert_string_equal(proc__comm(p), "fakeproc");
	/* " (deleted)" is how the kernel marks a replaced binary; it is not the name. */
	assert_string_equal(proc__exe(p), FIXTURES_DIR "/sym_pie");
	assert_string_equal(proc__cgroup(p), "/system.slice/web.service/worker.scope");
	assert_string_equal(proc__unit(p), "web.service");
	/* A second lookup is the same entry, not a new process. */
	assert_ptr_equal(proc_table__get(fk->t, PID, "x", 2), p);
	proc_table__stats(fk->t, &st);
	assert_int_equal(st.procs_seen, 1);
	assert_int_equal(st.procs_live, 1);
}

static void test_normalize(void **state)
{
	struct fake *fk = *state;
	struct proc *p = proc_table__get(fk->t, PID, "x", 1);
	/* As ingest hands them over: return addresses already stepped back. */
	const uint64_t addrs[] = { 0x555555554100, 0x555555554200, 0x7ffff7fc1010, 0x7ffff0000010,
				   0x100 };
	struct proc_frame f[5];

	proc__normalize(fk->t, p, addrs, 5, f, 1);
	/* Leaf: exact address; offset = addr - start + pgoff. */
	assert_int_equal(f[0].kind, REPORT_FRAME_USER);
	assert_non_null(f[0].file);
	assert_int_equal(f[0].addr, 0x1100);
	assert_int_equal(f[1].kind, REPORT_FRAME_USER);
	assert_int_equal(f[1].addr, 0x1200);
	assert_ptr_equal(f[1].file, f[0].file);
	assert_string_equal(sym_file__path(f[0].file), FIXTURES_DIR "/sym_pie");
	assert_int_equal(f[2].kind, REPORT_FRAME_VDSO);
	assert_int_equal(f[2].addr, 0x10);
	assert_int_equal(f[3].kind, REPORT_FRAME_ANON);
	assert_int_equal(f[3].addr, 0x7ffff0000010);
	assert_int_equal(f[4].kind, REPORT_FRAME_ANON);
}

/* An address in a mapping that is not executable is no code address: it
 * stays unnamed, and its file is never opened. */
static void test_data_mapping_not_opened(void **state)
{
	struct fake *fk = *state;
	struct proc *p;
	const uint64_t addr = 0x600000000100;
	struct proc_frame f;
	struct sym_stats st;
	char maps[1024];

	snprintf(maps, sizeof(maps),
		 "555555554000-555555556000 r-xp 00001000 08:01 1234 %s/sym_pie\n"
		 "600000000000-600000002000 r--p 00000000 08:01 99 %s/libsym.so\n",
		 FIXTURES_DIR, FIXTURES_DIR);
	fake_write_file(fk->root, "maps", maps);
	p = proc_table__get(fk->t, PID, "x", 1);
	proc__normalize(fk->t, p, &addr, 1, &f, 1);
	assert_int_equal(f.kind, REPORT_FRAME_ANON);
	assert_null(f.file);
	sym__stats(fk->sym, &st);
	assert_int_equal(st.files_open, 0);
}

static void test_maps_reread_on_miss(void **state)
{
	struct fake *fk = *state;
	struct proc *p = proc_table__get(fk->t, PID, "x", 1);
	const uint64_t addr = 0x600000001000;
	struct proc_frame f;
	char maps[1024];

	proc__normalize(fk->t, p, &addr, 1, &f, 1);
	assert_int_equal(f.kind, REPORT_FRAME_ANON);
	/* A library appears (dlopen); the miss re-reads maps, at most once a second. */
	snprintf(maps, sizeof(maps),
		 "555555554000-555555556000 r-xp 00001000 08:01 1234 %s/sym_pie\n"
		 "600000000000-600000002000 r-xp 00000000 08:01 99 %s/libsym.so\n",
		 FIXTURES_DIR, FIXTURES_DIR);
	fake_write_file(fk->root, "maps", maps);
	proc__normalize(fk->t, p, &addr, 1, &f, 500000000ull);
	assert_int_equal(f.kind, REPORT_FRAME_ANON);
	proc__normalize(fk->t, p, &addr, 1, &f, 1000000001ull);
	assert_int_equal(f.kind, REPORT_FRAME_USER);
	assert_int_equal(f.addr, 0x1000);
	assert_string_equal(sym_file__path(f.file), FIXTURES_DIR "/libsym.so");
}

/* A miss late in a stack re-reads maps; files the earlier frames of the same
 * stack borrowed must outlive that, even when their mapping is gone. */
static void test_reread_keeps_borrowed_files(void **state)
{
	struct fake *fk = *state;
	struct proc *p = proc_table__get(fk->t, PID, "x", 1);
	const uint64_t addrs[] = { 0x555555554100, 0x600000001001 };
	struct proc_frame f[2];
	char maps[512];

	snprintf(maps, sizeof(maps),
		 "600000000000-600000002000 r-xp 00000000 08:01 99 %s/libsym.so\n", FIXTURES_DIR);
	fake_write_file(fk->root, "maps", maps);
	proc__normalize(fk->t, p, addrs, 2, f, 2000000000ull);
	assert_int_equal(f[0].kind, REPORT_FRAME_USER);
	assert_int_equal(f[1].kind, REPORT_FRAME_USER);
	/* Under ASan this read is a use-after-free if the old maps were freed. */
	assert_string_equal(sym_file__path(f[0].file), FIXTURES_DIR "/sym_pie");
	assert_string_equal(sym_file__path(f[1].file), FIXTURES_DIR "/libsym.so");
}

/* Records arriving while one stack is normalized: each miss of a process
 * known from mmap records may find a new version of its maps. However many
 * misses a stack has, the files its earlier frames borrowed must stay alive
 * until the caller took its references (the soak found them freed, and the
 * heap corrupted, when two misses each re-read the maps). */
struct refill_ctx {
	struct mapstore *ms;
	uint64_t next;
};

static void refill_one(void *arg)
{
	struct refill_ctx *c = arg;
	struct sym_map m = { .start = 0x700000000000 + c->next * 0x1000,
			     .end = 0x700000001000 + c->next * 0x1000,
			     .path = "/nonexistent/lib" };

	/* One more mapping each drain: the maps' version moves every time. */
	mapstore__mmap(c->ms, 777, 30 + c->next++, &m);
}

static void test_store_rereads_keep_borrowed_files(void **state)
{
	struct fake *fk = *state;
	struct mapstore *ms = mapstore__new();
	struct refill_ctx ctx = { .ms = ms };
	struct sym_map x = { .start = 0x555555554000, .end = 0x555555556000, .pgoff = 0x1000,
			     .prot = SYM_PROT_READ | SYM_PROT_EXEC, .path = FIXTURES_DIR "/sym_pie" };
	const uint64_t addrs[] = { 0x555555554100, 0x610000000000, 0x620000000000,
				   0x630000000000 };
	struct proc_frame f[4];
	struct sym_stats st;
	struct proc *p;

	assert_non_null(ms);
	assert_int_equal(mapstore__exec(ms, 777, 10), 0);
	assert_int_equal(mapstore__mmap(ms, 777, 20, &x), 0);
	proc_table__set_store(fk->t, ms);
	proc_table__set_event_time(fk->t, 100);
	/* Pid 777 is not in the fake /proc: its maps come from the records. */
	p = proc_table__get(fk->t, 777, "gone", 1);
	assert_non_null(p);
	mapstore__set_refill(ms, refill_one, &ctx);
	proc__normalize(fk->t, p, addrs, 4, f, 1);
	assert_int_equal(f[0].kind, REPORT_FRAME_USER);
	assert_non_null(f[0].file);
	/* Alive: the file object is still counted, its path still readable
	 * (under ASan a freed one is a use-after-free here). */
	sym__stats(fk->sym, &st);
	assert_true(st.files_open >= 1);
	assert_string_equal(sym_file__path(f[0].file), FIXTURES_DIR "/sym_pie");
	proc_table__forget(fk->t, 777);
	proc_table__set_store(fk->t, NULL);
	mapstore__free(ms);
}

static void test_forget_and_sweep(void **state)
{
	struct fake *fk = *state;
	struct proc_stats st;
	struct proc *p;

	p = proc_table__get(fk->t, PID, "x", 1);
	assert_non_null(p);
	proc_table__forget(fk->t, PID);
	proc_table__stats(fk->t, &st);
	assert_int_equal(st.procs_live, 0);
	/* A pid that no longer exists under proc_root is swept once unseen. */
	assert_non_null(proc_table__get(fk->t, 999999, "ghost", 5));
	proc_table__sweep(fk->t, 4);
	proc_table__stats(fk->t, &st);
	assert_int_equal(st.procs_live, 1);
	proc_table__sweep(fk->t, 6);
	proc_table__stats(fk->t, &st);
	assert_int_equal(st.procs_live, 0);
	assert_int_equal(st.procs_seen, 2);
}

static void test_parse_cgroup(void **state)
{
	char path[64], unit[32];
	const char *v1only = "3:cpu:/a\n2:memory:/b\n";
	const char *nested = "0::/kubepods.slice/a.service/b.service/c\n";
	const char *noservice = "0::/user.slice/user-0.slice/session-1.scope\n";
	const char *huge =
		"0::/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"/x.service\n";

	assert_int_equal(
		proc_parse_cgroup(v1only, strlen(v1only), path, sizeof(path), unit, sizeof(unit)),
		-ENOENT);
	assert_int_equal(
		proc_parse_cgroup(nested, strlen(nested), path, sizeof(path), unit, sizeof(unit)),
		0);
	assert_string_equal(unit, "b.service");
	assert_int_equal(proc_parse_cgroup(noservice, strlen(noservice), path, sizeof(path), unit,
					   sizeof(unit)),
			 0);
	assert_string_equal(unit, "");
	assert_string_equal(path, "/user.slice/user-0.slice/session-1.scope");
	/* Too long for the buffer: cut, terminated, never overrun. */
	assert_int_equal(
		proc_parse_cgroup(huge, strlen(huge), path, sizeof(path), unit, sizeof(unit)), 0);
	assert_int_equal(strlen(path), sizeof(path) - 1);
	assert_string_equal(unit, "x.service");
	assert_int_equal(proc_parse_cgroup("0::", 3, path, sizeof(path), unit, sizeof(unit)), 0);
	assert_string_equal(path, "");
}

/* starttime is field 22, counted after the comm, which may hold anything. */
static void test_parse_stat_start(void **state)
{
	static const char ok[] =
		"4242 (we ird) (x) S 1 4242 4242 0 -1 4194560 1 0 0 0 3 4 0 0 20 0 "
		"1 0 987654321 1000 100 18446744073709551615";
	static const char short_line[] = "4242 (x) S 1 4242";
	uint64_t start = 7;

	assert_int_equal(proc_parse_stat_start(ok, sizeof(ok) - 1, &start), 0);
	assert_int_equal(start, 987654321);
	start = 7;
	assert_int_equal(proc_parse_stat_start(short_line, sizeof(short_line) - 1, &start),
			 -EINVAL);
	assert_int_equal(proc_parse_stat_start("no paren", 8, &start), -EINVAL);
	assert_int_equal(start, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_stat_start),
		cmocka_unit_test_setup_teardown(test_identity, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_normalize, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_data_mapping_not_opened, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_maps_reread_on_miss, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_reread_keeps_borrowed_files, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_store_rereads_keep_borrowed_files, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_forget_and_sweep, fake_setup, fake_teardown),
		cmocka_unit_test(test_parse_cgroup),
	};

	return cmocka_run_group_tests_name("proc", tests, NULL, NULL);
}
