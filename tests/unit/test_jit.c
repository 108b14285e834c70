// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_jit.c - per-process perf maps read from a fake /proc: incremental
 * reads and when a map is read whole, last-wins, one read per window, maps a
 * reused pid left behind, the memory bounds; /proc/PID/status parsing for
 * the JVM attach (SigCgt, NStgid, Uid/Gid, malformed text) */
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
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "caps.h"
#include "clock.h"
#include "jit.h"
#include "jvm_attach.h"
#include "log.h"

#define PID 4242
#define NSPID 7 /* the process's pid in its own namespace: the map's name */
#define AGE_S 100 /* the fake process started this long ago */

struct fake {
	char dir[64]; /* holds proc/ and the process's root fs/ */
	char proc[96];
	char map[160];
	uint64_t start; /* clock ticks after boot */
	struct jit *j;
};

static void write_at(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void proc_file(struct fake *fk, const char *name, const char *text)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%d/%s", fk->proc, PID, name);
	write_at(path, text);
}

/* /proc/PID/stat with start time start. */
static void set_start(struct fake *fk, uint64_t start)
{
	char stat[256];

	snprintf(stat, sizeof(stat),
		 "%d (fake jit) S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 %llu 0 0\n", PID,
		 (unsigned long long)start);
	proc_file(fk, "stat", stat);
}

/* Another process with the same root: /proc/pid with status (innermost
 * pid nspid) and stat (started with the fake one). */
static void add_proc(struct fake *fk, int pid, int nspid)
{
	char path[160], text[512];

	snprintf(path, sizeof(path), "%s/%d", fk->proc, pid);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%d/root", fk->proc, pid);
	assert_int_equal(symlink("../../fs", path), 0);
	snprintf(text, sizeof(text),
		 "Name:\tp\nUid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\nNStgid:\t%d\t%d\n",
		 getuid(), getuid(), getuid(), getuid(), getgid(), getgid(), getgid(), getgid(),
		 pid, nspid);
	snprintf(path, sizeof(path), "%s/%d/status", fk->proc, pid);
	write_at(path, text);
	snprintf(text, sizeof(text), "%d (p) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %llu 0\n", pid,
		 (unsigned long long)fk->start);
	snprintf(path, sizeof(path), "%s/%d/stat", fk->proc, pid);
	write_at(path, text);
}

static uint64_t max_bytes_opt; /* the next setup's jit_opts.max_bytes */

static int setup(void **state)
{
	struct jit_opts o = { .jvm = false, .max_bytes = max_bytes_opt };

	max_bytes_opt = 0;
	struct fake *fk = calloc(1, sizeof(*fk));
	char path[160], status[512];
	long ticks = sysconf(_SC_CLK_TCK);

	assert_non_null(fk);
	snprintf(fk->dir, sizeof(fk->dir), "/tmp/ember-jit-XXXXXX");
	assert_non_null(mkdtemp(fk->dir));
	snprintf(fk->proc, sizeof(fk->proc), "%s/proc", fk->dir);
	assert_int_equal(mkdir(fk->proc, 0755), 0);
	snprintf(path, sizeof(path), "%s/%d", fk->proc, PID);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/fs", fk->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/fs/tmp", fk->dir);
	assert_int_equal(mkdir(path, 01777), 0);
	/* The process's root: /proc/PID/root is a link to it, as in /proc. */
	snprintf(path, sizeof(path), "%s/%d/root", fk->proc, PID);
	assert_int_equal(symlink("../../fs", path), 0);
	snprintf(fk->map, sizeof(fk->map), "%s/fs/tmp/perf-%d.map", fk->dir, NSPID);
	snprintf(status, sizeof(status),
		 "Name:\tfake\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t%d\nPid:\t%d\n"
		 "Uid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\nNStgid:\t%d\t%d\nNSpid:\t%d\t%d\n",
		 PID, PID, getuid(), getuid(), getuid(), getuid(), getgid(), getgid(), getgid(),
		 getgid(), PID, NSPID, PID, NSPID);
	proc_file(fk, "status", status);
	fk->start = clock_ns(CLOCK_BOOTTIME) / 1000000000ull * ticks - AGE_S * ticks;
	set_start(fk, fk->start);
	o.proc_root = fk->proc;
	fk->j = jit__new(&o);
	assert_non_null(fk->j);
	caps__reset();
	*state = fk;
	return 0;
}

static int teardown(void **state)
{
	struct fake *fk = *state;
	char cmd[128];

	jit__free(fk->j);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fk->dir);
	assert_int_equal(system(cmd), 0);
	free(fk);
	return 0;
}

static void append(struct fake *fk, const char *text)
{
	FILE *f = fopen(fk->map, "a");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* Replaces the map by a new file (another inode), as a JIT that writes a
 * temporary file and renames it does. */
static void replace(struct fake *fk, const char *text)
{
	char tmp[192];

	snprintf(tmp, sizeof(tmp), "%s.new", fk->map);
	write_at(tmp, text);
	assert_int_equal(rename(tmp, fk->map), 0);
}

/* Rewrites the map in place: same inode. */
static void rewrite(struct fake *fk, const char *text)
{
	int fd = open(fk->map, O_WRONLY | O_TRUNC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static const char *name_of(struct fake *fk, uint64_t addr)
{
	struct sym_result r;

	jit__lookup(fk->j, PID, fk->start, addr, &r);
	return r.reason == SYM_OK ? r.name : NULL;
}

static void expect(struct fake *fk, uint64_t addr, const char *name)
{
	const char *got = name_of(fk, addr);

	if (!name) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, name);
}

static struct jit_stats stats(struct fake *fk)
{
	struct jit_stats s;

	jit__stats(fk->j, &s);
	return s;
}

#define LINE_A "1000 100 alpha\n"
#define LINE_B "2000 100 beta\n"
#define LINE_C "3000 100 gamma\n"

static void test_first_read_names(void **state)
{
	struct fake *fk = *state;
	struct jit_stats s;

	write_at(fk->map, LINE_A LINE_B);
	expect(fk, 0x1000, "alpha");
	expect(fk, 0x20ff, "beta");
	expect(fk, 0x2100, NULL);
	s = stats(fk);
	assert_int_equal(s.maps_read, 1);
	assert_int_equal(s.bytes_read, strlen(LINE_A LINE_B));
	assert_int_equal(s.frames_named, 2);
	assert_true(s.map_bytes > 0);
}

static void test_grown_file_read_on_from_offset(void **state)
{
	struct fake *fk = *state;
	struct jit_stats s0, s;

	write_at(fk->map, LINE_A LINE_B);
	expect(fk, 0x1000, "alpha");
	s0 = stats(fk);
	append(fk, LINE_C);
	jit__window_end(fk->j);
	expect(fk, 0x3000, "gamma");
	expect(fk, 0x1000, "alpha");
	s = stats(fk);
	assert_int_equal(s.maps_read, s0.maps_read + 1);
	assert_int_equal(s.bytes_read - s0.bytes_read, strlen(LINE_C));
}

static void test_one_read_per_window(void **state)
{
	struct fake *fk = *state;

	write_at(fk->map, LINE_A);
	expect(fk, 0x1000, "alpha");
	append(fk, LINE_B);
	/* The miss in the same window does not read again... */
	expect(fk, 0x2000, NULL);
	expect(fk, 0x2000, NULL);
	assert_int_equal(stats(fk).maps_read, 1);
	/* ... the next window does, once. */
	jit__window_end(fk->j);
	expect(fk, 0x2000, "beta");
	expect(fk, 0x5000, NULL);
	assert_int_equal(stats(fk).maps_read, 2);
}

static void test_truncated_file_read_whole(void **state)
{
	struct fake *fk = *state;
	struct jit_stats s0;

	write_at(fk->map, LINE_A LINE_B LINE_C);
	expect(fk, 0x1000, "alpha");
	s0 = stats(fk);
	rewrite(fk, "4000 100 delta\n");
	jit__window_end(fk->j);
	expect(fk, 0x4000, "delta");
	/* The old entries went with the old text. */
	expect(fk, 0x1000, NULL);
	assert_int_equal(stats(fk).bytes_read - s0.bytes_read, strlen("4000 100 delta\n"));
}

static void test_replaced_file_read_whole(void **state)
{
	struct fake *fk = *state;
	struct jit_stats s0;

	write_at(fk->map, LINE_A);
	expect(fk, 0x1000, "alpha");
	s0 = stats(fk);
	/* The same first line and more: it only looks grown; the inode differs. */
	replace(fk, LINE_A LINE_B);
	jit__window_end(fk->j);
	expect(fk, 0x2000, "beta");
	assert_int_equal(stats(fk).bytes_read - s0.bytes_read, strlen(LINE_A LINE_B));
}

static void test_changed_tail_read_whole(void **state)
{
	struct fake *fk = *state;
	struct jit_stats s0;

	write_at(fk->map, LINE_A LINE_B);
	expect(fk, 0x2000, "beta");
	s0 = stats(fk);
	/* Same inode, larger, but the bytes just before the old end differ:
	 * it was rewritten, not appended to. */
	rewrite(fk, LINE_A "2000 100 bet2\n" LINE_C);
	jit__window_end(fk->j);
	expect(fk, 0x3000, "gamma");
	expect(fk, 0x2000, "bet2");
	assert_int_equal(stats(fk).bytes_read - s0.bytes_read,
			 strlen(LINE_A "2000 100 bet2\n" LINE_C));
}

static void test_change_before_tail_not_seen(void **state)
{
	struct fake *fk = *state;
	/* Long enough that line A lies wholly before the 32 bytes compared. */
	static const char b_long[] = "2000 100 beta_with_a_name_longer_than_the_tail\n";
	struct jit_stats s0;

	write_at(fk->map, LINE_A);
	append(fk, b_long);
	expect(fk, 0x1000, "alpha");
	s0 = stats(fk);
	/* Line A changed in place and the file grew: only the tail is
	 * compared, so this reads as growth, from the offset on (the rule's
	 * price, documented: JITs append or rewrite whole files). */
	rewrite(fk, "1000 100 ALPHA\n");
	append(fk, b_long);
	append(fk, LINE_C);
	jit__window_end(fk->j);
	expect(fk, 0x3000, "gamma");
	expect(fk, 0x1000, "alpha");
	assert_int_equal(stats(fk).bytes_read - s0.bytes_read, strlen(LINE_C));
}

static void test_later_entries_win(void **state)
{
	struct fake *fk = *state;

	write_at(fk->map, "1000 100 old\n");
	expect(fk, 0x1000, "old");
	/* Code moved: the later entry covers the old one's upper half. */
	append(fk, "1080 100 new\n");
	jit__window_end(fk->j);
	expect(fk, 0x1100, "new");
	expect(fk, 0x1080, "new");
	expect(fk, 0x107f, "old");
	/* ... and within one read of a whole file too (a hit never reads:
	 * the miss at 0x5000 does). */
	replace(fk, "1000 100 old\n1000 100 newer\n5000 10 other\n");
	jit__window_end(fk->j);
	expect(fk, 0x5000, "other");
	expect(fk, 0x1001, "newer");
}

static void test_map_older_than_process_refused(void **state)
{
	struct fake *fk = *state;
	struct timespec old[2];
	struct jit_stats s;

	/* Written 200 s ago, by whoever had the pid before: the process is
	 * 100 s old. */
	write_at(fk->map, LINE_A);
	clock_gettime(CLOCK_REALTIME, &old[0]);
	old[0].tv_sec -= 2 * AGE_S;
	old[1] = old[0];
	assert_int_equal(utimensat(AT_FDCWD, fk->map, old, 0), 0);
	expect(fk, 0x1000, NULL);
	s = stats(fk);
	assert_int_equal(s.maps_stale, 1);
	assert_int_equal(s.maps_refused, 1);
	assert_int_equal(s.bytes_read, 0);
	/* One file is counted once, however often it is looked at. */
	jit__window_end(fk->j);
	expect(fk, 0x1000, NULL);
	assert_int_equal(stats(fk).maps_stale, 1);
	/* The process writes its own map: it is read. */
	write_at(fk->map, LINE_B);
	jit__window_end(fk->j);
	expect(fk, 0x2000, "beta");
}

static void test_pid_now_held_by_another_process(void **state)
{
	struct fake *fk = *state;

	write_at(fk->map, LINE_A);
	/* The samples were the process that started at fk->start; another
	 * now holds the pid: its map is not read for them. */
	set_start(fk, fk->start + 1);
	expect(fk, 0x1000, NULL);
	assert_int_equal(stats(fk).bytes_read, 0);
}

static void test_symlink_and_fifo_refused(void **state)
{
	struct fake *fk = *state;
	char target[192];

	snprintf(target, sizeof(target), "%s/fs/secret", fk->dir);
	write_at(target, LINE_A);
	assert_int_equal(symlink(target, fk->map), 0);
	expect(fk, 0x1000, NULL);
	assert_int_equal(stats(fk).maps_refused, 1);
	unlink(fk->map);
	assert_int_equal(mkfifo(fk->map, 0644), 0);
	jit__window_end(fk->j);
	expect(fk, 0x1000, NULL);
	assert_int_equal(stats(fk).maps_refused, 2);
	assert_int_equal(stats(fk).bytes_read, 0);
}

/* A map of n entries 0x100 apart from base, each name ~60 bytes. */
static void write_big_map(const char *path, uint64_t base, int n, const char *tag)
{
	FILE *f = fopen(path, "w");
	int i;

	assert_non_null(f);
	for (i = 0; i < n; i++)
		fprintf(f, "%llx 100 LazyCompile:*%s_function_%06d /app/src/module.js:%d:7\n",
			(unsigned long long)(base + 0x100ull * i), tag, i, i);
	assert_int_equal(fclose(f), 0);
}

static int setup_small(void **state)
{
	max_bytes_opt = 256 << 10;
	return setup(state);
}

static const char *big_name(char *buf, size_t size, const char *tag, int i)
{
	snprintf(buf, size, "LazyCompile:*%s_function_%06d /app/src/module.js:%d:7", tag, i, i);
	return buf;
}

static void test_per_process_bound(void **state)
{
	struct fake *fk = *state;
	struct jit_stats s;
	char name[128];
	FILE *f;
	int i;

	/* ~700 KB of map for a 128 KiB per-process bound: the newest part,
	 * the end of the file, is kept. */
	write_big_map(fk->map, 0x100000, 10000, "big");
	expect(fk, 0x100000 + 0x100ull * 9999, big_name(name, sizeof(name), "big", 9999));
	s = stats(fk);
	assert_int_equal(s.maps_capped, 1);
	assert_true(s.map_bytes <= (128 << 10) + (64 << 10));
	assert_true(s.bytes_read < 400000);
	assert_true(caps__count(CAPS_PERFMAP) >= 1);
	expect(fk, 0x100000 + 0x100ull * 9500, big_name(name, sizeof(name), "big", 9500));
	/* The oldest entries are not there. */
	expect(fk, 0x100000, NULL);
	/* The file grows past the bound again: its newest part again. */
	f = fopen(fk->map, "a");
	assert_non_null(f);
	for (i = 10000; i < 12000; i++)
		fprintf(f, "%llx 100 %s\n", 0x100000 + 0x100ull * i,
			big_name(name, sizeof(name), "big", i));
	assert_int_equal(fclose(f), 0);
	jit__window_end(fk->j);
	expect(fk, 0x100000 + 0x100ull * 11999, big_name(name, sizeof(name), "big", 11999));
	s = stats(fk);
	assert_int_equal(s.maps_capped, 2);
	assert_true(s.map_bytes <= (128 << 10) + (64 << 10));
	/* A rewritten (smaller) file is read whole again. */
	replace(fk, LINE_A);
	jit__window_end(fk->j);
	expect(fk, 0x1000, "alpha");
	assert_true(stats(fk).map_bytes < (16 << 10));
	assert_int_equal(stats(fk).maps_capped, 2);
}

static void test_total_bound_evicts_lru(void **state)
{
	struct fake *fk = *state;
	char path[3][192];
	struct sym_result r;
	struct jit_stats s;
	int i;

	/* Three processes with ~100 KB maps each, 256 KiB for all. */
	for (i = 0; i < 3; i++) {
		add_proc(fk, 5001 + i, 11 + i);
		snprintf(path[i], sizeof(path[i]), "%s/fs/tmp/perf-%d.map", fk->dir, 11 + i);
		write_big_map(path[i], 0x100000, 800, i == 0 ? "p0" : i == 1 ? "p1" : "p2");
	}
	for (i = 0; i < 3; i++) {
		jit__lookup(fk->j, 5001 + i, fk->start, 0x100000, &r);
		assert_int_equal(r.reason, SYM_OK);
	}
	s = stats(fk);
	assert_int_equal(s.maps_capped, 0);
	assert_int_equal(s.maps_evicted, 1);
	assert_true(s.map_bytes <= 256 << 10);
	assert_true(caps__count(CAPS_PERFMAP_TOTAL) >= 1);
	/* The oldest (5001) went: named again after a whole read, next window,
	 * which drops the least recently used now (5002). */
	jit__window_end(fk->j);
	jit__lookup(fk->j, 5003, fk->start, 0x100000, &r);
	jit__lookup(fk->j, 5001, fk->start, 0x100100, &r);
	assert_int_equal(r.reason, SYM_OK);
	assert_string_equal(r.name, "LazyCompile:*p0_function_000001 /app/src/module.js:1:7");
	s = stats(fk);
	assert_int_equal(s.maps_read, 4);
	assert_int_equal(s.maps_evicted, 2);
	assert_true(s.map_bytes <= 256 << 10);
	jit__lookup(fk->j, 5003, fk->start, 0x100000, &r);
	assert_int_equal(r.reason, SYM_OK);
	assert_int_equal(stats(fk).maps_read, 4);
}

/* /proc/PID/status for the JVM attach. */

#define STATUS_HEAD "Name:\tjava\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t900\n"

static void test_status_sigquit(void **state)
{
	uint32_t uid, gid, nspid;
	bool quit;

	/* HotSpot: SIGQUIT (bit 2) caught among others. */
	assert_int_equal(jvm_parse_status(STATUS_HEAD
					  "Uid:\t1\t1\t1\t1\nGid:\t2\t2\t2\t2\n"
					  "SigIgn:\t0000000000000000\nSigCgt:\t2000000181005ccf\n",
					  900, &uid, &gid, &nspid, &quit),
			 0);
	assert_true(quit);
	/* -Xrs: every bit but SIGQUIT's. */
	assert_int_equal(jvm_parse_status(STATUS_HEAD
					  "Uid:\t1\t1\t1\t1\nGid:\t2\t2\t2\t2\n"
					  "SigIgn:\t0000000000000000\nSigCgt:\t2000000181005ccb\n",
					  900, &uid, &gid, &nspid, &quit),
			 0);
	assert_false(quit);
	/* Caught but also ignored: not signalled. */
	assert_int_equal(jvm_parse_status(STATUS_HEAD
					  "Uid:\t1\t1\t1\t1\nGid:\t2\t2\t2\t2\n"
					  "SigIgn:\t0000000000000004\nSigCgt:\t0000000000000004\n",
					  900, &uid, &gid, &nspid, &quit),
			 0);
	assert_false(quit);
	/* No SigCgt line at all: never signalled. */
	assert_int_equal(jvm_parse_status(STATUS_HEAD "Uid:\t1\t1\t1\t1\nGid:\t2\t2\t2\t2\n", 900,
					  &uid, &gid, &nspid, &quit),
			 0);
	assert_false(quit);
}

static void test_status_nspid_and_ids(void **state)
{
	uint32_t uid, gid, nspid;
	bool quit;

	/* Two nested namespaces: the innermost pid is the last field; the
	 * effective ids are the second. */
	assert_int_equal(jvm_parse_status(STATUS_HEAD "Uid:\t1000\t1001\t1002\t1003\n"
						      "Gid:\t2000\t2001\t2002\t2003\n"
						      "NStgid:\t900\t45\t1\nNSpid:\t901\t46\t2\n",
					  900, &uid, &gid, &nspid, &quit),
			 0);
	assert_int_equal(uid, 1001);
	assert_int_equal(gid, 2001);
	assert_int_equal(nspid, 1);
	/* A kernel without NStgid: the pid itself. */
	assert_int_equal(jvm_parse_status(STATUS_HEAD "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n", 900,
					  &uid, &gid, &nspid, &quit),
			 0);
	assert_int_equal(nspid, 900);
	/* NStgid the last line, without a newline. */
	assert_int_equal(jvm_parse_status(STATUS_HEAD "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"
						      "NStgid:\t900\t12",
					  900, &uid, &gid, &nspid, &quit),
			 0);
	assert_int_equal(nspid, 12);
}

static void test_status_malformed(void **state)
{
	uint32_t uid = 77, gid, nspid;
	bool quit;

	assert_int_equal(jvm_parse_status("", 900, &uid, &gid, &nspid, &quit), -EINVAL);
	assert_int_equal(
		jvm_parse_status(STATUS_HEAD "Gid:\t0\t0\t0\t0\n", 900, &uid, &gid, &nspid, &quit),
		-EINVAL);
	assert_int_equal(jvm_parse_status(STATUS_HEAD "Uid:\tx\ty\nGid:\t0\t0\t0\t0\n", 900, &uid,
					  &gid, &nspid, &quit),
			 -EINVAL);
	assert_int_equal(uid, 77);
	assert_int_equal(jvm_parse_status(STATUS_HEAD "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"
						      "NStgid:\t900\t0\n",
					  900, &uid, &gid, &nspid, &quit),
			 -EINVAL);
	assert_int_equal(jvm_parse_status(STATUS_HEAD "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"
						      "NStgid:\t900\t99999999999\n",
					  900, &uid, &gid, &nspid, &quit),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_read_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grown_file_read_on_from_offset, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_one_read_per_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_file_read_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replaced_file_read_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_tail_read_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_before_tail_not_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_later_entries_win, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_older_than_process_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pid_now_held_by_another_process, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_symlink_and_fifo_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_process_bound, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_total_bound_evicts_lru, setup_small, teardown),
		cmocka_unit_test(test_status_sigquit),
		cmocka_unit_test(test_status_nspid_and_ids),
		cmocka_unit_test(test_status_malformed),
	};

	log_level = getenv("JIT_TEST_LOG") ? LOG_DEBUG : LOG_ERR;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
