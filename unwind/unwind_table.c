// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* unwind_table.c - compiling an ELF file's CFI into walker rows
 *
 * Three steps. (1) List the FDEs of .eh_frame, then of .debug_frame (own and
 * debug file), with dwarf_next_cfi: only their [start, end) is decoded here
 * (libdw does not export its pointer decoding), a .debug_frame FDE that
 * overlaps an .eh_frame one is dropped. (2) For each FDE, ask libdw for the
 * row at its start, then at that row's end, and so on: each row's CFA, return
 * address and rbp rules are matched against what the walker can do. (3) Sort
 * the rows, fill the gaps between FDEs with PROF_CFA_NONE rows, merge equal
 * neighbours. Step (2) re-runs the FDE program from its start for each row
 * (libdw's model), which is quadratic per FDE but FDEs are short. The FDEs
 * are walked in address order, so the rows come out sorted and step (3)
 * happens as they come: the only arrays are the FDE list and the table.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "unwind_table.h"
#include "vec.h"

/* x86-64 DWARF register numbers. */
#define REG_RBP 6
#define REG_RSP 7
#define REG_RA 16

/* Rows libdw may give for one FDE: a longer FDE is cut there (what follows
 * is PROF_CFA_NONE), so a crafted FDE cannot make the walk quadratic in
 * the file size. Real FDEs have a few dozen rows. */
#define FDE_MAX_ROWS 4096

/* Gaps between FDEs shorter than this are function alignment padding. */
#define GAP_MIN 16

/* DW_EH_PE_* (the pointer encodings of .eh_frame), which dwarf.h has. */
#define PE_OMIT 0xff
#define PE_FORMAT 0x0f
#define PE_APPL 0x70
#define PE_INDIRECT 0x80

/* One FDE's range and the CFI it comes from (NULL: the entry point's STOP
 * range). 32-bit addresses: the rows are, and it halves the list. */
struct fde_ref {
	uint32_t start, end;
	Dwarf_CFI *cfi;
};

enum { SRC_EH, SRC_DEBUG, SRC_DEBUGFILE, SRC_NR };

#define CIE_CACHE 64

struct cie_info {
	Dwarf_Off off;
	bool used;
	bool ok; /* the FDE pointer encoding is known */
	uint8_t fde_enc;
};

struct compiler {
	Elf *elf;
	int fd; /* the file, or -1 (an image in memory) */
	const uint8_t *raw; /* the whole file image */
	size_t raw_size;
	GElf_Ehdr ehdr;
	size_t max_rows;
	struct unwind_table_stats *st;

	struct fde_ref *fdes;
	size_t nfdes, fdes_cap;
	size_t eh_fdes; /* fdes[0, eh_fdes) are .eh_frame's, sorted by start */

	struct prof_unwind_row *rows;
	size_t nrows, rows_cap;
	uint32_t cur_end; /* where the last row put ends */
	bool have; /* a row was put */

	struct cie_info cies[CIE_CACHE];
};

/* ---- FDE listing ---- */

static int read_uleb(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	unsigned int shift = 0;

	*v = 0;
	while (*p < end) {
		uint8_t b = *(*p)++;

		if (shift < 64)
			*v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			return 0;
		if (shift > 70)
			return -1;
	}
	return -1;
}

static int read_sleb(const uint8_t **p, const uint8_t *end, int64_t *v)
{
	unsigned int shift = 0;
	uint64_t u = 0;
	uint8_t b = 0;

	while (*p < end) {
		b = *(*p)++;
		if (shift < 64)
			u |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			if (shift < 64 && (b & 0x40))
				u |= ~(uint64_t)0 << shift;
			*v = (int64_t)u;
			return 0;
		}
		if (shift > 70)
			return -1;
	}
	return -1;
}

static uint64_t read_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* One encoded pointer at *p (whose ELF address is at), advancing *p; apply
 * false only reads (or skips) the value. pcrel and absolute values only:
 * the others do not occur in x86-64 FDEs. 0, -1 malformed, -2 an encoding
 * not supported. */
static int read_encoded(uint8_t enc, bool apply, const uint8_t **p, const uint8_t *end, uint64_t at,
			uint64_t *out)
{
	unsigned int n = 0;
	uint64_t v;
	int64_t s;

	if (apply && (enc & PE_INDIRECT))
		return -2;
	switch (enc & PE_FORMAT) {
	case DW_EH_PE_absptr:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		n = 8;
		break;
	case DW_EH_PE_udata2:
	case DW_EH_PE_sdata2:
		n = 2;
		break;
	case DW_EH_PE_udata4:
	case DW_EH_PE_sdata4:
		n = 4;
		break;
	case DW_EH_PE_uleb128:
		if (read_uleb(p, end, &v))
			return -1;
		break;
	case DW_EH_PE_sleb128:
		if (read_sleb(p, end, &s))
			return -1;
		v = (uint64_t)s;
		break;
	default:
		return -2;
	}
	if (n) {
		if ((size_t)(end - *p) < n)
			return -1;
		v = read_le(*p, n);
		if ((enc & PE_FORMAT) == DW_EH_PE_sdata2)
			v = (uint64_t)(int64_t)(int16_t)v;
		else if ((enc & PE_FORMAT) == DW_EH_PE_sdata4)
			v = (uint64_t)(int64_t)(int32_t)v;
		*p += n;
	}
	if (apply) {
		switch (enc & PE_APPL) {
		case DW_EH_PE_absptr:
			break;
		case DW_EH_PE_pcrel:
			v += at;
			break;
		default:
			return -2;
		}
	}
	*out = v;
	return 0;
}

/* The FDE pointer encoding of the CIE at off, from its augmentation. */
static const struct cie_info *cie_get(struct compiler *c, Elf_Data *data, bool eh, Dwarf_Off off)
{
	struct cie_info *ci = &c->cies[(off / 4) % CIE_CACHE];
	Dwarf_CFI_Entry e;
	Dwarf_Off next;
	const uint8_t *p, *end;
	const char *aug;
	uint64_t skip;

	if (ci->used && ci->off == off)
		return ci;
	memset(ci, 0, sizeof(*ci));
	ci->used = true;
	ci->off = off;
	ci->fde_enc = DW_EH_PE_absptr;
	if (dwarf_next_cfi(c->ehdr.e_ident, data, eh, off, &next, &e) != 0 || !dwarf_cfi_cie_p(&e))
		return ci;
	aug = e.cie.augmentation;
	if (!aug)
		return ci;
	if (aug[0] == '\0') {
		ci->ok = true;
		return ci;
	}
	if (aug[0] != 'z') {
		/* .debug_frame's "S" (a signal frame, no data); "eh" and
		 * other pre-'z' forms have data of unknown size */
		ci->ok = strspn(aug, "S") == strlen(aug);
		return ci;
	}
	p = e.cie.augmentation_data;
	end = p ? p + e.cie.augmentation_data_size : NULL;
	for (aug++; *aug; aug++) {
		switch (*aug) {
		case 'R':
			if (!p || p >= end)
				return ci;
			ci->fde_enc = *p++;
			break;
		case 'L':
			if (!p || p >= end)
				return ci;
			p++;
			break;
		case 'P': {
			uint8_t enc;

			if (!p || p >= end)
				return ci;
			enc = *p++;
			if (read_encoded(enc, false, &p, end, 0, &skip))
				return ci;
			break;
		}
		case 'S':
		case 'B':
		case 'G':
			break;
		default:
			/* An unknown letter: 'z' says the data's size, but
			 * not where 'R' is if it comes after. */
			if (strchr(aug, 'R'))
				return ci;
			ci->ok = true;
			return ci;
		}
	}
	ci->ok = true;
	return ci;
}

static bool fde_overlaps_eh(const struct compiler *c, uint64_t start, uint64_t end)
{
	size_t lo = 0, hi = c->eh_fdes;

	/* the first .eh_frame FDE ending after start */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->fdes[mid].end <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* .eh_frame FDEs may overlap each other (malformed): look a little
	 * further than the first candidate, bounded */
	for (hi = lo; hi < c->eh_fdes && hi < lo + 8; hi++)
		if (c->fdes[hi].start < end && c->fdes[hi].end > start)
			return true;
	return false;
}

static int fde_cmp(const void *a, const void *b)
{
	const struct fde_ref *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->end > y->end) - (x->end < y->end);
}

/* Lists the FDEs of one CFI section (data, at ELF address vaddr). */
static int list_fdes(struct compiler *c, Elf_Data *data, uint64_t vaddr, bool eh, Dwarf_CFI *cfi,
		     int src)
{
	Dwarf_Off off = 0, next;
	Dwarf_CFI_Entry e;
	int r;

	/* CIE offsets are per section */
	memset(c->cies, 0, sizeof(c->cies));
	while (off < data->d_size) {
		const struct cie_info *ci;
		const uint8_t *p, *end;
		uint64_t start, len;

		r = dwarf_next_cfi(c->ehdr.e_ident, data, eh, off, &next, &e);
		if (r > 0)
			break; /* the terminator */
		if (r < 0 || next <= off) {
			/* the entry's length cannot be trusted: the rest of
			 * the section cannot be found */
			c->st->bad_entry++;
			c->st->skipped++;
			break;
		}
		off = next;
		if (dwarf_cfi_cie_p(&e))
			continue;
		c->st->fdes++;
		ci = cie_get(c, data, eh, e.fde.CIE_pointer);
		if (!ci->ok) {
			c->st->bad_entry++;
			c->st->skipped++;
			continue;
		}
		p = e.fde.start;
		end = e.fde.end;
		r = read_encoded(ci->fde_enc, true, &p, end,
				 vaddr + (uint64_t)(p - (const uint8_t *)data->d_buf), &start);
		if (!r)
			r = read_encoded(ci->fde_enc & PE_FORMAT, false, &p, end, 0, &len);
		if (r) {
			if (r == -2)
				c->st->bad_encoding++;
			else
				c->st->bad_entry++;
			c->st->skipped++;
			continue;
		}
		if (len == 0)
			continue; /* empty (a discarded function): nothing to unwind */
		if (start == 0 || start >= (1ull << 32) || len > (1ull << 32) - start) {
			c->st->out_of_range++;
			c->st->skipped++;
			continue;
		}
		if (src != SRC_EH && fde_overlaps_eh(c, start, start + len)) {
			c->st->overlap++;
			c->st->skipped++;
			continue;
		}
		if (c->nfdes >= c->max_rows)
			return -E2BIG; /* each FDE makes a row at least */
		if (VEC_RESERVE(c->fdes, c->fdes_cap, c->nfdes + 1, c->max_rows))
			return -ENOMEM;
		c->fdes[c->nfdes++] = (struct fde_ref){ (uint32_t)start, (uint32_t)(start + len), cfi };
		if (src == SRC_EH)
			c->st->eh_frame_fdes++;
		else
			c->st->debug_frame_fdes++;
	}
	if (src == SRC_EH) {
		if (c->nfdes)
			qsort(c->fdes, c->nfdes, sizeof(*c->fdes), fde_cmp);
		c->eh_fdes = c->nfdes;
	}
	return 0;
}

/* ---- rules ---- */

static bool op_is(const Dwarf_Op *op, uint8_t atom, int64_t number)
{
	return op->atom == atom && (int64_t)op->number == number;
}

/* The PLT's CFA expression: rsp + 8, + 8 more when (rip & 15) >= N.
 * Returns N, or -1 when ops are something else. */
static int match_plt(const Dwarf_Op *ops, size_t nops)
{
	uint8_t lit;

	if (nops != 9 || !op_is(&ops[0], DW_OP_breg7, 8) || !op_is(&ops[1], DW_OP_breg16, 0) ||
	    ops[2].atom != DW_OP_lit15 || ops[3].atom != DW_OP_and || ops[5].atom != DW_OP_ge ||
	    ops[6].atom != DW_OP_lit3 || ops[7].atom != DW_OP_shl || ops[8].atom != DW_OP_plus)
		return -1;
	lit = ops[4].atom;
	if (lit != DW_OP_lit10 && lit != DW_OP_lit11)
		return -1;
	return lit - DW_OP_lit0;
}

/* A register + offset CFA, whichever way libdw spells it. */
static bool cfa_reg_off(const Dwarf_Op *op, unsigned int *reg, int64_t *off)
{
	if (op->atom == DW_OP_bregx) {
		*reg = (unsigned int)op->number;
		*off = (int64_t)op->number2;
		return op->number <= 0xffff;
	}
	if (op->atom >= DW_OP_breg0 && op->atom <= DW_OP_breg31) {
		*reg = op->atom - DW_OP_breg0;
		*off = (int64_t)op->number;
		return true;
	}
	return false;
}

/* "The register is saved at CFA + off": libdw's offset(N) rule. */
static bool reg_at_cfa(const Dwarf_Op *ops, size_t nops, int64_t *off)
{
	if (nops == 1 && ops[0].atom == DW_OP_call_frame_cfa) {
		*off = 0;
		return true;
	}
	if (nops == 2 && ops[0].atom == DW_OP_call_frame_cfa && ops[1].atom == DW_OP_plus_uconst) {
		*off = (int64_t)ops[1].number;
		return true;
	}
	return false;
}

/* x86-64 rt_sigreturn: mov $15, %rax; syscall. Only short FDEs are looked
 * at: a trampoline is the stub and little else. */
#define SIGRETURN_FDE_MAX 64
static const uint8_t sigreturn_code[] = { 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };

/* Whether the code at ELF address pc is the sigreturn stub (for
 * trampolines whose CIE lacks 'S'). */
static bool code_is_sigreturn(const struct compiler *c, uint64_t pc)
{
	uint8_t code[sizeof(sigreturn_code)];
	size_t i, n;

	if (elf_getphdrnum(c->elf, &n))
		return false;
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;
		uint64_t off;

		if (!gelf_getphdr(c->elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (pc < ph.p_vaddr || pc - ph.p_vaddr >= ph.p_filesz ||
		    ph.p_filesz - (pc - ph.p_vaddr) < sizeof(sigreturn_code))
			continue;
		off = ph.p_offset + (pc - ph.p_vaddr);
		if (off > c->raw_size || c->raw_size - off < sizeof(sigreturn_code))
			return false;
		if (c->fd < 0)
			return !memcmp(c->raw + off, sigreturn_code, sizeof(sigreturn_code));
		/* pread, not the mapping: a page of text mapped per FDE
		 * would be most of a big library in the agent's RSS */
		return pread(c->fd, code, sizeof(code), (off_t)off) == (ssize_t)sizeof(code) &&
		       !memcmp(code, sigreturn_code, sizeof(sigreturn_code));
	}
	return false;
}

static struct prof_unwind_row rule_row(enum prof_cfa_rule cfa, uint16_t off, enum prof_rbp_rule rbp,
				       int8_t rbp_off8)
{
	return (struct prof_unwind_row){ .cfa_off = off, .rule = PROF_UNWIND_RULE(cfa, rbp), .rbp_off8 = rbp_off8 };
}

/* One CFI row as the walker will apply it. */
static struct prof_unwind_row translate(struct compiler *c, Dwarf_Frame *f, bool signal)
{
	struct prof_unwind_row none = rule_row(PROF_CFA_NONE, 0, PROF_RBP_SAME, 0);
	Dwarf_Op mem[3], *ops;
	size_t nops;
	enum prof_cfa_rule cfa;
	enum prof_rbp_rule rbp = PROF_RBP_SAME;
	unsigned int reg;
	int64_t off, roff;
	int8_t rbp_off8 = 0;
	int plt;

	if (signal)
		return rule_row(PROF_CFA_SIGNAL, 0, PROF_RBP_SAME, 0);

	/* the return address: undefined ends the stack, CFA - 8 is the
	 * only other place the walker reads it from */
	if (dwarf_frame_register(f, REG_RA, mem, &ops, &nops))
		goto unsupported;
	if (nops == 0 && ops == mem)
		return rule_row(PROF_CFA_STOP, 0, PROF_RBP_SAME, 0);
	if (!reg_at_cfa(ops, nops, &off) || off != -8)
		goto unsupported;

	if (dwarf_frame_cfa(f, &ops, &nops))
		goto unsupported;
	if (nops == 0)
		return rule_row(PROF_CFA_STOP, 0, PROF_RBP_SAME, 0);
	if (nops == 1 && cfa_reg_off(&ops[0], &reg, &off)) {
		if (reg == REG_RSP)
			cfa = PROF_CFA_RSP;
		else if (reg == REG_RBP)
			cfa = PROF_CFA_RBP;
		else
			goto unsupported;
	} else if ((plt = match_plt(ops, nops)) >= 0) {
		cfa = PROF_CFA_PLT;
		off = plt;
	} else if (nops == 2 && ops[0].atom == DW_OP_breg7 && ops[1].atom == DW_OP_deref) {
		cfa = PROF_CFA_DEREF_RSP;
		off = (int64_t)ops[0].number;
	} else {
		goto unsupported;
	}
	if (off < 0 || off > UINT16_MAX)
		goto unsupported;

	if (dwarf_frame_register(f, REG_RBP, mem, &ops, &nops)) {
		rbp = PROF_RBP_UNDEFINED;
	} else if (nops == 0) {
		/* same value, or not mentioned (libdw reports that as
		 * undefined without an ABI backend): rbp was not touched */
		rbp = PROF_RBP_SAME;
	} else if (reg_at_cfa(ops, nops, &roff) && roff % 8 == 0 && roff / 8 >= INT8_MIN &&
		   roff / 8 <= INT8_MAX) {
		rbp = PROF_RBP_AT_CFA;
		rbp_off8 = (int8_t)(roff / 8);
	} else {
		rbp = PROF_RBP_UNDEFINED;
	}
	return rule_row(cfa, (uint16_t)off, rbp, rbp_off8);

unsupported:
	c->st->none_rows++;
	return none;
}

/* ---- the table ---- */

static bool row_same(const struct prof_unwind_row *a, const struct prof_unwind_row *b)
{
	return a->rule == b->rule && a->cfa_off == b->cfa_off && a->rbp_off8 == b->rbp_off8;
}

static int emit(struct compiler *c, uint32_t pc, struct prof_unwind_row row)
{
	row.pc = pc;
	if (c->nrows && c->rows[c->nrows - 1].pc == pc) {
		c->rows[c->nrows - 1] = row; /* equal pcs: the last wins */
		if (c->nrows > 1 && row_same(&c->rows[c->nrows - 2], &row))
			c->nrows--;
		return 0;
	}
	if (c->nrows && row_same(&c->rows[c->nrows - 1], &row))
		return 0;
	if (c->nrows >= c->max_rows)
		return -E2BIG;
	if (VEC_RESERVE(c->rows, c->rows_cap, c->nrows + 1, c->max_rows))
		return -ENOMEM;
	c->rows[c->nrows++] = row;
	return 0;
}

/* [start, end) is unwound by row. Calls come in order of start. */
static int put(struct compiler *c, uint32_t start, uint32_t end, struct prof_unwind_row row)
{
	struct prof_unwind_row none = rule_row(PROF_CFA_NONE, 0, PROF_RBP_SAME, 0);
	int r;

	if (c->have && start < c->cur_end) {
		/* overlapping FDEs (of one section: the other's were
		 * dropped): the first keeps its range */
		if (end <= c->cur_end)
			return 0;
		start = c->cur_end;
	}
	/* a gap under 16 bytes is the alignment padding before the next
	 * function, never executed: the previous row runs on over it
	 * rather than costing a row */
	if (c->have && start - c->cur_end >= GAP_MIN && (r = emit(c, c->cur_end, none)))
		return r;
	if ((r = emit(c, start, row)))
		return r;
	c->cur_end = end;
	c->have = true;
	return 0;
}

/* The end of the last function. */
static int put_end(struct compiler *c)
{
	if (!c->have)
		return 0;
	return emit(c, c->cur_end, rule_row(PROF_CFA_NONE, 0, PROF_RBP_SAME, 0));
}

/* The rows of one FDE, put into the table. */
static int compile_fde(struct compiler *c, const struct fde_ref *fde)
{
	uint64_t pc = fde->start;
	unsigned int n;
	int r;

	for (n = 0; pc < fde->end && n < FDE_MAX_ROWS; n++) {
		Dwarf_Frame *f = NULL;
		Dwarf_Addr s, e;
		bool signal = false;
		struct prof_unwind_row row;

		if (dwarf_cfi_addrframe(fde->cfi, pc, &f) || !f) {
			c->st->frame_errors++;
			return 0;
		}
		if (dwarf_frame_info(f, &s, &e, &signal) < 0 || e <= pc) {
			free(f);
			c->st->frame_errors++;
			return 0;
		}
		if (!signal && pc == fde->start && fde->end - fde->start <= SIGRETURN_FDE_MAX &&
		    code_is_sigreturn(c, pc))
			signal = true;
		if (signal && pc == fde->start)
			c->st->signal_fdes++;
		row = translate(c, f, signal);
		free(f);
		c->st->cfi_rows++;
		if (e > fde->end)
			e = fde->end;
		r = put(c, (uint32_t)pc, (uint32_t)e, row);
		if (r)
			return r;
		pc = e;
	}
	return 0;
}

/* ---- where the CFI is ---- */

static Elf_Scn *find_section(Elf *elf, const char *name, GElf_Shdr *shdr)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, shdr))
			continue;
		n = elf_strptr(elf, shstrndx, shdr->sh_name);
		if (n && !strcmp(n, name))
			return shdr->sh_type == SHT_NOBITS ? NULL : scn;
	}
	return NULL;
}

/* .eh_frame's bytes and address through PT_GNU_EH_FRAME, for files whose
 * section headers are gone: .eh_frame_hdr says where .eh_frame starts, it
 * ends at the terminator or its segment's end. */
static bool eh_frame_from_phdr(struct compiler *c, Elf_Data *data, uint64_t *vaddr)
{
	size_t i, n;
	GElf_Phdr ph, hdr;
	const uint8_t *p, *end;
	uint64_t at;
	bool found = false;

	if (elf_getphdrnum(c->elf, &n))
		return false;
	for (i = 0; i < n && !found; i++)
		if (gelf_getphdr(c->elf, (int)i, &hdr) && hdr.p_type == PT_GNU_EH_FRAME)
			found = true;
	if (!found || hdr.p_offset > c->raw_size || c->raw_size - hdr.p_offset < 4 ||
	    hdr.p_filesz < 4)
		return false;
	p = c->raw + hdr.p_offset;
	end = p + (hdr.p_filesz < c->raw_size - hdr.p_offset ? hdr.p_filesz : c->raw_size - hdr.p_offset);
	if (p[0] != 1)
		return false; /* version */
	at = hdr.p_vaddr + 4;
	p += 4;
	if (read_encoded(c->raw[hdr.p_offset + 1], true, &p, end, at, vaddr))
		return false;
	for (i = 0; i < n; i++) {
		uint64_t off, size;

		if (!gelf_getphdr(c->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (*vaddr < ph.p_vaddr || *vaddr - ph.p_vaddr >= ph.p_filesz)
			continue;
		off = ph.p_offset + (*vaddr - ph.p_vaddr);
		size = ph.p_filesz - (*vaddr - ph.p_vaddr);
		if (off >= c->raw_size)
			return false;
		if (size > c->raw_size - off)
			size = c->raw_size - off;
		memset(data, 0, sizeof(*data));
		/* dwarf_next_cfi only reads it */
		data->d_buf = (void *)(uintptr_t)(c->raw + off);
		data->d_size = size;
		data->d_type = ELF_T_BYTE;
		return true;
	}
	return false;
}

/* .debug_frame of elf (the file or its debug file): libdw decompresses it
 * when dwarf_begin_elf opens the file. */
static int list_debug_frame(struct compiler *c, Elf *elf, Dwarf **dw, Dwarf_CFI **cfi, int src)
{
	GElf_Shdr shdr;
	Elf_Scn *scn;
	Elf_Data *data;

	if (!find_section(elf, ".debug_frame", &shdr))
		return 0;
	*dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!*dw) {
		c->st->bad_entry++;
		c->st->skipped++;
		return 0;
	}
	*cfi = dwarf_getcfi(*dw);
	scn = find_section(elf, ".debug_frame", &shdr);
	if (!*cfi || !scn || (shdr.sh_flags & SHF_COMPRESSED) || !(data = elf_getdata(scn, NULL)) ||
	    !data->d_buf) {
		c->st->bad_entry++;
		c->st->skipped++;
		return 0;
	}
	return list_fdes(c, data, 0, false, *cfi, src);
}

/* The entry point's size, from the symbol tables: 0 when unknown. */
static uint64_t entry_size(struct compiler *c, uint64_t entry)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(c->elf, scn))) {
		GElf_Shdr shdr;
		Elf_Data *data;
		size_t i, n;

		if (!gelf_getshdr(scn, &shdr) || (shdr.sh_type != SHT_SYMTAB && shdr.sh_type != SHT_DYNSYM) ||
		    !shdr.sh_entsize || !(data = elf_getdata(scn, NULL)))
			continue;
		n = shdr.sh_size / shdr.sh_entsize;
		for (i = 0; i < n; i++) {
			GElf_Sym sym;

			if (gelf_getsym(data, (int)i, &sym) && sym.st_value == entry && sym.st_size &&
			    sym.st_shndx != SHN_UNDEF)
				return sym.st_size;
		}
	}
	return 0;
}

/* musl's _start (and hand-written entry stubs) has no FDE: without a row
 * the walk would fall back to rbp there, which _start just zeroed. A STOP
 * row over the entry symbol (or, unsized, up to the next FDE, at most 64
 * bytes) ends the stack where it truly ends. */
static int add_entry_stop(struct compiler *c)
{
	uint64_t entry = c->ehdr.e_entry, end, size;
	size_t i;

	if (!entry || entry >= (1ull << 32) || (c->ehdr.e_type != ET_EXEC && c->ehdr.e_type != ET_DYN))
		return 0;
	end = entry + 64;
	for (i = 0; i < c->nfdes; i++) {
		if (c->fdes[i].start <= entry && c->fdes[i].end > entry)
			return 0; /* it has its FDE */
		if (c->fdes[i].start > entry && c->fdes[i].start < end)
			end = c->fdes[i].start;
	}
	if (!c->nfdes)
		return 0; /* no CFI at all: frame pointers everywhere */
	size = entry_size(c, entry);
	if (size && entry + size < end)
		end = entry + size;
	if (end >= (1ull << 32))
		return 0;
	c->st->entry_stop = 1;
	if (VEC_RESERVE(c->fdes, c->fdes_cap, c->nfdes + 1, c->max_rows + 1))
		return -ENOMEM;
	c->fdes[c->nfdes++] = (struct fde_ref){ (uint32_t)entry, (uint32_t)end, NULL };
	return 0;
}

static int compile_elf(Elf *elf, int fd, Elf *dbg, size_t max_rows, struct unwind_table *out,
		       struct unwind_table_stats *st)
{
	struct compiler c = {
		.elf = elf, .fd = fd, .st = st, .max_rows = max_rows ? max_rows : UNWIND_TABLE_MAX_ROWS
	};
	Dwarf *dw_own = NULL, *dw_dbg = NULL;
	Dwarf_CFI *eh_cfi = NULL, *cfi_own = NULL, *cfi_dbg = NULL;
	GElf_Shdr shdr;
	Elf_Scn *scn;
	Elf_Data *data, phdr_data;
	uint64_t vaddr;
	size_t i;
	int r = 0;

	if (!gelf_getehdr(elf, &c.ehdr) || c.ehdr.e_ident[EI_CLASS] != ELFCLASS64 ||
	    c.ehdr.e_ident[EI_DATA] != ELFDATA2LSB || c.ehdr.e_machine != EM_X86_64)
		return -ENOEXEC;
	c.raw = (const uint8_t *)elf_rawfile(elf, &c.raw_size);
	if (!c.raw)
		return -ENOEXEC;

	/* .eh_frame first: the others only fill what it leaves */
	eh_cfi = dwarf_getcfi_elf(elf);
	data = NULL;
	if (eh_cfi) {
		scn = find_section(elf, ".eh_frame", &shdr);
		if (scn && !(shdr.sh_flags & SHF_COMPRESSED) && (data = elf_getdata(scn, NULL)) && data->d_buf) {
			vaddr = shdr.sh_addr;
		} else if (eh_frame_from_phdr(&c, &phdr_data, &vaddr)) {
			data = &phdr_data;
		} else {
			data = NULL;
		}
	}
	if (data && (r = list_fdes(&c, data, vaddr, true, eh_cfi, SRC_EH)))
		goto out;
	if ((r = list_debug_frame(&c, elf, &dw_own, &cfi_own, SRC_DEBUG)))
		goto out;
	if (dbg) {
		GElf_Ehdr dh;

		if (gelf_getehdr(dbg, &dh) && dh.e_machine == EM_X86_64 && dh.e_ident[EI_CLASS] == ELFCLASS64 &&
		    (r = list_debug_frame(&c, dbg, &dw_dbg, &cfi_dbg, SRC_DEBUGFILE)))
			goto out;
	}

	if ((r = add_entry_stop(&c)))
		goto out;
	/* in address order: the rows come out sorted */
	if (c.nfdes)
		qsort(c.fdes, c.nfdes, sizeof(*c.fdes), fde_cmp);
	for (i = 0; i < c.nfdes; i++) {
		const struct fde_ref *f = &c.fdes[i];

		r = f->cfi ? compile_fde(&c, f) : put(&c, f->start, f->end, rule_row(PROF_CFA_STOP, 0, PROF_RBP_SAME, 0));
		if (r)
			goto out;
	}
	if ((r = put_end(&c)))
		goto out;
	/* the table lives on (until loaded): no doubling slack */
	if (c.nrows && c.nrows < c.rows_cap) {
		void *p = realloc(c.rows, c.nrows * sizeof(*c.rows));

		if (p)
			c.rows = p;
	}
	out->rows = c.rows;
	out->nr = c.nrows;
	c.rows = NULL;
	st->rows = out->nr;
out:
	free(c.fdes);
	free(c.rows);
	if (eh_cfi)
		dwarf_cfi_end(eh_cfi);
	if (dw_own)
		dwarf_end(dw_own);
	if (dw_dbg)
		dwarf_end(dw_dbg);
	return r;
}

int unwind_table_compile_fd(int fd, int debug_fd, size_t max_rows, struct unwind_table *out,
			    struct unwind_table_stats *stats)
{
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
	Elf *elf, *dbg = NULL;
	int r;

	memset(stats, 0, sizeof(*stats));
	memset(out, 0, sizeof(*out));
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		return -ENOEXEC;
	}
	if (debug_fd >= 0) {
		dbg = elf_begin(debug_fd, ELF_C_READ_MMAP, NULL);
		if (dbg && elf_kind(dbg) != ELF_K_ELF) {
			elf_end(dbg);
			dbg = NULL;
		}
	}
	r = compile_elf(elf, fd, dbg, max_rows, out, stats);
	if (dbg)
		elf_end(dbg);
	elf_end(elf);
	stats->compile_ns = clock_ns(CLOCK_MONOTONIC) - t0;
	return r;
}

int unwind_table_compile(const char *path, const char *debug_path, size_t max_rows,
			 struct unwind_table *out, struct unwind_table_stats *stats)
{
	int fd, dfd = -1, r;

	memset(stats, 0, sizeof(*stats));
	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (debug_path)
		dfd = open(debug_path, O_RDONLY | O_CLOEXEC);
	r = unwind_table_compile_fd(fd, dfd, max_rows, out, stats);
	if (dfd >= 0)
		close(dfd);
	close(fd);
	return r;
}

int unwind_table_compile_mem(const void *buf, size_t size, size_t max_rows,
			     struct unwind_table *out, struct unwind_table_stats *stats)
{
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
	char *copy;
	Elf *elf;
	int r;

	memset(stats, 0, sizeof(*stats));
	memset(out, 0, sizeof(*out));
	/* libelf wants a writable image (it may decompress in place) */
	copy = malloc(size ? size : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, size);
	elf_version(EV_CURRENT);
	elf = elf_memory(copy, size);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		r = -ENOEXEC;
	} else {
		r = compile_elf(elf, -1, NULL, max_rows, out, stats);
	}
	if (elf)
		elf_end(elf);
	free(copy);
	stats->compile_ns = clock_ns(CLOCK_MONOTONIC) - t0;
	return r;
}

void unwind_table_free(struct unwind_table *t)
{
	if (!t)
		return;
	free(t->rows);
	t->rows = NULL;
	t->nr = 0;
}

const struct prof_unwind_row *unwind_table_find(const struct unwind_table *t, uint64_t pc)
{
	size_t lo = 0, hi = t->nr;

	if (pc >= (1ull << 32))
		return t->nr ? &t->rows[t->nr - 1] : NULL;
	/* the last row with row.pc <= pc */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->rows[mid].pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &t->rows[lo - 1] : NULL;
}

const char *unwind_row_str(const struct prof_unwind_row *r, char *buf, size_t size)
{
	unsigned int cfa = PROF_UNWIND_CFA_RULE(r->rule), rbp = PROF_UNWIND_RBP_RULE(r->rule);
	char rb[24] = "";

	if (rbp == PROF_RBP_AT_CFA)
		snprintf(rb, sizeof(rb), " rbp@cfa%+d", r->rbp_off8 * 8);
	else if (rbp == PROF_RBP_UNDEFINED)
		snprintf(rb, sizeof(rb), " rbp=u");
	else if (rbp != PROF_RBP_SAME)
		snprintf(rb, sizeof(rb), " rbp=?%u", rbp);
	switch (cfa) {
	case PROF_CFA_NONE:
		snprintf(buf, size, "none");
		break;
	case PROF_CFA_RSP:
		snprintf(buf, size, "rsp+%u%s", r->cfa_off, rb);
		break;
	case PROF_CFA_RBP:
		snprintf(buf, size, "rbp+%u%s", r->cfa_off, rb);
		break;
	case PROF_CFA_PLT:
		snprintf(buf, size, "plt%u%s", r->cfa_off, rb);
		break;
	case PROF_CFA_SIGNAL:
		snprintf(buf, size, "signal");
		break;
	case PROF_CFA_STOP:
		snprintf(buf, size, "stop");
		break;
	case PROF_CFA_DEREF_RSP:
		snprintf(buf, size, "*(rsp+%u)%s", r->cfa_off, rb);
		break;
	default:
		snprintf(buf, size, "?%u", cfa);
		break;
	}
	return buf;
}
