// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sym_elf_lookup.c - naming a file offset from a loaded ELF symbol table
 *
 * File offset to virtual address through the segments, address to symbol
 * by binary search, and the symbol's name read from the table's own fd (or
 * its copy of the string section) into the caller's arena. No libelf here:
 * a lookup reads only the name's bytes, with pread, bounded by
 * SYM_ELF_MAX_NAME and the string section.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "bsearch.h"
#include "sym_elf.h"
#include "sym_elf_table.h"

/* A symbol nested in a bigger one (a local label typed as a function) can
 * hide it from the binary search; this many predecessors are tried too. */
#define SYM_ELF_BACKTRACK 4
/* Most names fit the first read; longer ones (C++) take a few more. */
#define SYM_ELF_NAME_READ 256

/* len bytes of the string section at off (inside it), from the file or the
 * copy. Bytes read, 0 when the file ends there now, or -errno. */
static ssize_t sym_elf_str_read(const struct sym_elf_table *t, char *buf, size_t len, uint64_t off)
{
	ssize_t n;

	if (t->strs) {
		memcpy(buf, t->strs + off, len);
		return len;
	}
	do
		n = pread(t->fd, buf, len, t->str_off + off);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/* Reads the name at offset at of the string section into names: a short
 * read first, longer ones while no NUL shows, up to SYM_ELF_MAX_NAME or the
 * section's end, where the name is cut. Room for the longest name is
 * reserved and only what the name used is committed, so the arena's memory
 * goes to names, not to the bound. *out is NULL for an empty name.
 * 0, -EIO (the file ends early), -ENOMEM or pread()'s error. */
static int sym_elf_read_name(const struct sym_elf_table *t, uint32_t at, struct arena *names,
			     const char **out)
{
	size_t max = t->str_size - at, len = 0, want = SYM_ELF_NAME_READ;
	char *buf, *nul = NULL;
	ssize_t n;

	*out = NULL;
	if (max > SYM_ELF_MAX_NAME)
		max = SYM_ELF_MAX_NAME;
	buf = arena_reserve(names, max + 1);
	if (!buf)
		return -ENOMEM;
	while (!nul && len < max) {
		if (want > max - len)
			want = max - len;
		n = sym_elf_str_read(t, buf + len, want, at + len);
		if (n < 0)
			return n;
		if (!n)
			return -EIO;
		nul = memchr(buf + len, '\0', n);
		len = nul ? (size_t)(nul - buf) : len + n;
		want *= 2;
	}
	buf[len] = '\0';
	if (len) {
		arena_commit(names, len + 1);
		*out = buf;
	}
	return 0;
}

/* File offset to virtual address through the PT_LOAD segment holding it. */
bool sym_elf_table__vaddr(const struct sym_elf_table *t, uint64_t off, uint64_t *vaddr)
{
	size_t i;

	for (i = 0; i < t->nsegs; i++) {
		const struct sym_elf_seg *s = &t->segs[i];

		if (off >= s->off && off - s->off < s->filesz) {
			*vaddr = off - s->off + s->vaddr;
			return true;
		}
	}
	return false;
}

/* The symbol covering vaddr, or NULL. */
static const struct sym_elf_sym *sym_elf_find(const struct sym_elf_table *t, uint64_t vaddr)
{
	size_t lo, i;

	lo = bsearch_upper(t->syms, t->n, sizeof(*t->syms), offsetof(struct sym_elf_sym, addr),
			   vaddr);
	for (i = lo; i > 0 && lo - i < SYM_ELF_BACKTRACK; i--) {
		const struct sym_elf_sym *s = &t->syms[i - 1];

		if (vaddr - s->addr < s->size)
			return s;
	}
	return NULL;
}

/* From .gopclntab: the name, and the file and line as the one level of a
 * chain (the caller may replace it with DWARF's). */
static int sym_elf_go_lookup(const struct sym_elf_table *t, uint64_t vaddr, struct arena *names,
			     struct sym_result *r)
{
	struct sym_line *l;
	const char *name, *file;
	uint64_t entry;
	uint32_t line;
	int err;

	err = sym_go__lookup(t->go, vaddr, names, &name, &entry, &file, &line);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	l = arena_alloc(names, sizeof(*l));
	if (!l)
		return -ENOMEM;
	*l = (struct sym_line){ .function = name, .file = file, .line = line };
	r->name = name;
	r->offset = vaddr - entry;
	r->lines = l;
	r->nlines = 1;
	r->reason = SYM_OK;
	return 0;
}

int sym_elf_table__lookup(const struct sym_elf_table *t, uint64_t off, struct arena *names,
			  struct sym_result *r)
{
	const struct sym_elf_sym *s;
	uint64_t vaddr;
	int err;

	memset(r, 0, sizeof(*r));
	r->reason = SYM_UNKNOWN_ADDR;
	if (!sym_elf_table__vaddr(t, off, &vaddr))
		return 0;
	if (t->go)
		return sym_elf_go_lookup(t, vaddr, names, r);
	s = sym_elf_find(t, vaddr);
	if (!s)
		return 0;
	err = sym_elf_read_name(t, s->name, names, &r->name);
	if (err) {
		r->reason = SYM_NO_FILE;
		return err;
	}
	if (r->name) {
		r->offset = vaddr - s->addr;
		r->reason = SYM_OK;
	}
	return 0;
}
