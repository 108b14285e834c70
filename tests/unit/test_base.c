// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_base.c - the base/ mechanisms every layer uses: the arena (pieces stay
 * valid, distinct, aligned and zeroed; oversized pieces; reserve and commit;
 * reset and release), the chained hash table (equal hashes told apart by key,
 * removal, growth), file_read (exact fit, one byte too many, empty, missing,
 * directory), bsearch_upper, label sets, secret wiping, UTF-8, clock_ns */
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

#include "arena.h"
#include "bsearch.h"
#include "caps.h"
#include "clock.h"
#include "file.h"
#include "hchain.h"
#include "label.h"
#include "lines.h"
#include "secret.h"
#include "strtab.h"
#include "utf8.h"

/* ---- arena ---- */

#define SMALL_N 20000

struct piece {
	unsigned char *p;
	size_t size;
};

static int piece_cmp_addr(const void *a, const void *b)
{
	const struct piece *x = a, *y = b;

	return (uintptr_t)x->p < (uintptr_t)y->p ? -1 : (uintptr_t)x->p > (uintptr_t)y->p;
}

static unsigned char pattern(size_t i, size_t j)
{
	return (unsigned char)(i * 31 + j * 7 + 1);
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i])
			return false;
	return true;
}

static void test_arena_many_small(void **state)
{
	struct arena a = { 0 };
	struct piece *pieces = calloc(SMALL_N, sizeof(*pieces));
	size_t i, j;

	assert_non_null(pieces);
	for (i = 0; i < SMALL_N; i++) {
		size_t size = 1 + i % 53;

		pieces[i].size = size;
		pieces[i].p = arena_alloc(&a, size);
		assert_non_null(pieces[i].p);
		assert_int_equal((uintptr_t)pieces[i].p % 8, 0);
		assert_true(all_zero(pieces[i].p, size));
		for (j = 0; j < size; j++)
			pieces[i].p[j] = pattern(i, j);
		/* some strings in between, which leave the fill unaligned */
		if (i % 7 == 0) {
			char s[16];
			char *d;

			snprintf(s, sizeof(s), "s%zu", i);
			d = arena_strdup(&a, s);
			assert_non_null(d);
			assert_string_equal(d, s);
		}
	}
	/* every piece still holds what was written, whatever came after it */
	for (i = 0; i < SMALL_N; i++)
		for (j = 0; j < pieces[i].size; j++)
			assert_int_equal(pieces[i].p[j], pattern(i, j));
	/* and no two pieces overlap */
	qsort(pieces, SMALL_N, sizeof(*pieces), piece_cmp_addr);
	for (i = 1; i < SMALL_N; i++)
		assert_true((uintptr_t)(pieces[i - 1].p + pieces[i - 1].size) <=
			    (uintptr_t)pieces[i].p);
	arena_release(&a);
	assert_null(a.head);
	free(pieces);
}

static void test_arena_alignment(void **state)
{
	static const char *const odd[] = { "", "a", "ab", "abcd", "abcdefg", "abcdefghijkl" };
	struct arena a = { 0 };
	size_t i, k;
	char *s;
	void *p;

	/* allocations of every small size, then one after a string of each length */
	for (i = 0; i <= 33; i++) {
		p = arena_alloc(&a, i);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 8, 0);
	}
	for (k = 0; k < 3; k++) {
		for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
			s = arena_strdup(&a, odd[i]);
			assert_non_null(s);
			assert_string_equal(s, odd[i]);
			p = arena_alloc(&a, 1 + k);
			assert_non_null(p);
			assert_int_equal((uintptr_t)p % 8, 0);
			/* the piece comes after the string, not over it */
			assert_true((char *)p >= s + strlen(s) + 1 || (char *)p + 1 + k <= s);
			assert_string_equal(s, odd[i]);
		}
	}
	/* after a commit of an odd count too */
	s = arena_reserve(&a, 10);
	assert_non_null(s);
	memcpy(s, "xyz", 3);
	arena_commit(&a, 3);
	p = arena_alloc(&a, 8);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 8, 0);
	assert_true((char *)p >= s + 3);
	assert_memory_equal(s, "xyz", 3);
	arena_release(&a);
}

static void test_arena_zeroed(void **state)
{
	struct arena a = { 0 };
	unsigned char *p, *q;
	size_t i;

	/* dirty a chunk, reset, and take the same memory again */
	p = arena_alloc(&a, 4096);
	assert_non_null(p);
	memset(p, 0xa5, 4096);
	arena_reset(&a);
	q = arena_alloc(&a, 4096);
	assert_non_null(q);
	assert_true(all_zero(q, 4096));
	/* reserved room written but not committed is zeroed when allocated */
	p = (unsigned char *)arena_reserve(&a, 256);
	assert_non_null(p);
	memset(p, 0xff, 256);
	q = arena_alloc(&a, 200);
	assert_non_null(q);
	assert_true(all_zero(q, 200));
	/* odd sizes: the whole rounded-up piece reads zero, padding included */
	for (i = 1; i < 64; i += 3) {
		q = arena_alloc(&a, i);
		assert_non_null(q);
		assert_true(all_zero(q, (i + 7) & ~(size_t)7));
		memset(q, 0xee, i);
	}
	arena_release(&a);
}

static void test_arena_large(void **state)
{
	struct arena huge = { 0 };

	/* A size that would wrap the chunk header or the rounding: refused. */
	assert_null(arena_alloc(&huge, SIZE_MAX - 3));
	assert_null(arena_reserve(&huge, SIZE_MAX - 8));
	arena_release(&huge);

	struct arena a = { 0 };
	size_t big = 3 * ARENA_CHUNK + 5, i;
	unsigned char *small1, *small2, *b, *exact;

	small1 = arena_alloc(&a, 16);
	assert_non_null(small1);
	memset(small1, 1, 16);
	b = arena_alloc(&a, big);
	assert_non_null(b);
	assert_int_equal((uintptr_t)b % 8, 0);
	assert_true(all_zero(b, big));
	for (i = 0; i < big; i++)
		b[i] = pattern(i, 3);
	exact = arena_alloc(&a, ARENA_CHUNK);
	assert_non_null(exact);
	assert_int_equal((uintptr_t)exact % 8, 0);
	assert_true(all_zero(exact, ARENA_CHUNK));
	memset(exact, 2, ARENA_CHUNK);
	small2 = arena_alloc(&a, 16);
	assert_non_null(small2);
	assert_true(all_zero(small2, 16));
	memset(small2, 3, 16);
	/* nothing overwrote anything */
	for (i = 0; i < big; i++)
		assert_int_equal(b[i], pattern(i, 3));
	for (i = 0; i < 16; i++) {
		assert_int_equal(small1[i], 1);
		assert_int_equal(small2[i], 3);
	}
	for (i = 0; i < ARENA_CHUNK; i++)
		assert_int_equal(exact[i], 2);
	/* a reserve larger than a chunk too */
	b = (unsigned char *)arena_reserve(&a, 2 * ARENA_CHUNK);
	assert_non_null(b);
	memset(b, 4, 2 * ARENA_CHUNK);
	arena_commit(&a, 2 * ARENA_CHUNK);
	for (i = 0; i < 16; i++)
		assert_int_equal(small2[i], 3);
	arena_release(&a);
}

static void test_arena_reserve_commit(void **state)
{
	struct arena a = { 0 };
	char *r, *s, *r2;
	void *p;

	r = arena_reserve(&a, 100);
	assert_non_null(r);
	/* a fresh arena's first room starts the chunk: 8-byte aligned */
	assert_int_equal((uintptr_t)r % 8, 0);
	memcpy(r, "hello", 6);
	arena_commit(&a, 6); /* fewer than reserved */
	/* the next piece starts right after the committed bytes */
	s = arena_strdup(&a, "wor");
	assert_ptr_equal(s, r + 6);
	assert_string_equal(r, "hello");
	assert_string_equal(s, "wor");
	/* 10 bytes taken: an aligned piece starts at 16 */
	p = arena_alloc(&a, 4);
	assert_ptr_equal(p, r + 16);
	/* a reserve again, then nothing committed: the room is given again */
	r2 = arena_reserve(&a, 50);
	assert_ptr_equal(r2, r + 24);
	memset(r2, 'x', 50);
	arena_commit(&a, 0);
	s = arena_strdup(&a, "again");
	assert_ptr_equal(s, r2);
	assert_string_equal(s, "again");
	/* a commit of everything reserved */
	r2 = arena_reserve(&a, 16);
	assert_ptr_equal(r2, s + 6);
	memset(r2, 'y', 16);
	arena_commit(&a, 16);
	p = arena_alloc(&a, 1);
	assert_ptr_equal(p, r + 24 + 8 + 16);
	assert_string_equal(r, "hello");
	assert_string_equal(s, "again");
	/* a reserve that does not fit the chunk's rest moves on, the rest intact */
	r2 = arena_reserve(&a, ARENA_CHUNK - 8);
	assert_non_null(r2);
	memset(r2, 'z', ARENA_CHUNK - 8);
	arena_commit(&a, ARENA_CHUNK - 8);
	assert_string_equal(r, "hello");
	assert_string_equal(s, "again");
	arena_release(&a);
}

static void test_arena_reset_release(void **state)
{
	struct arena a = { 0 };
	unsigned char *last = NULL, *p, *ps[1000];
	size_t i, j, round;

	/* reset and release of an empty arena do nothing */
	arena_reset(&a);
	assert_null(a.head);
	arena_release(&a);
	assert_null(a.head);

	for (round = 0; round < 3; round++) {
		for (i = 0; i < 5000; i++) {
			last = arena_alloc(&a, 100);
			assert_non_null(last);
			memset(last, 0x5a, 100);
		}
		arena_reset(&a);
		/* one chunk kept: the one being filled, so the next piece is in it */
		assert_non_null(a.head);
		p = arena_alloc(&a, 100);
		assert_non_null(p);
		assert_true(p <= last && last - p < ARENA_CHUNK);
		assert_true(all_zero(p, 100));
		/* and it keeps working past that chunk */
		for (i = 0; i < 1000; i++) {
			ps[i] = arena_alloc(&a, 200);
			assert_non_null(ps[i]);
			assert_true(all_zero(ps[i], 200));
			memset(ps[i], (int)(i & 0xff), 200);
		}
		for (i = 0; i < 1000; i++)
			for (j = 0; j < 200; j++)
				assert_int_equal(ps[i][j], i & 0xff);
		arena_reset(&a);
	}

	/* a reset whose kept chunk is an oversized one */
	p = arena_alloc(&a, 2 * ARENA_CHUNK);
	assert_non_null(p);
	memset(p, 0x11, 2 * ARENA_CHUNK);
	arena_reset(&a);
	p = arena_alloc(&a, 64);
	assert_non_null(p);
	assert_true(all_zero(p, 64));
	for (i = 0; i < 2000; i++)
		assert_non_null(arena_alloc(&a, 100));

	/* release, then the arena is reusable as new */
	arena_release(&a);
	assert_null(a.head);
	for (i = 0; i < 1000; i++) {
		ps[i] = arena_alloc(&a, 150);
		assert_non_null(ps[i]);
		assert_true(all_zero(ps[i], 150));
		memset(ps[i], (int)(i & 0xff), 150);
	}
	assert_string_equal(arena_strdup(&a, "after release"), "after release");
	for (i = 0; i < 1000; i++)
		for (j = 0; j < 150; j++)
			assert_int_equal(ps[i][j], i & 0xff);
	arena_release(&a);
	assert_null(a.head);
	arena_release(&a);
	assert_null(a.head);
}

/* ---- hchain ---- */

#define HN 10000
#define SAME_HASH 0xc0111de5ull

struct item {
	char pad[5]; /* so the node is not at offset 0 */
	uint64_t key;
	struct hchain_node node;
	int tag;
};

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Keys 0, 100, 200, ... share one hash; keys 1, 101, 201, ... have hashes that
 * differ only above bit 32, so they share a bucket but not a hash; the others
 * spread. */
static uint64_t item_hash(uint64_t key)
{
	if (key % 100 == 0)
		return SAME_HASH;
	if (key % 100 == 1)
		return (key << 32) | 7;
	return splitmix(key);
}

static struct item *item_find(const struct hchain *h, uint64_t key)
{
	uint64_t hash = item_hash(key);
	struct hchain_node *n;

	for (n = hchain_first(h, hash); n; n = hchain_next(n)) {
		struct item *it = hchain_entry(n, struct item, node);

		assert_true(n->hash == hash);
		if (it->key == key)
			return it;
	}
	return NULL;
}

static size_t count_hash(const struct hchain *h, uint64_t hash)
{
	struct hchain_node *n;
	size_t c = 0;

	for (n = hchain_first(h, hash); n; n = hchain_next(n)) {
		assert_true(n->hash == hash);
		c++;
	}
	return c;
}

static void test_hchain(void **state)
{
	struct item *items = calloc(HN, sizeof(*items));
	struct hchain h;
	size_t i, nb;

	assert_non_null(items);
	/* the bucket count is rounded up to a power of two */
	assert_int_equal(hchain_init(&h, 0), 0);
	assert_int_equal(h.nbuckets, 1);
	hchain_release(&h);
	assert_int_equal(hchain_init(&h, 5), 0);
	assert_int_equal(h.nbuckets, 8);
	hchain_release(&h);
	assert_null(h.buckets);

	assert_int_equal(hchain_init(&h, 3), 0);
	assert_int_equal(h.nbuckets, 4);
	assert_int_equal(h.count, 0);
	assert_null(hchain_first(&h, 1));
	assert_null(hchain_first(&h, SAME_HASH));
	nb = h.nbuckets;
	for (i = 0; i < HN; i++) {
		items[i].key = i;
		items[i].tag = (int)i;
		hchain_add(&h, &items[i].node, item_hash(i));
		assert_int_equal(h.count, i + 1);
		assert_true(h.count <= h.nbuckets);
		assert_int_equal(h.nbuckets & (h.nbuckets - 1), 0);
	}
	assert_true(h.nbuckets > nb);
	assert_true(h.nbuckets >= HN);
	for (i = 0; i < HN; i++) {
		struct item *it = item_find(&h, i);

		assert_ptr_equal(it, &items[i]);
		assert_int_equal(it->tag, (int)i);
	}
	assert_null(item_find(&h, HN));
	assert_null(item_find(&h, HN + 1));
	assert_null(item_find(&h, HN + 2));
	assert_int_equal(count_hash(&h, SAME_HASH), HN / 100);
	assert_int_equal(count_hash(&h, item_hash(101)), 1);
	assert_null(hchain_first(&h, 7)); /* shares a bucket with key 1's hash */

	/* remove the odd keys: half of every group, heads and middles of chains */
	for (i = 1; i < HN; i += 2)
		hchain_remove(&h, &items[i].node);
	assert_int_equal(h.count, HN / 2);
	for (i = 0; i < HN; i++) {
		if (i % 2)
			assert_null(item_find(&h, i));
		else
			assert_ptr_equal(item_find(&h, i), &items[i]);
	}
	/* keys 0, 100, ... are all even: the collision group is whole */
	assert_int_equal(count_hash(&h, SAME_HASH), HN / 100);
	assert_int_equal(count_hash(&h, item_hash(101)), 0);

	/* now half of the collision group: every other one of the same hash */
	for (i = 0; i < HN; i += 200)
		hchain_remove(&h, &items[i].node);
	assert_int_equal(h.count, HN / 2 - HN / 200);
	assert_int_equal(count_hash(&h, SAME_HASH), HN / 200);
	for (i = 0; i < HN; i += 100) {
		if (i % 200)
			assert_ptr_equal(item_find(&h, i), &items[i]);
		else
			assert_null(item_find(&h, i));
	}

	/* the removed ones come back */
	nb = h.nbuckets;
	for (i = 0; i < HN; i++)
		if (i % 2 || i % 200 == 0)
			hchain_add(&h, &items[i].node, item_hash(i));
	assert_int_equal(h.count, HN);
	assert_int_equal(h.nbuckets, nb);
	for (i = 0; i < HN; i++)
		assert_ptr_equal(item_find(&h, i), &items[i]);
	assert_int_equal(count_hash(&h, SAME_HASH), HN / 100);

	/* and all go */
	for (i = 0; i < HN; i++)
		hchain_remove(&h, &items[HN - 1 - i].node);
	assert_int_equal(h.count, 0);
	for (i = 0; i < HN; i++)
		assert_null(item_find(&h, i));
	hchain_release(&h);
	assert_null(h.buckets);
	assert_int_equal(h.nbuckets, 0);
	assert_int_equal(h.count, 0);
	free(items);
}

/* ---- file_read ---- */

/* A temporary file holding len bytes of data; path gets its name. */
static void make_file(char *path, const void *data, size_t len)
{
	int fd;

	strcpy(path, "/tmp/ember_test_base.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void test_file_read(void **state)
{
	static const char text[] = "hello\nworld\n";
	char path[64], dir[64], buf[64], *big, *bbuf;
	size_t bigsz = 200 * 1024, i;

	/* whole, NUL-terminated */
	make_file(path, text, strlen(text));
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(file_read(path, buf, sizeof(buf)), (ssize_t)strlen(text));
	assert_string_equal(buf, text);
	/* size - 1 bytes fit exactly */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(file_read(path, buf, strlen(text) + 1), (ssize_t)strlen(text));
	assert_string_equal(buf, text);
	assert_int_equal(buf[strlen(text) + 1], 'x');
	/* size bytes do not: the first size - 1 are kept, NUL-terminated */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(file_read(path, buf, strlen(text)), -EFBIG);
	assert_memory_equal(buf, text, strlen(text) - 1);
	assert_int_equal(buf[strlen(text) - 1], '\0');
	assert_int_equal(buf[strlen(text)], 'x');
	/* far too small */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(file_read(path, buf, 4), -EFBIG);
	assert_string_equal(buf, "hel");
	/* a one-byte buffer holds only the NUL */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(file_read(path, buf, 1), -EFBIG);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'x');
	assert_int_equal(unlink(path), 0);

	/* a file of one byte in a buffer of two, and of one */
	make_file(path, "z", 1);
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(file_read(path, buf, 2), 1);
	assert_string_equal(buf, "z");
	assert_int_equal(file_read(path, buf, 1), -EFBIG);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(unlink(path), 0);

	/* empty */
	make_file(path, "", 0);
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(file_read(path, buf, sizeof(buf)), 0);
	assert_int_equal(buf[0], '\0');
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(file_read(path, buf, 1), 0);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(unlink(path), 0);

	/* larger than one read: exact fit, and one byte over */
	big = malloc(bigsz);
	bbuf = malloc(bigsz + 2);
	assert_non_null(big);
	assert_non_null(bbuf);
	for (i = 0; i < bigsz; i++)
		big[i] = (char)('a' + i % 26);
	make_file(path, big, bigsz);
	assert_int_equal(file_read(path, bbuf, bigsz + 1), (ssize_t)bigsz);
	assert_memory_equal(bbuf, big, bigsz);
	assert_int_equal(bbuf[bigsz], '\0');
	bbuf[bigsz - 1] = '#';
	assert_int_equal(file_read(path, bbuf, bigsz), -EFBIG);
	assert_memory_equal(bbuf, big, bigsz - 1);
	assert_int_equal(bbuf[bigsz - 1], '\0');
	assert_int_equal(unlink(path), 0);
	free(big);
	free(bbuf);

	/* missing */
	assert_int_equal(file_read(path, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(file_read("/nonexistent/ember/x", buf, sizeof(buf)), -ENOENT);

	/* a directory opens but does not read */
	strcpy(dir, "/tmp/ember_test_base.d.XXXXXX");
	assert_non_null(mkdtemp(dir));
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(file_read(dir, buf, sizeof(buf)), -EISDIR);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(rmdir(dir), 0);

	/* a /proc file, whose size stat() calls 0 */
	memset(buf, 'x', sizeof(buf));
	assert_true(file_read("/proc/self/comm", buf, sizeof(buf)) > 0);
	assert_non_null(strchr(buf, '\n'));
}

/* ---- bsearch_upper ---- */

struct sym {
	uint32_t flags;
	char name[12];
	uint64_t start; /* the key, at offset 16 */
	uint32_t size;
};

struct __attribute__((packed)) packed_sym {
	char tag[3];
	uint64_t start; /* unaligned */
};

static size_t upper_linear(const struct sym *s, size_t n, uint64_t addr)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (s[i].start <= addr)
			c = i + 1;
	return c;
}

static size_t upper(const struct sym *s, size_t n, uint64_t addr)
{
	return bsearch_upper(s, n, sizeof(*s), offsetof(struct sym, start), addr);
}

static void test_bsearch_upper(void **state)
{
	static const uint64_t keys[] = { 10, 20, 20, 20, 30, 50 };
	struct sym s[6], big[257];
	struct packed_sym ps[4];
	size_t n = 6, i, k;
	uint64_t addr;

	assert_true(offsetof(struct sym, start) != 0);
	memset(s, 0xff, sizeof(s));
	for (i = 0; i < n; i++) {
		s[i].flags = 0xffffffffu; /* non-key fields must not be read as keys */
		s[i].start = keys[i];
		s[i].size = 0;
	}
	assert_int_equal(upper(s, n, 0), 0); /* below all */
	assert_int_equal(upper(s, n, 9), 0);
	assert_int_equal(upper(s, n, 10), 1); /* equal: the index after it */
	assert_int_equal(upper(s, n, 11), 1); /* between */
	assert_int_equal(upper(s, n, 19), 1);
	assert_int_equal(upper(s, n, 20), 4); /* duplicates: after the last */
	assert_int_equal(upper(s, n, 21), 4);
	assert_int_equal(upper(s, n, 30), 5);
	assert_int_equal(upper(s, n, 49), 5);
	assert_int_equal(upper(s, n, 50), 6);
	assert_int_equal(upper(s, n, 51), 6); /* above all */
	assert_int_equal(upper(s, n, UINT64_MAX), 6);
	for (addr = 0; addr < 60; addr++)
		for (k = 0; k <= n; k++)
			assert_int_equal(upper(s, k, addr), upper_linear(s, k, addr));
	/* n = 0: none, whatever the address; the base is not read */
	assert_int_equal(upper(s, 0, 0), 0);
	assert_int_equal(upper(s, 0, UINT64_MAX), 0);
	assert_int_equal(bsearch_upper(NULL, 0, sizeof(struct sym), 16, 42), 0);
	/* all keys equal */
	for (i = 0; i < n; i++)
		s[i].start = 7;
	assert_int_equal(upper(s, n, 6), 0);
	assert_int_equal(upper(s, n, 7), n);
	/* the extremes of the key range */
	s[0].start = 0;
	s[n - 1].start = UINT64_MAX;
	assert_int_equal(upper(s, n, 0), 1);
	assert_int_equal(upper(s, n, UINT64_MAX - 1), n - 1);
	assert_int_equal(upper(s, n, UINT64_MAX), n);

	/* a larger table against the linear answer */
	for (i = 0; i < 257; i++) {
		big[i].flags = 0;
		big[i].start = 1000 + (i / 3) * 16; /* runs of three equal keys */
		big[i].size = 0;
	}
	for (addr = 990; addr < 1000 + 90 * 16; addr++)
		assert_int_equal(upper(big, 257, addr), upper_linear(big, 257, addr));

	/* an unaligned key */
	for (i = 0; i < 4; i++) {
		memset(ps[i].tag, 0xff, sizeof(ps[i].tag));
		ps[i].start = 100 * (i + 1);
	}
	assert_int_equal(
		bsearch_upper(ps, 4, sizeof(ps[0]), offsetof(struct packed_sym, start), 99), 0);
	assert_int_equal(
		bsearch_upper(ps, 4, sizeof(ps[0]), offsetof(struct packed_sym, start), 250), 2);
	assert_int_equal(
		bsearch_upper(ps, 4, sizeof(ps[0]), offsetof(struct packed_sym, start), 400), 4);
}

/* ---- label sets ---- */

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static void test_label_set(void **state)
{
	/* separate arrays, so equal sets do not share string pointers */
	char env[] = "env", host[] = "host", service[] = "service";
	char prod[] = "prod", h1[] = "h1", api[] = "api";
	const struct label a[] = { { "env", "prod" }, { "host", "h1" }, { "service", "api" } };
	const struct label same[] = { { env, prod }, { host, h1 }, { service, api } };
	const struct label other_value[] = { { "env", "prod" },
					     { "host", "h2" },
					     { "service", "api" } };
	const struct label other_name[] = { { "env", "prod" },
					    { "hosts", "h1" },
					    { "service", "api" } };
	const struct label last_differs[] = { { "env", "prod" },
					      { "host", "h1" },
					      { "service", "apj" } };
	struct label unsorted[] = {
		{ "zone", "z" }, { "app", "a" }, { "job", "j" }, { "env", "e" }
	};
	size_t i;

	assert_int_equal(label_set_cmp(a, 3, same, 3), 0);
	assert_int_equal(label_set_cmp(same, 3, a, 3), 0);
	assert_int_equal(label_set_cmp(a, 3, a, 3), 0);
	assert_int_equal(label_set_cmp(a, 0, same, 0), 0);
	/* a differing value */
	assert_true(label_set_cmp(a, 3, other_value, 3) < 0);
	assert_true(label_set_cmp(other_value, 3, a, 3) > 0);
	assert_true(label_set_cmp(a, 3, last_differs, 3) < 0);
	assert_true(label_set_cmp(last_differs, 3, a, 3) > 0);
	/* a differing name ("host" < "hosts") */
	assert_true(label_set_cmp(a, 3, other_name, 3) < 0);
	assert_true(label_set_cmp(other_name, 3, a, 3) > 0);
	/* a name decides before the value that follows */
	assert_true(label_set_cmp(other_name, 3, other_value, 3) > 0);
	/* one set a prefix of the other: the shorter first */
	assert_true(label_set_cmp(a, 2, a, 3) < 0);
	assert_true(label_set_cmp(a, 3, a, 2) > 0);
	assert_true(label_set_cmp(a, 0, a, 1) < 0);
	assert_true(label_set_cmp(a, 1, a, 0) > 0);
	assert_true(label_set_cmp(a, 2, other_value, 3) < 0);
	/* antisymmetric */
	assert_int_equal(sign(label_set_cmp(a, 3, other_value, 3)),
			 -sign(label_set_cmp(other_value, 3, a, 3)));

	/* get */
	assert_ptr_equal(label_set_get(a, 3, "env"), a[0].value);
	assert_ptr_equal(label_set_get(a, 3, "host"), a[1].value);
	assert_ptr_equal(label_set_get(a, 3, "service"), a[2].value);
	assert_string_equal(label_set_get(same, 3, "host"), "h1");
	assert_null(label_set_get(a, 3, "aaa")); /* before all */
	assert_null(label_set_get(a, 3, "zzz")); /* after all */
	assert_null(label_set_get(a, 3, "hos")); /* a prefix of a name */
	assert_null(label_set_get(a, 3, "hosts")); /* a name is a prefix of it */
	assert_null(label_set_get(a, 3, "Host"));
	assert_null(label_set_get(a, 3, ""));
	assert_null(label_set_get(a, 0, "env"));
	assert_null(label_set_get(NULL, 0, "env")); /* an empty set may have no array */
	assert_ptr_equal(label_set_get(a + 1, 1, "host"), a[1].value);
	assert_null(label_set_get(a + 1, 1, "env"));
	assert_ptr_equal(label_set_get(a, 2, "host"), a[1].value);
	assert_null(label_set_get(a, 2, "service"));

	/* label_cmp_name sorts a set for label_set_get */
	qsort(unsorted, 4, sizeof(unsorted[0]), label_cmp_name);
	for (i = 1; i < 4; i++)
		assert_true(strcmp(unsorted[i - 1].name, unsorted[i].name) < 0);
	assert_string_equal(unsorted[0].name, "app");
	assert_string_equal(label_set_get(unsorted, 4, "job"), "j");
	assert_string_equal(label_set_get(unsorted, 4, "zone"), "z");
	assert_int_equal(label_cmp_name(&a[0], &same[0]), 0);
	assert_true(label_cmp_name(&a[0], &a[1]) < 0);
	assert_true(label_cmp_name(&a[2], &a[1]) > 0);
}

/* ---- secret ---- */

static void test_secret(void **state)
{
	char s[] = "hunter2\0XYZ";
	char empty[] = "\0Q";
	char *dup;
	void *buf;
	size_t i;

	secret_wipe(s);
	for (i = 0; i < 7; i++)
		assert_int_equal(s[i], 0);
	/* the NUL and what lies past it are left alone */
	assert_int_equal(s[7], 0);
	assert_memory_equal(s + 8, "XYZ", 4);
	/* an empty string: nothing to wipe */
	secret_wipe(empty);
	assert_int_equal(empty[0], 0);
	assert_int_equal(empty[1], 'Q');
	secret_wipe(NULL);

	dup = strdup("token-abc");
	assert_non_null(dup);
	secret_free(dup);
	secret_free(NULL);
	buf = malloc(64);
	assert_non_null(buf);
	memset(buf, 'k', 64);
	secret_free_buf(buf, 64);
	secret_free_buf(NULL, 64);
	secret_free_buf(NULL, 0);
}

/* ---- utf8 ---- */

static void test_utf8(void **state)
{
	char out[16];

	assert_true(utf8_valid("", 0));
	assert_true(utf8_valid("plain", 5));
	assert_true(utf8_valid("\xc3\xa9", 2)); /* U+00E9 */
	assert_true(utf8_valid("\xe2\x82\xac", 3)); /* U+20AC */
	assert_true(utf8_valid("\xf0\x9f\x98\x80", 4)); /* U+1F600 */
	assert_true(utf8_valid("\xf4\x8f\xbf\xbf", 4)); /* U+10FFFF */
	assert_false(utf8_valid("\xc0\xaf", 2)); /* overlong */
	assert_false(utf8_valid("\xe0\x80\xaf", 3)); /* overlong */
	assert_false(utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
	assert_false(utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
	assert_false(utf8_valid("\xe2\x82", 2)); /* truncated */
	assert_false(utf8_valid("\x80", 1)); /* lone continuation */
	assert_false(utf8_valid("\xff", 1));

	assert_int_equal(utf8_copy(out,
				   "a\xff"
				   "b\xc3\xa9",
				   15),
			 5);
	assert_string_equal(out, "a_b\xc3\xa9");
	/* stops at a character boundary within the limit */
	assert_int_equal(utf8_copy(out, "h\xc3\xa9llo", 2), 1);
	assert_string_equal(out, "h");
	assert_int_equal(utf8_copy(out, "\xe2\x82", 15), 2);
	assert_string_equal(out, "__");
}

/* ---- clock ---- */

static void test_clock_ns(void **state)
{
	struct timespec ts = { 0, 2 * CLOCK_NS_PER_MS };
	uint64_t t0, t1, wall;
	time_t before, after;

	t0 = clock_ns(CLOCK_MONOTONIC);
	assert_int_equal(nanosleep(&ts, NULL), 0);
	t1 = clock_ns(CLOCK_MONOTONIC);
	assert_true(t1 - t0 >= 2 * CLOCK_NS_PER_MS);
	assert_true(t1 - t0 < 10 * CLOCK_NS_PER_SEC);
	/* the wall clock agrees with time(), which may be a tick coarser */
	before = time(NULL);
	wall = clock_ns(CLOCK_REALTIME);
	after = time(NULL);
	assert_true(wall / CLOCK_NS_PER_SEC + 1 >= (uint64_t)before);
	assert_true(wall / CLOCK_NS_PER_SEC <= (uint64_t)after + 1);
}

/* A string blob at its bound refuses the string, writes nothing past the
 * bound, and the refusal is counted under its bound. */
static void test_caps_strtab(void **state)
{
	struct strtab t = { .max = 16 };
	uint32_t off;

	(void)state;
	caps__reset();
	assert_int_equal(strtab__add(&t, "0123456789", 10, &off), 0);
	assert_int_equal(strtab__add(&t, "abcdefgh", 8, &off), -E2BIG);
	assert_int_equal(t.len, 11);
	assert_true(t.cap <= 16);
	assert_int_equal(caps__count(CAPS_STRTAB), 1);
	assert_int_equal(strtab__add(&t, "abcd", 4, &off), 0);
	assert_int_equal(t.len, 16);
	assert_int_equal(strtab__add(&t, "", 0, &off), -E2BIG);
	assert_int_equal(caps__count(CAPS_STRTAB), 2);
	free(t.data);
	caps__reset();
}

struct caps_lines_seen {
	char got[4][16];
	int n;
};

static int caps_line(void *ctx, const char *line, size_t len)
{
	struct caps_lines_seen *s = ctx;

	assert_true(len < sizeof(s->got[0]));
	assert_true(s->n < 4);
	memcpy(s->got[s->n], line, len);
	s->got[s->n++][len] = '\0';
	return 0;
}

/* Lines over max_line are dropped whole, whether split across chunks or
 * not, and counted both in the reader and process-wide. */
static void test_caps_lines(void **state)
{
	const char *a = "short\nwaytoolongline\nok\nlong", *b = "again_too_long\nend";
	struct caps_lines_seen seen = { 0 };
	struct lines l;

	(void)state;
	caps__reset();
	assert_int_equal(lines__init(&l, 8, caps_line, &seen), 0);
	assert_int_equal(lines__feed(&l, a, strlen(a)), 0);
	assert_int_equal(lines__feed(&l, b, strlen(b)), 0);
	assert_int_equal(lines__finish(&l), 0);
	lines__release(&l);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.got[0], "short");
	assert_string_equal(seen.got[1], "ok");
	assert_string_equal(seen.got[2], "end");
	assert_int_equal(l.overlong_lines, 2);
	assert_int_equal(caps__count(CAPS_LINE), 2);
	caps__reset();
}

/* The summary's fields: a total, then one integer field per bound hit. */
static void test_caps_format(void **state)
{
	char buf[256], small[24];

	(void)state;
	caps__reset();
	caps__format(buf, sizeof(buf));
	assert_string_equal(buf, "caps_hit=0");
	caps__hit(CAPS_AGG_STACKS, 3, 262144);
	caps__hit(CAPS_LINE, 12, 4096);
	caps__hit(CAPS_AGG_STACKS, 1, 262144);
	caps__format(buf, sizeof(buf));
	assert_string_equal(buf, "caps_hit=16 cap_agg_stacks=4 cap_line=12");
	/* Too small: whole fields only. */
	caps__format(small, sizeof(small));
	assert_string_equal(small, "caps_hit=16");
	assert_string_equal(caps__name(CAPS_SYM_TABLE), "sym_table");
	caps__reset();
	assert_int_equal(caps__count(CAPS_AGG_STACKS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arena_many_small),
		cmocka_unit_test(test_arena_alignment),
		cmocka_unit_test(test_arena_zeroed),
		cmocka_unit_test(test_arena_large),
		cmocka_unit_test(test_arena_reserve_commit),
		cmocka_unit_test(test_arena_reset_release),
		cmocka_unit_test(test_hchain),
		cmocka_unit_test(test_file_read),
		cmocka_unit_test(test_bsearch_upper),
		cmocka_unit_test(test_label_set),
		cmocka_unit_test(test_secret),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_clock_ns),
		cmocka_unit_test(test_caps_strtab),
		cmocka_unit_test(test_caps_lines),
		cmocka_unit_test(test_caps_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
