// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sym_gopclntab.c - the Go runtime's pc-line table, read as the runtime
 * does (runtime/symtab.go, debug/gosym)
 *
 * Header, then the function table copied once; a lookup binary-searches it,
 * checks the _func record agrees with the entry it came from (as the
 * OpenTelemetry profiler does), and runs the pc-value programs for the file
 * and line. All reads go through sym_go_read(), which refuses anything
 * outside the table.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sym_gopclntab.h"

#define GO_MAGIC_12 0xfffffffbu
#define GO_MAGIC_116 0xfffffffau
#define GO_MAGIC_118 0xfffffff0u
#define GO_MAGIC_120 0xfffffff1u
/* Steps of one pc-value program: a function longer than this is corrupt. */
#define GO_MAX_STEPS (1u << 20)

struct sym_go {
	int fd;
	uint8_t *mem; /* fd < 0: the table's bytes */
	uint64_t off, size; /* the table in the file */
	uint32_t magic;
	uint32_t quantum;
	uint64_t nfunc;
	uint64_t text; /* added to 1.18+ entry offsets */
	uint64_t funcname, cu, filetab, pctab, pcln; /* offsets from the table start */
	/* nfunc + 1 entries (the last is the end of text): entry address and
	 * _func offset (from pcln). */
	uint64_t *entries;
	uint32_t *funcs;
};

static int sym_go_read(const struct sym_go *g, uint64_t at, void *buf, size_t len)
{
	ssize_t n;

	if (at > g->size || len > g->size - at)
		return -ENOEXEC;
	if (g->mem) {
		memcpy(buf, g->mem + at, len);
		return 0;
	}
	do
		n = pread(g->fd, buf, len, g->off + at);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

size_t sym_go__scan(const uint8_t *buf, size_t len, size_t from)
{
	size_t i;

	/* Bytes 1-7 of every layout we read: magic's high bytes, two zero
	 * bytes, the x86/arm quantum, 8-byte pointers. Tables are aligned. */
	for (i = (from + 7) & ~(size_t)7; i + 8 <= len; i += 8) {
		uint32_t m = le32(buf + i);

		if (buf[i + 4] || buf[i + 5] || (buf[i + 6] != 1 && buf[i + 6] != 4) ||
		    buf[i + 7] != 8)
			continue;
		if (m == GO_MAGIC_12 || m == GO_MAGIC_116 || m == GO_MAGIC_118 || m == GO_MAGIC_120)
			return i;
	}
	return len;
}

static int sym_go_header(struct sym_go *g, uint64_t text)
{
	uint8_t h[8 + 8 * 8];
	uint64_t w[8];
	int err, i;

	err = sym_go_read(g, 0, h, 8);
	if (err)
		return err;
	g->magic = le32(h);
	g->quantum = h[6];
	if (h[4] || h[5] || (g->quantum != 1 && g->quantum != 4) || h[7] != 8)
		return -ENOEXEC;
	if (g->magic == GO_MAGIC_12) {
		/* nfunc, then the function table right away; names are
		 * relative to the table start. */
		err = sym_go_read(g, 8, h + 8, 8);
		if (err)
			return err;
		g->nfunc = le64(h + 8);
		g->pcln = 0;
		g->funcname = 0;
		g->pctab = 0;
		g->text = 0;
		return 0;
	}
	if (g->magic != GO_MAGIC_116 && g->magic != GO_MAGIC_118 && g->magic != GO_MAGIC_120)
		return -ENOEXEC;
	err = sym_go_read(g, 8, h + 8, 8 * 8);
	if (err)
		return err;
	for (i = 0; i < 8; i++)
		w[i] = le64(h + 8 + 8 * i);
	g->nfunc = w[0];
	if (g->magic == GO_MAGIC_116) {
		g->text = 0;
		g->funcname = w[2];
		g->cu = w[3];
		g->filetab = w[4];
		g->pctab = w[5];
		g->pcln = w[6];
	} else {
		/* 1.26 writes 0 here ("requires a relocation"): .text's start
		 * is runtime.text for a binary without cgo. */
		g->text = w[2] ? w[2] : text;
		g->funcname = w[3];
		g->cu = w[4];
		g->filetab = w[5];
		g->pctab = w[6];
		g->pcln = w[7];
	}
	if (g->funcname >= g->size || g->cu >= g->size || g->filetab >= g->size ||
	    g->pctab >= g->size || g->pcln >= g->size)
		return -ENOEXEC;
	return 0;
}

/* Copies the function table: nfunc + 1 entries, checked sorted. */
static int sym_go_functab(struct sym_go *g, size_t max_bytes)
{
	bool wide = g->magic == GO_MAGIC_12 || g->magic == GO_MAGIC_116;
	uint64_t start = g->magic == GO_MAGIC_12 ? 16 : g->pcln, esz = wide ? 16 : 8, i, n;
	uint8_t buf[4096];
	int err;

	if (!g->nfunc || g->nfunc > g->size / esz || g->nfunc + 1 > max_bytes / 12)
		return g->nfunc > g->size / esz ? -ENOEXEC : g->nfunc ? -E2BIG : -ENOEXEC;
	n = g->nfunc + 1;
	if (start > g->size || n * esz > g->size - start)
		return -ENOEXEC;
	g->entries = malloc(n * sizeof(*g->entries));
	g->funcs = malloc(n * sizeof(*g->funcs));
	if (!g->entries || !g->funcs)
		return -ENOMEM;
	for (i = 0; i < n;) {
		uint64_t k, chunk = n - i < sizeof(buf) / esz ? n - i : sizeof(buf) / esz;

		err = sym_go_read(g, start + i * esz, buf, chunk * esz);
		if (err)
			return err;
		for (k = 0; k < chunk; k++, i++) {
			const uint8_t *p = buf + k * esz;
			uint64_t fo = wide ? le64(p + 8) : le32(p + 4);

			g->entries[i] = wide ? le64(p) : g->text + le32(p);
			g->funcs[i] = fo > UINT32_MAX ? UINT32_MAX : (uint32_t)fo;
			/* Unsorted entries would make the search meaningless. */
			if (i && g->entries[i] < g->entries[i - 1])
				return -ENOEXEC;
		}
	}
	return 0;
}

int sym_go__new(int fd, const void *mem, uint64_t off, uint64_t size, uint64_t text,
		size_t max_bytes, struct sym_go **out)
{
	struct sym_go *g;
	int err;

	*out = NULL;
	if (size < 16)
		return -ENOEXEC;
	if (fd < 0 && size > max_bytes)
		return -E2BIG;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->fd = fd;
	g->off = off;
	g->size = size;
	if (fd < 0) {
		g->mem = malloc(size);
		if (!g->mem) {
			err = -ENOMEM;
			goto cleanup;
		}
		memcpy(g->mem, mem, size);
		max_bytes -= size;
	}
	err = sym_go_header(g, text);
	if (!err)
		err = sym_go_functab(g, max_bytes);
cleanup:
	if (err) {
		sym_go__free(g);
		return err;
	}
	*out = g;
	return 0;
}

void sym_go__free(struct sym_go *g)
{
	if (!g)
		return;
	free(g->entries);
	free(g->funcs);
	free(g->mem);
	free(g);
}

size_t sym_go__bytes(const struct sym_go *g)
{
	return sizeof(*g) + (g->nfunc + 1) * (sizeof(*g->entries) + sizeof(*g->funcs)) +
	       (g->mem ? g->size : 0);
}

/* A NUL-terminated string at table offset at, into names; cut at
 * SYM_GO_MAX_NAME or the table's end. */
static int sym_go_string(const struct sym_go *g, uint64_t at, struct arena *names, const char **out)
{
	size_t max = SYM_GO_MAX_NAME, len;
	char *buf;
	int err;

	*out = NULL;
	if (at >= g->size)
		return -ENOEXEC;
	if (max > g->size - at)
		max = g->size - at;
	buf = arena_reserve(names, max + 1);
	if (!buf)
		return -ENOMEM;
	err = sym_go_read(g, at, buf, max);
	if (err)
		return err;
	len = strnlen(buf, max);
	if (!len)
		return -ENOEXEC;
	buf[len] = '\0';
	arena_commit(names, len + 1);
	*out = buf;
	return 0;
}

/* Buffered reading of one pc-value program. */
struct sym_go_prog {
	const struct sym_go *g;
	uint64_t at;
	uint8_t buf[256];
	size_t pos, len;
};

static int sym_go_byte(struct sym_go_prog *p, uint8_t *b)
{
	int err;

	if (p->pos == p->len) {
		size_t want = sizeof(p->buf);

		if (p->at >= p->g->size)
			return -ENOEXEC;
		if (want > p->g->size - p->at)
			want = p->g->size - p->at;
		err = sym_go_read(p->g, p->at, p->buf, want);
		if (err)
			return err;
		p->at += want;
		p->pos = 0;
		p->len = want;
	}
	*b = p->buf[p->pos++];
	return 0;
}

static int sym_go_varint(struct sym_go_prog *p, uint32_t *v)
{
	uint32_t r = 0, shift;
	uint8_t b;
	int err;

	for (shift = 0; shift < 35; shift += 7) {
		err = sym_go_byte(p, &b);
		if (err)
			return err;
		r |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return 0;
		}
	}
	return -ENOEXEC;
}

/* The value of the program at table offset at for pc in a function that
 * starts at entry (runtime.pcvalue). */
static int sym_go_pcvalue(const struct sym_go *g, uint64_t at, uint64_t entry, uint64_t pc,
			  int32_t *out)
{
	struct sym_go_prog p = { .g = g, .at = at };
	uint32_t uv, pcd, steps;
	int32_t val = -1;
	uint64_t cur = entry;
	int err;

	for (steps = 0; steps < GO_MAX_STEPS; steps++) {
		err = sym_go_varint(&p, &uv);
		if (!err && !uv && steps)
			return -ENOENT; /* the end, pc not covered */
		if (!err)
			err = sym_go_varint(&p, &pcd);
		if (err)
			return err;
		val += (uv & 1) ? (int32_t) ~(uv >> 1) : (int32_t)(uv >> 1);
		cur += (uint64_t)pcd * g->quantum;
		if (pc < cur) {
			*out = val;
			return 0;
		}
	}
	return -ENOEXEC;
}

/* The file and line of pc in the _func at fo (1.16+ only: older tables put
 * files elsewhere, and the name alone is what matters most). */
static void sym_go_line(const struct sym_go *g, const uint8_t *f, uint64_t entry, uint64_t pc,
			struct arena *names, const char **file, uint32_t *line)
{
	bool wide = g->magic == GO_MAGIC_116;
	uint32_t pcfile = le32(f + (wide ? 24 : 20)), pcln = le32(f + (wide ? 28 : 24));
	uint32_t cuoff = le32(f + (wide ? 36 : 32));
	int32_t fileno, lineno;
	uint8_t b[4];

	if (pcln && !sym_go_pcvalue(g, g->pctab + pcln, entry, pc, &lineno) && lineno > 0)
		*line = (uint32_t)lineno;
	if (!pcfile || sym_go_pcvalue(g, g->pctab + pcfile, entry, pc, &fileno) || fileno < 0)
		return;
	if (sym_go_read(g, g->cu + 4 * ((uint64_t)cuoff + (uint32_t)fileno), b, 4) ||
	    le32(b) == UINT32_MAX)
		return;
	sym_go_string(g, g->filetab + le32(b), names, file);
}

int sym_go__lookup(const struct sym_go *g, uint64_t vaddr, struct arena *names, const char **name,
		   uint64_t *entry, const char **file, uint32_t *line)
{
	bool wide = g->magic == GO_MAGIC_12 || g->magic == GO_MAGIC_116;
	size_t lo = 0, hi = g->nfunc;
	uint8_t f[48];
	uint64_t fentry;
	int32_t nameoff;
	int err;

	*name = *file = NULL;
	*line = 0;
	if (vaddr < g->entries[0] || vaddr >= g->entries[g->nfunc])
		return -ENOENT;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (g->entries[mid] <= vaddr)
			lo = mid;
		else
			hi = mid;
	}
	err = sym_go_read(g, g->pcln + g->funcs[lo], f, wide ? 40 : 44);
	if (err)
		return err;
	/* The record must name the entry that led to it. */
	fentry = wide ? le64(f) : g->text + le32(f);
	if (fentry != g->entries[lo])
		return -ENOEXEC;
	nameoff = (int32_t)le32(f + (wide ? 8 : 4));
	if (nameoff < 0)
		return -ENOEXEC;
	err = sym_go_string(g, g->funcname + (uint64_t)nameoff, names, name);
	if (err)
		return err;
	*entry = fentry;
	if (g->magic != GO_MAGIC_12)
		sym_go_line(g, f, fentry, vaddr, names, file, line);
	return 0;
}
