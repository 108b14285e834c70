// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_out_files.c - .pb.gz files: names, contents, no temporaries, no overwrite */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "log.h"
#include "out_files.h"

/* 2024-01-02T03:04:05Z */
#define START_NS (1704164645ull * 1000000000ull + 999)

static void gzip_blob(struct pprof_blob *b, const char *text)
{
	z_stream zs;
	size_t len = strlen(text);

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	b->data = malloc(deflateBound(&zs, len));
	assert_non_null(b->data);
	zs.next_in = (Bytef *)(uintptr_t)text;
	zs.avail_in = (uInt)len;
	zs.next_out = b->data;
	zs.avail_out = (uInt)deflateBound(&zs, len);
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	b->len = zs.total_out;
	b->raw_len = len;
	b->samples = 1;
	deflateEnd(&zs);
}

/* Gunzips the file at path and compares it with text. */
static void assert_file_gunzips_to(const char *path, const char *text)
{
	char buf[256];
	gzFile f = gzopen(path, "rb");
	int n;

	if (!f)
		fail_msg("cannot open %s", path);
	n = gzread(f, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, text);
	/* a gzip file, not raw bytes that gzread passes through */
	assert_int_equal(gzdirect(f), 0);
	gzclose(f);
}

static int count_entries(const char *dir, int *hidden)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	*hidden = 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (e->d_name[0] == '.')
			(*hidden)++;
		n++;
	}
	closedir(d);
	return n;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

struct fx {
	char root[64];
	char dir[128];
	struct label labels[4];
	struct labels_group g;
	struct pprof_blob blobs[2];
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	strcpy(fx->root, "/tmp/ember-test-out-XXXXXX");
	assert_non_null(mkdtemp(fx->root));
	/* missing parents are created */
	snprintf(fx->dir, sizeof(fx->dir), "%s/a/b", fx->root);
	fx->labels[0] = (struct label){ "__name__", "process_cpu" };
	fx->labels[1] = (struct label){ "host", "h" };
	fx->labels[2] = (struct label){ "service_name", "my svc/1:x" };
	fx->g.labels = fx->labels;
	fx->g.nlabels = 3;
	gzip_blob(&fx->blobs[0], "profile zero");
	gzip_blob(&fx->blobs[1], "profile one");
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	nftw(fx->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(fx->blobs[0].data);
	free(fx->blobs[1].data);
	free(fx);
	return 0;
}

static void test_write_names_and_content(void **state)
{
	struct fx *fx = *state;
	char path[256];
	struct stat st;
	int hidden;

	assert_int_equal(out_files_write(fx->dir, START_NS, &fx->g, fx->blobs, 2), 0);
	assert_int_equal(count_entries(fx->dir, &hidden), 2);
	assert_int_equal(hidden, 0);
	snprintf(path, sizeof(path), "%s/my_svc_1_x-20240102T030405Z-0.pb.gz", fx->dir);
	assert_file_gunzips_to(path, "profile zero");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	snprintf(path, sizeof(path), "%s/my_svc_1_x-20240102T030405Z-1.pb.gz", fx->dir);
	assert_file_gunzips_to(path, "profile one");

	/* the same service and second again: new numbers, nothing replaced */
	assert_int_equal(out_files_write(fx->dir, START_NS, &fx->g, fx->blobs + 1, 1), 0);
	assert_int_equal(count_entries(fx->dir, &hidden), 3);
	assert_int_equal(hidden, 0);
	snprintf(path, sizeof(path), "%s/my_svc_1_x-20240102T030405Z-2.pb.gz", fx->dir);
	assert_file_gunzips_to(path, "profile one");
	snprintf(path, sizeof(path), "%s/my_svc_1_x-20240102T030405Z-0.pb.gz", fx->dir);
	assert_file_gunzips_to(path, "profile zero");

	/* nothing to write: nothing written */
	assert_int_equal(out_files_write(fx->dir, START_NS, &fx->g, NULL, 0), 0);
	assert_int_equal(count_entries(fx->dir, &hidden), 3);
}

static void test_service_names(void **state)
{
	struct fx *fx = *state;
	char path[256];
	int hidden;

	/* a leading dot would hide the file: it becomes '_' */
	fx->labels[2].value = ".hidden-svc_1.2";
	assert_int_equal(out_files_write(fx->root, START_NS, &fx->g, fx->blobs, 1), 0);
	snprintf(path, sizeof(path), "%s/_hidden-svc_1.2-20240102T030405Z-0.pb.gz", fx->root);
	assert_file_gunzips_to(path, "profile zero");
	/* no service_name label */
	fx->g.nlabels = 2;
	assert_int_equal(out_files_write(fx->root, START_NS, &fx->g, fx->blobs, 1), 0);
	snprintf(path, sizeof(path), "%s/unknown_service-20240102T030405Z-0.pb.gz", fx->root);
	assert_file_gunzips_to(path, "profile zero");
	assert_int_equal(count_entries(fx->root, &hidden), 2);
	assert_int_equal(hidden, 0);
}

static void test_errors(void **state)
{
	struct fx *fx = *state;
	char file[128], below[160];
	FILE *f;
	int hidden;

	/* a regular file where the directory should be */
	snprintf(file, sizeof(file), "%s/plain", fx->root);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	assert_true(out_files_write(file, START_NS, &fx->g, fx->blobs, 1) < 0);
	snprintf(below, sizeof(below), "%s/sub", file);
	assert_int_equal(out_files_write(below, START_NS, &fx->g, fx->blobs, 1), -ENOTDIR);
	/* an unwritable directory (root ignores modes: only when not root) */
	if (geteuid() != 0) {
		snprintf(below, sizeof(below), "%s/ro", fx->root);
		assert_int_equal(mkdir(below, 0555), 0);
		assert_int_equal(out_files_write(below, START_NS, &fx->g, fx->blobs, 1), -EACCES);
		assert_int_equal(count_entries(below, &hidden), 0);
	}
	assert_int_equal(out_files_write(NULL, START_NS, &fx->g, fx->blobs, 1), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_names_and_content, setup, teardown),
		cmocka_unit_test_setup_teardown(test_service_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};

	log_level = LOG_ERR;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
