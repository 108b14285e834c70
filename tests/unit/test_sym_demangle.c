// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_sym_demangle.c - C++ and Rust names as their languages spell them */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sym_demangle.h"

static void expect(const char *mangled, bool params, const char *want)
{
	struct arena a = { 0 };
	const char *got = sym_demangle(&a, mangled, params);

	if (want) {
		assert_non_null(got);
		assert_string_equal(got, want);
	} else {
		assert_null(got);
	}
	arena_release(&a);
}

static void test_cxx(void **state)
{
	/* Folded names: no parameters, template arguments kept (as perf). */
	expect("_ZN6hxpoly5MixerImE5churnEm", false, "hxpoly::Mixer<unsigned long>::churn");
	expect("_ZN6hxpoly5MixerImE5churnEm", true,
	       "hxpoly::Mixer<unsigned long>::churn(unsigned long)");
	expect("_ZNSt6vectorIiSaIiEE9push_backERKi", false,
	       "std::vector<int, std::allocator<int> >::push_back");
	/* Clone suffixes go with the parameters; version suffixes always. */
	expect("_Z3foov.cold", false, "foo");
	expect("_Z3foov@@GLIBCXX_3.4", true, "foo()");
	expect("_ZZ4mainENKUlvE_clEv", false, "main::{lambda()#1}::operator()");
}

static void test_rust(void **state)
{
	/* Legacy: the hash goes (the C++ demangler alone would keep it). */
	expect("_ZN2rs6hxpoly10rust_churn17h90ef0dc079882e53E", false, "rs::hxpoly::rust_churn");
	expect("_ZN2rs6hxpoly10rust_churn17h90ef0dc079882e53E.llvm.1234", false,
	       "rs::hxpoly::rust_churn");
	/* v0, with generic arguments. */
	expect("_RNvCs1234_7mycrate3foo", false, "mycrate::foo");
	expect("_RINvNtCs1234_7mycrate3mod3fooINtB4_3BarjEEB4_", false,
	       "mycrate::mod::foo::<mycrate::Bar<usize>>");
}

static void test_not_mangled(void **state)
{
	char long_name[SYM_DEMANGLE_MAX_IN + 16];

	assert_false(sym_demangle_candidate("main"));
	assert_true(sym_demangle_candidate("_Z3foov"));
	assert_true(sym_demangle_candidate("_RNvC1a3foo"));
	expect("main", false, NULL);
	expect("_Z", false, NULL);
	expect("_R", false, NULL);
	expect("_Zgarbage", false, NULL);
	expect("_RNv", false, NULL);
	expect("", false, NULL);
	/* Too long for libiberty's recursion limit: kept mangled, not tried. */
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	memcpy(long_name, "_ZN", 3);
	expect(long_name, false, NULL);
}

/* Base-62 backreference offset as v0 spells it: "_" for 0, else v-1 then "_". */
static void put_b62(char **p, unsigned int v)
{
	static const char d[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	char tmp[8];
	int n = 0;

	if (v--) {
		do
			tmp[n++] = d[v % 62];
		while (v /= 62);
	}
	while (n)
		*(*p)++ = tmp[--n];
	*(*p)++ = '_';
}

/* A v0 name whose generic argument refers back to the one before it, n
 * deep: printing it doubles with each level. libiberty took 9 s at 22 levels
 * and over a minute at 26; it must be refused at once, not demangled. */
static void test_rust_backref_bomb(void **state)
{
	char name[1024], *p;
	int n = 26, k;

	p = name;
	*p++ = '_';
	*p++ = 'R';
	for (k = n; k >= 1; k--)
		p += sprintf(p, "INvC1a1f");
	*p++ = 'j';
	for (k = 1; k <= n; k++) {
		*p++ = 'B';
		put_b62(&p, 8 * (n - k + 1));
		*p++ = 'E';
	}
	*p = '\0';
	expect(name, false, NULL);
}

/* A failed attempt leaves nothing behind in the arena. */
static void test_arena_reuse(void **state)
{
	struct arena a = { 0 };
	const char *x, *y;
	int i;

	for (i = 0; i < 10000; i++)
		assert_null(sym_demangle(&a, "_Zgarbage", false));
	x = sym_demangle(&a, "_Z3foov", false);
	y = sym_demangle(&a, "_Z3barv", false);
	assert_string_equal(x, "foo");
	assert_string_equal(y, "bar");
	arena_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cxx),
		cmocka_unit_test(test_rust),
		cmocka_unit_test(test_rust_backref_bomb),
		cmocka_unit_test(test_not_mangled),
		cmocka_unit_test(test_arena_reuse),
	};

	return cmocka_run_group_tests_name("sym_demangle", tests, NULL, NULL);
}
