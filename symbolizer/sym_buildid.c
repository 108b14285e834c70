// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sym_buildid.c - GNU build-id notes from ELF files and memory images
 *
 * Reads the notes the loader maps (PT_NOTE) first, then SHT_NOTE sections,
 * through a libelf handle held only for the call. Note segments and
 * sections larger than SYM_BUILDID_MAX_NOTE are skipped, not read.
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <string.h>

#include "sym_buildid.h"
#include "sym_elf_open.h"

#ifndef NT_GNU_BUILD_ID
#define NT_GNU_BUILD_ID 3
#endif

#define SYM_BUILDID_MAX_NOTE (1u << 20)

static bool sym_buildid_note_scan(Elf_Data *data, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t off = 0, next, name_off, desc_off, i;
	GElf_Nhdr nh;

	while ((next = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const unsigned char *desc = (const unsigned char *)data->d_buf + desc_off;

		off = next;
		if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
		    memcmp((const char *)data->d_buf + name_off, "GNU", 4) || !nh.n_descsz ||
		    nh.n_descsz > SYM_BUILDID_MAX)
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
static int sym_buildid_elf(Elf *e, char *hex)
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
			    ph.p_filesz > SYM_BUILDID_MAX_NOTE)
				continue;
			d = elf_getdata_rawchunk(e, ph.p_offset, ph.p_filesz,
						 ph.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
			if (d && sym_buildid_note_scan(d, hex))
				return 0;
		}
	}
	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE ||
		    sh.sh_size > SYM_BUILDID_MAX_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		if (d && sym_buildid_note_scan(d, hex))
			return 0;
	}
	return -ENODATA;
}

int sym_buildid_fd(int fd, char *hex)
{
	Elf *e = sym_elf_open_fd(fd);
	int err;

	if (!e)
		return -ENOEXEC;
	err = sym_buildid_elf(e, hex);
	elf_end(e);
	return err;
}

int sym_buildid_mem(const void *img, size_t len, char *hex)
{
	char *copy;
	Elf *e;
	int err;

	err = sym_elf_open_mem(img, len, &copy, &e);
	if (!err)
		err = sym_buildid_elf(e, hex);
	sym_elf_close_mem(e, copy);
	return err;
}
