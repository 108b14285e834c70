/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sym.h - the symbolizer's front: file identity capture and batch naming
 *
 * Normalize early, symbolize late. While a process is alive the agent asks
 * for a struct sym_file for each mapping its samples touch: the file is opened
 * then (through /proc/PID/map_files, so deleted files and other mount
 * namespaces work) and identified by build-id or (dev, inode, size, mtime).
 * At window end, frames are named in batches from caches keyed by that
 * identity and shared by every process mapping the same file. The caches are
 * bounded in bytes with LRU eviction.
 *
 * Thread: one owner (the agent's main loop). sym_file refcounts are atomic,
 * so references may be dropped from any thread.
 */
#ifndef EMBER_SYM_H
#define EMBER_SYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sym_maps.h"

struct sym;
struct sym_file;

struct sym_opts {
	const char *proc_root; /* "/proc" unless a test says otherwise */
	const char *kallsyms_path; /* "/proc/kallsyms"; NULL disables kernel names */
	size_t cache_bytes; /* bound on cached symbol tables; 0 = default 8 MiB */
	/* Where separate debug files live (Debian's *-dbg and *-dbgsym packages
	 * install DIR/.build-id/xx/yyyy.debug); NULL = /usr/lib/debug, "" = off. */
	const char *debug_dir;
	/* Names as the symbol table has them (mangled); default: demangled. */
	bool no_demangle;
	/* No source lines and no inline frames: DWARF is not read. */
	bool no_dwarf;
	/* Bound on the DWARF handles kept open (their estimated memory);
	 * 0 = default 8 MiB. */
	size_t dwarf_bytes;
	/* Fetch missing debug files from debuginfod servers (DEBUGINFOD_URLS),
	 * off the naming path; also on when DEBUGINFOD_URLS is set. */
	bool debuginfod;
	const char *debuginfod_cache; /* NULL: see sym_debuginfod.h */
	uint64_t debuginfod_cache_bytes; /* 0: 1 GiB */
};

/* Why a frame has no name; a batch never fails whole (blazesym's Reason). */
enum sym_reason {
	SYM_OK = 0,
	SYM_NO_FILE, /* file could not be opened (gone, no permission) */
	SYM_NOT_ELF, /* not an ELF file, or a corrupt one */
	SYM_NO_SYMBOLS, /* ELF without .symtab or .dynsym */
	SYM_UNKNOWN_ADDR, /* no symbol covers the address */
	SYM_NO_KERNEL, /* kernel symbols unavailable */
};

/* One level of a frame's name: a function and where in its source. */
struct sym_line {
	const char *function; /* as its language spells it (demangled) */
	const char *system_name; /* the symbol's (mangled) name, NULL when the same */
	const char *file; /* source file, NULL when unknown */
	uint32_t line; /* source line, 0 when unknown */
};

struct sym_result {
	const char *name; /* NULL unless reason == SYM_OK; lines[nlines - 1].function */
	const char *module; /* kernel module name, or NULL */
	uint64_t offset; /* address - symbol start */
	enum sym_reason reason;
	/* User and vDSO frames named SYM_OK: the inline chain, innermost first
	 * (code inlined into a function comes before it), the last level the
	 * function the address belongs to; at least one level. Kernel frames:
	 * none (nlines 0), only name. */
	const struct sym_line *lines;
	uint32_t nlines;
};

/* NULL with errno set. Loads kallsyms at once (the kernel table is needed for
 * every window). Free with sym__free(), which accepts NULL. */
struct sym *sym__new(const struct sym_opts *opts);
void sym__free(struct sym *s);

/* Identifies and opens the file behind mapping m of live process pid. Files
 * already known (same dev+inode, unchanged) are shared, not reopened. Returns
 * a new reference, or NULL with errno (ESRCH, ENOENT, EACCES, ENOMEM).
 * Tries PROC_ROOT/PID/map_files/START-END first (needs CAP_SYS_ADMIN or
 * CAP_CHECKPOINT_RESTORE; works for deleted files and other mount
 * namespaces), then PROC_ROOT/PID/root/PATH unless m->deleted. ENOENT also
 * for anonymous and pseudo ("[vdso]") mappings; EINVAL when the path is not
 * a regular file.
 * Each open file holds one fd until its last reference is dropped. */
struct sym_file *sym__open_file(struct sym *s, uint32_t pid, const struct sym_map *m);
/* Same for a mapping learned from the kernel's mmap records, whose process
 * may be gone: PATH is tried under each of roots[] in turn (for example
 * "/proc/PID/root", the parent's "/proc/PPID/root", then "" for the host's),
 * and when m->ino is set only a file with m's device and inode is taken.
 * NULL with errno: ENOENT, ESTALE (a different file has that name now),
 * EINVAL, ENOMEM. */
struct sym_file *sym__open_path(struct sym *s, const char *const *roots, size_t nroots,
				const struct sym_map *m);
struct sym_file *sym_file__get(struct sym_file *f);
/* Drops a reference; the last one closes the file. Accepts NULL. Any thread,
 * also after sym__free(). */
void sym_file__put(struct sym_file *f);
/* The path as the process saw it (" (deleted)" stripped). Valid while referenced. */
const char *sym_file__path(const struct sym_file *f);
/* GNU build-id as lowercase hex, or NULL when the file has none. */
const char *sym_file__build_id(const struct sym_file *f);

/* Names n file offsets within f, in order. result[i].name and .lines (and
 * every string they point to) stay valid until the next symbolizer call (it
 * may evict); callers copy what they keep.
 * An offset is a FILE offset: addr - map.start + map.pgoff. f may be NULL
 * (every result is then SYM_NO_FILE). */
void sym__user(struct sym *s, struct sym_file *f, const uint64_t *offsets, size_t n,
	       struct sym_result *results);
/* Drops the cached tables and DWARF of files whose last reference went.
 * sym__user() does it too, but a window without user frames (an idle host
 * after its last short process) would keep their fds open until the next
 * one: call it once a window, after the window's references are put. */
void sym__release_unused(struct sym *s);
/* Names n offsets within the vDSO (address - start of the "[vdso]" mapping).
 * The image read is the agent's own (getauxval(AT_SYSINFO_EHDR)): the kernel
 * maps the same one into every 64-bit process. */
void sym__vdso(struct sym *s, const uint64_t *offsets, size_t n, struct sym_result *results);
/* Names n kernel addresses from kallsyms (modules included). */
void sym__kernel(struct sym *s, const uint64_t *addrs, size_t n, struct sym_result *results);
/* Reads kallsyms again (modules or BPF programs loaded since). On failure
 * the previous table stays. 0 or -errno. Invalidates kernel result names. */
int sym__kernel_reload(struct sym *s);

struct sym_stats {
	uint64_t files_open; /* sym_file objects alive */
	uint64_t cache_bytes; /* bytes held by cached symbol tables */
	uint64_t cache_loads; /* symbol tables loaded (misses) */
	uint64_t cache_evictions;
	uint64_t bad_files; /* files that failed to parse as ELF */
	uint64_t no_symbols; /* ELF files without usable function symbols */
	uint64_t open_errors; /* sym__open_file() failures */
	uint64_t kernel_symbols;
	uint64_t kernel_bytes; /* bytes held by the kernel table (not in cache_bytes) */
	uint64_t kernel_bad_lines; /* kallsyms lines skipped */
	uint64_t name_errors; /* names not read: file truncated, I/O error */
	uint64_t stale_tables; /* tables dropped because their file changed */
	uint64_t debug_files; /* tables whose symbols came from a debug file */
	uint64_t dwarf_loads; /* files whose DWARF was opened (misses) */
	uint64_t dwarf_bytes; /* estimated memory of the DWARF handles held */
	uint64_t dwarf_evictions;
	uint64_t dwarf_errors; /* corrupt DWARF: lookups that fell back to the symbol */
	uint64_t demangle_failures; /* mangled-looking names kept as they are */
	uint64_t go_tables; /* Go binaries named from .gopclntab */
	uint64_t go_errors; /* corrupt .gopclntab tables, or lookups in them */
	uint64_t debug_by_link; /* of which through .gnu_debuglink */
	uint64_t debug_by_minidebug; /* of which from MiniDebugInfo */
	uint64_t debug_crc_mismatch; /* debug link candidates with the wrong CRC */
	uint64_t debug_buildid_mismatch; /* build-id paths holding another build-id */
	uint64_t debug_bad_files; /* debug files or MiniDebugInfo that did not parse */
	uint64_t debug_by_debuginfod; /* tables from files fetched from debuginfod */
	uint64_t debuginfod_fetched; /* debug files that landed in the cache */
	uint64_t debuginfod_missing; /* build-ids no server had, or unreachable */
	uint64_t debuginfod_bad; /* fetched files not ELF or of another build-id */
	uint64_t debuginfod_timeouts; /* fetches aborted at their deadline */
	uint64_t debuginfod_queue_full; /* requests turned away, the queue full */
	uint64_t debuginfod_evictions; /* cached files removed past the cap */
};
void sym__stats(const struct sym *s, struct sym_stats *out);

#endif /* EMBER_SYM_H */
