// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sym_elf_open.c - libelf handles on files and memory images
 *
 * Owns nothing past the call: the handle and the memory copy go to the
 * caller. Checks the libelf version on every open, which is cheap and
 * spares the callers an init step.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sym_elf_open.h"

Elf *sym_elf_open_fd(int fd)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return NULL;
	return elf_begin(fd, ELF_C_READ, NULL);
}

int sym_elf_open_mem(const void *img, size_t len, char **copy, Elf **e)
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

void sym_elf_close_mem(Elf *e, char *copy)
{
	elf_end(e);
	free(copy);
}

Elf_Scn *sym_elf_section(Elf *e, const char *name, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;
	const char *sname;
	size_t shstrndx;

	if (elf_getshdrstrndx(e, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(e, scn))) {
		if (!gelf_getshdr(scn, sh))
			continue;
		sname = elf_strptr(e, shstrndx, sh->sh_name);
		if (sname && !strcmp(sname, name))
			return scn;
	}
	return NULL;
}
