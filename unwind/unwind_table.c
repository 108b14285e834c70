// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* unwind_table.c - compiling an ELF file's CFI into walker rows
 *
 * Two steps. (1) List the FDEs of .eh_frame, then of .debug_frame (own and
 * debug file), with libdw's dwarf_next_cfi, decoding each one's range; a
 * .debug_frame FDE that overlaps an .eh_frame one is dropped. (2) In address
 * order, run each FDE's CFA program once, from its CIE's initial state,
 * tracking only what the walker uses (the CFA, the return address's and
 * rbp's rules): each advance closes a row, which is matched against the
 * walker's rules and put into the table, gaps between FDEs becoming
 * PROF_CFA_NONE rows and equal neighbours merging as they come.
 *
 * The programs are run here rather than by dwarf_cfi_addrframe: libdw
 * re-runs an FDE from its start for every row (quadratic), looks FDEs up by
 * address (through .eh_frame_hdr, which may point at entries never listed
 * here) and sizes its register array by the largest register number a
 * program names, so one crafted FDE cost seconds and gigabytes. This
 * interpreter is linear, keeps three rules, and bounds the rows per FDE and
 * the remember_state depth.
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

/* Rows one FDE may make: a longer FDE is cut there (what follows is
 * PROF_CFA_NONE). Real FDEs have a few dozen. */
#define FDE_MAX_ROWS 4096
/* DW_CFA_remember_state depth. */
#define STATE_STACK 16

/* Gaps between FDEs shorter than this are function alignment padding. */
#define GAP_MIN 16

/* DW_EH_PE_* (the pointer encodings of .eh_frame), which dwarf.h has. */
#define PE_FORMAT 0x0f
#define PE_APPL 0x70
#define PE_INDIRECT 0x80

/* One FDE: its range, and where it is (section, offset) to be read again
 * when its turn comes (NULL-free: src SRC_ENTRY is the entry point's STOP
 * range). 32-bit addresses: the rows are, and it halves the list. */
struct fde_ref {
	uint32_t start, end;
	uint32_t off;
	uint32_t src;
};

enum { SRC_EH, SRC_DEBUG, SRC_DEBUGFILE, SRC_NR, SRC_ENTRY = SRC_NR };

/* A register's rule, for the two registers kept (RA and rbp). */
enum rule_kind {
	RK_UNSPEC,
	RK_UNDEF,
	RK_SAME,
	RK_OFFSET,
	RK_VAL_OFFSET,
	RK_REG,
	RK_EXPR,
	RK_VAL_EXPR
};

struct reg_rule {
	uint8_t kind;
	int64_t off; /* RK_OFFSET, RK_VAL_OFFSET: CFA + off */
};

enum { CFA_UNDEF, CFA_REG, CFA_EXPR };

/* A row's rules: what the walker can use of them. */
struct cfa_state {
	uint8_t cfa_kind;
	uint64_t cfa_reg;
	int64_t cfa_off;
	const uint8_t *expr; /* CFA_EXPR: the DWARF expression */
	uint64_t expr_len;
	struct reg_rule ra, rbp;
};

#define CIE_CACHE 64

struct cie_info {
	Dwarf_Off off;
	uint32_t src;
	bool used;
	bool ok; /* readable: the FDE encoding known, the program ran */
	bool has_z; /* FDEs carry augmentation data */
	bool signal; /* 'S': the FDEs are signal trampolines */
	uint8_t fde_enc;
	uint64_t caf; /* code alignment factor */
	int64_t daf; /* data alignment factor */
	uint64_t ra_reg;
	struct cfa_state init; /* after the initial instructions */
};

/* A CFI section. */
struct cfi_src {
	Elf_Data *data;
	uint64_t vaddr; /* the section's address (0 for .debug_frame) */
	bool eh;
};

struct compiler {
	Elf *elf;
	int fd; /* the file, or -1 (an image in memory) */
	const uint8_t *raw; /* the whole file image */
	size_t raw_size;
	GElf_Ehdr ehdr;
	size_t max_rows;
	struct unwind_table_stats *st;
	struct cfi_src srcs[SRC_NR];
	Elf_Data phdr_data; /* .eh_frame found through PT_GNU_EH_FRAME */

	struct fde_ref *fdes;
	size_t nfdes, fdes_cap;
	size_t eh_fdes; /* fdes[0, eh_fdes) are .eh_frame's, sorted by start */

	struct prof_unwind_row *rows;
	size_t nrows, rows_cap;
	uint32_t cur_end; /* where the last row put ends */
	bool have; /* a row was put */

	struct cie_info cies[CIE_CACHE];
};

/* ---- reading ---- */

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

/* The CIE's FDE pointer encoding and whether its FDEs carry augmentation
 * data, into ci: false when they cannot be known. */
static bool cie_parse(struct cie_info *ci, const Dwarf_CIE *cie)
{
	const char *aug = cie->augmentation;
	const uint8_t *p, *end;
	uint64_t skip;

	if (!aug)
		return false;
	if (aug[0] == '\0')
		return true;
	if (aug[0] != 'z')
		/* .debug_frame's "S" (a signal frame, no data); "eh" and
		 * other pre-'z' forms have data of unknown size */
		return strspn(aug, "S") == strlen(aug);
	ci->has_z = true;
	p = cie->augmentation_data;
	if (!p)
		return false;
	end = p + cie->augmentation_data_size;
	for (aug++; *aug; aug++) {
		switch (*aug) {
		case 'R':
			if (p >= end)
				return false;
			ci->fde_enc = *p++;
			break;
		case 'L':
			if (p >= end)
				return false;
			p++;
			break;
		case 'P': {
			uint8_t enc;

			if (p >= end)
				return false;
			enc = *p++;
			if (read_encoded(enc, false, &p, end, 0, &skip))
				return false;
			break;
		}
		case 'S':
		case 'B':
		case 'G':
			break;
		default:
			/* an unknown letter: 'z' says the data's size, but
			 * not where 'R' is if it comes after */
			return !strchr(aug, 'R');
		}
	}
	return true;
}

/* ---- CFA programs ---- */

/* Where one FDE's program is: rows are put while it runs. */
struct fde_run {
	uint64_t loc, end; /* the row being built starts at loc */
	bool signal;
	unsigned int rows;
	const uint8_t *base; /* the section's bytes, at address vaddr */
	uint64_t vaddr;
};

static struct reg_rule *rule_of(struct cfa_state *st, uint64_t reg)
{
	if (reg == REG_RA)
		return &st->ra;
	if (reg == REG_RBP)
		return &st->rbp;
	return NULL; /* a register the walker never restores */
}

/* What DW_CFA_restore gives reg: the CIE's rule (unspecified in a CIE). */
static struct reg_rule initial_rule(const struct cie_info *ci, const struct fde_run *run,
				    uint64_t reg)
{
	if (!run)
		return (struct reg_rule){ RK_UNSPEC, 0 };
	return reg == REG_RA ? ci->init.ra : ci->init.rbp;
}

static void set_rule(struct cfa_state *st, uint64_t reg, uint8_t kind, int64_t off)
{
	struct reg_rule *r = rule_of(st, reg);

	if (r) {
		r->kind = kind;
		r->off = off;
	}
}

/* v times the data alignment factor, wrapping rather than overflowing
 * (a crafted factor): the result is range-checked where it is used. */
static int64_t factored(int64_t v, int64_t daf)
{
	return (int64_t)((uint64_t)v * (uint64_t)daf);
}

static struct prof_unwind_row translate(struct compiler *c, const struct cie_info *ci,
					const struct cfa_state *st, bool signal);
static int put(struct compiler *c, uint32_t start, uint32_t end, struct prof_unwind_row row);

/* The row [run->loc, to) is complete. 0, 1 to stop (the FDE's end or its
 * row cap), or -errno. */
static int close_row(struct compiler *c, const struct cie_info *ci, const struct cfa_state *st,
		     struct fde_run *run, uint64_t to)
{
	int r;

	if (to > run->end)
		to = run->end;
	if (to <= run->loc)
		return to < run->loc ? -EINVAL : 0; /* backwards: malformed */
	c->st->cfi_rows++;
	r = put(c, (uint32_t)run->loc, (uint32_t)to, translate(c, ci, st, run->signal));
	if (r)
		return r;
	run->loc = to;
	if (run->loc >= run->end)
		return 1;
	if (++run->rows >= FDE_MAX_ROWS)
		return 1;
	return 0;
}

/* Runs the CFA program [p, end) over *st: a CIE's initial instructions
 * (run NULL: locations are ignored, DW_CFA_restore means unspecified) or
 * an FDE's. 0 when it ran to its end or was cut, -EINVAL when malformed
 * (the rows put so far stand), -errno from putting rows. */
static int run_program(struct compiler *c, const struct cie_info *ci, struct cfa_state *st,
		       const uint8_t *p, const uint8_t *end, struct fde_run *run)
{
	struct cfa_state stack[STATE_STACK];
	unsigned int depth = 0;
	int r = 0;

	while (p < end) {
		uint8_t op = *p++;
		uint64_t reg = 0, v = 0, to = 0;
		int64_t sv = 0;
		bool advance = false;

		switch (op & 0xc0) {
		case DW_CFA_advance_loc:
			to = (op & 0x3f) * ci->caf;
			advance = true;
			break;
		case DW_CFA_offset:
			if (read_uleb(&p, end, &v))
				return -EINVAL;
			set_rule(st, op & 0x3f, RK_OFFSET, factored((int64_t)v, ci->daf));
			continue;
		case DW_CFA_restore:
			reg = op & 0x3f;
			if (rule_of(st, reg))
				*rule_of(st, reg) = initial_rule(ci, run, reg);
			continue;
		}
		if (!advance) {
			switch (op) {
			case DW_CFA_nop:
				break;
			case DW_CFA_set_loc:
				if (read_encoded(ci->fde_enc, true, &p, end,
						 run ? run->vaddr + (uint64_t)(p - run->base) : 0,
						 &v))
					return -EINVAL;
				if (run) {
					if (v < run->loc)
						return -EINVAL;
					to = v - run->loc;
					advance = true;
				}
				break;
			case DW_CFA_advance_loc1:
			case DW_CFA_advance_loc2:
			case DW_CFA_advance_loc4: {
				unsigned int n = op == DW_CFA_advance_loc1 ? 1 :
						 op == DW_CFA_advance_loc2 ? 2 :
									     4;

				if ((size_t)(end - p) < n)
					return -EINVAL;
				to = read_le(p, n) * ci->caf;
				p += n;
				advance = true;
				break;
			}
			case DW_CFA_offset_extended:
			case DW_CFA_val_offset:
			case DW_CFA_GNU_negative_offset_extended:
				if (read_uleb(&p, end, &reg) || read_uleb(&p, end, &v))
					return -EINVAL;
				sv = factored((int64_t)v, ci->daf);
				if (op == DW_CFA_GNU_negative_offset_extended)
					sv = (int64_t)(0 - (uint64_t)sv);
				set_rule(st, reg,
					 op == DW_CFA_val_offset ? RK_VAL_OFFSET : RK_OFFSET, sv);
				break;
			case DW_CFA_offset_extended_sf:
			case DW_CFA_val_offset_sf:
				if (read_uleb(&p, end, &reg) || read_sleb(&p, end, &sv))
					return -EINVAL;
				set_rule(st, reg,
					 op == DW_CFA_val_offset_sf ? RK_VAL_OFFSET : RK_OFFSET,
					 factored(sv, ci->daf));
				break;
			case DW_CFA_restore_extended:
				if (read_uleb(&p, end, &reg))
					return -EINVAL;
				if (rule_of(st, reg))
					*rule_of(st, reg) = initial_rule(ci, run, reg);
				break;
			case DW_CFA_undefined:
			case DW_CFA_same_value:
				if (read_uleb(&p, end, &reg))
					return -EINVAL;
				set_rule(st, reg, op == DW_CFA_undefined ? RK_UNDEF : RK_SAME, 0);
				break;
			case DW_CFA_register:
				if (read_uleb(&p, end, &reg) || read_uleb(&p, end, &v))
					return -EINVAL;
				set_rule(st, reg, RK_REG, 0);
				break;
			case DW_CFA_remember_state:
				if (depth >= STATE_STACK)
					return -EINVAL;
				stack[depth++] = *st;
				break;
			case DW_CFA_restore_state:
				/* the whole row, the CFA too (as GCC's unwinder) */
				if (!depth)
					return -EINVAL;
				*st = stack[--depth];
				break;
			case DW_CFA_def_cfa:
				if (read_uleb(&p, end, &reg) || read_uleb(&p, end, &v))
					return -EINVAL;
				st->cfa_kind = CFA_REG;
				st->cfa_reg = reg;
				st->cfa_off = (int64_t)v;
				break;
			case DW_CFA_def_cfa_sf:
				if (read_uleb(&p, end, &reg) || read_sleb(&p, end, &sv))
					return -EINVAL;
				st->cfa_kind = CFA_REG;
				st->cfa_reg = reg;
				st->cfa_off = factored(sv, ci->daf);
				break;
			case DW_CFA_def_cfa_register:
				if (read_uleb(&p, end, &reg))
					return -EINVAL;
				if (st->cfa_kind != CFA_REG)
					st->cfa_off = 0;
				st->cfa_kind = CFA_REG;
				st->cfa_reg = reg;
				break;
			case DW_CFA_def_cfa_offset:
				if (read_uleb(&p, end, &v))
					return -EINVAL;
				st->cfa_off = (int64_t)v;
				break;
			case DW_CFA_def_cfa_offset_sf:
				if (read_sleb(&p, end, &sv))
					return -EINVAL;
				st->cfa_off = factored(sv, ci->daf);
				break;
			case DW_CFA_def_cfa_expression:
				if (read_uleb(&p, end, &v) || v > (uint64_t)(end - p))
					return -EINVAL;
				st->cfa_kind = CFA_EXPR;
				st->expr = p;
				st->expr_len = v;
				p += v;
				break;
			case DW_CFA_expression:
			case DW_CFA_val_expression:
				if (read_uleb(&p, end, &reg) || read_uleb(&p, end, &v) ||
				    v > (uint64_t)(end - p))
					return -EINVAL;
				set_rule(st, reg, op == DW_CFA_expression ? RK_EXPR : RK_VAL_EXPR,
					 0);
				p += v;
				break;
			case DW_CFA_GNU_args_size:
				if (read_uleb(&p, end, &v))
					return -EINVAL;
				break;
			default:
				return -EINVAL; /* not x86-64 CFI */
			}
		}
		if (advance && run) {
			uint64_t target = to > run->end - run->loc ? run->end : run->loc + to;

			r = close_row(c, ci, st, run, target);
			if (r)
				return r > 0 ? 0 : r;
		}
	}
	return 0;
}

/* The PLT's CFA expression: rsp + 8, + 8 more when (rip & 15) >= N
 * (N 11 or 10, by PLT flavour). Returns N, or -1. */
static int match_plt(const uint8_t *e, uint64_t len)
{
	static const uint8_t plt[] = { DW_OP_breg7, 8, DW_OP_breg16, 0,		 DW_OP_lit15,
				       DW_OP_and,   0, DW_OP_ge,     DW_OP_lit3, DW_OP_shl,
				       DW_OP_plus };

	if (len != sizeof(plt) || memcmp(e, plt, 6) || memcmp(e + 7, plt + 7, sizeof(plt) - 7))
		return -1;
	if (e[6] != DW_OP_lit10 && e[6] != DW_OP_lit11)
		return -1;
	return e[6] - DW_OP_lit0;
}

/* *(rsp + n): GCC's realigning prologue spelled on rsp. Returns n, or -1. */
static int64_t match_deref_rsp(const uint8_t *e, uint64_t len)
{
	const uint8_t *p = e + 1, *end = e + len;
	int64_t n;

	if (len < 3 || e[0] != DW_OP_breg7 || read_sleb(&p, end, &n) || p + 1 != end ||
	    *p != DW_OP_deref)
		return -1;
	return n;
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

		if (!gelf_getphdr(c->elf, (int)i, &ph) || ph.p_type != PT_LOAD ||
		    !(ph.p_flags & PF_X))
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
	return (struct prof_unwind_row){ .cfa_off = off,
					 .rule = PROF_UNWIND_RULE(cfa, rbp),
					 .rbp_off8 = rbp_off8 };
}

/* One row's rules as the walker will apply them. */
static struct prof_unwind_row translate(struct compiler *c, const struct cie_info *ci,
					const struct cfa_state *st, bool signal)
{
	enum prof_cfa_rule cfa;
	enum prof_rbp_rule rbp = PROF_RBP_SAME;
	int8_t rbp_off8 = 0;
	int64_t off;

	if (signal)
		return rule_row(PROF_CFA_SIGNAL, 0, PROF_RBP_SAME, 0);
	/* the return address: undefined ends the stack (readelf's "u":
	 * unspecified reads the same), CFA - 8 is the only other place the
	 * walker reads it from */
	if (ci->ra_reg != REG_RA)
		goto unsupported;
	if (st->ra.kind == RK_UNDEF || st->ra.kind == RK_UNSPEC)
		return rule_row(PROF_CFA_STOP, 0, PROF_RBP_SAME, 0);
	if (st->ra.kind != RK_OFFSET || st->ra.off != -8)
		goto unsupported;

	switch (st->cfa_kind) {
	case CFA_REG:
		if (st->cfa_reg == REG_RSP)
			cfa = PROF_CFA_RSP;
		else if (st->cfa_reg == REG_RBP)
			cfa = PROF_CFA_RBP;
		else
			goto unsupported;
		off = st->cfa_off;
		break;
	case CFA_EXPR:
		if ((off = match_plt(st->expr, st->expr_len)) >= 0) {
			cfa = PROF_CFA_PLT;
		} else if ((off = match_deref_rsp(st->expr, st->expr_len)) >= 0) {
			cfa = PROF_CFA_DEREF_RSP;
		} else {
			goto unsupported;
		}
		break;
	default:
		return rule_row(PROF_CFA_STOP, 0, PROF_RBP_SAME, 0);
	}
	if (off < 0 || off > UINT16_MAX)
		goto unsupported;

	switch (st->rbp.kind) {
	case RK_UNSPEC:
	case RK_UNDEF:
	case RK_SAME:
		/* not touched (an explicit undefined rbp does not occur in
		 * compiled code; readelf prints "u" for both) */
		rbp = PROF_RBP_SAME;
		break;
	case RK_OFFSET:
		if (st->rbp.off % 8 == 0 && st->rbp.off / 8 >= INT8_MIN &&
		    st->rbp.off / 8 <= INT8_MAX) {
			rbp = PROF_RBP_AT_CFA;
			rbp_off8 = (int8_t)(st->rbp.off / 8);
		} else {
			rbp = PROF_RBP_UNDEFINED;
		}
		break;
	default:
		rbp = PROF_RBP_UNDEFINED;
		break;
	}
	return rule_row(cfa, (uint16_t)off, rbp, rbp_off8);

unsupported:
	c->st->none_rows++;
	return rule_row(PROF_CFA_NONE, 0, PROF_RBP_SAME, 0);
}

/* The CIE at off of source src: its FDE pointer encoding, factors and
 * initial rules (cached: FDEs share a few CIEs). */
static const struct cie_info *cie_get(struct compiler *c, uint32_t src, Dwarf_Off off)
{
	struct cie_info *ci = &c->cies[(off / 4 + src) % CIE_CACHE];
	const struct cfi_src *cs = &c->srcs[src];
	Dwarf_CFI_Entry e;
	Dwarf_Off next;

	if (ci->used && ci->off == off && ci->src == src)
		return ci;
	memset(ci, 0, sizeof(*ci));
	ci->used = true;
	ci->off = off;
	ci->src = src;
	ci->fde_enc = DW_EH_PE_absptr;
	if (dwarf_next_cfi(c->ehdr.e_ident, cs->data, cs->eh, off, &next, &e) != 0 ||
	    !dwarf_cfi_cie_p(&e))
		return ci;
	if (e.cie.initial_instructions_end < e.cie.initial_instructions ||
	    !e.cie.code_alignment_factor || !cie_parse(ci, &e.cie))
		return ci;
	ci->signal = e.cie.augmentation && strchr(e.cie.augmentation, 'S');
	ci->caf = e.cie.code_alignment_factor;
	ci->daf = e.cie.data_alignment_factor;
	ci->ra_reg = e.cie.return_address_register;
	ci->ok = !run_program(c, ci, &ci->init, e.cie.initial_instructions,
			      e.cie.initial_instructions_end, NULL);
	return ci;
}

/* The FDE e of source src: its range and program. 0, -1 malformed (or
 * its CIE), -2 an encoding not supported. */
static int fde_parse(struct compiler *c, uint32_t src, const Dwarf_CFI_Entry *e,
		     const struct cie_info **cip, uint64_t *start, uint64_t *len,
		     const uint8_t **insn)
{
	const struct cfi_src *cs = &c->srcs[src];
	const struct cie_info *ci = cie_get(c, src, e->fde.CIE_pointer);
	const uint8_t *p = e->fde.start, *end = e->fde.end;
	int r;

	if (!ci->ok)
		return -1;
	r = read_encoded(ci->fde_enc, true, &p, end,
			 cs->vaddr + (uint64_t)(p - (const uint8_t *)cs->data->d_buf), start);
	if (!r)
		r = read_encoded(ci->fde_enc & PE_FORMAT, false, &p, end, 0, len);
	if (r)
		return r;
	if (ci->has_z) {
		uint64_t alen;

		if (read_uleb(&p, end, &alen) || alen > (uint64_t)(end - p))
			return -1;
		p += alen;
	}
	*cip = ci;
	*insn = p;
	return 0;
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

/* Lists the FDEs of one CFI section. */
static int list_fdes(struct compiler *c, uint32_t src)
{
	const struct cfi_src *cs = &c->srcs[src];
	Dwarf_Off off = 0, next;
	Dwarf_CFI_Entry e;
	int r;

	while (off < cs->data->d_size) {
		const struct cie_info *ci;
		const uint8_t *insn;
		uint64_t start, len;

		r = dwarf_next_cfi(c->ehdr.e_ident, cs->data, cs->eh, off, &next, &e);
		if (r > 0)
			break; /* the terminator */
		if (r < 0 || next <= off) {
			/* the entry's length cannot be trusted: the rest of
			 * the section cannot be found */
			c->st->bad_entry++;
			c->st->skipped++;
			break;
		}
		if (dwarf_cfi_cie_p(&e)) {
			off = next;
			continue;
		}
		c->st->fdes++;
		r = fde_parse(c, src, &e, &ci, &start, &len, &insn);
		if (r) {
			if (r == -2)
				c->st->bad_encoding++;
			else
				c->st->bad_entry++;
			c->st->skipped++;
			off = next;
			continue;
		}
		if (len == 0) {
			off = next;
			continue; /* empty (a discarded function): nothing to unwind */
		}
		if (start == 0 || start >= (1ull << 32) || len > (1ull << 32) - start ||
		    off > UINT32_MAX) {
			c->st->out_of_range++;
			c->st->skipped++;
			off = next;
			continue;
		}
		if (src != SRC_EH && fde_overlaps_eh(c, start, start + len)) {
			c->st->overlap++;
			c->st->skipped++;
			off = next;
			continue;
		}
		if (c->nfdes >= c->max_rows)
			return -E2BIG; /* each FDE makes a row at least */
		if (VEC_RESERVE(c->fdes, c->fdes_cap, c->nfdes + 1, c->max_rows))
			return -ENOMEM;
		c->fdes[c->nfdes++] = (struct fde_ref){ (uint32_t)start, (uint32_t)(start + len),
							(uint32_t)off, src };
		if (src == SRC_EH)
			c->st->eh_frame_fdes++;
		else
			c->st->debug_frame_fdes++;
		off = next;
	}
	if (src == SRC_EH) {
		if (c->nfdes)
			qsort(c->fdes, c->nfdes, sizeof(*c->fdes), fde_cmp);
		c->eh_fdes = c->nfdes;
	}
	return 0;
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

/* One FDE's rows, put into the table. */
static int compile_fde(struct compiler *c, const struct fde_ref *fde)
{
	const struct cfi_src *cs = &c->srcs[fde->src];
	const struct cie_info *ci;
	struct cfa_state st;
	struct fde_run run = { .loc = fde->start, .end = fde->end };
	Dwarf_CFI_Entry e;
	Dwarf_Off next;
	const uint8_t *insn;
	uint64_t start, len;
	int r;

	/* read again (it was listed): the CIE cache may have moved on */
	if (dwarf_next_cfi(c->ehdr.e_ident, cs->data, cs->eh, fde->off, &next, &e) ||
	    fde_parse(c, fde->src, &e, &ci, &start, &len, &insn)) {
		c->st->frame_errors++;
		return 0;
	}
	run.signal = ci->signal;
	if (!run.signal && fde->end - fde->start <= SIGRETURN_FDE_MAX &&
	    code_is_sigreturn(c, fde->start))
		run.signal = true;
	if (run.signal)
		c->st->signal_fdes++;
	run.base = cs->data->d_buf;
	run.vaddr = cs->vaddr;
	st = ci->init;
	r = run_program(c, ci, &st, insn, e.fde.end, &run);
	if (r == -EINVAL) {
		/* the rows so far stand, the rest is a gap */
		c->st->frame_errors++;
		return 0;
	}
	if (r)
		return r;
	/* the last row runs to the FDE's end (unless the row cap cut the
	 * FDE: the rest is a gap) */
	if (run.rows >= FDE_MAX_ROWS || run.loc >= run.end)
		return 0;
	r = close_row(c, ci, &st, &run, run.end);
	return r < 0 && r != -EINVAL ? r : 0;
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
	end = p + (hdr.p_filesz < c->raw_size - hdr.p_offset ? hdr.p_filesz :
							       c->raw_size - hdr.p_offset);
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

/* .debug_frame of elf (the file or its debug file): libdw inflates a
 * compressed one when dwarf_begin_elf opens the file. */
static int list_debug_frame(struct compiler *c, Elf *elf, Dwarf **dw, uint32_t src)
{
	GElf_Shdr shdr;
	Elf_Scn *scn;
	Elf_Data *data;

	if (!find_section(elf, ".debug_frame", &shdr))
		return 0;
	if (shdr.sh_flags & SHF_COMPRESSED) {
		*dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
		if (!*dw) {
			c->st->bad_entry++;
			c->st->skipped++;
			return 0;
		}
	}
	scn = find_section(elf, ".debug_frame", &shdr);
	if (!scn || (shdr.sh_flags & SHF_COMPRESSED) || !(data = elf_getdata(scn, NULL)) ||
	    !data->d_buf) {
		c->st->bad_entry++;
		c->st->skipped++;
		return 0;
	}
	c->srcs[src] = (struct cfi_src){ data, 0, false };
	return list_fdes(c, src);
}

/* The entry point's size, from the symbol tables: 0 when unknown. */
static uint64_t entry_size(struct compiler *c, uint64_t entry)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(c->elf, scn))) {
		GElf_Shdr shdr;
		Elf_Data *data;
		size_t i, n;

		if (!gelf_getshdr(scn, &shdr) ||
		    (shdr.sh_type != SHT_SYMTAB && shdr.sh_type != SHT_DYNSYM) ||
		    !shdr.sh_entsize || !(data = elf_getdata(scn, NULL)))
			continue;
		n = shdr.sh_size / shdr.sh_entsize;
		for (i = 0; i < n; i++) {
			GElf_Sym sym;

			if (gelf_getsym(data, (int)i, &sym) && sym.st_value == entry &&
			    sym.st_size && sym.st_shndx != SHN_UNDEF)
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

	if (!entry || entry >= (1ull << 32) ||
	    (c->ehdr.e_type != ET_EXEC && c->ehdr.e_type != ET_DYN))
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
	c->fdes[c->nfdes++] = (struct fde_ref){ (uint32_t)entry, (uint32_t)end, 0, SRC_ENTRY };
	return 0;
}

static int compile_elf(Elf *elf, int fd, Elf *dbg, size_t max_rows, struct unwind_table *out,
		       struct unwind_table_stats *st)
{
	struct compiler *c;
	Dwarf *dw_own = NULL, *dw_dbg = NULL;
	GElf_Shdr shdr;
	Elf_Scn *scn;
	Elf_Data *data;
	uint64_t vaddr;
	size_t i;
	int r = 0;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->elf = elf;
	c->fd = fd;
	c->st = st;
	c->max_rows = max_rows ? max_rows : UNWIND_TABLE_MAX_ROWS;
	if (!gelf_getehdr(elf, &c->ehdr) || c->ehdr.e_ident[EI_CLASS] != ELFCLASS64 ||
	    c->ehdr.e_ident[EI_DATA] != ELFDATA2LSB || c->ehdr.e_machine != EM_X86_64 ||
	    !(c->raw = (const uint8_t *)elf_rawfile(elf, &c->raw_size))) {
		r = -ENOEXEC;
		goto out;
	}

	/* .eh_frame first: the others only fill what it leaves */
	scn = find_section(elf, ".eh_frame", &shdr);
	if (scn && !(shdr.sh_flags & SHF_COMPRESSED) && (data = elf_getdata(scn, NULL)) &&
	    data->d_buf) {
		vaddr = shdr.sh_addr;
	} else if (eh_frame_from_phdr(c, &c->phdr_data, &vaddr)) {
		data = &c->phdr_data;
	} else {
		data = NULL;
	}
	if (data) {
		c->srcs[SRC_EH] = (struct cfi_src){ data, vaddr, true };
		if ((r = list_fdes(c, SRC_EH)))
			goto out;
	}
	if ((r = list_debug_frame(c, elf, &dw_own, SRC_DEBUG)))
		goto out;
	if (dbg) {
		GElf_Ehdr dh;

		if (gelf_getehdr(dbg, &dh) && dh.e_machine == EM_X86_64 &&
		    dh.e_ident[EI_CLASS] == ELFCLASS64 &&
		    (r = list_debug_frame(c, dbg, &dw_dbg, SRC_DEBUGFILE)))
			goto out;
	}

	if ((r = add_entry_stop(c)))
		goto out;
	/* in address order: the rows come out sorted */
	if (c->nfdes)
		qsort(c->fdes, c->nfdes, sizeof(*c->fdes), fde_cmp);
	for (i = 0; i < c->nfdes; i++) {
		const struct fde_ref *f = &c->fdes[i];

		r = f->src == SRC_ENTRY ?
			    put(c, f->start, f->end, rule_row(PROF_CFA_STOP, 0, PROF_RBP_SAME, 0)) :
			    compile_fde(c, f);
		if (r)
			goto out;
	}
	if ((r = put_end(c)))
		goto out;
	/* the table lives on (until loaded): no doubling slack */
	if (c->nrows && c->nrows < c->rows_cap) {
		void *p = realloc(c->rows, c->nrows * sizeof(*c->rows));

		if (p)
			c->rows = p;
	}
	out->rows = c->rows;
	out->nr = c->nrows;
	c->rows = NULL;
	st->rows = out->nr;
out:
	free(c->fdes);
	free(c->rows);
	free(c);
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
