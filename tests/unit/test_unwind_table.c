// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_unwind_table.c - the CFI-to-table compiler: exact rows for CFI
 * written by hand in assembly (every rule the walker knows, and the ones it
 * must refuse), the same CFI found through .debug_frame, a debug file and
 * PT_GNU_EH_FRAME; every CFI row of compiled programs (with and without
 * frame pointers) and of libc against readelf's own interpretation; the
 * table's invariants; limits and corrupt input. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <linux/types.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "profiler.h"
#include "unwind_table.h"

#define FIX(name) FIXTURES_DIR "/" name
#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"

/* ---- helpers ---- */

/* A symbol's value from the file's .symtab, independent of the code under
 * test. */
static uint64_t sym_addr(const char *path, const char *name)
{
	int fd = open(path, O_RDONLY);
	Elf *e;
	Elf_Scn *scn = NULL;
	uint64_t v = 0;

	assert_true(fd >= 0);
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(e);
	while (!v && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t i;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		for (i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *n;

			if (!gelf_getsym(d, (int)i, &s))
				continue;
			n = elf_strptr(e, sh.sh_link, s.st_name);
			if (n && !strcmp(n, name)) {
				v = s.st_value;
				break;
			}
		}
	}
	elf_end(e);
	close(fd);
	if (!v)
		fail_msg("no symbol %s in %s", name, path);
	return v;
}

static void check_invariants(const struct unwind_table *t)
{
	size_t i;

	for (i = 1; i < t->nr; i++) {
		const struct prof_unwind_row *a = &t->rows[i - 1], *b = &t->rows[i];

		if (a->pc >= b->pc)
			fail_msg("rows %zu, %zu not sorted: %#x %#x", i - 1, i, a->pc, b->pc);
		if (a->rule == b->rule && a->cfa_off == b->cfa_off && a->rbp_off8 == b->rbp_off8)
			fail_msg("rows %zu, %zu equal at %#x", i - 1, i, b->pc);
	}
	if (t->nr)
		assert_int_equal(PROF_UNWIND_CFA_RULE(t->rows[t->nr - 1].rule), PROF_CFA_NONE);
}

static void compile_ok(const char *path, const char *debug, struct unwind_table *t,
		       struct unwind_table_stats *st)
{
	int r = unwind_table_compile(path, debug, 0, t, st);

	if (r)
		fail_msg("compile %s: %d", path, r);
	check_invariants(t);
}

/* The rule covering pc, as text ("rsp+16 rbp@cfa-16"). */
static const char *rule_at(const struct unwind_table *t, uint64_t pc)
{
	static char buf[64];
	const struct prof_unwind_row *r = unwind_table_find(t, pc);

	if (!r)
		return "(none before)";
	return unwind_row_str(r, buf, sizeof(buf));
}

#define assert_rule(t, pc, want)                                                                   \
	do {                                                                                       \
		const char *got__ = rule_at((t), (pc));                                            \
		if (strcmp(got__, (want)))                                                         \
			fail_msg("at %#llx: got '%s', want '%s'", (unsigned long long)(pc), got__, \
				 (want));                                                          \
	} while (0)

/* ---- hand-written CFI ---- */

/* Every function of cfi_asm.S, at its labels. */
static void check_asm_rows(const char *path, const struct unwind_table *t, bool first)
{
	const char *symfile = path;
	uint64_t fp = sym_addr(symfile, "cfi_fp");

	assert_rule(t, sym_addr(symfile, "cfi_leaf"), "rsp+8");
	assert_rule(t, sym_addr(symfile, "cfi_leaf") + 1, "rsp+8");
	assert_rule(t, fp, "rsp+8");
	assert_rule(t, sym_addr(symfile, "cfi_fp_pushed"), "rsp+16 rbp@cfa-16");
	assert_rule(t, sym_addr(symfile, "cfi_fp_framed"), "rbp+16 rbp@cfa-16");
	assert_rule(t, sym_addr(symfile, "cfi_fp_framed") + 2, "rbp+16 rbp@cfa-16");
	assert_rule(t, sym_addr(symfile, "cfi_fp_popped"), "rsp+8");
	assert_rule(t, sym_addr(symfile, "cfi_plt11"), "plt11");
	assert_rule(t, sym_addr(symfile, "cfi_plt11") + 31, "plt11");
	assert_rule(t, sym_addr(symfile, "cfi_plt10"), "plt10");
	assert_rule(t, sym_addr(symfile, "cfi_sig_s"), "signal");
	assert_rule(t, sym_addr(symfile, "cfi_sig_code"), "signal");
	assert_rule(t, sym_addr(symfile, "cfi_deref"), "rsp+8");
	assert_rule(t, sym_addr(symfile, "cfi_deref_set"), "*(rsp+16)");
	assert_rule(t, sym_addr(symfile, "cfi_end"), "stop");
	assert_rule(t, sym_addr(symfile, "cfi_rbx"), "none");
	assert_rule(t, sym_addr(symfile, "cfi_ra_off"), "none");
	assert_rule(t, sym_addr(symfile, "cfi_bigframe"), "rsp+8");
	assert_rule(t, sym_addr(symfile, "cfi_bigframe_sub"), "none");
	assert_rule(t, sym_addr(symfile, "cfi_bigframe_add"), "rsp+8");
	assert_rule(t, sym_addr(symfile, "cfi_rbp_reg"), "rsp+8");
	assert_rule(t, sym_addr(symfile, "cfi_rbp_reg_moved"), "rsp+8 rbp=u");
	/* 48 bytes without an FDE: a NONE row, then the next function */
	assert_rule(t, sym_addr(symfile, "cfi_nofde") + 8, "none");
	assert_rule(t, sym_addr(symfile, "cfi_after_gap"), "rsp+8");
	/* past the last FDE */
	assert_rule(t, sym_addr(symfile, "cfi_last"), "none");
	/* before the first one */
	if (first)
		assert_null(unwind_table_find(t, sym_addr(symfile, "cfi_leaf") - 1));
}

static void test_asm_eh_frame(void **state)
{
	struct unwind_table t;
	struct unwind_table_stats st;

	compile_ok(FIX("libcfi_asm.so"), NULL, &t, &st);
	check_asm_rows(FIX("libcfi_asm.so"), &t, true);
	assert_int_equal(st.eh_frame_fdes, 13);
	assert_int_equal(st.debug_frame_fdes, 0);
	assert_int_equal(st.skipped, 0);
	assert_int_equal(st.signal_fdes, 2);
	assert_int_equal(st.rows, t.nr);
	unwind_table_free(&t);
}

static bool rows_equal(const struct unwind_table *a, const struct unwind_table *b)
{
	return a->nr == b->nr && !memcmp(a->rows, b->rows, a->nr * sizeof(*a->rows));
}

/* The same CFI in .debug_frame, in a separate debug file, and behind
 * stripped section headers: the same table. */
static void test_asm_other_places(void **state)
{
	struct unwind_table ref, t;
	struct unwind_table_stats st;

	compile_ok(FIX("libcfi_asm.so"), NULL, &ref, &st);

	compile_ok(FIX("libcfi_dbgframe.so"), NULL, &t, &st);
	assert_int_equal(st.eh_frame_fdes, 0);
	assert_int_equal(st.debug_frame_fdes, 13);
	assert_true(rows_equal(&ref, &t));
	unwind_table_free(&t);

	/* the stripped library alone has no CFI; its debug file does */
	compile_ok(FIX("libcfi_dbgfile.so"), NULL, &t, &st);
	assert_int_equal(t.nr, 0);
	unwind_table_free(&t);
	compile_ok(FIX("libcfi_dbgfile.so"), FIX("libcfi_dbgfile.so.debug"), &t, &st);
	assert_int_equal(st.debug_frame_fdes, 13);
	assert_true(rows_equal(&ref, &t));
	unwind_table_free(&t);

	compile_ok(FIX("libcfi_nosections.so"), NULL, &t, &st);
	assert_int_equal(st.eh_frame_fdes, 13);
	assert_true(rows_equal(&ref, &t));
	unwind_table_free(&t);

	/* .eh_frame and .debug_frame both: .eh_frame's FDEs win, the
	 * others are counted as overlaps */
	compile_ok(FIX("libcfi_asm.so"), FIX("libcfi_dbgfile.so.debug"), &t, &st);
	assert_int_equal(st.eh_frame_fdes, 13);
	assert_int_equal(st.debug_frame_fdes, 0);
	assert_int_equal(st.overlap, 13);
	assert_true(rows_equal(&ref, &t));
	unwind_table_free(&t);
	unwind_table_free(&ref);
}

/* An entry point without an FDE (musl's _start) ends the stack. */
static void test_entry_without_fde(void **state)
{
	struct unwind_table t;
	struct unwind_table_stats st;
	uint64_t start = sym_addr(FIX("cfi_entry"), "_start");

	compile_ok(FIX("cfi_entry"), NULL, &t, &st);
	assert_int_equal(st.entry_stop, 1);
	assert_rule(&t, start, "stop");
	assert_rule(&t, start + 5, "stop");
	assert_rule(&t, sym_addr(FIX("cfi_entry"), "cfi_leaf"), "rsp+8");
	check_asm_rows(FIX("cfi_entry"), &t, false);
	unwind_table_free(&t);

	/* a library's entry with an FDE gets no extra row */
	compile_ok(FIX("libcfi_asm.so"), NULL, &t, &st);
	assert_int_equal(st.entry_stop, 0);
	unwind_table_free(&t);
}

/* ---- readelf as the truth ---- */

struct ri_cie {
	unsigned long off;
	bool signal;
	char cfa[32], rbp[32], ra[32];
	bool has_row;
};

struct ri {
	const struct unwind_table *t;
	struct ri_cie cies[512];
	size_t ncies;
	/* the current FDE */
	bool in_fde;
	struct ri_cie *cie;
	uint64_t lo, hi;
	bool fde_rows;
	int col_cfa, col_rbp, col_ra;
	/* the row waiting for the next LOC (equal LOCs: the last wins) */
	bool pending;
	uint64_t pend_pc;
	char pend_cfa[32], pend_rbp[32], pend_ra[32];
	bool in_cie_rows;
	/* results */
	size_t checked, skipped_exp, mismatches;
};

/* What the walker should get for a readelf row; false to skip it (a CFA
 * expression readelf only calls "exp"). */
static bool expected(const char *cfa, const char *rbp, const char *ra, bool signal, char *out,
		     size_t size)
{
	unsigned long n;
	char rb[24] = "";
	long o;

	if (signal) {
		snprintf(out, size, "signal");
		return true;
	}
	if (!strcmp(ra, "u")) {
		snprintf(out, size, "stop");
		return true;
	}
	if (strcmp(ra, "c-8")) {
		snprintf(out, size, "none");
		return true;
	}
	if (!strcmp(cfa, "exp"))
		return false;
	if (!strcmp(rbp, "u") || !strcmp(rbp, "s"))
		rb[0] = 0;
	else if (sscanf(rbp, "c%ld", &o) == 1 && o % 8 == 0 && o / 8 >= -128 && o / 8 <= 127)
		snprintf(rb, sizeof(rb), " rbp@cfa%+ld", o);
	else
		snprintf(rb, sizeof(rb), " rbp=u");
	if (sscanf(cfa, "rsp+%lu", &n) == 1 && n <= 65535)
		snprintf(out, size, "rsp+%lu%s", n, rb);
	else if (sscanf(cfa, "rbp+%lu", &n) == 1 && n <= 65535)
		snprintf(out, size, "rbp+%lu%s", n, rb);
	else
		snprintf(out, size, "none");
	return true;
}

static void ri_check(struct ri *ri, uint64_t pc, const char *cfa, const char *rbp, const char *ra)
{
	char want[64];
	const char *got;

	if (!ri->cie || pc < ri->lo || pc >= ri->hi || ri->lo == 0 || ri->hi > (1ull << 32))
		return;
	if (!expected(cfa, rbp, ra, ri->cie->signal, want, sizeof(want))) {
		ri->skipped_exp++;
		return;
	}
	got = rule_at(ri->t, pc);
	ri->checked++;
	/* a sigreturn stub found by its code, which readelf cannot know
	 * (the whole FDE is a signal frame): the tests check those by name */
	if (!strcmp(got, "signal") && unwind_table_find(ri->t, ri->lo) &&
	    PROF_UNWIND_CFA_RULE(unwind_table_find(ri->t, ri->lo)->rule) == PROF_CFA_SIGNAL)
		return;
	if (strcmp(got, want)) {
		if (ri->mismatches++ < 10)
			print_message(
				"mismatch at %#llx: got '%s', readelf says '%s' (cfa %s rbp %s ra %s)\n",
				(unsigned long long)pc, got, want, cfa, rbp, ra);
	}
}

static void ri_flush(struct ri *ri)
{
	if (ri->pending)
		ri_check(ri, ri->pend_pc, ri->pend_cfa, ri->pend_rbp, ri->pend_ra);
	ri->pending = false;
}

static void ri_end_fde(struct ri *ri)
{
	ri_flush(ri);
	/* an FDE without instructions runs on the CIE's initial row */
	if (ri->in_fde && !ri->fde_rows && ri->cie && ri->cie->has_row)
		ri_check(ri, ri->lo, ri->cie->cfa, ri->cie->rbp, ri->cie->ra);
	ri->in_fde = false;
	ri->in_cie_rows = false;
}

static void ri_line(struct ri *ri, char *line)
{
	unsigned long off, len, id, cie, lo, hi;
	char aug[32];
	char *tok[64];
	int ntok = 0, i;
	char *save = NULL, *p;

	if (strstr(line, " CIE \"") && sscanf(line, "%lx %lx %lx", &off, &len, &id) == 3) {
		ri_end_fde(ri);
		aug[0] = 0;
		sscanf(strstr(line, " CIE \""), " CIE \"%31[^\"]\"", aug);
		if (ri->ncies < 512) {
			struct ri_cie *c = &ri->cies[ri->ncies++];

			memset(c, 0, sizeof(*c));
			c->off = off;
			c->signal = strchr(aug, 'S') != NULL;
			ri->cie = c;
			ri->in_cie_rows = true;
		}
		return;
	}
	if (sscanf(line, "%lx %lx %lx FDE cie=%lx pc=%lx..%lx", &off, &len, &id, &cie, &lo, &hi) ==
	    6) {
		ri_end_fde(ri);
		ri->cie = NULL;
		for (i = 0; i < (int)ri->ncies; i++)
			if (ri->cies[i].off == cie)
				ri->cie = &ri->cies[i];
		ri->in_fde = true;
		ri->fde_rows = false;
		ri->lo = lo;
		ri->hi = hi;
		return;
	}
	/* "r10 (r10)" is one column */
	for (p = strtok_r(line, " \t\n", &save); p && ntok < 64; p = strtok_r(NULL, " \t\n", &save))
		if (p[0] != '(' || !ntok)
			tok[ntok++] = p;
	if (!ntok)
		return;
	if (!strcmp(tok[0], "LOC")) {
		ri->col_cfa = ri->col_rbp = ri->col_ra = -1;
		for (i = 1; i < ntok; i++) {
			if (!strcmp(tok[i], "CFA"))
				ri->col_cfa = i;
			else if (!strcmp(tok[i], "rbp"))
				ri->col_rbp = i;
			else if (!strcmp(tok[i], "ra"))
				ri->col_ra = i;
		}
		return;
	}
	if (ri->col_cfa < 0 || ri->col_ra < 0 || ntok <= ri->col_ra || ntok <= ri->col_cfa ||
	    (ri->col_rbp >= 0 && ntok <= ri->col_rbp) || sscanf(tok[0], "%lx", &lo) != 1)
		return;
	if (ri->in_cie_rows && ri->cie && !ri->cie->has_row) {
		snprintf(ri->cie->cfa, sizeof(ri->cie->cfa), "%s", tok[ri->col_cfa]);
		snprintf(ri->cie->rbp, sizeof(ri->cie->rbp), "%s",
			 ri->col_rbp >= 0 ? tok[ri->col_rbp] : "u");
		snprintf(ri->cie->ra, sizeof(ri->cie->ra), "%s", tok[ri->col_ra]);
		ri->cie->has_row = true;
		return;
	}
	if (!ri->in_fde)
		return;
	if (ri->pending && ri->pend_pc != lo)
		ri_flush(ri);
	ri->fde_rows = true;
	ri->pending = true;
	ri->pend_pc = lo;
	snprintf(ri->pend_cfa, sizeof(ri->pend_cfa), "%s", tok[ri->col_cfa]);
	snprintf(ri->pend_rbp, sizeof(ri->pend_rbp), "%s",
		 ri->col_rbp >= 0 ? tok[ri->col_rbp] : "u");
	snprintf(ri->pend_ra, sizeof(ri->pend_ra), "%s", tok[ri->col_ra]);
}

/* Every row readelf interprets in the file's section (.eh_frame, or
 * .debug_frame when the file has no .eh_frame) is checked against the
 * table; returns how many. */
static size_t check_against_readelf_section(const char *path, const char *section, size_t min_rows)
{
	struct unwind_table t;
	struct unwind_table_stats st;
	struct ri *ri = calloc(1, sizeof(*ri));
	char cmd[512], line[4096];
	bool in_eh = false;
	FILE *f;
	size_t n;

	assert_non_null(ri);
	compile_ok(path, NULL, &t, &st);
	ri->t = &t;
	ri->col_cfa = ri->col_ra = ri->col_rbp = -1;
	snprintf(cmd, sizeof(cmd), "readelf --debug-dump=frames-interp '%s' 2>/dev/null", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Contents of the ", 16)) {
			ri_end_fde(ri);
			in_eh = strstr(line, section) != NULL;
			continue;
		}
		if (in_eh)
			ri_line(ri, line);
	}
	ri_end_fde(ri);
	pclose(f); /* readelf exits 1 on some good files (libc): the count says it ran */
	print_message(
		"%s: %zu rows checked against readelf, %zu expressions skipped, %zu table rows, "
		"%.1f ms\n",
		path, ri->checked, ri->skipped_exp, t.nr, st.compile_ns / 1e6);
	if (ri->mismatches)
		fail_msg("%s: %zu rows differ from readelf", path, ri->mismatches);
	if (ri->checked < min_rows)
		fail_msg("%s: only %zu rows checked", path, ri->checked);
	n = ri->checked;
	free(ri);
	unwind_table_free(&t);
	return n;
}

static size_t check_against_readelf(const char *path, size_t min_rows)
{
	return check_against_readelf_section(path, ".eh_frame section", min_rows);
}

static void test_readelf_nofp(void **state)
{
	check_against_readelf(FIX("cfi_nofp"), 15);
}

static void test_readelf_fp(void **state)
{
	struct unwind_table t;
	struct unwind_table_stats st;
	uint64_t main_pc = sym_addr(FIX("cfi_fp"), "main");

	check_against_readelf(FIX("cfi_fp"), 15);
	/* with frame pointers, main's body runs on rbp */
	compile_ok(FIX("cfi_fp"), NULL, &t, &st);
	assert_int_equal(PROF_UNWIND_CFA_RULE(unwind_table_find(&t, main_pc)->rule), PROF_CFA_RSP);
	assert_int_equal(PROF_UNWIND_CFA_RULE(unwind_table_find(&t, main_pc + 8)->rule),
			 PROF_CFA_RBP);
	unwind_table_free(&t);
}

static void test_readelf_libc(void **state)
{
	struct unwind_table t;
	struct unwind_table_stats st;
	size_t i, signal = 0, stop = 0, plt = 0;

	check_against_readelf(LIBC, 20000);
	compile_ok(LIBC, NULL, &t, &st);
	assert_int_equal(st.skipped, 0);
	for (i = 0; i < t.nr; i++) {
		unsigned int r = PROF_UNWIND_CFA_RULE(t.rows[i].rule);

		signal += r == PROF_CFA_SIGNAL;
		stop += r == PROF_CFA_STOP;
		plt += r == PROF_CFA_PLT;
	}
	/* __restore_rt; clone and clone3's children; the PLT */
	assert_int_equal(signal, 1);
	assert_true(stop >= 2);
	assert_true(plt >= 1);
	print_message("libc: %zu FDEs, %zu rows, %zu bytes, %.1f ms\n", (size_t)st.fdes, t.nr,
		      t.nr * sizeof(*t.rows), st.compile_ns / 1e6);
	unwind_table_free(&t);
}

/* C++ and Rust programs at their defaults, and libstdc++ (its PLT, its
 * personality-carrying CIEs): every row as readelf reads it. */
static void test_readelf_langs(void **state)
{
	if (access(FIX("hxrust"), R_OK) || access(FIX("hxpoly"), R_OK)) {
		print_message("no Rust or C++ fixture: skipped\n");
		skip();
	}
	check_against_readelf(FIX("hxrust"), 1000);
	check_against_readelf(FIX("hxpoly"), 5);
	check_against_readelf("/lib/x86_64-linux-gnu/libstdc++.so.6", 25000);
}

/* Go keeps its CFI in a compressed .debug_frame only: libdw inflates it,
 * and the runtime's sigreturn stub is found by its code. */
static void test_go_compressed_debug_frame(void **state)
{
	struct unwind_table t;
	struct unwind_table_stats st;

	if (access(FIX("hxgo"), R_OK)) {
		print_message("no Go fixture (golang-go missing): skipped\n");
		skip();
	}
	check_against_readelf_section(FIX("hxgo"), ".debug_frame section", 1000);
	compile_ok(FIX("hxgo"), NULL, &t, &st);
	assert_int_equal(st.eh_frame_fdes, 0);
	assert_true(st.debug_frame_fdes > 500);
	assert_int_equal(st.signal_fdes, 1);
	assert_rule(&t, sym_addr(FIX("hxgo"), "runtime.sigreturn.abi0"), "signal");
	assert_rule(&t, sym_addr(FIX("hxgo"), "main.main"), "rsp+8");
	unwind_table_free(&t);
}

/* ---- limits and bad input ---- */

static void test_limits(void **state)
{
	struct unwind_table t;
	struct unwind_table_stats st;

	assert_int_equal(unwind_table_compile(LIBC, NULL, 1000, &t, &st), -E2BIG);
	assert_null(t.rows);
	assert_int_equal(unwind_table_compile(FIX("libcfi_asm.so"), NULL, 18, &t, &st), 0);
	unwind_table_free(&t);
	assert_int_equal(unwind_table_compile(FIX("libcfi_asm.so"), NULL, 17, &t, &st), -E2BIG);
	assert_int_equal(unwind_table_compile("/nonexistent/x", NULL, 0, &t, &st), -ENOENT);
	assert_int_equal(
		unwind_table_compile(TESTS_DIR "/unit/test_unwind_table.c", NULL, 0, &t, &st),
		-ENOEXEC);
	assert_int_equal(unwind_table_compile_mem("", 0, 0, &t, &st), -ENOEXEC);
	/* the debug file of another file, or not an ELF file: ignored */
	compile_ok(FIX("libcfi_asm.so"), TESTS_DIR "/unit/test_unwind_table.c", &t, &st);
	assert_int_equal(t.nr, 18);
	unwind_table_free(&t);
}

static uint8_t *read_whole(const char *path, size_t *size)
{
	struct stat sb;
	uint8_t *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	buf = malloc((size_t)sb.st_size);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)sb.st_size), sb.st_size);
	close(fd);
	*size = (size_t)sb.st_size;
	return buf;
}

/* Where .eh_frame is in the file. */
static void eh_frame_range(const uint8_t *img, size_t size, size_t *off, size_t *len)
{
	Elf *e = elf_memory((char *)(uintptr_t)img, size);
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	*off = *len = 0;
	assert_non_null(e);
	assert_int_equal(elf_getshdrstrndx(e, &shstrndx), 0);
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *n;

		if (gelf_getshdr(scn, &sh) && (n = elf_strptr(e, shstrndx, sh.sh_name)) &&
		    !strcmp(n, ".eh_frame")) {
			*off = sh.sh_offset;
			*len = sh.sh_size;
		}
	}
	elf_end(e);
	assert_true(*len > 0);
}

/* Corrupted .eh_frame bytes and truncated images: never a crash, a table
 * with its invariants or an error, and the damage counted. */
static void test_corrupt(void **state)
{
	size_t size, off, len, i, nbad = 0, counted = 0;
	uint8_t *img = read_whole(FIX("libcfi_asm.so"), &size);
	uint8_t *copy = malloc(size);
	uint64_t x = 0x9e3779b97f4a7c15ull;

	assert_non_null(copy);
	eh_frame_range(img, size, &off, &len);
	for (i = 0; i < 3000; i++) {
		struct unwind_table t;
		struct unwind_table_stats st;
		int k, flips = 1 + (int)(i % 4), r;

		memcpy(copy, img, size);
		for (k = 0; k < flips; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			copy[off + x % len] = (uint8_t)(x >> 32);
		}
		r = unwind_table_compile_mem(copy, size, 0, &t, &st);
		if (r) {
			assert_true(r == -ENOEXEC || r == -E2BIG);
			continue;
		}
		check_invariants(&t);
		if (st.skipped || st.frame_errors || st.none_rows > 3)
			counted++;
		if (t.nr != 18)
			nbad++;
		unwind_table_free(&t);
	}
	print_message("corrupt .eh_frame: %zu of 3000 tables differ, %zu counted damage\n", nbad,
		      counted);
	assert_true(counted > 0);

	/* cfi_rbx's ".cfi_def_cfa %rbx, 8" (0c 03 08) made into "CFA in
	 * register 256" (0d 80 02): libdw sized its register array by such
	 * numbers (up to gigabytes); here it is just not rsp or rbp, and the
	 * table is the same as before */
	{
		struct unwind_table t, ref;
		struct unwind_table_stats st;
		size_t at, hits = 0;

		assert_int_equal(unwind_table_compile_mem(img, size, 0, &ref, &st), 0);
		memcpy(copy, img, size);
		for (at = off; at + 3 <= off + len; at++)
			if (copy[at] == 0x0c && copy[at + 1] == 0x03 && copy[at + 2] == 0x08) {
				copy[at] = 0x0d;
				copy[at + 1] = 0x80;
				copy[at + 2] = 0x02;
				hits++;
			}
		assert_int_equal(hits, 1);
		assert_int_equal(unwind_table_compile_mem(copy, size, 0, &t, &st), 0);
		check_invariants(&t);
		assert_int_equal(st.skipped, 0);
		assert_int_equal(st.eh_frame_fdes, 13);
		assert_true(rows_equal(&ref, &t));
		unwind_table_free(&t);
		unwind_table_free(&ref);
	}

	/* every truncation of the image */
	for (i = 0; i < size; i += 97) {
		struct unwind_table t;
		struct unwind_table_stats st;

		if (!unwind_table_compile_mem(img, i, 0, &t, &st))
			check_invariants(&t);
		unwind_table_free(&t);
	}
	free(copy);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_asm_eh_frame),
		cmocka_unit_test(test_asm_other_places),
		cmocka_unit_test(test_entry_without_fde),
		cmocka_unit_test(test_readelf_nofp),
		cmocka_unit_test(test_readelf_fp),
		cmocka_unit_test(test_readelf_libc),
		cmocka_unit_test(test_readelf_langs),
		cmocka_unit_test(test_go_compressed_debug_frame),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_corrupt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
