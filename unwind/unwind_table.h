/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* unwind_table.h - one ELF file's call frame information compiled into the
 * rows the BPF walker reads (struct prof_unwind_row, bpf/profiler.h)
 *
 * The CFI comes from .eh_frame (the section, or through PT_GNU_EH_FRAME when
 * the section headers are stripped) and .debug_frame (the file's own, or a
 * separate debug file's). libdw's dwarf_next_cfi splits the sections into
 * CIEs and FDEs (and libdw inflates a compressed .debug_frame); each FDE's
 * CFA program is run here, once, keeping the rules the walker uses. Where both
 * sections describe an address, .eh_frame wins (it is what the code was
 * linked with). Rows are x86-64 only.
 *
 * Untrusted input: every CIE or FDE that cannot be read is skipped and
 * counted, a malformed program is cut where it goes wrong, the rows per FDE
 * and per file are bounded (the work is linear in the CFI's size), a file
 * past the row cap is refused. Pure; any thread (libdw handles are per call).
 */
#ifndef EMBER_UNWIND_TABLE_H
#define EMBER_UNWIND_TABLE_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#include "profiler.h"

/* The default cap on one file's rows: 4 Mi rows, 32 MiB of BPF map. The
 * largest libraries measured (libLLVM, node) have under a million. */
#define UNWIND_TABLE_MAX_ROWS (4u << 20)

struct unwind_table {
	struct prof_unwind_row *rows; /* sorted by pc, no two at one pc */
	size_t nr;
};

/* What a compile met. Everything skipped is counted in skipped and in one
 * reason. */
struct unwind_table_stats {
	uint64_t fdes; /* FDEs read, from both sections */
	uint64_t rows; /* rows in the table */
	uint64_t cfi_rows; /* rows the CFA programs made, before merging */
	uint64_t skipped; /* CIEs and FDEs not used, all reasons below */
	uint64_t bad_entry; /* a CIE or FDE libdw or the pointer decoding refused */
	uint64_t bad_encoding; /* a pointer encoding not supported (indirect, textrel...) */
	uint64_t out_of_range; /* an FDE at address 0 or past 4 GiB */
	uint64_t overlap; /* an FDE inside one already compiled (the other section's) */
	uint64_t frame_errors; /* an FDE's program malformed: cut there, the rest a gap */
	uint64_t none_rows; /* rows compiled to PROF_CFA_NONE: a rule the walker lacks */
	uint64_t signal_fdes; /* FDEs compiled to PROF_CFA_SIGNAL */
	uint64_t entry_stop; /* 1 when the entry point had no FDE and got a STOP row */
	uint64_t eh_frame_fdes; /* FDEs from .eh_frame */
	uint64_t debug_frame_fdes; /* FDEs from .debug_frame (own or debug file) */
	uint64_t compile_ns; /* wall time of the compile */
};

/* Compiles the ELF file at path; debug_path, when not NULL, is its separate
 * debug file (its .debug_frame is read too). max_rows 0 means
 * UNWIND_TABLE_MAX_ROWS. 0 with out filled (out->nr may be 0: no usable
 * CFI), or -errno: -ENOENT/-EACCES (open), -ENOEXEC (not an x86-64 ELF
 * file), -E2BIG (more rows than max_rows), -ENOMEM. stats is filled in every
 * case. Free out with unwind_table_free(). */
int unwind_table_compile(const char *path, const char *debug_path, size_t max_rows,
			 struct unwind_table *out, struct unwind_table_stats *stats);
/* The same from an open file (borrowed) and an optional debug file (-1). */
int unwind_table_compile_fd(int fd, int debug_fd, size_t max_rows, struct unwind_table *out,
			    struct unwind_table_stats *stats);
/* The same from an ELF image in memory (borrowed), for tests and fuzzing. */
int unwind_table_compile_mem(const void *buf, size_t size, size_t max_rows,
			     struct unwind_table *out, struct unwind_table_stats *stats);
void unwind_table_free(struct unwind_table *t);

/* The row covering ELF address pc, or NULL when pc is before the first row.
 * (The walker's binary search, for tests and the agent's debug output.) */
const struct prof_unwind_row *unwind_table_find(const struct unwind_table *t, uint64_t pc);

/* "rsp+8", "rbp+16 rbp@cfa-16", "plt11", "signal", "stop"...: one row's rule,
 * for logs and tests. Returns buf. */
const char *unwind_row_str(const struct prof_unwind_row *r, char *buf, size_t size);

#endif /* EMBER_UNWIND_TABLE_H */
