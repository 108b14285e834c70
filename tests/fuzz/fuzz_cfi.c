// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_cfi.c - libFuzzer harness for the CFI-to-table compiler
 *
 * Input: a flags byte, a 32-bit little-endian section address, then the
 * bytes of a CFI section. The harness wraps them in a minimal x86-64 ELF
 * file (one executable PT_LOAD over the whole file, the section, a
 * .shstrtab) so the mutations land in the CIEs and FDEs rather than in ELF
 * headers libelf rejects. Flags: bit 0 names the section .debug_frame
 * instead of .eh_frame; bit 1 feeds the raw input as a whole ELF image
 * instead. The table must keep its invariants or the compile must fail. */
#include <elf.h>
#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profiler.h"
#include "unwind_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char shstr[] = "\0.eh_frame\0.shstrtab\0.debug_frame";
#define NAME_EH 1
#define NAME_SHSTRTAB 11
#define NAME_DEBUG 21

static void check(const struct unwind_table *t)
{
	size_t i;

	for (i = 1; i < t->nr; i++)
		if (t->rows[i - 1].pc >= t->rows[i].pc)
			__builtin_trap();
	if (t->nr && PROF_UNWIND_CFA_RULE(t->rows[t->nr - 1].rule) != PROF_CFA_NONE)
		__builtin_trap();
	for (i = 0; i < t->nr; i++)
		if (PROF_UNWIND_CFA_RULE(t->rows[i].rule) > PROF_CFA_DEREF_RSP ||
		    PROF_UNWIND_RBP_RULE(t->rows[i].rule) > PROF_RBP_UNDEFINED)
			__builtin_trap();
}

static void run(const uint8_t *img, size_t size)
{
	struct unwind_table t;
	struct unwind_table_stats st;

	/* a small cap so E2BIG is reached too */
	if (!unwind_table_compile_mem(img, size, 4096, &t, &st)) {
		check(&t);
		if (st.rows != t.nr)
			__builtin_trap();
	}
	unwind_table_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t sec_off = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr), sec_len, str_off, sh_off, total;
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph = { 0 };
	Elf64_Shdr sh[3] = { { 0 } };
	uint32_t addr;
	uint8_t flags, *img;

	if (size < 5)
		return 0;
	flags = data[0];
	if (flags & 2) {
		run(data + 1, size - 1);
		return 0;
	}
	memcpy(&addr, data + 1, 4);
	sec_len = size - 5;
	str_off = sec_off + sec_len;
	sh_off = (str_off + sizeof(shstr) + 7) & ~(size_t)7;
	total = sh_off + sizeof(sh);
	img = calloc(1, total);
	if (!img)
		return 0;

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_DYN;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = addr;
	eh.e_phoff = sizeof(eh);
	eh.e_shoff = sh_off;
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = 1;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 3;
	eh.e_shstrndx = 2;
	memcpy(img, &eh, sizeof(eh));

	/* the file mapped at (addr - sec_off), so the section lands at addr */
	ph.p_type = PT_LOAD;
	ph.p_flags = PF_R | PF_X;
	ph.p_offset = 0;
	ph.p_vaddr = ph.p_paddr = (uint64_t)addr - sec_off;
	ph.p_filesz = ph.p_memsz = total;
	ph.p_align = 1;
	memcpy(img + sizeof(eh), &ph, sizeof(ph));

	memcpy(img + sec_off, data + 5, sec_len);
	memcpy(img + str_off, shstr, sizeof(shstr));

	sh[1].sh_name = (flags & 1) ? NAME_DEBUG : NAME_EH;
	sh[1].sh_type = SHT_PROGBITS;
	sh[1].sh_flags = (flags & 1) ? 0 : SHF_ALLOC;
	sh[1].sh_addr = (flags & 1) ? 0 : addr;
	sh[1].sh_offset = sec_off;
	sh[1].sh_size = sec_len;
	sh[1].sh_addralign = 1;
	sh[2].sh_name = NAME_SHSTRTAB;
	sh[2].sh_type = SHT_STRTAB;
	sh[2].sh_offset = str_off;
	sh[2].sh_size = sizeof(shstr);
	sh[2].sh_addralign = 1;
	memcpy(img + sh_off, sh, sizeof(sh));

	run(img, total);
	free(img);
	return 0;
}
