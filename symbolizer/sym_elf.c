// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sym_elf.c - function symbol tables and build-ids from ELF files
 *
 * Owns the libelf handle only while loading: a table keeps 16 bytes per
 * function plus its name, and the PT_LOAD segments; nothing points back into
 * the file. Files are read with ELF_C_READ (pread), not mmap, so a file
 * truncated under us is an error, not a SIGBUS. Every size taken from the
 * file is checked against the bounds before it is trusted.
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

#include "sym_elf.h"

#ifndef NT_GNU_BUILD_ID
#define NT_GNU_BUILD_ID 3
#endif

/* Sections read to build a table are bounded to twice the table's bound, plus
 * some slack for small files, whose symbols are mostly not functions: a
 * function entry (16 bytes + name) is smaller than its ELF symbol (24 bytes +
 * name). What is read is freed once the table is built. */
#define SYM_ELF_READ_MAX(max_bytes) (2 * (max_bytes) + (1u << 20))
#define SYM_ELF_MAX_SEGS 64
#define SYM_ELF_MAX_PHDRS 4096
#define SYM_ELF_MAX_NOTE (1u << 20)
/* A symbol nested in a bigger one (a local label typed as a function) can
 * hide it from the binary search; this many predecessors are tried too. */
#define SYM_ELF_BACKTRACK 4

struct sym_elf_seg {
	uint64_t off;
	uint64_t filesz;
	uint64_t vaddr;
	uint64_t memsz;
};

struct sym_elf_sym {
	uint64_t addr;
	uint32_t size; /* computed for size-0 symbols: up to the next one */
	uint32_t name; /* offset in names */
};

struct sym_elf_table {
	struct sym_elf_sym *syms;
	size_t n;
	char *names;
	size_t names_len;
	struct sym_elf_seg *segs;
	size_t nsegs;
	bool dynsym;
};

/* Loading state: candidates carry what decides between aliases. */
struct sym_elf_cand {
	uint64_t addr;
	uint64_t size;
	uint32_t name;
	uint32_t rank; /* lower wins: global, weak, local; then sized */
};

struct sym_elf_build {
	struct sym_elf_cand *cands;
	size_t n, cap;
	char *names;
	size_t names_len, names_cap;
	size_t max_bytes;
};

static Elf *sym_elf_open_fd(int fd)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return NULL;
	return elf_begin(fd, ELF_C_READ, NULL);
}

/* elf_memory() wants a mutable image; the caller's is copied into *copy,
 * which the caller frees after elf_end(). 0, -ENOEXEC or -ENOMEM. */
static int sym_elf_open_mem(const void *img, size_t len, char **copy, Elf **e)
{
	*copy = NULL;
	*e = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE || !len)
		return -ENOEXEC;
	*copy = malloc(len);
	if (!*copy)
		return -ENOMEM;
	memcpy(*copy, img, len);
	*e = elf_memory(*copy, len);
	return *e ? 0 : -ENOEXEC;
}

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

static size_t sym_elf_build_bytes(const struct sym_elf_build *b)
{
	return b->n * sizeof(struct sym_elf_sym) + b->names_len;
}

static int sym_elf_add(struct sym_elf_build *b, const GElf_Sym *sym, const char *name)
{
	size_t len = strnlen(name, SYM_ELF_MAX_NAME), cap;
	int bind = GELF_ST_BIND(sym->st_info);
	void *p;

	if (sym_elf_build_bytes(b) + sizeof(struct sym_elf_sym) + len + 1 > b->max_bytes)
		return -E2BIG;
	if (b->n == b->cap) {
		cap = b->cap ? b->cap * 2 : 256;
		p = realloc(b->cands, cap * sizeof(*b->cands));
		if (!p)
			return -ENOMEM;
		b->cands = p;
		b->cap = cap;
	}
	if (b->names_len + len + 1 > b->names_cap) {
		cap = b->names_cap ? b->names_cap * 2 : 4096;
		while (cap < b->names_len + len + 1)
			cap *= 2;
		p = realloc(b->names, cap);
		if (!p)
			return -ENOMEM;
		b->names = p;
		b->names_cap = cap;
	}
	memcpy(b->names + b->names_len, name, len);
	b->names[b->names_len + len] = '\0';
	b->cands[b->n++] = (struct sym_elf_cand){
		.addr = sym->st_value,
		.size = sym->st_size,
		.name = b->names_len,
		.rank = (bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 2 : 4) + !sym->st_size,
	};
	b->names_len += len + 1;
	return 0;
}

/* Collects the function symbols of one symbol section. */
static int sym_elf_collect(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, size_t max_read,
			   struct sym_elf_build *b)
{
	Elf_Scn *strscn;
	GElf_Shdr strsh;
	Elf_Data *data;
	size_t i, n, entsz;
	GElf_Sym sym;
	int err;

	entsz = gelf_fsize(e, ELF_T_SYM, 1, EV_CURRENT);
	strscn = elf_getscn(e, sh->sh_link);
	if (!entsz || !strscn || !gelf_getshdr(strscn, &strsh) || strsh.sh_type != SHT_STRTAB)
		return -ENOEXEC;
	if (sh->sh_size > max_read || strsh.sh_size > max_read ||
	    sh->sh_size + strsh.sh_size > max_read)
		return -E2BIG;
	data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf)
		return -ENOEXEC;
	n = data->d_size / entsz;
	/* Entry 0 is the reserved null symbol. */
	for (i = 1; i < n; i++) {
		const char *name;
		int type;

		if (!gelf_getsym(data, i, &sym))
			return -ENOEXEC;
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
		    !sym.st_value || !sym.st_name)
			continue;
		name = elf_strptr(e, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		err = sym_elf_add(b, &sym, name);
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
	return x->name < y->name ? -1 : x->name > y->name;
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
	void *p;

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
			uint64_t end = i + 1 < out ? b->cands[i + 1].addr
						   : sym_elf_seg_end(t, c->addr);
			size = end > c->addr ? end - c->addr : 1;
		}
		t->syms[i] = (struct sym_elf_sym){
			.addr = c->addr,
			.size = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size,
			.name = c->name,
		};
	}
	t->n = out;
	/* The blob was grown by doubling; give the slack back. */
	p = realloc(b->names, b->names_len);
	t->names = p ? p : b->names;
	t->names_len = b->names_len;
	b->names = NULL;
	return 0;
}

static void sym_elf_build_reset(struct sym_elf_build *b)
{
	free(b->cands);
	free(b->names);
	b->cands = NULL;
	b->names = NULL;
	b->n = b->cap = b->names_len = b->names_cap = 0;
}

static int sym_elf_load(Elf *e, size_t max_bytes, struct sym_elf_table **out)
{
	struct sym_elf_build b = { 0 };
	Elf_Scn *scn = NULL, *symtab = NULL, *dynsym = NULL;
	GElf_Shdr sh, symtab_sh, dynsym_sh;
	struct sym_elf_table *t = NULL;
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
	err = sym_elf_segments(e, t);
	if (err)
		goto cleanup;
	/* The bound covers the whole table, not only symbols and names. */
	if (max_bytes < sym_elf_table__bytes(t)) {
		err = -E2BIG;
		goto cleanup;
	}
	b.max_bytes = max_bytes - sym_elf_table__bytes(t);
	while ((scn = elf_nextscn(e, scn))) {
		if (!gelf_getshdr(scn, &sh)) {
			err = -ENOEXEC;
			goto cleanup;
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
	Elf *e = sym_elf_open_fd(fd);
	int err;

	*out = NULL;
	if (!e)
		return -ENOEXEC;
	err = sym_elf_load(e, max_bytes, out);
	elf_end(e);
	return err;
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
		err = sym_elf_load(e, max_bytes, out);
	elf_end(e);
	free(copy);
	return err;
}

void sym_elf_table__free(struct sym_elf_table *t)
{
	if (!t)
		return;
	free(t->syms);
	free(t->names);
	free(t->segs);
	free(t);
}

/* File offset to virtual address through the PT_LOAD segment holding it. */
static bool sym_elf_off_to_vaddr(const struct sym_elf_table *t, uint64_t off, uint64_t *vaddr)
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

void sym_elf_table__lookup(const struct sym_elf_table *t, uint64_t off, struct sym_result *r)
{
	size_t lo = 0, hi = t->n, i;
	uint64_t vaddr;

	memset(r, 0, sizeof(*r));
	r->reason = SYM_UNKNOWN_ADDR;
	if (!sym_elf_off_to_vaddr(t, off, &vaddr))
		return;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->syms[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i > 0 && lo - i < SYM_ELF_BACKTRACK; i--) {
		const struct sym_elf_sym *s = &t->syms[i - 1];

		if (vaddr - s->addr < s->size) {
			r->name = t->names + s->name;
			r->offset = vaddr - s->addr;
			r->reason = SYM_OK;
			return;
		}
	}
}

size_t sym_elf_table__bytes(const struct sym_elf_table *t)
{
	return sizeof(*t) + t->nsegs * sizeof(*t->segs) + t->n * sizeof(*t->syms) + t->names_len;
}

size_t sym_elf_table__count(const struct sym_elf_table *t)
{
	return t->n;
}

bool sym_elf_table__dynsym(const struct sym_elf_table *t)
{
	return t->dynsym;
}

static bool sym_elf_note_scan(Elf_Data *data, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t off = 0, next, name_off, desc_off, i;
	GElf_Nhdr nh;

	while ((next = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const unsigned char *desc = (const unsigned char *)data->d_buf + desc_off;

		off = next;
		if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
		    memcmp((const char *)data->d_buf + name_off, "GNU", 4) || !nh.n_descsz ||
		    nh.n_descsz > SYM_ELF_BUILD_ID_MAX)
			continue;
		for (i = 0; i < nh.n_descsz; i++) {
			hex[2 * i] = digits[desc[i] >> 4];
			hex[2 * i + 1] = digits[desc[i] & 0xf];
		}
		hex[2 * i] = '\0';
		return true;
	}
	return false;
}

/* PT_NOTE first (what the loader maps), then SHT_NOTE sections. */
static int sym_elf_build_id(Elf *e, char *hex)
{
	Elf_Scn *scn = NULL;
	size_t i, phnum;
	GElf_Phdr ph;
	GElf_Shdr sh;

	if (elf_kind(e) != ELF_K_ELF)
		return -ENOEXEC;
	if (!elf_getphdrnum(e, &phnum)) {
		for (i = 0; i < phnum && i < SYM_ELF_MAX_PHDRS; i++) {
			Elf_Data *d;

			if (!gelf_getphdr(e, i, &ph) || ph.p_type != PT_NOTE || !ph.p_filesz ||
			    ph.p_filesz > SYM_ELF_MAX_NOTE)
				continue;
			d = elf_getdata_rawchunk(e, ph.p_offset, ph.p_filesz,
						 ph.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
			if (d && sym_elf_note_scan(d, hex))
				return 0;
		}
	}
	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE || sh.sh_size > SYM_ELF_MAX_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		if (d && sym_elf_note_scan(d, hex))
			return 0;
	}
	return -ENODATA;
}

int sym_elf_build_id_fd(int fd, char *hex)
{
	Elf *e = sym_elf_open_fd(fd);
	int err;

	if (!e)
		return -ENOEXEC;
	err = sym_elf_build_id(e, hex);
	elf_end(e);
	return err;
}

int sym_elf_build_id_mem(const void *img, size_t len, char *hex)
{
	char *copy;
	Elf *e;
	int err;

	err = sym_elf_open_mem(img, len, &copy, &e);
	if (!err)
		err = sym_elf_build_id(e, hex);
	elf_end(e);
	free(copy);
	return err;
}
