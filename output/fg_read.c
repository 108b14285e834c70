// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fg_read.c - telling the formats apart; files, stdin and directories */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fg_read.h"
#include "fg_read_internal.h"
#include "vec.h"

#define PEEK_BYTES 4096

int fg_read_fail(struct fg_read *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return err;
}

int fg_read_check_type(struct fg_read *r, const char *what, const char *type)
{
	if (!r->type[0]) {
		snprintf(r->type, sizeof(r->type), "%s", type);
		return 0;
	}
	if (strcmp(r->type, type))
		return fg_read_fail(r, -EINVAL,
				    "%s: sample type %s does not match %s of the inputs before it",
				    what, type, r->type);
	return 0;
}

/* gzip's magic, or a zlib header (deflate, its check bits right, and a
 * second byte no text starts with: "x^" is a folded frame's name). */
bool fg_read_compressed(const unsigned char *p, size_t n)
{
	return n >= 2 && ((p[0] == 0x1f && p[1] == 0x8b) ||
			  ((p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 &&
			   (p[0] * 256 + p[1]) % 31 == 0 && (p[1] < 0x20 || p[1] >= 0x80)));
}

enum sniff { SNIFF_TEXT, SNIFF_PPROF, SNIFF_MAYBE };

/* pprof is binary: compressed, or holding a NUL no text has. Other control
 * characters may be either: a protobuf's lengths, or a name in a folded
 * file another tool wrote; the protobuf decoder decides those. A folded
 * file may hold any byte >= 0x80 (names with invalid UTF-8). */
static enum sniff sniff(const unsigned char *p, size_t n)
{
	enum sniff k = SNIFF_TEXT;
	size_t i;

	if (fg_read_compressed(p, n))
		return SNIFF_PPROF;
	for (i = 0; i < n; i++) {
		if (!p[i])
			return SNIFF_PPROF;
		if (p[i] < 0x20 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t')
			k = SNIFF_MAYBE;
	}
	return k;
}

int fg_read_buf(struct fg_tree *t, const char *what, const void *data, size_t len,
		struct fg_read *r)
{
	int err;

	enum sniff k = sniff(data, len < PEEK_BYTES ? len : PEEK_BYTES);

	r->err[0] = '\0';
	err = k == SNIFF_TEXT ? -ENOMSG : fg_read_pprof(t, what, data, len, k == SNIFF_MAYBE, r);
	if (err == -ENOMSG)
		err = fg_read_folded(t, what, data, len, -1, r);
	if (!err)
		r->inputs++;
	return err;
}

static int read_fd(struct fg_tree *t, const char *what, int fd, struct fg_read *r)
{
	struct fg_buf b = { 0 };
	ssize_t n;
	int err;

	/* The first bytes tell the format; text is then streamed, pprof
	 * (which protobuf-c decodes whole) read into memory. */
	for (;;) {
		err = VEC_RESERVE(b.p, b.cap, b.len + (b.len < PEEK_BYTES ? PEEK_BYTES : b.len),
				  FG_MAX_PPROF);
		if (err) {
			err = err == -ENOSPC ? fg_read_fail(r, -EFBIG, "%s: larger than %llu bytes",
							    what, FG_MAX_PPROF) :
					       fg_read_fail(r, err, "%s: out of memory", what);
			goto cleanup;
		}
		n = read(fd, b.p + b.len, b.cap - b.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = fg_read_fail(r, -errno, "%s: read: %s", what, strerror(errno));
			goto cleanup;
		}
		b.len += (size_t)n;
		if (!n)
			break;
		if (b.len >= PEEK_BYTES && sniff(b.p, PEEK_BYTES) == SNIFF_TEXT) {
			r->err[0] = '\0';
			err = fg_read_folded(t, what, (const char *)b.p, b.len, fd, r);
			if (!err)
				r->inputs++;
			goto cleanup;
		}
	}
	err = fg_read_buf(t, what, b.p, b.len, r);
cleanup:
	free(b.p);
	return err;
}

static int read_file(struct fg_tree *t, const char *path, struct fg_read *r)
{
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fg_read_fail(r, -errno, "%s: %s", path, strerror(errno));
	err = read_fd(t, path, fd, r);
	close(fd);
	return err;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every profile of a window series, in name order (so by time): hidden
 * files are --output-dir's temporaries, half written. */
static int read_dir(struct fg_tree *t, const char *dir, DIR *d, struct fg_read *r)
{
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	struct stat st;
	int err = 0;

	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		err = VEC_RESERVE(names, cap, n + 1, SIZE_MAX);
		if (!err && !(names[n] = strdup(de->d_name)))
			err = -ENOMEM;
		if (err) {
			fg_read_fail(r, err, "%s: out of memory", dir);
			goto cleanup;
		}
		n++;
	}
	if (!n) {
		err = fg_read_fail(r, -ENOENT, "%s: no profiles in the directory", dir);
		goto cleanup;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n && !err; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		err = read_file(t, path, r);
	}
cleanup:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return err;
}

int fg_read_path(struct fg_tree *t, const char *path, struct fg_read *r)
{
	DIR *d;
	int err;

	r->err[0] = '\0';
	if (!strcmp(path, "-"))
		return read_fd(t, "stdin", STDIN_FILENO, r);
	d = opendir(path);
	if (!d)
		return errno == ENOTDIR ? read_file(t, path, r) :
					  fg_read_fail(r, -errno, "%s: %s", path, strerror(errno));
	err = read_dir(t, path, d, r);
	closedir(d);
	return err;
}
