// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sym_elf.c - loading function symbol tables from ELF files
 *
 * Owns the libelf handle only while loading: picks .symtab, else .dynsym,
 * keeps the function symbols, one per address (global, then weak, then
 * local; sized before unsized of one binding), sizes the unsized ones, and
 * keeps the PT_LOAD segments. The result is the compact table of sym_elf_table.h; lookups are
 * sym_elf_lookup.c's. Every size taken from the file is checked against the
 * bounds before it is trusted.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sym_elf.h"
#include "sym_elf_open.h"
#include "sym_elf_table.h"
#include "vec.h"

/* The symbol section read to build a table is bounded to twice the table's
 * bound, plus some slack for small files, whose symbols are mostly not
 * functions: a function entry (16 bytes) is smaller than its ELF symbol (24
 * bytes). What is read is freed once the table is built; the string section
 * is not read at all (from memory it is copied, and counts in the table). */
#define SYM_ELF_READ_MAX(max_bytes) (2 * (max_bytes) + (1u << 20))
#define SYM_ELF_MAX_SEGS 64
/* What is scanned for a .gopclntab whose section header is gone. */
#define SYM_ELF_GO_SCAN_MAX (128u << 20)

/* Loading state: candidates carry what decides between aliases. */
struct sym_elf_cand {
	uint64_t addr;
	uint32_t size;
	uint32_t name;
	uint32_t rank; /* lower wins: global, weak, local; then sized */
	uint32_t idx; /* on a tie, the first in the symbol section wins */
};

struct sym_elf_build {
	struct sym_elf_cand *cands;
	size_t n, cap;
	size_t max_bytes;
	const struct stat *st; /* the file's, or NULL from memory */
	char *strs; /* from memory: the string section's copy */
	uint64_t str_off, str_size;
};

static int sym_elf_segments(Elf *e, struct sym_elf_table *t)
{
	struct sym_elf_seg segs[SYM_ELF_MAX_SEGS];
	size_t i, n = 0, phnum;
	GElf_Phdr ph;

	if (elf_getphdrnum(e, &phnum))
		return -ENOEXEC;
	if (phnum > SYM_ELF_MAX_PHDRS)
		phnum = SYM_ELF_MAX_PHDRS;
	for (i = 0; i < phnum && n < SYM_ELF_MAX_SEGS; i++) {
		if (!gelf_getphdr(e, i, &ph))
			return -ENOEXEC;
		if (ph.p_type != PT_LOAD || !ph.p_filesz)
			continue;
		if (ph.p_memsz < ph.p_filesz)
			ph.p_memsz = ph.p_filesz;
		if (ph.p_offset + ph.p_filesz < ph.p_offset || ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
			return -ENOEXEC;
		segs[n++] = (struct sym_elf_seg){
			.off = ph.p_offset,
			.filesz = ph.p_filesz,
			.vaddr = ph.p_vaddr,
			.memsz = ph.p_memsz,
		};
	}
	if (!n)
		return -ENOEXEC;
	t->segs = malloc(n * sizeof(*segs));
	if (!t->segs)
		return -ENOMEM;
	memcpy(t->segs, segs, n * sizeof(*segs));
	t->nsegs = n;
	return 0;
}

static int sym_elf_add(struct sym_elf_build *b, const GElf_Sym *sym)
{
	int bind = GELF_ST_BIND(sym->st_info);
	int err;

	/* What the table will hold: the entries, and a memory table's strings. */
	if ((b->n + 1) * sizeof(struct sym_elf_sym) + (b->strs ? b->str_size : 0) > b->max_bytes)
		return -E2BIG;
	/* Bounded by max_bytes above, not by a count. */
	err = VEC_RESERVE(b->cands, b->cap, b->n + 1, SIZE_MAX);
	if (err)
		return err;
	b->cands[b->n] = (struct sym_elf_cand){
		.addr = sym->st_value,
		.size = sym->st_size > UINT32_MAX ? UINT32_MAX : (uint32_t)sym->st_size,
		.name = sym->st_name,
		.rank = (bind == STB_GLOBAL ? 0 :
			 bind == STB_WEAK   ? 2 :
					      4) +
			!sym->st_size,
		.idx = b->n,
	};
	b->n++;
	return 0;
}

/* Finds the string section of a symbol section: where it is in the file,
 * or, from memory, a copy of it. */
static int sym_elf_strings(Elf *e, const GElf_Shdr *sh, struct sym_elf_build *b)
{
	Elf_Scn *strscn = elf_getscn(e, sh->sh_link);
	GElf_Shdr strsh;
	Elf_Data *d;

	if (!strscn || !gelf_getshdr(strscn, &strsh) || strsh.sh_type != SHT_STRTAB ||
	    (strsh.sh_flags & SHF_COMPRESSED) || !strsh.sh_size)
		return -ENOEXEC;
	if (b->st) {
		/* Checked once here, so every pread of a name stays inside. */
		if (strsh.sh_offset + strsh.sh_size < strsh.sh_offset ||
		    strsh.sh_offset + strsh.sh_size > (uint64_t)b->st->st_size)
			return -ENOEXEC;
		b->str_off = strsh.sh_offset;
		b->str_size = strsh.sh_size;
		return 0;
	}
	if (strsh.sh_size > b->max_bytes)
		return -E2BIG;
	d = elf_getdata(strscn, NULL);
	if (!d || !d->d_buf || !d->d_size || d->d_size > strsh.sh_size)
		return -ENOEXEC;
	b->strs = malloc(d->d_size);
	if (!b->strs)
		return -ENOMEM;
	memcpy(b->strs, d->d_buf, d->d_size);
	b->str_size = d->d_size;
	return 0;
}

/* Collects the function symbols of one symbol section. */
static int sym_elf_collect(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, size_t max_read,
			   struct sym_elf_build *b)
{
	Elf_Data *data;
	size_t i, n, entsz;
	GElf_Sym sym;
	int err;

	entsz = gelf_fsize(e, ELF_T_SYM, 1, EV_CURRENT);
	if (!entsz)
		return -ENOEXEC;
	if (sh->sh_size > max_read)
		return -E2BIG;
	err = sym_elf_strings(e, sh, b);
	if (err)
		return err;
	data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf)
		return -ENOEXEC;
	n = data->d_size / entsz;
	/* Entry 0 is the reserved null symbol. */
	for (i = 1; i < n; i++) {
		int type;

		if (!gelf_getsym(data, i, &sym))
			return -ENOEXEC;
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
		    !sym.st_value || !sym.st_name || sym.st_name >= b->str_size)
			continue;
		err = sym_elf_add(b, &sym);
		if (err)
			return err;
	}
	return b->n ? 0 : -ENODATA;
}

static int sym_elf_cand_cmp(const void *a, const void *b)
{
	const struct sym_elf_cand *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The end of the segment holding vaddr, or vaddr + 1 when none does. */
static uint64_t sym_elf_seg_end(const struct sym_elf_table *t, uint64_t vaddr)
{
	size_t i;

	for (i = 0; i < t->nsegs; i++) {
		if (vaddr >= t->segs[i].vaddr && vaddr - t->segs[i].vaddr < t->segs[i].memsz)
			return t->segs[i].vaddr + t->segs[i].memsz;
	}
	return vaddr + 1;
}

/* Sorts, keeps one symbol per address, sizes the size-0 ones, and moves
 * everything into the compact table. */
static int sym_elf_finish(struct sym_elf_build *b, struct sym_elf_table *t)
{
	size_t i, out = 0;

	qsort(b->cands, b->n, sizeof(*b->cands), sym_elf_cand_cmp);
	for (i = 0; i < b->n; i++) {
		if (out && b->cands[out - 1].addr == b->cands[i].addr)
			continue;
		b->cands[out++] = b->cands[i];
	}
	t->syms = malloc(out * sizeof(*t->syms));
	if (!t->syms)
		return -ENOMEM;
	for (i = 0; i < out; i++) {
		const struct sym_elf_cand *c = &b->cands[i];
		uint64_t size = c->size;

		if (!size) {
			uint64_t end =
				i + 1 < out ? b->cands[i + 1].addr : sym_elf_seg_end(t, c->addr);
			size = end > c->addr ? end - c->addr : 1;
		}
		t->syms[i] = (struct sym_elf_sym){
			.addr = c->addr,
			.size = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size,
			.name = c->name,
		};
	}
	t->n = out;
	t->strs = b->strs;
	t->str_off = b->str_off;
	t->str_size = b->str_size;
	b->strs = NULL;
	return 0;
}

static void sym_elf_build_reset(struct sym_elf_build *b)
{
	free(b->cands);
	free(b->strs);
	b->cands = NULL;
	b->strs = NULL;
	b->n = b->cap = 0;
	b->str_off = b->str_size = 0;
}

/* Scans [off, off + len) of the file (fd >= 0, read in chunks) or of img
 * for a .gopclntab header; its file offset, or 0. */
static uint64_t sym_elf_go_scan(int fd, const char *img, uint64_t off, uint64_t len)
{
	const size_t chunk = 1u << 20;
	uint64_t at = 0, found = 0;
	uint8_t *buf;
	size_t i;

	if (img) {
		i = sym_go__scan((const uint8_t *)img + off, len, 0);
		return i < len ? off + i : 0;
	}
	buf = malloc(chunk);
	if (!buf)
		return 0;
	/* Chunks start 8-aligned, as do tables: no header straddles two. */
	while (!found && at < len) {
		size_t want = len - at < chunk ? len - at : chunk;
		ssize_t n = pread(fd, buf, want, off + at);

		if (n <= 0)
			break;
		i = sym_go__scan(buf, n, 0);
		if (i < (size_t)n)
			found = off + at + i;
		at += n & ~(size_t)7;
		if (n < 8)
			break;
	}
	free(buf);
	return found;
}

/* No symbol table: a Go binary still names its functions in .gopclntab,
 * found by section or, with section headers gone, by its magic in a
 * segment (bounded). Each candidate is checked by loading it. fd < 0: from
 * img, the memory image. 0 with t->go set, or -ENODATA when none. */
static int sym_elf_go(int fd, const char *img, uint64_t img_len, struct sym_elf_table *t,
		      size_t max_bytes)
{
	uint64_t scanned = 0, from, at;
	size_t i, room;
	int err;

	if (sym_elf_table__bytes(t) >= max_bytes)
		return -E2BIG;
	room = max_bytes - sym_elf_table__bytes(t);
	if (t->go_size) {
		if (img && (t->go_off > img_len || t->go_size > img_len - t->go_off))
			return -ENOEXEC;
		err = sym_go__new(fd, img ? img + t->go_off : NULL, t->go_off, t->go_size, t->text,
				  room, &t->go);
		return err == -ENOEXEC ? -ENODATA : err;
	}
	for (i = 0; i < t->nsegs && scanned < SYM_ELF_GO_SCAN_MAX; i++) {
		const struct sym_elf_seg *sg = &t->segs[i];
		uint64_t end = sg->off + sg->filesz;

		if (img && (sg->off > img_len || sg->filesz > img_len - sg->off))
			continue;
		for (from = sg->off; from < end && scanned < SYM_ELF_GO_SCAN_MAX;) {
			uint64_t len = end - from;

			if (len > SYM_ELF_GO_SCAN_MAX - scanned)
				len = SYM_ELF_GO_SCAN_MAX - scanned;
			at = sym_elf_go_scan(fd, img, from, len);
			scanned += at ? at + 8 - from : len;
			if (!at)
				break;
			err = sym_go__new(fd, img ? img + at : NULL, at, end - at, t->text, room,
					  &t->go);
			if (err != -ENOEXEC)
				return err;
			from = at + 8;
		}
	}
	return -ENODATA;
}

/* st is the file's when loading from an fd, NULL from memory. */
static int sym_elf_load(Elf *e, const struct stat *st, size_t max_bytes, struct sym_elf_table **out)
{
	struct sym_elf_build b = { .st = st };
	Elf_Scn *scn = NULL, *symtab = NULL, *dynsym = NULL;
	GElf_Shdr sh, symtab_sh, dynsym_sh;
	struct sym_elf_table *t = NULL;
	size_t shstrndx = 0;
	GElf_Ehdr eh;
	int err;

	*out = NULL;
	if (elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh) ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)) {
		err = -ENOEXEC;
		goto cleanup;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		err = -ENOMEM;
		goto cleanup;
	}
	t->fd = -1;
	err = sym_elf_segments(e, t);
	if (err)
		goto cleanup;
	/* The bound covers the whole table, not only symbols and names. */
	if (max_bytes < sym_elf_table__bytes(t)) {
		err = -E2BIG;
		goto cleanup;
	}
	b.max_bytes = max_bytes - sym_elf_table__bytes(t);
	if (elf_getshdrstrndx(e, &shstrndx))
		shstrndx = 0;
	while ((scn = elf_nextscn(e, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh)) {
			err = -ENOEXEC;
			goto cleanup;
		}
		/* Go: its own table survives strip -s -w; remembered in case
		 * there is no symbol table. */
		name = shstrndx ? elf_strptr(e, shstrndx, sh.sh_name) : NULL;
		if (name && sh.sh_type == SHT_PROGBITS &&
		    (!strcmp(name, ".gopclntab") || !strcmp(name, ".data.rel.ro.gopclntab"))) {
			t->go_off = sh.sh_offset;
			t->go_size = sh.sh_size;
		} else if (name && !strcmp(name, ".text")) {
			t->text = sh.sh_addr;
		}
		if (sh.sh_type == SHT_SYMTAB && !symtab) {
			symtab = scn;
			symtab_sh = sh;
		} else if (sh.sh_type == SHT_DYNSYM && !dynsym) {
			dynsym = scn;
			dynsym_sh = sh;
		}
	}
	err = -ENODATA;
	if (symtab)
		err = sym_elf_collect(e, symtab, &symtab_sh, SYM_ELF_READ_MAX(max_bytes), &b);
	/* A .symtab that is unusable or too big for the cache still leaves the
	 * exported names of .dynsym, which are few. When both fail, the
	 * .symtab's reason is the one worth reporting. */
	if (err && err != -ENOMEM && dynsym) {
		int symtab_err = err;

		sym_elf_build_reset(&b);
		t->dynsym = true;
		err = sym_elf_collect(e, dynsym, &dynsym_sh, SYM_ELF_READ_MAX(max_bytes), &b);
		if (err && err != -ENOMEM && symtab)
			err = symtab_err;
	}
	/* No symbols: maybe Go. From a file, looked at once it has its fd. */
	if (err == -ENODATA) {
		size_t len = 0;
		char *img = st ? NULL : elf_rawfile(e, &len);

		err = st ? 0 : img ? sym_elf_go(-1, img, len, t, max_bytes) : -ENODATA;
		goto cleanup;
	}
	if (err)
		goto cleanup;
	err = sym_elf_finish(&b, t);
cleanup:
	sym_elf_build_reset(&b);
	if (err) {
		sym_elf_table__free(t);
		return err;
	}
	*out = t;
	return 0;
}

int sym_elf_table__from_fd(int fd, size_t max_bytes, struct sym_elf_table **out)
{
	struct sym_elf_table *t = NULL;
	struct stat st;
	Elf *e;
	int err;

	*out = NULL;
	e = sym_elf_open_fd(fd);
	if (!e)
		return -ENOEXEC;
	if (fstat(fd, &st)) {
		err = -errno;
		goto cleanup;
	}
	err = sym_elf_load(e, &st, max_bytes, &t);
	if (err)
		goto cleanup;
	/* Our own fd: the caller's may be closed while the table is cached
	 * (and shared with other files of the same build-id). */
	t->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (t->fd < 0) {
		err = -errno;
		goto cleanup;
	}
	t->file_size = st.st_size;
	t->mtime_sec = st.st_mtim.tv_sec;
	t->mtime_nsec = st.st_mtim.tv_nsec;
	if (!t->n)
		err = sym_elf_go(t->fd, NULL, 0, t, max_bytes);
cleanup:
	elf_end(e);
	if (err) {
		sym_elf_table__free(t);
		return err;
	}
	*out = t;
	return 0;
}

int sym_elf_table__segments_from_fd(int fd, struct sym_elf_table **out)
{
	struct sym_elf_table *t;
	GElf_Ehdr eh;
	int err;
	Elf *e;

	*out = NULL;
	e = sym_elf_open_fd(fd);
	if (!e)
		return -ENOEXEC;
	t = calloc(1, sizeof(*t));
	if (!t) {
		err = -ENOMEM;
		goto cleanup;
	}
	t->fd = -1;
	err = elf_kind(e) == ELF_K_ELF && gelf_getehdr(e, &eh) ? sym_elf_segments(e, t) :
								 -ENOEXEC;
cleanup:
	elf_end(e);
	if (err) {
		sym_elf_table__free(t);
		return err;
	}
	*out = t;
	return 0;
}

int sym_elf_table__from_mem(const void *img, size_t len, size_t max_bytes,
			    struct sym_elf_table **out)
{
	char *copy;
	Elf *e;
	int err;

	*out = NULL;
	err = sym_elf_open_mem(img, len, &copy, &e);
	if (!err)
		err = sym_elf_load(e, NULL, max_bytes, out);
	sym_elf_close_mem(e, copy);
	return err;
}

void sym_elf_table__free(struct sym_elf_table *t)
{
	if (!t)
		return;
	if (t->fd >= 0)
		close(t->fd);
	sym_go__free(t->go);
	free(t->syms);
	free(t->strs);
	free(t->segs);
	free(t);
}

int sym_elf_table__take_segments(struct sym_elf_table *dst, const struct sym_elf_table *src)
{
	struct sym_elf_seg *segs;

	segs = malloc((src->nsegs ? src->nsegs : 1) * sizeof(*segs));
	if (!segs)
		return -ENOMEM;
	memcpy(segs, src->segs, src->nsegs * sizeof(*segs));
	free(dst->segs);
	dst->segs = segs;
	dst->nsegs = src->nsegs;
	return 0;
}

bool sym_elf_table__stale(const struct sym_elf_table *t)
{
	struct stat st;

	if (t->fd < 0)
		return false;
	if (fstat(t->fd, &st))
		return true;
	return st.st_size != t->file_size || st.st_mtim.tv_sec != t->mtime_sec ||
	       st.st_mtim.tv_nsec != t->mtime_nsec;
}

size_t sym_elf_table__bytes(const struct sym_elf_table *t)
{
	return sizeof(*t) + t->nsegs * sizeof(*t->segs) + t->n * sizeof(*t->syms) +
	       (t->strs ? t->str_size : 0) + (t->go ? sym_go__bytes(t->go) : 0);
}

size_t sym_elf_table__count(const struct sym_elf_table *t)
{
	return t->n;
}

bool sym_elf_table__go(const struct sym_elf_table *t)
{
	return t->go != NULL;
}

bool sym_elf_table__dynsym(const struct sym_elf_table *t)
{
	return t->dynsym;
}
