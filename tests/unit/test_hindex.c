// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_hindex.c - the hash index: finds what was added, tells equal hashes
 * apart through eq(), grows, clears and releases */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hindex.h"

#define N 5000

static uint64_t keys[N + 1];

static bool key_eq(const void *ctx, uint32_t val, const void *key)
{
	const uint64_t *table = ctx;

	return table[val] == *(const uint64_t *)key;
}

/* Every key in one bucket chain: only eq() separates them. */
static uint64_t bad_hash(uint64_t k)
{
	return 42 + (k & 0);
}

static void check(uint64_t (*hash)(uint64_t))
{
	struct hindex ix = { 0 };
	uint64_t missing = 7 * N + 3;
	uint32_t i;

	for (i = 1; i <= N; i++) {
		keys[i] = (uint64_t)i * 7;
		assert_int_equal(hindex_find(&ix, hash(keys[i]), key_eq, keys, &keys[i]), 0);
		assert_int_equal(hindex_add(&ix, hash(keys[i]), i), 0);
	}
	assert_int_equal(ix.len, N);
	assert_true(ix.cap * 3 >= ix.len * 4);
	for (i = 1; i <= N; i++)
		assert_int_equal(hindex_find(&ix, hash(keys[i]), key_eq, keys, &keys[i]), i);
	assert_int_equal(hindex_find(&ix, hash(missing), key_eq, keys, &missing), 0);

	hindex_clear(&ix);
	assert_int_equal(ix.len, 0);
	assert_true(ix.cap > 0);
	assert_int_equal(hindex_find(&ix, hash(keys[1]), key_eq, keys, &keys[1]), 0);
	hindex_release(&ix);
	assert_null(ix.slots);
	assert_int_equal(hindex_find(&ix, hash(keys[1]), key_eq, keys, &keys[1]), 0);
}

static void test_spread_hashes(void **state)
{
	check(hindex_mix64);
}

static void test_colliding_hashes(void **state)
{
	check(bad_hash);
}

static void test_hash_bytes(void **state)
{
	assert_int_equal(hindex_hash_bytes("abc", 3), hindex_hash_bytes("abc", 3));
	assert_int_not_equal(hindex_hash_bytes("abc", 3), hindex_hash_bytes("abd", 3));
	assert_int_not_equal(hindex_hash_bytes("", 0), hindex_hash_bytes("\0", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spread_hashes),
		cmocka_unit_test(test_colliding_hashes),
		cmocka_unit_test(test_hash_bytes),
	};

	return cmocka_run_group_tests_name("hindex", tests, NULL, NULL);
}
