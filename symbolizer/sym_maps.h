/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sym_maps.h - parser for /proc/PID/maps
 *
 * Turns the text of a maps file into a sorted array of mappings. Untrusted
 * input: lines that do not parse are skipped and counted, never fatal; the
 * number of entries and the path length are bounded; a mapping overlapping
 * an earlier one is dropped and counted like a bad line. Owned by its caller;
 * no internal state, so any thread may use its own objects.
 */
#ifndef EMBER_SYM_MAPS_H
#define EMBER_SYM_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A JVM or a Python process with many arenas runs past 100,000 mappings
 * (vm.max_map_count is 65530 by default, and raised for them). The arrays
 * grow on demand, so the cap costs nothing below it: about 70 bytes per
 * mapping while the table lives. */
#define SYM_MAPS_MAX_ENTRIES (1u << 20)
#define SYM_MAPS_MAX_PATH 4096

enum sym_prot {
	SYM_PROT_READ = 1,
	SYM_PROT_WRITE = 2,
	SYM_PROT_EXEC = 4,
	SYM_PROT_PRIVATE = 8,
};

/* One mapping. path is NULL for anonymous memory; pseudo files keep their
 * bracketed name ("[vdso]", "[stack]", "[heap]"). */
struct sym_map {
	uint64_t start;
	uint64_t end;
	uint64_t pgoff;
	uint64_t ino;
	uint32_t dev_major;
	uint32_t dev_minor;
	uint32_t prot; /* enum sym_prot bits */
	bool deleted; /* the path ended in " (deleted)", which is stripped */
	const char *path; /* owned by the struct sym_maps */
};

struct sym_maps;

/* Parses maps text. Returns NULL with errno set (ENOMEM; EINVAL when nothing
 * parsed from non-empty input). Free with sym_maps__free(). */
struct sym_maps *sym_maps__parse(const char *text, size_t len);
/* Reads and parses PROC_ROOT/PID/maps (proc_root is usually "/proc").
 * NULL with errno: ESRCH when the process is gone, EACCES, ENOMEM. */
struct sym_maps *sym_maps__read(const char *proc_root, uint32_t pid);
/* Builds maps from n mappings known another way (the kernel's mmap records
 * of a process that may be gone): copies them and their paths, sorts them,
 * and drops a mapping that overlaps an earlier one (counted as a bad line).
 * NULL with errno ENOMEM or E2BIG (more than SYM_MAPS_MAX_ENTRIES). */
struct sym_maps *sym_maps__from(const struct sym_map *maps, size_t n);
void sym_maps__free(struct sym_maps *m);

size_t sym_maps__count(const struct sym_maps *m);
const struct sym_map *sym_maps__at(const struct sym_maps *m, size_t i);
/* The mapping containing addr, or NULL. O(log n). */
const struct sym_map *sym_maps__find(const struct sym_maps *m, uint64_t addr);
/* Lines that did not parse (logged by the caller, counted in self-metrics). */
size_t sym_maps__bad_lines(const struct sym_maps *m);
/* Mappings left out because the table was full (SYM_MAPS_MAX_ENTRIES) or the
 * text was longer than its bound; included in bad_lines. */
size_t sym_maps__over_cap(const struct sym_maps *m);

#endif /* EMBER_SYM_MAPS_H */
