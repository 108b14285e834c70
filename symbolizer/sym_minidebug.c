// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sym_minidebug.c - .gnu_debugdata decompression with liblzma
 *
 * One-shot decode into a buffer that grows by doubling up to the cap; the
 * decoder's own memory is limited too, so a hostile stream asking for a
 * huge dictionary fails instead of allocating it.
 */
#include <errno.h>
#include <gelf.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>

#include "sym_elf_open.h"
#include "sym_minidebug.h"

/* xz -9 needs 64 MiB of dictionary; MiniDebugInfo is made with defaults. */
#define SYM_MINIDEBUG_DECODER_MEM (128u << 20)

int sym_minidebug_unxz(const void *in, size_t len, size_t max, void **out, size_t *out_len)
{
	lzma_stream s = LZMA_STREAM_INIT;
	size_t cap = 64 * 1024;
	unsigned char *buf = NULL, *nb;
	lzma_ret r;
	int err;

	*out = NULL;
	*out_len = 0;
	if (lzma_stream_decoder(&s, SYM_MINIDEBUG_DECODER_MEM, 0) != LZMA_OK)
		return -ENOMEM;
	if (cap > max)
		cap = max ? max : 1;
	buf = malloc(cap);
	if (!buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	s.next_in = in;
	s.avail_in = len;
	s.next_out = buf;
	s.avail_out = cap;
	for (;;) {
		r = lzma_code(&s, LZMA_FINISH);
		if (r == LZMA_STREAM_END)
			break;
		if (r == LZMA_MEM_ERROR || r == LZMA_MEMLIMIT_ERROR) {
			err = -ENOMEM;
			goto cleanup;
		}
		if (r != LZMA_OK && r != LZMA_BUF_ERROR) {
			err = -EINVAL;
			goto cleanup;
		}
		if (s.avail_out) {
			/* No progress possible: input ended mid-stream. */
			err = -EINVAL;
			goto cleanup;
		}
		if (cap >= max) {
			err = -E2BIG;
			goto cleanup;
		}
		cap = cap > max / 2 ? max : cap * 2;
		nb = realloc(buf, cap);
		if (!nb) {
			err = -ENOMEM;
			goto cleanup;
		}
		buf = nb;
		s.next_out = buf + s.total_out;
		s.avail_out = cap - s.total_out;
	}
	*out = buf;
	*out_len = s.total_out;
	buf = NULL;
	err = 0;
cleanup:
	lzma_end(&s);
	free(buf);
	return err;
}

int sym_minidebug_read(int fd, size_t max, void **out, size_t *out_len)
{
	GElf_Shdr sh;
	Elf_Data *d;
	Elf_Scn *scn;
	int err = -ENODATA;
	Elf *e;

	*out = NULL;
	*out_len = 0;
	e = sym_elf_open_fd(fd);
	if (!e)
		return -ENOEXEC;
	if (elf_kind(e) != ELF_K_ELF) {
		err = -ENOEXEC;
		goto cleanup;
	}
	scn = sym_elf_section(e, ".gnu_debugdata", &sh);
	/* perf refuses a NOBITS one too: there is nothing to read. */
	if (!scn || sh.sh_type != SHT_PROGBITS)
		goto cleanup;
	if (sh.sh_size > SYM_MINIDEBUG_IN_MAX) {
		err = -E2BIG;
		goto cleanup;
	}
	d = elf_rawdata(scn, NULL);
	err = d && d->d_buf && d->d_size ?
		      sym_minidebug_unxz(d->d_buf, d->d_size, max, out, out_len) :
		      -EINVAL;
cleanup:
	elf_end(e);
	return err;
}
