// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_sym_debug.c - .gnu_debuglink parsing and CRC, MiniDebugInfo xz
 * decoding, and the mapstore's placing of out-of-order mmap records */
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "caps.h"
#include "mapstore.h"
#include "sym_debuglink.h"
#include "sym_minidebug.h"

static void test_debuglink_parse(void **state)
{
	/* "a.debug\0" is 8 bytes: the CRC follows at once. */
	static const unsigned char le[] = { 'a', '.', 'd',  'e',  'b',	'u',
					    'g', 0,   0x1d, 0x4c, 0x4f, 0xbc };
	/* "ab\0" then one byte of padding to 4. */
	static const unsigned char be[] = { 'a', 'b', 0, 0, 0xbc, 0x4f, 0x4c, 0x1d };
	char name[SYM_DEBUGLINK_NAME_MAX];
	uint32_t crc;

	assert_int_equal(sym_debuglink_parse(le, sizeof(le), false, name, &crc), 0);
	assert_string_equal(name, "a.debug");
	/* objcopy wrote 1d4c4fbc for zlib's 0xbc4f4c1d (reference, section 4). */
	assert_int_equal(crc, 0xbc4f4c1d);
	assert_int_equal(sym_debuglink_parse(be, sizeof(be), true, name, &crc), 0);
	assert_string_equal(name, "ab");
	assert_int_equal(crc, 0xbc4f4c1d);
}

static void test_debuglink_bad(void **state)
{
	static const unsigned char no_crc[] = { 'a', 'b', 0, 0, 1, 2 };
	static const unsigned char no_nul[] = { 'a', 'b', 'c', 'd' };
	static const unsigned char empty[] = { 0, 0, 0, 0, 1, 2, 3, 4 };
	static const unsigned char slash[] = { '.', '.', '/', 'x', 0, 0, 0, 0, 1, 2, 3, 4 };
	char name[SYM_DEBUGLINK_NAME_MAX], big[600];
	uint32_t crc;

	assert_int_equal(sym_debuglink_parse(no_crc, sizeof(no_crc), false, name, &crc), -EINVAL);
	assert_int_equal(sym_debuglink_parse(no_nul, sizeof(no_nul), false, name, &crc), -EINVAL);
	assert_int_equal(sym_debuglink_parse(empty, sizeof(empty), false, name, &crc), -EINVAL);
	assert_int_equal(sym_debuglink_parse(slash, sizeof(slash), false, name, &crc), -EINVAL);
	assert_int_equal(sym_debuglink_parse(no_crc, 0, false, name, &crc), -EINVAL);
	memset(big, 'x', sizeof(big));
	big[500] = 0;
	assert_int_equal(sym_debuglink_parse(big, sizeof(big), false, name, &crc), -EINVAL);
}

static void test_debuglink_crc_fd(void **state)
{
	char path[] = "/tmp/ember-crc-XXXXXX";
	unsigned char buf[200000];
	uint32_t crc;
	size_t i;
	int fd;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + (i >> 9));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	assert_int_equal(sym_debuglink_crc_fd(fd, &crc), 0);
	assert_int_equal(crc, (uint32_t)crc32(0, buf, sizeof(buf)));
	close(fd);
	/* The ELF reader: not ELF is -ENOEXEC, never a crash. */
	fd = open("/dev/null", O_RDONLY);
	assert_int_equal(sym_debuglink_read(fd, (char[SYM_DEBUGLINK_NAME_MAX]){ 0 }, &crc),
			 -ENOEXEC);
	close(fd);
}

/* xz-compresses len bytes of in into a new buffer. */
static size_t xz(const void *in, size_t len, uint8_t **out)
{
	size_t cap = len + 4096, pos = 0;

	*out = malloc(cap);
	assert_non_null(*out);
	assert_int_equal(
		lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, in, len, *out, &pos, cap),
		LZMA_OK);
	return pos;
}

static void test_minidebug_unxz(void **state)
{
	static char text[100000];
	uint8_t *z;
	size_t zlen, olen, i;
	void *out;

	for (i = 0; i < sizeof(text); i++)
		text[i] = "minidebuginfo"[i % 13];
	zlen = xz(text, sizeof(text), &z);
	assert_int_equal(sym_minidebug_unxz(z, zlen, SYM_MINIDEBUG_MAX, &out, &olen), 0);
	assert_int_equal(olen, sizeof(text));
	assert_memory_equal(out, text, olen);
	free(out);
	/* Over the cap: refused, not grown without end. */
	assert_int_equal(sym_minidebug_unxz(z, zlen, 4096, &out, &olen), -E2BIG);
	assert_null(out);
	/* Truncated and corrupted streams. */
	assert_int_equal(sym_minidebug_unxz(z, zlen / 2, SYM_MINIDEBUG_MAX, &out, &olen), -EINVAL);
	z[zlen / 2] ^= 0x55;
	assert_int_equal(sym_minidebug_unxz(z, zlen, SYM_MINIDEBUG_MAX, &out, &olen), -EINVAL);
	assert_int_equal(sym_minidebug_unxz("not xz", 6, SYM_MINIDEBUG_MAX, &out, &olen), -EINVAL);
	assert_int_equal(sym_minidebug_unxz("", 0, SYM_MINIDEBUG_MAX, &out, &olen), -EINVAL);
	free(z);
}

static struct sym_map map(uint64_t start, uint64_t end, const char *path)
{
	return (struct sym_map){ .start = start, .end = end, .path = path, .ino = 1 };
}

/* Records from two CPUs arrive out of time order: each lands by its time. */
static void test_mapstore_order(void **state)
{
	struct mapstore *ms = mapstore__new();
	struct sym_map a = map(0x1000, 0x2000, "/old"), b = map(0x1000, 0x2000, "/new"),
		       c = map(0x5000, 0x6000, "/lib");
	struct sym_maps *m;
	uint64_t version;
	uint32_t ppid;

	assert_non_null(ms);
	assert_int_equal(mapstore__fork(ms, 10, 1, 50), 0);
	assert_int_equal(mapstore__mmap(ms, 10, 60, &a), 0);
	/* The new image's mmaps, read before its exec record. */
	assert_int_equal(mapstore__mmap(ms, 10, 120, &b), 0);
	assert_int_equal(mapstore__mmap(ms, 10, 130, &c), 0);
	assert_int_equal(mapstore__exec(ms, 10, 100), 0);

	m = mapstore__maps(ms, 10, 90, &ppid, &version);
	assert_non_null(m);
	assert_int_equal(sym_maps__count(m), 1);
	assert_string_equal(sym_maps__find(m, 0x1800)->path, "/old");
	assert_int_equal(ppid, 1);
	sym_maps__free(m);

	m = mapstore__maps(ms, 10, 200, &ppid, &version);
	assert_non_null(m);
	assert_int_equal(sym_maps__count(m), 2);
	assert_string_equal(sym_maps__find(m, 0x1800)->path, "/new");
	assert_string_equal(sym_maps__find(m, 0x5800)->path, "/lib");
	assert_int_equal(version, mapstore__version(ms, 10, 200));
	sym_maps__free(m);

	/* Exit, samples all read: gone; a lookup then misses. */
	mapstore__forget(ms, 10, 300);
	assert_null(mapstore__maps(ms, 10, 200, &ppid, &version));
	assert_int_equal(errno, ENOENT);
	mapstore__free(ms);
}

/* Bounds: images per process, and a sweep of processes gone. */
static void test_mapstore_bounds(void **state)
{
	struct mapstore *ms = mapstore__new();
	struct mapstore_stats st;
	struct sym_map a = map(0x1000, 0x2000, "/x");
	uint32_t pid;
	int i;

	caps__reset();
	for (i = 1; i <= 10; i++) {
		assert_int_equal(mapstore__exec(ms, 7, i * 100), 0);
		assert_int_equal(mapstore__mmap(ms, 7, i * 100 + 1, &a), 0);
	}
	mapstore__stats(ms, &st);
	assert_true(st.mappings <= MAPSTORE_MAX_IMAGES);
	assert_int_equal(st.dropped, 10 - MAPSTORE_MAX_IMAGES);
	assert_int_equal(caps__count(CAPS_MAPSTORE_IMAGES), 10 - MAPSTORE_MAX_IMAGES);
	mapstore__forget(ms, 7, 2000);
	/* Many processes that exited: the sweep leaves none. */
	for (pid = 4000000; pid < 4001000; pid++) {
		assert_int_equal(mapstore__mmap(ms, pid, 5, &a), 0);
		mapstore__exit(ms, pid, 10);
	}
	mapstore__sweep(ms, 20, "/nonexistent-proc");
	mapstore__stats(ms, &st);
	assert_int_equal(st.procs, 0);
	assert_int_equal(st.mappings, 0);
	mapstore__free(ms);
}

/* One image's mappings: distinct ones past the bound are refused and
 * counted; a mapping that replaces one at the same place is not. */
static void test_mapstore_maps_bound(void **state)
{
	struct mapstore *ms = mapstore__new();
	struct mapstore_stats st;
	struct sym_map a;
	uint64_t i;

	caps__reset();
	assert_int_equal(mapstore__exec(ms, 8, 1), 0);
	for (i = 0; i < MAPSTORE_MAX_MAPS; i++) {
		a = map(0x100000 + i * 0x1000, 0x101000 + i * 0x1000, "/lib");
		assert_int_equal(mapstore__mmap(ms, 8, 2 + i, &a), 0);
	}
	a = map(0x100000 + i * 0x1000, 0x101000 + i * 0x1000, "/lib");
	assert_int_equal(mapstore__mmap(ms, 8, 2 + i, &a), -ENOSPC);
	mapstore__stats(ms, &st);
	assert_int_equal(st.mappings, MAPSTORE_MAX_MAPS);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(caps__count(CAPS_MAPSTORE_MAPS), 1);
	mapstore__free(ms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debuglink_parse),	 cmocka_unit_test(test_debuglink_bad),
		cmocka_unit_test(test_debuglink_crc_fd), cmocka_unit_test(test_minidebug_unxz),
		cmocka_unit_test(test_mapstore_order),	 cmocka_unit_test(test_mapstore_bounds),
		cmocka_unit_test(test_mapstore_maps_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
