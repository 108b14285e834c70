// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sym_debuglink.c - reading .gnu_debuglink and checking a debug file's CRC
 *
 * The CRC is zlib's crc32() (gdb's gnu_debuglink_crc32 is the same
 * polynomial; libiberty's xcrc32 is not). Where candidates are looked for
 * is sym_debug.c's business; this file only parses and checksums.
 */
#include <errno.h>
#include <gelf.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "sym_debuglink.h"
#include "sym_elf_open.h"

/* Name, NUL, padding, CRC: a real section is a few dozen bytes. */
#define SYM_DEBUGLINK_SECTION_MAX 4096

int sym_debuglink_parse(const void *data, size_t len, bool big_endian, char *name, uint32_t *crc)
{
	const unsigned char *p = data;
	size_t nlen, off;
	uint32_t v;

	if (!len || len > SYM_DEBUGLINK_SECTION_MAX)
		return -EINVAL;
	nlen = strnlen((const char *)p, len);
	if (!nlen || nlen == len || nlen >= SYM_DEBUGLINK_NAME_MAX || memchr(p, '/', nlen))
		return -EINVAL;
	/* The CRC is 4-aligned within the section, after the NUL. */
	off = (nlen + 1 + 3) & ~(size_t)3;
	if (off + 4 > len)
		return -EINVAL;
	v = big_endian ? (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 |
				 (uint32_t)p[off + 2] << 8 | p[off + 3] :
			 (uint32_t)p[off + 3] << 24 | (uint32_t)p[off + 2] << 16 |
				 (uint32_t)p[off + 1] << 8 | p[off];
	memcpy(name, p, nlen);
	name[nlen] = '\0';
	*crc = v;
	return 0;
}

int sym_debuglink_read(int fd, char *name, uint32_t *crc)
{
	GElf_Ehdr eh;
	GElf_Shdr sh;
	Elf_Data *d;
	Elf_Scn *scn;
	int err = -ENODATA;
	Elf *e;

	e = sym_elf_open_fd(fd);
	if (!e)
		return -ENOEXEC;
	if (elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh)) {
		err = -ENOEXEC;
		goto cleanup;
	}
	scn = sym_elf_section(e, ".gnu_debuglink", &sh);
	if (!scn || sh.sh_type != SHT_PROGBITS)
		goto cleanup;
	if (sh.sh_size > SYM_DEBUGLINK_SECTION_MAX) {
		err = -EINVAL;
		goto cleanup;
	}
	d = elf_rawdata(scn, NULL);
	err = d && d->d_buf ? sym_debuglink_parse(d->d_buf, d->d_size,
						  eh.e_ident[EI_DATA] == ELFDATA2MSB, name, crc) :
			      -EINVAL;
cleanup:
	elf_end(e);
	return err;
}

int sym_debuglink_crc_fd(int fd, uint32_t *crc)
{
	unsigned char buf[65536];
	uLong c = crc32(0, Z_NULL, 0);
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		c = crc32(c, buf, (uInt)n);
		off += n;
	}
	if (n < 0)
		return -errno;
	*crc = (uint32_t)c;
	return 0;
}
