// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sym_maps.c - parser for /proc/PID/maps
 *
 * Owns the parsed array and one blob of paths (consecutive mappings of the
 * same file share one copy). Untrusted text: every field is length-checked,
 * a line that does not parse is counted and skipped; entries, path length and
 * total path bytes are bounded. Knows nothing about ELF or symbols.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bsearch.h"
#include "lines.h"
#include "sym_maps.h"
#include "strtab.h"
#include "vec.h"

/* Bounds a hostile file with 64 Ki distinct 4 KiB paths to a few MiB. */
#define SYM_MAPS_MAX_PATH_BYTES (8u << 20)
/* The fields before the path take at most ~90 bytes. */
#define SYM_MAPS_MAX_LINE (SYM_MAPS_MAX_PATH + 128)
#define SYM_MAPS_MAX_TEXT ((size_t)SYM_MAPS_MAX_ENTRIES * 512)

static const char sym_maps_deleted[] = " (deleted)";

struct sym_maps {
	struct sym_map *maps;
	size_t n;
	size_t bad_lines;
	size_t over_cap;
	char *paths; /* blob of NUL-terminated paths */
};

/* Parse-time state: paths are offsets until the blob stops moving. */
struct sym_maps_parser {
	struct sym_maps *m;
	size_t cap, off_cap; /* of m->maps and of path_off */
	uint32_t *path_off; /* per entry; UINT32_MAX = anonymous */
	struct strtab paths;
	size_t lines;
};

static const char *sym_maps_dec(const char *p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = 0;

	for (; p < end && *p >= '0' && *p <= '9'; p++, n++) {
		unsigned int d = *p - '0';

		if (v > (UINT64_MAX - d) / 10)
			return NULL;
		v = v * 10 + d;
	}
	if (n == 0)
		return NULL;
	*out = v;
	return p;
}

static const char *sym_maps_expect(const char *p, const char *end, char c)
{
	return p && p < end && *p == c ? p + 1 : NULL;
}

static const char *sym_maps_prot(const char *p, const char *end, uint32_t *prot)
{
	static const char want[4][2] = { { 'r', '-' }, { 'w', '-' }, { 'x', '-' }, { 'p', 's' } };
	static const uint32_t bit[4] = { SYM_PROT_READ, SYM_PROT_WRITE, SYM_PROT_EXEC,
					 SYM_PROT_PRIVATE };
	int i;

	if (end - p < 4)
		return NULL;
	*prot = 0;
	for (i = 0; i < 4; i++) {
		if (p[i] == want[i][0])
			*prot |= bit[i];
		else if (p[i] != want[i][1])
			return NULL;
	}
	return p + 4;
}

/* Appends the path unless it repeats the previous entry's. 0 or -errno. */
static int sym_maps_add_path(struct sym_maps_parser *ps, const char *path, size_t len,
			     uint32_t *off)
{
	struct sym_maps *m = ps->m;
	int err;

	if (m->n && ps->path_off[m->n - 1] != UINT32_MAX) {
		const char *prev = m->paths + ps->path_off[m->n - 1];

		if (strlen(prev) == len && !memcmp(prev, path, len)) {
			*off = ps->path_off[m->n - 1];
			return 0;
		}
	}
	err = strtab__add(&ps->paths, path, len, off);
	/* Offsets stay valid as the blob moves; pointers are made at the end. */
	m->paths = ps->paths.data;
	return err;
}

/* Room for one more entry in both per-entry arrays. 0 or -ENOMEM (the
 * caller has checked SYM_MAPS_MAX_ENTRIES). */
static int sym_maps_grow(struct sym_maps_parser *ps)
{
	size_t need = ps->m->n + 1;
	int err;

	err = VEC_RESERVE(ps->m->maps, ps->cap, need, SYM_MAPS_MAX_ENTRIES);
	if (!err)
		err = VEC_RESERVE(ps->path_off, ps->off_cap, need, SYM_MAPS_MAX_ENTRIES);
	return err;
}

/* One line: "start-end perms offset major:minor inode   [path]". */
static int sym_maps_line(void *ctx, const char *line, size_t len)
{
	struct sym_maps_parser *ps = ctx;
	struct sym_maps *m = ps->m;
	const char *p = line, *end = line + len;
	struct sym_map e = { 0 };
	uint32_t off = UINT32_MAX;
	uint64_t major, minor;
	int err;

	ps->lines++;
	if (m->n >= SYM_MAPS_MAX_ENTRIES) {
		m->bad_lines++;
		m->over_cap++;
		return 0; /* read on, to count what the cap leaves out */
	}
	p = lines_hex(p, end, 16, &e.start);
	p = sym_maps_expect(p, end, '-');
	p = p ? lines_hex(p, end, 16, &e.end) : NULL;
	p = sym_maps_expect(p, end, ' ');
	p = p ? sym_maps_prot(p, end, &e.prot) : NULL;
	p = sym_maps_expect(p, end, ' ');
	p = p ? lines_hex(p, end, 16, &e.pgoff) : NULL;
	p = sym_maps_expect(p, end, ' ');
	p = p ? lines_hex(p, end, 8, &major) : NULL;
	p = sym_maps_expect(p, end, ':');
	p = p ? lines_hex(p, end, 8, &minor) : NULL;
	p = sym_maps_expect(p, end, ' ');
	p = p ? sym_maps_dec(p, end, &e.ino) : NULL;
	if (!p || e.end <= e.start || (p < end && *p != ' ')) {
		m->bad_lines++;
		return 0;
	}
	e.dev_major = major;
	e.dev_minor = minor;
	while (p < end && *p == ' ')
		p++;
	if (p < end) {
		size_t plen = end - p, dlen = sizeof(sym_maps_deleted) - 1;

		if (plen > dlen && !memcmp(end - dlen, sym_maps_deleted, dlen)) {
			e.deleted = true;
			plen -= dlen;
		}
		if (plen >= SYM_MAPS_MAX_PATH || memchr(p, '\0', plen)) {
			m->bad_lines++;
			return 0;
		}
		err = sym_maps_add_path(ps, p, plen, &off);
		if (err == -E2BIG) {
			m->bad_lines++;
			return 0;
		}
		if (err)
			return err;
	}
	err = sym_maps_grow(ps);
	if (err)
		return err;
	ps->path_off[m->n] = off;
	m->maps[m->n++] = e;
	return 0;
}

static int sym_maps_cmp(const void *a, const void *b)
{
	const struct sym_map *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

/* Sorted maps keep the first of overlapping mappings; the others are
 * counted as bad lines. */
static void sym_maps_drop_overlaps(struct sym_maps *m)
{
	size_t i, out = 0;

	for (i = 0; i < m->n; i++) {
		if (out && m->maps[i].start < m->maps[out - 1].end) {
			m->bad_lines++;
			continue;
		}
		m->maps[out++] = m->maps[i];
	}
	m->n = out;
}

/* Fixes the paths to pointers once the blob is final, sorts, and drops
 * mappings that overlap an earlier one, so that lookups are exact. */
static void sym_maps_finish(struct sym_maps_parser *ps)
{
	struct sym_maps *m = ps->m;
	bool sorted = true;
	size_t i;

	for (i = 0; i < m->n; i++) {
		m->maps[i].path = ps->path_off[i] == UINT32_MAX ? NULL : m->paths + ps->path_off[i];
		if (i && m->maps[i].start < m->maps[i - 1].start)
			sorted = false;
	}
	/* The kernel prints in order without overlaps; only hostile or stitched
	 * input needs this. */
	if (!sorted)
		qsort(m->maps, m->n, sizeof(*m->maps), sym_maps_cmp);
	sym_maps_drop_overlaps(m);
}

static struct sym_maps *sym_maps_run(const char *text, size_t len, int fd)
{
	struct sym_maps_parser ps = { .paths.max = SYM_MAPS_MAX_PATH_BYTES };
	struct lines lines;
	bool lines_ok = false, truncated = false;
	int err;

	ps.m = calloc(1, sizeof(*ps.m));
	if (!ps.m) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = lines__init(&lines, SYM_MAPS_MAX_LINE, sym_maps_line, &ps);
	if (err)
		goto cleanup;
	lines_ok = true;
	if (fd >= 0) {
		err = lines__read_fd(&lines, fd, SYM_MAPS_MAX_TEXT, &truncated);
	} else {
		err = lines__feed(&lines, text, len);
		if (!err)
			err = lines__finish(&lines);
	}
	if (err)
		goto cleanup;
	ps.lines += lines.overlong_lines;
	ps.m->bad_lines += lines.overlong_lines + truncated;
	ps.m->over_cap += truncated;
	if (ps.lines && !ps.m->n) {
		err = -EINVAL;
		goto cleanup;
	}
	sym_maps_finish(&ps);
cleanup:
	if (lines_ok)
		lines__release(&lines);
	free(ps.path_off);
	if (err) {
		sym_maps__free(ps.m);
		return errno = -err, NULL;
	}
	return ps.m;
}

struct sym_maps *sym_maps__parse(const char *text, size_t len)
{
	return sym_maps_run(text, len, -1);
}

struct sym_maps *sym_maps__read(const char *proc_root, uint32_t pid)
{
	struct sym_maps *m = NULL;
	char path[PATH_MAX];
	int fd = -1, err = 0;

	if (snprintf(path, sizeof(path), "%s/%u/maps", proc_root, pid) >= (int)sizeof(path)) {
		err = -ENAMETOOLONG;
		goto cleanup;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno == ENOENT ? -ESRCH : -errno;
		goto cleanup;
	}
	m = sym_maps_run(NULL, 0, fd);
	if (!m)
		err = -errno;
cleanup:
	if (fd >= 0)
		close(fd);
	if (err)
		return errno = -err, NULL;
	return m;
}

struct sym_maps *sym_maps__from(const struct sym_map *in, size_t n)
{
	size_t i, bytes = 0, off = 0, len;
	struct sym_maps *m;

	if (n > SYM_MAPS_MAX_ENTRIES)
		return errno = E2BIG, NULL;
	for (i = 0; i < n; i++)
		bytes += in[i].path ? strnlen(in[i].path, SYM_MAPS_MAX_PATH) + 1 : 0;
	m = calloc(1, sizeof(*m));
	if (!m)
		return errno = ENOMEM, NULL;
	m->maps = calloc(n ? n : 1, sizeof(*m->maps));
	m->paths = malloc(bytes ? bytes : 1);
	if (!m->maps || !m->paths) {
		sym_maps__free(m);
		return errno = ENOMEM, NULL;
	}
	for (i = 0; i < n; i++) {
		m->maps[i] = in[i];
		if (!in[i].path)
			continue;
		len = strnlen(in[i].path, SYM_MAPS_MAX_PATH);
		memcpy(m->paths + off, in[i].path, len);
		m->paths[off + len] = '\0';
		m->maps[i].path = m->paths + off;
		off += len + 1;
	}
	m->n = n;
	qsort(m->maps, m->n, sizeof(*m->maps), sym_maps_cmp);
	/* Same rule as parsed text: the first of overlapping mappings stays. */
	sym_maps_drop_overlaps(m);
	return m;
}

void sym_maps__free(struct sym_maps *m)
{
	if (!m)
		return;
	free(m->maps);
	free(m->paths);
	free(m);
}

size_t sym_maps__count(const struct sym_maps *m)
{
	return m->n;
}

const struct sym_map *sym_maps__at(const struct sym_maps *m, size_t i)
{
	return i < m->n ? &m->maps[i] : NULL;
}

const struct sym_map *sym_maps__find(const struct sym_maps *m, uint64_t addr)
{
	/* After the last mapping starting at or below addr. */
	size_t lo = bsearch_upper(m->maps, m->n, sizeof(*m->maps), offsetof(struct sym_map, start),
				  addr);

	if (lo == 0 || addr >= m->maps[lo - 1].end)
		return NULL;
	return &m->maps[lo - 1];
}

size_t sym_maps__bad_lines(const struct sym_maps *m)
{
	return m->bad_lines;
}

size_t sym_maps__over_cap(const struct sym_maps *m)
{
	return m->over_cap;
}
