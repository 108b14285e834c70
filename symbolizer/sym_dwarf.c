// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sym_dwarf.c - file:line and inline chains with libdw, and the LRU of
 * open DWARF handles
 *
 * Address to compile unit through .debug_aranges when the file has it
 * (gcc), else through an index of the units' ranges built once from their
 * top DIEs (clang and rustc emit no aranges, and libdw 0.188 then finds no
 * unit at all). Unit to chain as elfutils' addr2line -i does: the scopes of
 * the innermost concrete DIE, each inlined_subroutine naming the function
 * inlined and giving, through its call_file/call_line, the line of the next
 * level out. Memory is estimated, not measured (libdw does not say): a
 * fixed cost per handle and, per unit touched, a fixed cost plus its size.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caps.h"
#include "bsearch.h"
#include "lru.h"
#include "sym_dwarf.h"
#include "vec.h"

#define SYM_DWARF_HANDLE_COST (64u << 10)
#define SYM_DWARF_NEGATIVE_COST 256u
#define SYM_DWARF_CU_COST 1024u
/* Negative entries are tiny, but a host has many files without DWARF. */
#define SYM_DWARF_MAX_ENTRIES 512
/* Scopes walked at most per address, whatever the file nests. */
#define SYM_DWARF_MAX_SCOPES 256
#define SYM_DWARF_MAX_CUS (4u << 20)

struct sym_dwarf_range {
	uint64_t start;
	uint64_t end;
	uint64_t cu_die; /* offset of the unit's DIE */
};

struct sym_dwarf {
	struct sym_cache_key key;
	struct lru_node lru;
	size_t bytes;
	int fd; /* our dup, -1 for a file without DWARF */
	struct stat st; /* the file when mapped, to notice it changing */
	Elf *elf;
	Dwarf *dw; /* NULL: the file has no usable DWARF */
	/* Every unit's offset, sorted, and whether a lookup touched it yet. */
	uint64_t *cus;
	uint8_t *touched;
	size_t ncus;
	Dwarf_Aranges *aranges;
	size_t naranges;
	bool index_tried;
	struct sym_dwarf_range *ranges; /* when aranges do not cover an address */
	size_t nranges;
};

struct sym_dwarf_cache {
	struct lru lru; /* head = most recently used */
	size_t n;
	size_t bytes, max_bytes;
	uint64_t loads, evictions;
};

struct sym_dwarf_cache *sym_dwarf_cache__new(size_t max_bytes)
{
	struct sym_dwarf_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return errno = ENOMEM, NULL;
	c->max_bytes = max_bytes;
	return c;
}

/* Ends the libdw and libelf handles and closes the file. */
static void sym_dwarf_release(struct sym_dwarf *d)
{
	if (d->dw)
		dwarf_end(d->dw);
	if (d->elf)
		elf_end(d->elf);
	if (d->fd >= 0)
		close(d->fd);
}

static void sym_dwarf_close(struct sym_dwarf *d)
{
	sym_dwarf_release(d);
	free(d->cus);
	free(d->touched);
	free(d->ranges);
	free(d);
}

static struct sym_dwarf *sym_dwarf_of(struct lru_node *n)
{
	return lru_entry(n, struct sym_dwarf, lru);
}

static bool sym_dwarf_is(const struct sym_dwarf *d, const struct sym_cache_key *k)
{
	return d->key.len == k->len && !memcmp(d->key.bytes, k->bytes, k->len);
}

static void sym_dwarf_drop(struct sym_dwarf_cache *c, struct sym_dwarf *d)
{
	lru_unlink(&c->lru, &d->lru);
	c->bytes -= d->bytes;
	c->n--;
	sym_dwarf_close(d);
}

void sym_dwarf_cache__free(struct sym_dwarf_cache *c)
{
	struct sym_dwarf *d;

	if (!c)
		return;
	while ((d = sym_dwarf_of(c->lru.head)))
		sym_dwarf_drop(c, d);
	free(c);
}

void sym_dwarf_cache__remove(struct sym_dwarf_cache *c, const struct sym_cache_key *k)
{
	struct lru_node *n;

	if (!c)
		return;
	for (n = c->lru.head; n; n = n->next) {
		if (sym_dwarf_is(sym_dwarf_of(n), k)) {
			sym_dwarf_drop(c, sym_dwarf_of(n));
			return;
		}
	}
}

/* Evicts least recently used entries, never keep, until the bounds hold. */
static void sym_dwarf_evict(struct sym_dwarf_cache *c, const struct sym_dwarf *keep)
{
	struct lru_node *n = c->lru.tail;

	while (n && (c->bytes > c->max_bytes || c->n > SYM_DWARF_MAX_ENTRIES)) {
		struct lru_node *prev = n->prev;
		struct sym_dwarf *d = sym_dwarf_of(n);

		if (d != keep) {
			if (d->dw)
				c->evictions++;
			sym_dwarf_drop(c, d);
		}
		n = prev;
	}
}

/* The size libdw will inflate a compressed debug section to, 0 if none. */
static uint64_t sym_dwarf_inflated(Elf_Scn *scn, const GElf_Shdr *sh, const char *name)
{
	GElf_Chdr ch;
	Elf_Data *raw;
	uint64_t size = 0;
	int i;

	if (sh->sh_flags & SHF_COMPRESSED)
		return gelf_getchdr(scn, &ch) ? ch.ch_size : UINT64_MAX;
	if (strncmp(name, ".zdebug", 7))
		return 0;
	/* GNU style: "ZLIB" and the size, 8 bytes big-endian. */
	raw = elf_rawdata(scn, NULL);
	if (!raw || !raw->d_buf || raw->d_size < 12 || memcmp(raw->d_buf, "ZLIB", 4))
		return UINT64_MAX;
	for (i = 0; i < 8; i++)
		size = size << 8 | ((const unsigned char *)raw->d_buf)[4 + i];
	return size;
}

/* Debug sections that lines and inline chains never read: hidden from libdw
 * (below), which would otherwise read them whole at open. */
static bool sym_dwarf_unused(const char *name)
{
	static const char *const unused[] = { "loc",	      "loclists", "pubnames",
					      "pubtypes",     "frame",	  "macro",
					      "macinfo",      "types",	  "gnu_pubnames",
					      "gnu_pubtypes", "names" };
	size_t i;

	for (i = 0; i < sizeof(unused) / sizeof(unused[0]); i++) {
		if (!strcmp(name, unused[i]))
			return true;
	}
	return false;
}

/* Whether e has DWARF worth opening: 0 yes, -ENOENT none, -E2BIG what libdw
 * would read and inflate exceeds max, -ENOEXEC corrupt section headers.
 * *bytes: that amount, what the handle holds from its start. Sections of
 * no use are made SHT_NOBITS in libelf's copy of the headers (the file is
 * not written), which libdw skips. */
static int sym_dwarf_sections(Elf *e, size_t max, uint64_t *bytes)
{
	bool info = false, line = false;
	Elf_Scn *scn = NULL;
	uint64_t inflated = 0, sz;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(e, &shstrndx))
		return -ENOEXEC;
	while ((scn = elf_nextscn(e, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			return -ENOEXEC;
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (!name || sh.sh_type == SHT_NOBITS ||
		    (strncmp(name, ".debug_", 7) && strncmp(name, ".zdebug_", 8)))
			continue;
		name += name[1] == 'z' ? 8 : 7;
		if (sym_dwarf_unused(name)) {
			sh.sh_type = SHT_NOBITS;
			if (!gelf_update_shdr(scn, &sh))
				return -ENOEXEC;
			continue;
		}
		info |= !strcmp(name, "info");
		line |= !strcmp(name, "line");
		sz = sym_dwarf_inflated(scn, &sh, name - (name[-7] == 'z' ? 8 : 7));
		if (sz == UINT64_MAX || sh.sh_size > UINT64_MAX / 4 || sz > UINT64_MAX / 4)
			return -ENOEXEC;
		/* libdw reads every debug section it knows at dwarf_begin,
		 * through pread (ELF_C_READ): the raw bytes stay, and the
		 * inflated copy of a compressed one besides. */
		inflated += sh.sh_size + sz;
		if (inflated > UINT64_MAX / 4)
			return -ENOEXEC;
	}
	if (!info || !line)
		return -ENOENT;
	*bytes = inflated;
	return inflated > max ? -E2BIG : 0;
}

/* Every unit's offset, from the unit headers alone (no DIE is read). */
static int sym_dwarf_units(struct sym_dwarf *d)
{
	Dwarf_Off off = 0, next;
	size_t hsize, cap = 0;
	int err, r;

	while ((r = dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL)) == 0) {
		if (d->ncus == SYM_DWARF_MAX_CUS)
			break;
		err = VEC_RESERVE(d->cus, cap, d->ncus + 1, SYM_DWARF_MAX_CUS);
		if (err)
			return err;
		d->cus[d->ncus++] = off;
		off = next;
	}
	if (r < 0 || !d->ncus)
		return -ENOEXEC;
	d->touched = calloc(d->ncus, 1);
	return d->touched ? 0 : -ENOMEM;
}

static int sym_dwarf_open(struct sym_dwarf_cache *c, struct sym_dwarf *d, int fd)
{
	uint64_t sections = 0;
	int err;

	d->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (d->fd < 0 || fstat(d->fd, &d->st))
		return -errno;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOEXEC;
	/* Read, not mapped: a mapped file cut short under us faults (SIGBUS)
	 * wherever libdw reads past its new end, in the middle of a batch.
	 * With ELF_C_READ libelf preads each section when first asked for
	 * it, so a short read is an error libdw reports, and once open the
	 * handle reads nothing more from the file. The cost: the debug
	 * sections are held whole, so they count against the bound. */
	d->elf = elf_begin(d->fd, ELF_C_READ, NULL);
	if (!d->elf || elf_kind(d->elf) != ELF_K_ELF)
		return -ENOEXEC;
	err = sym_dwarf_sections(d->elf, c->max_bytes, &sections);
	if (err == -E2BIG)
		caps__hit(CAPS_DWARF, 1, c->max_bytes);
	if (err)
		return err;
	d->bytes += sections;
	d->dw = dwarf_begin_elf(d->elf, DWARF_C_READ, NULL);
	if (!d->dw)
		return -ENOEXEC; /* its sections are there, so they are corrupt */
	err = sym_dwarf_units(d);
	if (err)
		return err;
	/* No aranges is normal (clang, rustc): the unit index stands in. */
	if (dwarf_getaranges(d->dw, &d->aranges, &d->naranges))
		d->aranges = NULL;
	d->bytes += d->ncus * (sizeof(*d->cus) + 1);
	return 0;
}

static bool sym_dwarf_changed(const struct sym_dwarf *d)
{
	struct stat st;

	if (fstat(d->fd, &st))
		return true;
	return st.st_size != d->st.st_size || st.st_mtim.tv_sec != d->st.st_mtim.tv_sec ||
	       st.st_mtim.tv_nsec != d->st.st_mtim.tv_nsec;
}

struct sym_dwarf *sym_dwarf_cache__get(struct sym_dwarf_cache *c, const struct sym_cache_key *k,
				       int fd, int *err)
{
	struct sym_dwarf *d = NULL;
	struct lru_node *n;

	*err = 0;
	for (n = c->lru.head; n && !d; n = n->next) {
		if (sym_dwarf_is(sym_dwarf_of(n), k))
			d = sym_dwarf_of(n);
	}
	/* A file that changed since it was read is read again, from the
	 * caller's fd: the lines must be the new file's. The handle itself
	 * holds its sections in memory, so a change never faults it. */
	if (d && d->dw && sym_dwarf_changed(d)) {
		sym_dwarf_drop(c, d);
		d = NULL;
	}
	if (d) {
		lru_touch(&c->lru, &d->lru);
		return d->dw ? d : NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		*err = -ENOMEM;
		return NULL;
	}
	d->key = *k;
	d->fd = -1;
	c->loads++;
	*err = sym_dwarf_open(c, d, fd);
	if (*err) {
		/* Remembered without its handle: looked at once. */
		sym_dwarf_release(d);
		d->dw = NULL;
		d->elf = NULL;
		d->fd = -1;
		free(d->cus);
		free(d->touched);
		d->cus = NULL;
		d->touched = NULL;
		d->ncus = 0;
		d->bytes = SYM_DWARF_NEGATIVE_COST;
		if (*err == -ENOENT)
			*err = 0;
		/* Out of memory or fds is this moment's, not the file's. */
		if (*err == -ENOMEM || *err == -EMFILE || *err == -ENFILE) {
			free(d);
			return NULL;
		}
	} else {
		d->bytes += SYM_DWARF_HANDLE_COST;
	}
	lru_push_front(&c->lru, &d->lru);
	c->n++;
	c->bytes += d->bytes;
	sym_dwarf_evict(c, d);
	return d->dw ? d : NULL;
}

static int sym_dwarf_range_cmp(const void *a, const void *b)
{
	const struct sym_dwarf_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Ranges of every unit from its top DIE: what aranges would have said. */
static int sym_dwarf_index(struct sym_dwarf_cache *c, struct sym_dwarf *d)
{
	size_t i, cap = 0, max = c->max_bytes / sizeof(*d->ranges);
	Dwarf_Off off, next;
	size_t hsize;
	int err = 0;

	d->index_tried = true;
	for (i = 0; i < d->ncus; i++) {
		Dwarf_Addr base, start, end;
		Dwarf_Die cu;
		ptrdiff_t o = 0;

		off = d->cus[i];
		if (dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL) ||
		    !dwarf_offdie(d->dw, off + hsize, &cu))
			continue;
		while ((o = dwarf_ranges(&cu, o, &base, &start, &end)) > 0) {
			if (end <= start)
				continue;
			err = VEC_RESERVE(d->ranges, cap, d->nranges + 1, max);
			if (err)
				goto out;
			d->ranges[d->nranges++] = (struct sym_dwarf_range){ .start = start,
									    .end = end,
									    .cu_die = off + hsize };
		}
	}
out:
	if (d->nranges) /* qsort(NULL, 0) is undefined: a file without ranges */
		qsort(d->ranges, d->nranges, sizeof(*d->ranges), sym_dwarf_range_cmp);
	/* Reading each unit's top DIE made libdw keep a structure per unit. */
	d->bytes += cap * sizeof(*d->ranges) + d->ncus * SYM_DWARF_CU_COST;
	c->bytes += cap * sizeof(*d->ranges) + d->ncus * SYM_DWARF_CU_COST;
	/* Past the bound: the units indexed so far still serve; the ranges
	 * left out are counted. */
	if (err == -ENOSPC)
		caps__hit(CAPS_DWARF, 1, max);
	return err == -ENOSPC ? 0 : err;
}

/* The unit holding vaddr; false when none does. */
static bool sym_dwarf_unit_of(struct sym_dwarf_cache *c, struct sym_dwarf *d, uint64_t vaddr,
			      Dwarf_Die *cu)
{
	Dwarf_Arange *ar;
	Dwarf_Off off;
	size_t hi, i;

	if (d->aranges && (ar = dwarf_getarange_addr(d->aranges, vaddr)) &&
	    !dwarf_getarangeinfo(ar, NULL, NULL, &off) && dwarf_offdie(d->dw, off, cu))
		return true;
	if (!d->index_tried && sym_dwarf_index(c, d))
		return false;
	hi = bsearch_upper(d->ranges, d->nranges, sizeof(*d->ranges),
			   offsetof(struct sym_dwarf_range, start), vaddr);
	/* Ranges of different units rarely nest; a few steps back cover it. */
	for (i = hi; i > 0 && hi - i < 4; i--) {
		const struct sym_dwarf_range *r = &d->ranges[i - 1];

		if (vaddr < r->end)
			return dwarf_offdie(d->dw, r->cu_die, cu) != NULL;
	}
	return false;
}

/* Charges the first lookup in a unit: libdw now holds its abbreviations
 * and line table, and its pages are resident. */
static void sym_dwarf_touch(struct sym_dwarf_cache *c, struct sym_dwarf *d, Dwarf_Die *cu)
{
	uint64_t die = dwarf_dieoffset(cu), next;
	size_t i, hsize;

	i = bsearch_upper(d->cus, d->ncus, sizeof(*d->cus), 0, die);
	if (!i || d->touched[i - 1])
		return;
	d->touched[i - 1] = 1;
	if (dwarf_nextcu(d->dw, d->cus[i - 1], &next, &hsize, NULL, NULL, NULL))
		next = d->cus[i - 1];
	d->bytes += SYM_DWARF_CU_COST + (next - d->cus[i - 1]);
	c->bytes += SYM_DWARF_CU_COST + (next - d->cus[i - 1]);
}

/* The name a function DIE is known by to the linker (mangled), else its
 * source name; both followed through abstract_origin and specification. */
static const char *sym_dwarf_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *n;

	n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
	if (!n)
		n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a));
	if (!n)
		n = dwarf_diename(die);
	return n;
}

static const char *sym_dwarf_copy(struct arena *names, const char *s)
{
	return s ? arena_strdup(names, s) : NULL;
}

static bool sym_dwarf_is_function(int tag)
{
	return tag == DW_TAG_inlined_subroutine || tag == DW_TAG_subprogram ||
	       tag == DW_TAG_entry_point;
}

int sym_dwarf__lookup(struct sym_dwarf_cache *c, struct sym_dwarf *d, uint64_t vaddr,
		      struct arena *names, struct sym_line *out, size_t max)
{
	Dwarf_Die cu, concrete, *scopes = NULL;
	const char *file = NULL;
	Dwarf_Files *files = NULL;
	Dwarf_Line *line;
	size_t nfiles = 0, n = 0;
	int i, nscopes, lineno = 0, fn[SYM_DWARF_MAX_SCOPES], nfn = 0;
	int err = 0;

	if (!max || !sym_dwarf_unit_of(c, d, vaddr, &cu))
		return 0;
	sym_dwarf_touch(c, d, &cu);
	line = dwarf_getsrc_die(&cu, vaddr);
	if (line) {
		file = dwarf_linesrc(line, NULL, NULL);
		if (dwarf_lineno(line, &lineno) || lineno < 0)
			lineno = 0;
	}
	/* The innermost scope, then its concrete parents: dwarf_getscopes
	 * continues past an inlined_subroutine with the abstract definition's
	 * scopes, which are not the callers. */
	nscopes = dwarf_getscopes(&cu, vaddr, &scopes);
	if (nscopes > 0 && dwarf_offdie(d->dw, dwarf_dieoffset(&scopes[0]), &concrete)) {
		free(scopes);
		scopes = NULL;
		nscopes = dwarf_getscopes_die(&concrete, &scopes);
	}
	if (nscopes < 0)
		err = -ENOEXEC;
	if (nscopes > SYM_DWARF_MAX_SCOPES)
		nscopes = SYM_DWARF_MAX_SCOPES;
	for (i = 0; i < nscopes; i++) {
		int tag = dwarf_tag(&scopes[i]);

		if (!sym_dwarf_is_function(tag))
			continue;
		fn[nfn++] = i;
		if (tag != DW_TAG_inlined_subroutine)
			break;
	}
	if (nfn && dwarf_getsrcfiles(&cu, &files, &nfiles))
		files = NULL;
	for (i = 0; i < nfn; i++) {
		Dwarf_Die *die = &scopes[fn[i]];
		Dwarf_Attribute a;
		Dwarf_Word v;

		/* Too deep: the innermost levels and the outermost function. */
		if (n < max - 1 || i == nfn - 1) {
			out[n++] = (struct sym_line){
				.function = sym_dwarf_copy(names, sym_dwarf_name(die)),
				.file = sym_dwarf_copy(names, file),
				.line = (uint32_t)lineno,
			};
		}
		if (dwarf_tag(die) != DW_TAG_inlined_subroutine)
			break;
		/* The next level out is at this inlined call's site. */
		file = NULL;
		lineno = 0;
		if (files && !dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &a), &v) &&
		    v < nfiles)
			file = dwarf_filesrc(files, v, NULL, NULL);
		if (!dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &a), &v) && v <= INT32_MAX)
			lineno = (int)v;
	}
	/* No function DIE covers it (or the scopes are corrupt): the line
	 * alone, for the symbol table's function. */
	if (!n && (file || lineno)) {
		out[0] = (struct sym_line){ .file = sym_dwarf_copy(names, file),
					    .line = (uint32_t)lineno };
		n = 1;
	}
	free(scopes);
	sym_dwarf_evict(c, d);
	return err && !n ? err : (int)n;
}

void sym_dwarf_cache__stats(const struct sym_dwarf_cache *c, struct sym_dwarf_stats *out)
{
	struct lru_node *n;

	memset(out, 0, sizeof(*out));
	out->bytes = c->bytes;
	out->loads = c->loads;
	out->evictions = c->evictions;
	for (n = c->lru.head; n; n = n->next)
		out->handles += sym_dwarf_of(n)->dw != NULL;
}
