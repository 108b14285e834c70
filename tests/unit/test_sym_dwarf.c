// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_sym_dwarf.c - source lines, inline chains and spelled names through
 * sym__user, on the fixtures built as their ecosystems build them */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "caps.h"
#include "sym.h"
#include "sym_dwarf.h"
#include "sym_test_elf.h"

static struct sym *new_sym(bool no_demangle, bool no_dwarf, size_t dwarf_bytes)
{
	struct sym_opts opts = { .proc_root = "/proc",
				 .no_demangle = no_demangle,
				 .no_dwarf = no_dwarf,
				 .dwarf_bytes = dwarf_bytes };
	struct sym *s = sym__new(&opts);

	assert_non_null(s);
	return s;
}

static struct sym_file *open_path(struct sym *s, const char *path)
{
	struct sym_map m = { .start = 0x1000, .end = 0x2000, .path = path };
	struct sym_file *f = sym__open_file(s, getpid(), &m);

	assert_non_null(f);
	return f;
}

/* The line of the first line of src holding marker, 1-based; 0 if none. */
static uint32_t marker_line(const char *src, const char *marker)
{
	char buf[512];
	uint32_t n = 0;
	FILE *f = fopen(src, "r");

	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f)) {
		n++;
		if (strstr(buf, marker)) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	return 0;
}

#define SRC(name) TESTS_DIR "/fixtures/lang/" name

/* hx_mix() inlined into hx_hot(): some address of hx_hot is two levels,
 * innermost hx_mix at a line of its body, then hx_hot at the call's line. */
static void test_inline_chain(void **state)
{
	const char *bin = FIXTURES_DIR "/hxinline", *src = SRC("hxinline.c");
	uint32_t mix_lo = marker_line(src, "BEGIN hx_mix"), mix_hi = marker_line(src, "END hx_mix");
	uint32_t hot_lo = marker_line(src, "BEGIN hx_hot"), hot_hi = marker_line(src, "END hx_hot");
	uint32_t call = marker_line(src, "CALL hx_mix");
	struct sym *s = new_sym(false, false, 0);
	struct sym_file *f = open_path(s, bin);
	struct sym_test_func fn;
	struct sym_result r;
	struct sym_stats st;
	uint64_t off;
	int inlined = 0, plain = 0;

	assert_true(mix_lo && mix_hi && hot_lo && hot_hi && call);
	assert_true(sym_test_func(bin, "hx_hot", &fn));
	for (off = fn.off; off < fn.off + fn.size; off++) {
		sym__user(s, f, &off, 1, &r);
		assert_int_equal(r.reason, SYM_OK);
		assert_string_equal(r.name, "hx_hot");
		assert_true(r.nlines >= 1);
		assert_string_equal(r.lines[r.nlines - 1].function, "hx_hot");
		assert_non_null(r.lines[r.nlines - 1].file);
		assert_non_null(strstr(r.lines[r.nlines - 1].file, "hxinline.c"));
		if (r.nlines == 2) {
			assert_string_equal(r.lines[0].function, "hx_mix");
			assert_null(r.lines[0].system_name);
			assert_true(r.lines[0].line >= mix_lo && r.lines[0].line <= mix_hi);
			assert_int_equal(r.lines[1].line, call);
			inlined++;
		} else {
			assert_int_equal(r.nlines, 1);
			assert_true(r.lines[0].line >= hot_lo && r.lines[0].line <= hot_hi);
			plain++;
		}
	}
	/* Most of the loop is the inlined body. */
	assert_true(inlined > plain);
	sym__stats(s, &st);
	assert_int_equal(st.dwarf_loads, 1);
	assert_int_equal(st.dwarf_errors, 0);
	assert_true(st.dwarf_bytes > 0);
	sym_file__put(f);
	sym__free(s);
}

/* A C++ template member reads as C++ spells it, the symbol kept beside. */
static void test_cxx_spelled(void **state)
{
	const char *bin = FIXTURES_DIR "/hxpoly", *src = SRC("hxpoly.cpp");
	const char *mangled = "_ZN6hxpoly5MixerImE5churnEm";
	uint32_t lo = marker_line(src, "BEGIN churn"), hi = marker_line(src, "END churn");
	struct sym_test_func fn;
	struct sym_result r;
	struct sym *s;
	struct sym_file *f;
	uint64_t off;

	assert_true(sym_test_func(bin, mangled, &fn));
	off = fn.off + fn.size / 2;
	s = new_sym(false, false, 0);
	f = open_path(s, bin);
	sym__user(s, f, &off, 1, &r);
	assert_int_equal(r.reason, SYM_OK);
	assert_string_equal(r.name, "hxpoly::Mixer<unsigned long>::churn");
	assert_string_equal(r.lines[r.nlines - 1].system_name, mangled);
	assert_true(r.lines[r.nlines - 1].line >= lo && r.lines[r.nlines - 1].line <= hi);
	sym_file__put(f);
	sym__free(s);

	/* --no-demangle: the symbol as it is, no system name beside it. */
	s = new_sym(true, false, 0);
	f = open_path(s, bin);
	sym__user(s, f, &off, 1, &r);
	assert_string_equal(r.name, mangled);
	assert_null(r.lines[r.nlines - 1].system_name);
	sym_file__put(f);
	sym__free(s);

	/* No DWARF: one level, no line. */
	s = new_sym(false, true, 0);
	f = open_path(s, bin);
	sym__user(s, f, &off, 1, &r);
	assert_string_equal(r.name, "hxpoly::Mixer<unsigned long>::churn");
	assert_int_equal(r.nlines, 1);
	assert_int_equal(r.lines[0].line, 0);
	assert_null(r.lines[0].file);
	sym_file__put(f);
	sym__free(s);
}

/* Rust without aranges: the unit index finds the line all the same. */
static void test_rust_spelled(void **state)
{
	const char *bin = FIXTURES_DIR "/hxrust";
	struct sym_test_func fn;
	struct sym_result r;
	struct sym *s = new_sym(false, false, 0);
	struct sym_file *f = open_path(s, bin);
	uint64_t off;
	char name[64];
	FILE *p;

	/* The hash differs per build: find the symbol by its prefix. */
	p = popen("nm " FIXTURES_DIR "/hxrust | grep -o '_ZN2rs6hxpoly10rust_churn17h[0-9a-f]*E'",
		  "r");
	assert_non_null(p);
	assert_non_null(fgets(name, sizeof(name), p));
	name[strcspn(name, "\n")] = '\0';
	pclose(p);
	assert_true(sym_test_func(bin, name, &fn));
	off = fn.off + fn.size / 2;
	sym__user(s, f, &off, 1, &r);
	assert_int_equal(r.reason, SYM_OK);
	assert_string_equal(r.name, "rs::hxpoly::rust_churn");
	assert_string_equal(r.lines[r.nlines - 1].system_name, name);
	assert_non_null(r.lines[r.nlines - 1].file);
	assert_true(r.lines[r.nlines - 1].line > 0);
	sym_file__put(f);
	sym__free(s);
}

/* Corrupt DWARF: names stay, lines go, a counter says so; never a crash. */
static void test_corrupt_dwarf(void **state)
{
	char dir[] = "/tmp/ember-dwarf-XXXXXX", path[256];
	const char *bin = FIXTURES_DIR "/hxinline";
	struct sym_test_func fn;
	struct sym_result r;
	struct sym_stats st;
	struct sym *s;
	struct sym_file *f;
	size_t len, i, k;
	char *img;
	uint64_t off;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bad", dir);
	img = sym_test_read_file(bin, &len);
	assert_non_null(img);
	assert_true(sym_test_func(bin, "hx_hot", &fn));
	/* Every byte of every .debug_ section overwritten, in turn, by a few
	 * patterns: what libdw reads is garbage, the ELF around it is fine. */
	for (k = 0; k < 3; k++) {
		char *copy = malloc(len);
		Elf *e;
		Elf_Scn *scn = NULL;
		size_t shstrndx;
		GElf_Shdr sh;

		memcpy(copy, img, len);
		assert_int_equal(elf_version(EV_CURRENT), EV_CURRENT);
		e = elf_memory(copy, len);
		assert_non_null(e);
		assert_int_equal(elf_getshdrstrndx(e, &shstrndx), 0);
		while ((scn = elf_nextscn(e, scn))) {
			const char *n;

			gelf_getshdr(scn, &sh);
			n = elf_strptr(e, shstrndx, sh.sh_name);
			if (!n || strncmp(n, ".debug_", 7) || sh.sh_offset + sh.sh_size > len)
				continue;
			for (i = 0; i < sh.sh_size; i++)
				copy[sh.sh_offset + i] = k == 0 ? 0xff : k == 1 ? (char)i : 0;
		}
		elf_end(e);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, copy, len), (ssize_t)len);
		close(fd);
		free(copy);

		s = new_sym(false, false, 0);
		f = open_path(s, path);
		for (off = fn.off; off < fn.off + fn.size; off += 3) {
			sym__user(s, f, &off, 1, &r);
			assert_int_equal(r.reason, SYM_OK);
			assert_string_equal(r.name, "hx_hot");
		}
		sym__stats(s, &st);
		assert_int_equal(st.dwarf_loads, 1);
		sym_file__put(f);
		sym__free(s);
	}
	free(img);
	unlink(path);
	rmdir(dir);
}

/* A bound smaller than one file's DWARF: the file is not read, names stay. */
static void test_dwarf_bound(void **state)
{
	const char *bin = FIXTURES_DIR "/hxgo";
	struct sym_test_func fn;
	struct sym_result r;
	struct sym_stats st;
	struct sym *s = new_sym(false, false, 4096);
	struct sym_file *f = open_path(s, bin);
	uint64_t off;

	caps__reset();
	assert_true(sym_test_func(bin, "main.goChurn", &fn));
	off = fn.off;
	sym__user(s, f, &off, 1, &r);
	assert_int_equal(r.reason, SYM_OK);
	assert_string_equal(r.name, "main.goChurn");
	sym__stats(s, &st);
	assert_true(st.dwarf_bytes <= 4096);
	/* The DWARF left out is counted: caps_hit names the bound. */
	assert_int_equal(caps__count(CAPS_DWARF), 1);
	sym_file__put(f);
	sym__free(s);
}

/* A file cut short while its DWARF is open, between one lookup and the
 * next of the same batch (the handle is not looked up again): the open
 * handle never faults, since libdw read the file rather than mapped it.
 * The next batch notices the change: a counter, the symbol's name or
 * file+offset, never a crash (SIGBUS when it was mapped). */
static void test_truncated_under_us(void **state)
{
	char dir[] = "/tmp/ember-dwarf-XXXXXX", path[256];
	const char *bin = FIXTURES_DIR "/hxinline";
	struct sym_dwarf_cache *c = sym_dwarf_cache__new(8u << 20);
	struct sym_cache_key key = { .len = 4, .bytes = "trnc" };
	struct sym_line out[SYM_DWARF_MAX_LEVELS];
	struct sym_test_func fn;
	struct sym_dwarf *d;
	struct sym_result r;
	struct sym_stats st;
	struct arena names = { 0 };
	struct sym *s;
	struct sym_file *f;
	uint64_t vaddr, off;
	size_t len;
	char *img;
	int fd, err, n, i;

	assert_non_null(c);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/trunc", dir);
	img = sym_test_read_file(bin, &len);
	assert_non_null(img);
	assert_true(sym_test_func(bin, "hx_hot", &fn));
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, len), (ssize_t)len);

	/* The module itself: open, cut to a page, look up in the same handle. */
	d = sym_dwarf_cache__get(c, &key, fd, &err);
	assert_non_null(d);
	vaddr = fn.vaddr;
	n = sym_dwarf__lookup(c, d, vaddr, &names, out, SYM_DWARF_MAX_LEVELS);
	assert_true(n >= 1);
	assert_int_equal(ftruncate(fd, 4096), 0);
	for (i = 0; i < 64; i++) {
		n = sym_dwarf__lookup(c, d, vaddr + (uint64_t)i % fn.size, &names, out,
				      SYM_DWARF_MAX_LEVELS);
		assert_true(n >= 0);
	}
	/* Asked again: changed, read again, and now there is nothing to read. */
	d = sym_dwarf_cache__get(c, &key, fd, &err);
	assert_null(d);
	assert_true(err == 0 || err == -ENOEXEC);
	sym_dwarf_cache__free(c);
	arena_release(&names);

	/* Through the symbolizer: named with lines, cut, named from what is
	 * left (file+offset when the symbol names are gone), counted. */
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(pwrite(fd, img, len, 0), (ssize_t)len);
	s = new_sym(false, false, 0);
	f = open_path(s, path);
	off = fn.off;
	sym__user(s, f, &off, 1, &r);
	assert_int_equal(r.reason, SYM_OK);
	assert_string_equal(r.name, "hx_hot");
	assert_true(r.nlines >= 1 && r.lines[0].line > 0);
	assert_int_equal(ftruncate(fd, len / 2), 0);
	for (i = 0; i < 4; i++) {
		off = fn.off + (uint64_t)i;
		sym__user(s, f, &off, 1, &r);
		assert_true(r.reason != SYM_OK || (r.name && r.nlines >= 1));
	}
	sym__stats(s, &st);
	assert_true(st.dwarf_errors + st.stale_tables + st.name_errors >= 1);
	sym_file__put(f);
	sym__free(s);
	close(fd);
	free(img);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline_chain), cmocka_unit_test(test_cxx_spelled),
		cmocka_unit_test(test_rust_spelled), cmocka_unit_test(test_corrupt_dwarf),
		cmocka_unit_test(test_dwarf_bound),  cmocka_unit_test(test_truncated_under_us),
	};

	return cmocka_run_group_tests_name("sym_dwarf", tests, NULL, NULL);
}
