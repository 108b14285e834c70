// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sym_debug.c - the separate debug file search, in gdb's order
 *
 * Every candidate is opened, checked (build-id, CRC), loaded and closed
 * here; only the table that wins is kept (it holds its own fd). A debug
 * file has the binary's symbols at the binary's addresses but none of its
 * file offsets, so the binary's PT_LOAD segments go with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "sym_buildid.h"
#include "sym_debug.h"
#include "sym_debuginfod.h"
#include "sym_debuglink.h"
#include "sym_minidebug.h"

#define SYM_DEBUG_MAX_ROOTS 2

struct sym_debug_search {
	struct sym_debug_ctx *c;
	struct sym_file *f;
	const struct sym_elf_table *segs; /* the binary's segments */
	char roots[SYM_DEBUG_MAX_ROOTS][64];
	size_t nroots;
};

static int sym_debug_open(const char *root, const char *path, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s%s", root, path);

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	n = open(buf, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	return n < 0 ? -errno : n;
}

/* A table of the debug file at fd with the binary's segments, or NULL. */
static struct sym_elf_table *sym_debug_load(struct sym_debug_search *s, int fd, const char *path)
{
	struct sym_elf_table *t = NULL;
	struct stat st;
	int err;

	/* Not a FIFO or a device planted under a debug name. */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		return NULL;
	err = sym_elf_table__from_fd(fd, s->c->max_bytes, &t);
	/* Only .dynsym is no better than what the binary has. */
	if (!err && sym_elf_table__dynsym(t))
		err = -ENODATA;
	if (!err)
		err = sym_elf_table__take_segments(t, s->segs);
	if (err) {
		s->c->stats->bad_debug_files++;
		log_warn_ratelimited("sym: debug file not used path=%s err=%d", path, err);
		sym_elf_table__free(t);
		return NULL;
	}
	return t;
}

static struct sym_elf_table *sym_debug_by_buildid(struct sym_debug_search *s)
{
	const char *id = sym_file__build_id(s->f);
	char rel[PATH_MAX], path[PATH_MAX], got[SYM_BUILDID_HEX];
	struct sym_elf_table *t;
	size_t i;
	int fd;

	if (!s->c->debug_dir || !id || strlen(id) < 3)
		return NULL;
	snprintf(rel, sizeof(rel), "%s/.build-id/%.2s/%s.debug", s->c->debug_dir, id, id + 2);
	for (i = 0; i < s->nroots; i++) {
		fd = sym_debug_open(s->roots[i], rel, path, sizeof(path));
		if (fd < 0)
			continue;
		/* A file under another build-id's name (a collision, or a
		 * wrong package) would name every frame wrong. */
		if (sym_buildid_fd(fd, got) || strcmp(got, id)) {
			s->c->stats->buildid_mismatch++;
			log_warn_ratelimited("sym: debug file has another build-id path=%s want=%s",
					     path, id);
			close(fd);
			continue;
		}
		t = sym_debug_load(s, fd, path);
		close(fd);
		if (t) {
			s->c->stats->by_buildid++;
			return t;
		}
	}
	return NULL;
}

static struct sym_elf_table *sym_debug_by_link(struct sym_debug_search *s)
{
	char name[SYM_DEBUGLINK_NAME_MAX], dir[PATH_MAX], rel[3][PATH_MAX], path[PATH_MAX];
	const char *bin = sym_file__path(s->f), *slash;
	struct sym_elf_table *t;
	struct stat self, st;
	uint32_t want, got;
	size_t i, j, nrel = 0;
	int fd, err;

	if (sym_debuglink_read(sym_file__fd(s->f), name, &want))
		return NULL;
	slash = strrchr(bin, '/');
	if (!slash || (size_t)(slash - bin) >= sizeof(dir))
		return NULL;
	memcpy(dir, bin, slash - bin);
	dir[slash - bin] = '\0';
	/* gdb's order: next to the binary, its .debug/, the global dir. A
	 * path too long for PATH_MAX is no candidate. */
	if (snprintf(rel[nrel], PATH_MAX, "%s/%s", dir, name) < PATH_MAX)
		nrel++;
	if (snprintf(rel[nrel], PATH_MAX, "%s/.debug/%s", dir, name) < PATH_MAX)
		nrel++;
	if (s->c->debug_dir &&
	    snprintf(rel[nrel], PATH_MAX, "%s%s/%s", s->c->debug_dir, dir, name) < PATH_MAX)
		nrel++;
	if (fstat(sym_file__fd(s->f), &self))
		return NULL;
	for (i = 0; i < s->nroots; i++) {
		for (j = 0; j < nrel; j++) {
			fd = sym_debug_open(s->roots[i], rel[j], path, sizeof(path));
			if (fd < 0)
				continue;
			/* A link naming the binary itself is no debug file. */
			if (fstat(fd, &st) ||
			    (st.st_dev == self.st_dev && st.st_ino == self.st_ino)) {
				close(fd);
				continue;
			}
			err = sym_debuglink_crc_fd(fd, &got);
			if (!err && got != want) {
				s->c->stats->crc_mismatch++;
				log_warn_ratelimited("sym: debug link candidate has another CRC "
						     "path=%s want=%08x got=%08x",
						     path, want, got);
				err = -ESTALE;
			}
			t = err ? NULL : sym_debug_load(s, fd, path);
			close(fd);
			if (t) {
				s->c->stats->by_debuglink++;
				return t;
			}
		}
	}
	return NULL;
}

/* The file debuginfod fetched, if it is in its cache by now; else the
 * fetch is queued and the caller names with what there is meanwhile. */
static struct sym_elf_table *sym_debug_by_debuginfod(struct sym_debug_search *s)
{
	const char *id = sym_file__build_id(s->f);
	char path[PATH_MAX], got[SYM_BUILDID_HEX];
	struct sym_elf_table *t = NULL;
	int fd, err;

	if (!s->c->debuginfod || !id)
		return NULL;
	err = sym_debuginfod__find(s->c->debuginfod, id, path, sizeof(path));
	if (err == -EAGAIN || err == -EBUSY)
		s->c->pending = true;
	if (err)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	/* Checked when it landed; the cache directory is ours but on disk. */
	if (!sym_buildid_fd(fd, got) && !strcmp(got, id))
		t = sym_debug_load(s, fd, path);
	close(fd);
	if (t)
		s->c->stats->by_debuginfod++;
	return t;
}

static struct sym_elf_table *sym_debug_by_minidebug(struct sym_debug_search *s)
{
	struct sym_elf_table *t = NULL;
	size_t len;
	void *img;
	int err;

	err = sym_minidebug_read(sym_file__fd(s->f), SYM_MINIDEBUG_MAX, &img, &len);
	if (err == -ENODATA)
		return NULL;
	if (!err) {
		err = sym_elf_table__from_mem(img, len, s->c->max_bytes, &t);
		free(img);
	}
	if (!err)
		err = sym_elf_table__take_segments(t, s->segs);
	if (err) {
		s->c->stats->bad_debug_files++;
		log_warn_ratelimited("sym: MiniDebugInfo not used path=%s err=%d",
				     sym_file__path(s->f), err);
		sym_elf_table__free(t);
		return NULL;
	}
	s->c->stats->by_minidebug++;
	return t;
}

struct sym_elf_table *sym_debug_table(struct sym_debug_ctx *c, struct sym_file *f,
				      struct sym_elf_table *own)
{
	struct sym_debug_search s = { .c = c, .f = f };
	struct sym_elf_table *segs = NULL, *t;
	char path[96];

	if (own && !sym_elf_table__dynsym(own))
		return own;
	if (!own && sym_elf_table__segments_from_fd(sym_file__fd(f), &segs))
		return NULL;
	s.segs = own ? own : segs;
	/* The process's mount namespace first, while it can be reached. */
	if (sym_file__pid(f)) {
		snprintf(path, sizeof(path), "%s/%u/root", c->proc_root, sym_file__pid(f));
		if (!access(path, X_OK)) {
			memcpy(s.roots[s.nroots], path, sizeof(s.roots[0]));
			s.roots[s.nroots++][sizeof(s.roots[0]) - 1] = '\0';
		}
	}
	s.roots[s.nroots++][0] = '\0';

	t = sym_debug_by_buildid(&s);
	if (!t)
		t = sym_debug_by_link(&s);
	if (!t)
		t = sym_debug_by_debuginfod(&s);
	if (!t)
		t = sym_debug_by_minidebug(&s);
	sym_elf_table__free(segs);
	if (!t)
		return own;
	sym_elf_table__free(own);
	return t;
}
