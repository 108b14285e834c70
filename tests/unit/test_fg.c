// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_fg.c - the flame graph model, readers, layout maths and diff shares */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <zlib.h>

#include "caps.h"
#include "fg_diff.h"
#include "fg_read.h"
#include "fg_svg.h"
#include "fg_tree.h"
#include "profile.pb-c.h"

struct fx {
	struct fg_names *names;
	struct fg_tree *t;
	struct fg_read r;
};

static struct fx fx_new(bool reverse, size_t max_nodes)
{
	struct fx f = { 0 };

	f.names = fg_names__new(1 << 20);
	assert_non_null(f.names);
	f.t = fg_tree__new(f.names, max_nodes, reverse);
	assert_non_null(f.t);
	return f;
}

static void fx_free(struct fx *f)
{
	fg_tree__free(f->t);
	fg_names__free(f->names);
}

static int read_str(struct fx *f, const char *text)
{
	return fg_read_buf(f->t, "test", text, strlen(text), &f->r);
}

/* The node at path "a;b;c" (root first), or FG_NONE. */
static uint32_t node_at(const struct fx *f, const char *path)
{
	char buf[256], *save = NULL, *tok;
	uint32_t at = FG_ROOT, id;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		if (fg_names__intern(f->names, tok, strlen(tok), &id))
			return FG_NONE;
		at = fg_tree__child(f->t, at, id);
		if (at == FG_NONE)
			return FG_NONE;
	}
	return at;
}

static const struct fg_node *node(const struct fx *f, const char *path)
{
	size_t n;
	uint32_t i = node_at(f, path);

	assert_int_not_equal(i, FG_NONE);
	return &fg_tree__nodes(f->t, &n)[i];
}

static void test_folded_merge(void **state)
{
	struct fx f = fx_new(false, 1000);
	const struct fg_node *nd;
	size_t n;

	assert_int_equal(read_str(&f, "# a comment\n"
				      "app;main;foo 30\r\n"
				      "app;main;bar 60\n"
				      "\n"
				      "app;main;foo;do work 10\n"
				      "app;;main;foo 5   \n"
				      "app;main 0\n"
				      "app;main;bar\t2"),
			 0);
	assert_int_equal(fg_tree__finish(f.t), 0);
	nd = fg_tree__nodes(f.t, &n);
	assert_int_equal(nd[FG_ROOT].total, 107);
	assert_int_equal(node(&f, "app;main")->total, 107);
	assert_int_equal(node(&f, "app;main")->self, 0);
	assert_int_equal(node(&f, "app;main;foo")->total, 45);
	assert_int_equal(node(&f, "app;main;foo")->self, 35);
	assert_int_equal(node(&f, "app;main;foo;do work")->total, 10);
	assert_int_equal(node(&f, "app;main;bar")->total, 62);
	/* Lines with samples: "app;main 0" adds none. */
	assert_int_equal(f.r.lines, 5);
	assert_string_equal(f.r.type, "samples/count");
	/* Children in name order after finish: bar before foo. */
	assert_string_equal(fg_names__str(f.names, nd[node(&f, "app;main")->child].name), "bar");
	fx_free(&f);
}

static void test_folded_errors(void **state)
{
	static const char *const bad[] = { "app;main\n", "app;main 12x\n", "a;b 1\nc;d\n",
					   "a 99999999999999999999\n" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fx f = fx_new(false, 1000);

		assert_int_equal(read_str(&f, bad[i]), -EPROTO);
		assert_non_null(strstr(f.r.err, "test: line "));
		fx_free(&f);
	}
}

static void test_names_repaired(void **state)
{
	struct fx f = fx_new(false, 1000);
	const struct fg_node *nd;
	size_t n;

	assert_int_equal(read_str(&f, "a\xff\xfe<&>\"x\" 3\n"), 0);
	nd = fg_tree__nodes(f.t, &n);
	assert_int_equal(n, 2);
	assert_string_equal(fg_names__str(f.names, nd[1].name), "a__<&>\"x\"");
	fx_free(&f);
}

static void test_reverse(void **state)
{
	struct fx f = fx_new(true, 1000);

	assert_int_equal(read_str(&f, "a;b;leaf 3\nc;leaf 4\na;b 1\n"), 0);
	assert_int_equal(fg_tree__finish(f.t), 0);
	assert_int_equal(node(&f, "leaf")->total, 7);
	assert_int_equal(node(&f, "leaf;b;a")->self, 3);
	assert_int_equal(node(&f, "leaf;c")->total, 4);
	assert_int_equal(node(&f, "b;a")->total, 1);
	fx_free(&f);
}

static void test_node_bound(void **state)
{
	/* Root + 3 nodes: the fourth frame has no room. */
	struct fx f = fx_new(false, 4);
	const struct fg_node *nd;
	size_t n;

	caps__reset();
	assert_int_equal(read_str(&f, "a;b;c 2\na;b;c;d 5\nx 1\n"), 0);
	nd = fg_tree__nodes(f.t, &n);
	assert_int_equal(n, 4);
	/* Nothing is lost: d's samples stay on c, x's on the root. */
	assert_int_equal(nd[FG_ROOT].total, 8);
	assert_int_equal(node(&f, "a;b;c")->self, 7);
	assert_int_equal(nd[FG_ROOT].self, 1);
	assert_int_equal(fg_tree__truncated(f.t), 6);
	assert_int_equal(caps__count(CAPS_FG_NODES), 2);
	fx_free(&f);
}

/* A pprof with two sample types, an inlined location and a location
 * without lines, packed by protobuf-c and deflated (zlib) when asked. */
static void *make_pprof(bool corrupt, bool zip, size_t *len)
{
	Perftools__Profiles__Profile p = PERFTOOLS__PROFILES__PROFILE__INIT;
	Perftools__Profiles__ValueType vt[2] = { PERFTOOLS__PROFILES__VALUE_TYPE__INIT,
						 PERFTOOLS__PROFILES__VALUE_TYPE__INIT };
	Perftools__Profiles__ValueType *vtp[2] = { &vt[0], &vt[1] };
	Perftools__Profiles__Function fn[3] = { PERFTOOLS__PROFILES__FUNCTION__INIT,
						PERFTOOLS__PROFILES__FUNCTION__INIT,
						PERFTOOLS__PROFILES__FUNCTION__INIT };
	Perftools__Profiles__Function *fnp[3] = { &fn[0], &fn[1], &fn[2] };
	Perftools__Profiles__Line ln[3] = { PERFTOOLS__PROFILES__LINE__INIT,
					    PERFTOOLS__PROFILES__LINE__INIT,
					    PERFTOOLS__PROFILES__LINE__INIT };
	Perftools__Profiles__Line *l_main[1] = { &ln[0] }, *l_inl[2] = { &ln[2], &ln[1] };
	Perftools__Profiles__Location loc[3] = { PERFTOOLS__PROFILES__LOCATION__INIT,
						 PERFTOOLS__PROFILES__LOCATION__INIT,
						 PERFTOOLS__PROFILES__LOCATION__INIT };
	Perftools__Profiles__Location *locp[3] = { &loc[0], &loc[1], &loc[2] };
	Perftools__Profiles__Mapping map = PERFTOOLS__PROFILES__MAPPING__INIT;
	Perftools__Profiles__Mapping *mapp[1] = { &map };
	Perftools__Profiles__Sample s[2] = { PERFTOOLS__PROFILES__SAMPLE__INIT,
					     PERFTOOLS__PROFILES__SAMPLE__INIT };
	Perftools__Profiles__Sample *sp[2] = { &s[0], &s[1] };
	/* protobuf-c's string table is char **: writable copies. */
	static char s_[] = "", s1[] = "samples", s2[] = "count", s3[] = "cpu", s4[] = "nanoseconds",
		    s5[] = "main", s6[] = "outer;x", s7[] = "inner", s8[] = "/usr/lib/libz.so";
	char *strs[] = { s_, s1, s2, s3, s4, s5, s6, s7, s8 };
	uint64_t st0[] = { 20, 10 }, st1[] = { 30, 10 };
	int64_t v0[] = { 2, 200 }, v1[] = { 1, 100 };
	unsigned char *buf, *out;
	size_t n;
	uLongf zlen;

	vt[0].type = 1, vt[0].unit = 2, vt[1].type = 3, vt[1].unit = 4;
	fn[0].id = 1, fn[0].name = 5, fn[1].id = 2, fn[1].name = 6, fn[2].id = 3, fn[2].name = 7;
	ln[0].function_id = 1, ln[1].function_id = 2, ln[2].function_id = corrupt ? 99 : 3;
	map.id = 4, map.memory_start = 0x1000, map.file_offset = 0x200, map.filename = 8;
	loc[0].id = 10, loc[0].n_line = 1, loc[0].line = l_main;
	/* lines innermost first: inner inlined into outer */
	loc[1].id = 20, loc[1].n_line = 2, loc[1].line = l_inl;
	loc[2].id = 30, loc[2].mapping_id = 4, loc[2].address = 0x1234;
	s[0].n_location_id = 2, s[0].location_id = st0, s[0].n_value = 2, s[0].value = v0;
	s[1].n_location_id = 2, s[1].location_id = st1, s[1].n_value = 2, s[1].value = v1;
	p.n_sample_type = 2, p.sample_type = vtp;
	p.n_function = 3, p.function = fnp;
	p.n_location = 3, p.location = locp;
	p.n_mapping = 1, p.mapping = mapp;
	p.n_sample = 2, p.sample = sp;
	p.n_string_table = sizeof(strs) / sizeof(strs[0]), p.string_table = strs;
	n = perftools__profiles__profile__get_packed_size(&p);
	buf = malloc(n);
	assert_non_null(buf);
	perftools__profiles__profile__pack(&p, buf);
	if (!zip) {
		*len = n;
		return buf;
	}
	zlen = compressBound(n);
	out = malloc(zlen);
	assert_non_null(out);
	assert_int_equal(compress2(out, &zlen, buf, n, 6), Z_OK);
	free(buf);
	*len = zlen;
	return out;
}

static void test_pprof(void **state)
{
	int zip;

	for (zip = 0; zip <= 1; zip++) {
		struct fx f = fx_new(false, 1000);
		size_t len;
		void *p = make_pprof(false, zip, &len);

		assert_int_equal(fg_read_buf(f.t, "p", p, len, &f.r), 0);
		/* The cpu type is chosen over the first, and said. */
		assert_string_equal(f.r.type, "cpu/nanoseconds");
		assert_non_null(strstr(f.r.note, "using cpu/nanoseconds"));
		assert_int_equal(f.r.samples, 2);
		assert_int_equal(node(&f, "main")->total, 300);
		/* A name holding ';' stays one frame: nothing splits pprof names. */
		{
			size_t n;
			const struct fg_node *nd = fg_tree__nodes(f.t, &n);
			uint32_t m = node_at(&f, "main"), c = nd[m].child;

			assert_int_equal(n, 5);
			assert_true(c != FG_NONE);
		}
		fx_free(&f);
		free(p);
	}
}

static void test_pprof_corrupt(void **state)
{
	struct fx f = fx_new(false, 1000);
	size_t len;
	unsigned char *p = make_pprof(true, false, &len);

	assert_int_equal(fg_read_buf(f.t, "p", p, len, &f.r), -EPROTO);
	assert_non_null(strstr(f.r.err, "function 99"));
	free(p);
	fx_free(&f);

	f = fx_new(false, 1000);
	p = make_pprof(false, true, &len);
	/* A zlib stream cut in half. */
	assert_int_equal(fg_read_buf(f.t, "p", p, len / 2, &f.r), -EPROTO);
	assert_non_null(strstr(f.r.err, "truncated"));
	free(p);
	fx_free(&f);
}

static void test_pprof_names(void **state)
{
	struct fx f = fx_new(false, 1000);
	const struct fg_node *nd;
	size_t len, n, i;
	void *p = make_pprof(false, false, &len);
	bool outer = false, inner = false, file = false;

	assert_int_equal(fg_read_buf(f.t, "p", p, len, &f.r), 0);
	nd = fg_tree__nodes(f.t, &n);
	for (i = 1; i < n; i++) {
		const char *s = fg_names__str(f.names, nd[i].name);

		/* Inline chain outermost first: outer;x above main, inner above it. */
		if (!strcmp(s, "outer;x"))
			outer = nd[i].depth == 2;
		if (!strcmp(s, "inner"))
			inner = nd[i].depth == 3 && nd[i].total == 200;
		if (!strcmp(s, "libz.so+0x434"))
			file = nd[i].depth == 2 && nd[i].total == 100;
	}
	assert_true(outer);
	assert_true(inner);
	assert_true(file);
	free(p);
	fx_free(&f);
}

static void test_mixed_types(void **state)
{
	struct fx f = fx_new(false, 1000);
	size_t len;
	void *p = make_pprof(false, true, &len);

	assert_int_equal(read_str(&f, "a;b 1\n"), 0);
	assert_int_equal(fg_read_buf(f.t, "p", p, len, &f.r), -EINVAL);
	assert_non_null(strstr(f.r.err, "does not match samples/count"));
	free(p);
	fx_free(&f);
}

static void test_span(void **state)
{
	double x, w;

	fg_svg_span(250, 500, 1000, 1180, &x, &w);
	assert_float_equal(x, 295, 1e-9);
	assert_float_equal(w, 590, 1e-9);
	fg_svg_span(0, 0, 0, 1180, &x, &w);
	assert_float_equal(w, 0, 1e-9);
}

static void test_kinds(void **state)
{
	assert_int_equal(fg_svg_kind("vfs_read_[k]"), FG_KIND_KERNEL);
	assert_int_equal(fg_svg_kind("runtime.mallocgc"), FG_KIND_GO);
	assert_int_equal(fg_svg_kind("net/http.(*conn).serve"), FG_KIND_GO);
	assert_int_equal(fg_svg_kind("hash.constprop.0"), FG_KIND_NATIVE);
	assert_int_equal(fg_svg_kind("std::vector<int>::push_back"), FG_KIND_NATIVE);
	assert_int_equal(fg_svg_kind("main"), FG_KIND_NATIVE);
	assert_int_equal(fg_svg_kind("void java.lang.Thread.run()"), FG_KIND_JIT);
	assert_int_equal(fg_svg_kind("JS:*hot /app/x.js:6:21"), FG_KIND_JIT);
	assert_int_equal(fg_svg_kind("py::work:/app/w.py"), FG_KIND_PYTHON);
	assert_int_equal(fg_svg_kind("[unknown]"), FG_KIND_UNKNOWN);
	assert_int_equal(fg_svg_kind("libx.so+0x10"), FG_KIND_UNKNOWN);
	/* One name, one colour, every time. */
	assert_int_equal(fg_svg_color("main"), fg_svg_color("main"));
}

static void test_diff(void **state)
{
	struct fx b = fx_new(false, 1000), a = { 0 };
	struct fg_diff_row *rows;
	uint64_t *match;
	uint32_t deep, fresh;
	size_t n, i;

	a.names = b.names;
	a.t = fg_tree__new(a.names, 1000, false);
	assert_non_null(a.t);
	/* rec recurses: its total counts each stack once. */
	assert_int_equal(read_str(&b, "m;rec;rec;x 10\nm;y 30\n"), 0);
	assert_int_equal(read_str(&a, "m;rec;rec;x 30\nm;y 10\nm;new 60\n"), 0);
	assert_int_equal(fg_tree__finish(b.t), 0);
	assert_int_equal(fg_tree__finish(a.t), 0);
	assert_int_equal(fg_diff_rows(b.t, a.t, &rows, &n), 0);
	assert_int_equal(n, 5);
	/* after: 100 samples with "m;new" 60 — new grows most. */
	assert_string_equal(fg_names__str(a.names, rows[0].name), "new");
	assert_float_equal(rows[0].total_delta, 60.0, 1e-9);
	for (i = 0; i < n; i++) {
		if (strcmp(fg_names__str(a.names, rows[i].name), "rec"))
			continue;
		assert_float_equal(rows[i].total_before, 25.0, 1e-9);
		assert_float_equal(rows[i].total_after, 30.0, 1e-9);
		assert_float_equal(rows[i].self_after, 0.0, 1e-9);
	}
	/* AFTER is read through its nodes only: its index may go. */
	deep = node_at(&a, "m;rec;rec;x");
	fresh = node_at(&a, "m;new");
	fg_tree__seal(a.t);
	assert_int_equal(fg_tree__child(a.t, FG_ROOT, 1), FG_NONE);
	assert_int_equal(fg_tree__add(a.t, NULL, 0, 1), -EPERM);
	assert_int_equal(fg_diff_match(b.t, a.t, &match), 0);
	assert_int_equal(match[FG_ROOT], 40);
	assert_int_equal(match[deep], 10);
	assert_int_equal(match[fresh], 0);
	free(match);
	free(rows);
	fg_tree__free(a.t);
	fx_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_folded_merge),   cmocka_unit_test(test_folded_errors),
		cmocka_unit_test(test_names_repaired), cmocka_unit_test(test_reverse),
		cmocka_unit_test(test_node_bound),     cmocka_unit_test(test_pprof),
		cmocka_unit_test(test_pprof_corrupt),  cmocka_unit_test(test_pprof_names),
		cmocka_unit_test(test_mixed_types),    cmocka_unit_test(test_span),
		cmocka_unit_test(test_kinds),	       cmocka_unit_test(test_diff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
