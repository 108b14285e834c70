/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sym_debug.h - finding a binary's symbols outside it, in gdb's order
 *
 * For a binary without a .symtab: its debug file by build-id
 * (DEBUG_DIR/.build-id/xx/rest.debug), then by .gnu_debuglink with its CRC
 * checked (next to the binary, in its .debug/, under DEBUG_DIR/<its dir>),
 * then one fetched from debuginfod when that is on and the file is already
 * in its cache (else the fetch is queued, ctx->pending is set, and the
 * search goes on), then its MiniDebugInfo (.gnu_debugdata). Each path is tried in the mount
 * namespace of a process that mapped the binary (/proc/PID/root) first,
 * then in the host's. A candidate that is the wrong file (CRC or build-id
 * mismatch, corrupt) is one log line and a counter, and the next source is
 * tried. Thread: the symbolizer's owner.
 */
#ifndef EMBER_SYM_DEBUG_H
#define EMBER_SYM_DEBUG_H

#include <stddef.h>
#include <stdint.h>

#include "sym_elf.h"
#include "sym_file.h"

struct sym_debug_stats {
	uint64_t by_buildid; /* tables from DEBUG_DIR/.build-id */
	uint64_t by_debuglink;
	uint64_t by_minidebug;
	uint64_t crc_mismatch; /* debuglink candidates with another CRC */
	uint64_t buildid_mismatch; /* build-id path holding another build-id */
	uint64_t bad_debug_files; /* candidates that did not parse, corrupt xz */
	uint64_t by_debuginfod; /* tables from files fetched from debuginfod */
};

struct sym_debuginfod;

struct sym_debug_ctx {
	const char *proc_root; /* "/proc" */
	const char *debug_dir; /* "/usr/lib/debug", or NULL: no files by path */
	size_t max_bytes; /* the cache's bound on one table */
	struct sym_debug_stats *stats;
	struct sym_debuginfod *debuginfod; /* NULL: off */
	bool pending; /* out: a debuginfod fetch for the file is under way */
};

/* The table to name f with. own is f's own table (NULL when f has no
 * function symbols). When own came from .symtab it is returned as is;
 * otherwise the first separate source found replaces it (own is freed) and
 * gets f's segments. NULL only when own was NULL and no source was found. */
struct sym_elf_table *sym_debug_table(struct sym_debug_ctx *c, struct sym_file *f,
				      struct sym_elf_table *own);

#endif /* EMBER_SYM_DEBUG_H */
