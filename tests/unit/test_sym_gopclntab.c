// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_sym_gopclntab.c - Go functions named from .gopclntab when the
 * symbol table is stripped, and corrupt tables refused without a crash */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sym.h"
#include "sym_gopclntab.h"
#include "sym_test_elf.h"

#define CORPUS TESTS_DIR "/fuzz/corpus/fuzz_gopclntab/"

/* A hand-built Go 1.18 table: main.a at 0x401000, main.b at 0x401040. */
static void test_small_table(void **state)
{
	struct arena a = { 0 };
	const char *name, *file;
	struct sym_go *g;
	uint64_t entry;
	uint32_t line;
	size_t len;
	char *img = sym_test_read_file(CORPUS "go118_small", &len);

	assert_non_null(img);
	assert_int_equal(sym_go__scan((const uint8_t *)img, len, 0), 0);
	assert_int_equal(sym_go__new(-1, img, 0, len, 0, 1u << 20, &g), 0);
	assert_int_equal(sym_go__lookup(g, 0x401010, &a, &name, &entry, &file, &line), 0);
	assert_string_equal(name, "main.a");
	assert_int_equal(entry, 0x401000);
	assert_string_equal(file, "/src/x.go");
	assert_int_equal(line, 9);
	assert_int_equal(sym_go__lookup(g, 0x401050, &a, &name, &entry, &file, &line), 0);
	assert_string_equal(name, "main.b");
	assert_int_equal(entry, 0x401040);
	assert_int_equal(sym_go__lookup(g, 0x401080, &a, &name, &entry, &file, &line), -ENOENT);
	assert_int_equal(sym_go__lookup(g, 0x400fff, &a, &name, &entry, &file, &line), -ENOENT);
	sym_go__free(g);

	/* Every truncation and every single-byte change: refused or read,
	 * never a crash (the sanitized build checks the bounds). */
	for (size_t cut = 0; cut < len; cut++) {
		if (!sym_go__new(-1, img, 0, cut, 0, 1u << 20, &g)) {
			sym_go__lookup(g, 0x401010, &a, &name, &entry, &file, &line);
			sym_go__free(g);
		}
	}
	for (size_t i = 0; i < len; i++) {
		char save = img[i];

		img[i] ^= 0x5a;
		if (!sym_go__new(-1, img, 0, len, 0, 1u << 20, &g)) {
			sym_go__lookup(g, 0x401010, &a, &name, &entry, &file, &line);
			sym_go__lookup(g, 0x401050, &a, &name, &entry, &file, &line);
			sym_go__free(g);
		}
		img[i] = save;
	}
	arena_release(&a);
	free(img);
}

static uint32_t marker_line(const char *src, const char *marker)
{
	char buf[512];
	uint32_t n = 0;
	FILE *f = fopen(src, "r");

	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f)) {
		n++;
		if (strstr(buf, marker))
			break;
	}
	fclose(f);
	return n;
}

static void lookup(const char *bin, uint64_t off, struct sym_result *r, struct sym_stats *st)
{
	struct sym_opts opts = { .proc_root = "/proc" };
	struct sym *s = sym__new(&opts);
	struct sym_map m = { .start = 0x1000, .end = 0x2000, .path = bin };
	struct sym_file *f;

	assert_non_null(s);
	f = sym__open_file(s, getpid(), &m);
	assert_non_null(f);
	sym__user(s, f, &off, 1, r);
	assert_int_equal(r->reason, SYM_OK);
	assert_string_equal(r->name, "main.goChurn");
	sym__stats(s, st);
	/* Strings live until the next call: checked by the caller first. */
	assert_true(r->nlines >= 1);
	assert_non_null(r->lines[r->nlines - 1].file);
	assert_non_null(strstr(r->lines[r->nlines - 1].file, "hxgo.go"));
	{
		const char *src = TESTS_DIR "/fixtures/lang/hxgo.go";
		uint32_t lo = marker_line(src, "BEGIN goChurn"),
			 hi = marker_line(src, "END goChurn");

		assert_true(r->lines[r->nlines - 1].line >= lo &&
			    r->lines[r->nlines - 1].line <= hi);
	}
	sym_file__put(f);
	sym__free(s);
}

/* -s -w: no symbols, no DWARF; the name and line come from .gopclntab. A
 * Go binary with symbols keeps using them. */
static void test_go_binaries(void **state)
{
	struct sym_test_func fn = { 0 };
	struct sym_result r;
	struct sym_stats st;

	/* Same source, same linker: the code sits at the same offsets. */
	assert_true(sym_test_func(FIXTURES_DIR "/hxgo", "main.goChurn", &fn));
	lookup(FIXTURES_DIR "/hxgostrip", fn.off + 8, &r, &st);
	assert_int_equal(st.go_tables, 1);
	lookup(FIXTURES_DIR "/hxgo", fn.off + 8, &r, &st);
	assert_int_equal(st.go_tables, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_table),
		cmocka_unit_test(test_go_binaries),
	};

	return cmocka_run_group_tests_name("sym_gopclntab", tests, NULL, NULL);
}
