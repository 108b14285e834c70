/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sym_file.h - mapped files: opening, identity, and the registry that shares
 * them across processes (internal to the symbolizer)
 *
 * A struct sym_file is one open fd on one file identity (dev, inode, size,
 * mtime), plus the path a process saw and the GNU build-id. The registry
 * hands out one sym_file per identity, refcounted; it holds no reference
 * itself, so it is bounded by the files the agent references. Lookups and
 * inserts are the owner's (main loop); the last sym_file__put() may come from
 * any thread, so the registry is guarded by a mutex and outlives its owner
 * while files are still referenced.
 */
#ifndef EMBER_SYM_FILE_H
#define EMBER_SYM_FILE_H

#include <stdbool.h>
#include <stdint.h>

#include "sym.h"
#include "sym_cache.h"

struct sym_files;

/* NULL with errno ENOMEM. */
struct sym_files *sym_files__new(void);
/* Drops the owner's hold; the registry itself goes with the last file. */
void sym_files__free(struct sym_files *r);
/* Hands over the keys of the files released since the last call (*keys,
 * freed by the caller; NULL when none) and returns their count. */
size_t sym_files__take_gone(struct sym_files *r, struct sym_cache_key **keys);
/* Whether a file in use now has cache key k (a process mapped it again). */
bool sym_files__key_in_use(struct sym_files *r, const struct sym_cache_key *k);

/* Opens the file behind mapping m of process pid: PROC_ROOT/PID/map_files/
 * START-END first (the very inode mapped, even deleted or in another mount
 * namespace; needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE), else
 * PROC_ROOT/PID/root/PATH unless the mapping is marked deleted. *created says
 * whether the file was new to the registry. A new reference, or NULL with
 * errno: ENOENT (no such file; anonymous or pseudo mapping; a deleted file
 * without map_files access), ESRCH (process gone), EACCES, EINVAL (not a
 * regular file), ENOMEM. */
struct sym_file *sym_files__open(struct sym_files *r, const char *proc_root, uint32_t pid,
				 const struct sym_map *m, bool *created);
/* Opens the file of mapping m by its path under each of roots[] in turn
 * ("/proc/PID/root", a relative's, "" for the host's), for a mapping known
 * from the kernel's mmap records after its process may have exited. When m
 * carries an inode, only a file with m's device and inode is taken. A new
 * reference, or NULL with errno: ENOENT (under no root), ESTALE (only
 * other files under that name), EINVAL, ENOMEM. */
struct sym_file *sym_files__open_path(struct sym_files *r, const char *const *roots, size_t nroots,
				      const struct sym_map *m, bool *created);
/* sym_file objects alive. */
uint64_t sym_files__count(struct sym_files *r);

/* A process that mapped the file when it was opened (0 when unknown): its
 * /proc/PID/root is where the file's debug files are looked for first. */
uint32_t sym_file__pid(const struct sym_file *f);
/* The open fd (shared; read it with pread only). */
int sym_file__fd(const struct sym_file *f);
/* The cache key: the build-id when the file has one, else its identity. */
void sym_file__key(const struct sym_file *f, struct sym_cache_key *k);
/* Why the file cannot be symbolized (SYM_OK while it may). Sticky: once set,
 * the file is not parsed again. Owner thread only. */
enum sym_reason sym_file__bad(const struct sym_file *f);
void sym_file__set_bad(struct sym_file *f, enum sym_reason why);

#endif /* EMBER_SYM_FILE_H */
