// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sym_file.c - mapped files: opening, identity, and the shared registry
 *
 * Owns the fds of mapped files and the registry (a base/hchain over file
 * identities, the node inside each sym_file). A sym_file lives while
 * referenced and leaves the registry with its last reference; the registry
 * lives while its owner or any file does. Reading symbols is not done here
 * (sym_elf.c), only the build-id (sym_buildid.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "hchain.h"
#include "vec.h"
#include "hindex.h"
#include "sym_buildid.h"
#include "sym_file.h"

struct sym_file_id {
	uint64_t dev;
	uint64_t ino;
	uint64_t size;
	int64_t mtime_sec;
	int64_t mtime_nsec;
};

struct sym_file {
	atomic_uint refs;
	enum sym_reason bad;
	int fd;
	uint32_t pid; /* a process that mapped it (its mount namespace), or 0 */
	struct sym_files *reg;
	struct hchain_node hnode; /* in reg->files, until the last reference goes */
	struct sym_file_id id;
	const char *build_id; /* in the same allocation, after path; or NULL */
	char path[];
};

#define SYM_FILES_GONE_MAX (1u << 20)

struct sym_files {
	pthread_mutex_t lock;
	struct hchain files; /* every sym_file alive, by identity */
	bool dead; /* the owner let go; the last file frees the registry */
	/* Keys of files whose last reference went, for the symbolizer to
	 * drop what it cached for them (and the fds that holds). */
	struct sym_cache_key *gone;
	size_t ngone, gone_cap;
};

static void sym_file_id_of(const struct stat *st, struct sym_file_id *id)
{
	memset(id, 0, sizeof(*id));
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime_sec = st->st_mtim.tv_sec;
	id->mtime_nsec = st->st_mtim.tv_nsec;
}

/* The fields are all 64-bit, so the struct has no padding to hash. */
static uint64_t sym_file_id_hash(const struct sym_file_id *id)
{
	return hindex_hash_bytes(id, sizeof(*id));
}

struct sym_files *sym_files__new(void)
{
	struct sym_files *r;

	r = calloc(1, sizeof(*r));
	if (!r)
		return errno = ENOMEM, NULL;
	if (hchain_init(&r->files, 256)) {
		free(r);
		return errno = ENOMEM, NULL;
	}
	if (pthread_mutex_init(&r->lock, NULL)) {
		hchain_release(&r->files);
		free(r);
		return errno = ENOMEM, NULL;
	}
	return r;
}

static void sym_files_destroy(struct sym_files *r)
{
	pthread_mutex_destroy(&r->lock);
	hchain_release(&r->files);
	free(r->gone);
	free(r);
}

void sym_files__free(struct sym_files *r)
{
	bool last;

	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->dead = true;
	last = r->files.count == 0;
	pthread_mutex_unlock(&r->lock);
	if (last)
		sym_files_destroy(r);
}

uint64_t sym_files__count(struct sym_files *r)
{
	uint64_t n;

	pthread_mutex_lock(&r->lock);
	n = r->files.count;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* Takes a reference unless the count already fell to zero: such a file is
 * on its way out of the registry and must not be revived. */
static bool sym_file_tryget(struct sym_file *f)
{
	unsigned int v = atomic_load(&f->refs);

	while (v) {
		if (atomic_compare_exchange_weak(&f->refs, &v, v + 1))
			return true;
	}
	return false;
}

static struct sym_file *sym_files_lookup(struct sym_files *r, const struct sym_file_id *id)
{
	struct sym_file *f, *found = NULL;
	struct hchain_node *n;

	pthread_mutex_lock(&r->lock);
	for (n = hchain_first(&r->files, sym_file_id_hash(id)); n; n = hchain_next(n)) {
		f = hchain_entry(n, struct sym_file, hnode);
		if (!memcmp(&f->id, id, sizeof(*id)) && sym_file_tryget(f)) {
			found = f;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return found;
}

/* Identifies the file st describes (*id) and looks it up: *f is a new
 * reference to the registry's file, or NULL when there is none yet. Once
 * before open() and once on the fd, hence one function. 0, or -EINVAL when
 * st is not a regular file. */
static int sym_files_find(struct sym_files *r, const struct stat *st, struct sym_file_id *id,
			  struct sym_file **f)
{
	*f = NULL;
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	sym_file_id_of(st, id);
	*f = sym_files_lookup(r, id);
	return 0;
}

static void sym_files_insert(struct sym_files *r, struct sym_file *f)
{
	pthread_mutex_lock(&r->lock);
	hchain_add(&r->files, &f->hnode, sym_file_id_hash(&f->id));
	pthread_mutex_unlock(&r->lock);
}

static struct sym_file *sym_file_new(int fd, const struct sym_file_id *id, const char *path)
{
	char hex[SYM_BUILDID_HEX];
	size_t plen = strlen(path), blen = 0;
	struct sym_file *f;
	int err;

	err = sym_buildid_fd(fd, hex);
	if (!err)
		blen = strlen(hex) + 1;
	f = calloc(1, sizeof(*f) + plen + 1 + blen);
	if (!f)
		return errno = ENOMEM, NULL;
	atomic_init(&f->refs, 1);
	f->fd = fd;
	f->id = *id;
	/* Not ELF: known now, so no table load is ever attempted. */
	f->bad = err == -ENOEXEC ? SYM_NOT_ELF : SYM_OK;
	memcpy(f->path, path, plen + 1);
	if (blen) {
		memcpy(f->path + plen + 1, hex, blen);
		f->build_id = f->path + plen + 1;
	}
	return f;
}

/* After ENOENT: was it the file, or the whole process that went away? */
static int sym_files_gone(const char *proc_root, uint32_t pid)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%u", proc_root, pid);
	return stat(path, &st) && errno == ENOENT ? -ESRCH : -ENOENT;
}

/* Chooses the path to open and stats it. 0 or -errno. */
static int sym_files_locate(const char *proc_root, uint32_t pid, const struct sym_map *m,
			    char *path, size_t size, struct stat *st)
{
	int n;

	n = snprintf(path, size, "%s/%u/map_files/%" PRIx64 "-%" PRIx64, proc_root, pid, m->start,
		     m->end);
	if (n > 0 && (size_t)n < size && !stat(path, st))
		return 0;
	/* Unprivileged, or an old kernel: go by name in the process's root. A
	 * deleted file's name no longer leads to it. */
	if (m->deleted)
		return sym_files_gone(proc_root, pid);
	n = snprintf(path, size, "%s/%u/root%s", proc_root, pid, m->path);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	/* A file replaced by rename (package upgrades) shows as deleted above;
	 * the inode is not compared, as overlayfs may report another one. */
	if (stat(path, st))
		return errno == ENOENT ? sym_files_gone(proc_root, pid) : -errno;
	return 0;
}

/* The registry's file for the file open at *fd (st its fstat): the known
 * one when another process mapped it already, else a new entry that takes
 * the fd (*fd becomes -1, *created true). pid: the process it was opened
 * for, 0 when none is alive. 0 or -errno. */
static int sym_files_adopt(struct sym_files *r, int *fd, const struct stat *st, const char *path,
			   uint32_t pid, struct sym_file **out, bool *created)
{
	struct sym_file_id id;
	struct sym_file *f = NULL;
	int err;

	err = sym_files_find(r, st, &id, &f);
	if (err || f) {
		*out = f;
		return err;
	}
	f = sym_file_new(*fd, &id, path);
	if (!f)
		return -errno;
	*fd = -1;
	f->reg = r;
	f->pid = pid;
	sym_files_insert(r, f);
	*created = true;
	*out = f;
	return 0;
}

struct sym_file *sym_files__open(struct sym_files *r, const char *proc_root, uint32_t pid,
				 const struct sym_map *m, bool *created)
{
	struct sym_file *f = NULL;
	struct sym_file_id id;
	char path[PATH_MAX];
	struct stat st;
	int fd = -1, err = 0;

	*created = false;
	if (!m->path || m->path[0] != '/') {
		err = -ENOENT;
		goto cleanup;
	}
	err = sym_files_locate(proc_root, pid, m, path, sizeof(path), &st);
	/* Checked before open(): opening a device can have side effects. */
	if (!err)
		err = sym_files_find(r, &st, &id, &f);
	if (err || f)
		goto cleanup;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st)) {
		err = errno == ENOENT ? sym_files_gone(proc_root, pid) : -errno;
		goto cleanup;
	}
	/* The file may have changed between stat() and open(): the fd decides. */
	err = sym_files_adopt(r, &fd, &st, m->path, pid, &f, created);
cleanup:
	if (fd >= 0)
		close(fd);
	if (err)
		return errno = -err, NULL;
	return f;
}

/* Does st describe the file the kernel reported for m? Only checked when
 * the record carried an inode (a build-id record carries none). */
static bool sym_files_same(const struct stat *st, const struct sym_map *m)
{
	return !m->ino || (st->st_ino == m->ino && major(st->st_dev) == m->dev_major &&
			   minor(st->st_dev) == m->dev_minor);
}

struct sym_file *sym_files__open_path(struct sym_files *r, const char *const *roots, size_t nroots,
				      const struct sym_map *m, bool *created)
{
	struct sym_file *f = NULL;
	struct sym_file_id id;
	char path[PATH_MAX];
	struct stat st;
	int fd = -1, err = -ENOENT, n;
	size_t i;

	*created = false;
	if (!m->path || m->path[0] != '/')
		return errno = ENOENT, NULL;
	for (i = 0; i < nroots; i++) {
		n = snprintf(path, sizeof(path), "%s%s", roots[i], m->path);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			err = -ENAMETOOLONG;
			continue;
		}
		if (stat(path, &st))
			continue;
		/* Another file under that name (replaced since, or another
		 * mount namespace's): naming with it would be wrong. */
		if (!sym_files_same(&st, m)) {
			err = -ESTALE;
			continue;
		}
		err = sym_files_find(r, &st, &id, &f);
		if (err || f)
			goto cleanup;
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0 || fstat(fd, &st) || !sym_files_same(&st, m)) {
			err = fd < 0 ? -errno : -ESTALE;
			if (fd >= 0)
				close(fd);
			fd = -1;
			continue;
		}
		err = sym_files_adopt(r, &fd, &st, m->path, 0, &f, created);
		goto cleanup;
	}
cleanup:
	if (fd >= 0)
		close(fd);
	if (!f)
		return errno = err ? -err : ENOENT, NULL;
	return f;
}

struct sym_file *sym_file__get(struct sym_file *f)
{
	if (f)
		atomic_fetch_add(&f->refs, 1);
	return f;
}

void sym_file__put(struct sym_file *f)
{
	struct sym_files *r;
	bool last;

	if (!f || atomic_fetch_sub(&f->refs, 1) != 1)
		return;
	r = f->reg;
	pthread_mutex_lock(&r->lock);
	hchain_remove(&r->files, &f->hnode);
	/* Bounded by the files released between two takes (one window's);
	 * without room the cached table stays until the cache evicts it. */
	if (!r->dead && !VEC_RESERVE(r->gone, r->gone_cap, r->ngone + 1, SYM_FILES_GONE_MAX))
		sym_file__key(f, &r->gone[r->ngone++]);
	last = r->dead && r->files.count == 0;
	pthread_mutex_unlock(&r->lock);
	close(f->fd);
	free(f);
	if (last)
		sym_files_destroy(r);
}

const char *sym_file__path(const struct sym_file *f)
{
	return f->path;
}

const char *sym_file__build_id(const struct sym_file *f)
{
	return f->build_id;
}

uint32_t sym_file__pid(const struct sym_file *f)
{
	return f->pid;
}

int sym_file__fd(const struct sym_file *f)
{
	return f->fd;
}

void sym_file__key(const struct sym_file *f, struct sym_cache_key *k)
{
	if (f->build_id) {
		size_t len = strlen(f->build_id);

		k->bytes[0] = 'B';
		memcpy(k->bytes + 1, f->build_id, len);
		k->len = 1 + len;
	} else {
		k->bytes[0] = 'I';
		memcpy(k->bytes + 1, &f->id, sizeof(f->id));
		k->len = 1 + sizeof(f->id);
	}
}

enum sym_reason sym_file__bad(const struct sym_file *f)
{
	return f->bad;
}

void sym_file__set_bad(struct sym_file *f, enum sym_reason why)
{
	f->bad = why;
}

size_t sym_files__take_gone(struct sym_files *r, struct sym_cache_key **keys)
{
	size_t n;

	pthread_mutex_lock(&r->lock);
	*keys = r->gone;
	n = r->ngone;
	r->gone = NULL;
	r->ngone = r->gone_cap = 0;
	pthread_mutex_unlock(&r->lock);
	return n;
}

bool sym_files__key_in_use(struct sym_files *r, const struct sym_cache_key *k)
{
	struct sym_cache_key fk;
	struct hchain_node *n;
	bool found = false;
	size_t i;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->files.nbuckets && !found; i++) {
		for (n = r->files.buckets[i]; n && !found; n = n->next) {
			sym_file__key(hchain_entry(n, struct sym_file, hnode), &fk);
			found = fk.len == k->len && !memcmp(fk.bytes, k->bytes, k->len);
		}
	}
	pthread_mutex_unlock(&r->lock);
	return found;
}
