/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sym_test_elf.h - the ground truth for the symbolizer tests (header-only:
 * tests are one file each)
 *
 * Finds a function's file offset and size straight from an ELF file's own
 * symbol table and program headers, by a path independent of the code under
 * test (by section name, first match, no sorting), and reads the build-id
 * note from its section. Also reads canned input files whole.
 */
#ifndef EMBER_SYM_TEST_ELF_H
#define EMBER_SYM_TEST_ELF_H

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sym_test_func {
	uint64_t off; /* file offset of the first byte */
	uint64_t size; /* st_size */
	uint64_t vaddr; /* st_value, the link-time address */
};

static inline bool sym_test_elf_func(Elf *e, const char *name, struct sym_test_func *out)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	GElf_Sym sym;
	GElf_Phdr ph;
	size_t i, n, phnum;
	bool found = false;

	while (!found && (scn = elf_nextscn(e, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		d = elf_getdata(scn, NULL);
		n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		for (i = 0; d && i < n; i++) {
			const char *s;

			if (!gelf_getsym(d, i, &sym) || sym.st_shndx == SHN_UNDEF)
				continue;
			s = elf_strptr(e, sh.sh_link, sym.st_name);
			if (s && !strcmp(s, name)) {
				found = true;
				break;
			}
		}
	}
	if (!found || elf_getphdrnum(e, &phnum))
		return false;
	for (i = 0; i < phnum; i++) {
		if (!gelf_getphdr(e, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (sym.st_value >= ph.p_vaddr && sym.st_value < ph.p_vaddr + ph.p_filesz) {
			out->off = sym.st_value - ph.p_vaddr + ph.p_offset;
			out->size = sym.st_size;
			out->vaddr = sym.st_value;
			return true;
		}
	}
	return false;
}

/* The file offset and size of function name in the ELF file at path. */
static inline bool sym_test_func(const char *path, const char *name, struct sym_test_func *out)
{
	int fd = open(path, O_RDONLY);
	bool ok = false;
	Elf *e;

	if (fd < 0)
		return false;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (e)
		ok = sym_test_elf_func(e, name, out);
	elf_end(e);
	close(fd);
	return ok;
}

/* Same for an image in memory (the vDSO). */
static inline bool sym_test_func_mem(const void *img, size_t len, const char *name,
				     struct sym_test_func *out)
{
	char *copy = malloc(len);
	bool ok = false;
	Elf *e;

	if (!copy)
		return false;
	memcpy(copy, img, len);
	elf_version(EV_CURRENT);
	e = elf_memory(copy, len);
	if (e)
		ok = sym_test_elf_func(e, name, out);
	elf_end(e);
	free(copy);
	return ok;
}

/* The build-id from the ".note.gnu.build-id" section, as lowercase hex. */
static inline bool sym_test_build_id(const char *path, char *hex, size_t len)
{
	int fd = open(path, O_RDONLY);
	Elf_Scn *scn = NULL;
	bool ok = false;
	size_t shstrndx;
	GElf_Shdr sh;
	Elf *e;

	if (fd < 0)
		return false;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (e && !elf_getshdrstrndx(e, &shstrndx)) {
		while (!ok && (scn = elf_nextscn(e, scn))) {
			const char *s;
			Elf_Data *d;
			size_t i;

			if (!gelf_getshdr(scn, &sh))
				continue;
			s = elf_strptr(e, shstrndx, sh.sh_name);
			if (!s || strcmp(s, ".note.gnu.build-id"))
				continue;
			d = elf_rawdata(scn, NULL);
			/* 12-byte note header, "GNU\0", then the id. */
			if (!d || d->d_size <= 16 || 2 * (d->d_size - 16) + 1 > len)
				break;
			for (i = 16; i < d->d_size; i++)
				snprintf(hex + 2 * (i - 16), 3, "%02x",
					 ((unsigned char *)d->d_buf)[i]);
			ok = true;
		}
	}
	elf_end(e);
	close(fd);
	return ok;
}

/* The whole file at path, NUL-terminated; *len its size. Free with free(). */
static inline char *sym_test_read_file(const char *path, size_t *len)
{
	char *buf;
	FILE *f;
	long n;

	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = n;
	return buf;
}

#endif /* EMBER_SYM_TEST_ELF_H */
