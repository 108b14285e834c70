// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sym_ksym.c - kernel symbols from /proc/kallsyms
 *
 * Owns one sorted array of 16-byte entries and one blob holding symbol and
 * module names (a module name is stored once per run of its lines). Only
 * text symbols are kept; aliases at one address keep the first name seen.
 * Reading streams through a bounded line buffer, so a hostile file costs at
 * most max_syms entries and SYM_KSYM_MAX_BLOB name bytes: the first push or
 * name past a bound is refused (-E2BIG), logged once, and ends the reading;
 * the table keeps what it has.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "bsearch.h"
#include "lines.h"
#include "log.h"
#include "strtab.h"
#include "sym_ksym.h"
#include "vec.h"

#define SYM_KSYM_NO_MODULE UINT32_MAX
/* CONFIG_FUNCTION_PADDING: the padding before each function has a symbol. */
#define SYM_KSYM_PFX "__pfx_"
#define SYM_KSYM_PFX_LEN (sizeof(SYM_KSYM_PFX) - 1)
/* addr(16) + type + name + "\t[" + module + "]" and separators. */
#define SYM_KSYM_MAX_LINE (16 + 3 + SYM_KSYM_MAX_NAME + 3 + SYM_KSYM_MAX_MODULE + 1)
/* Past this much text the file is not read further (a line averages ~40). */
#define SYM_KSYM_MAX_TEXT ((size_t)SYM_KSYM_MAX_SYMS * 64)

struct sym_ksym_ent {
	uint64_t addr;
	uint32_t name; /* offset in blob */
	uint32_t module; /* offset in blob, or SYM_KSYM_NO_MODULE */
};

struct sym_ksym {
	struct sym_ksym_ent *ents;
	size_t n, cap;
	size_t max_syms; /* bound on n */
	struct strtab names; /* symbol and module names */
	size_t bad_lines;
	size_t zero_addrs;
	bool full; /* a bound was reached; later lines were dropped */
	/* the module of the previous line, reused for runs of one module */
	uint32_t last_module;
	size_t last_module_len;
	/* A "__pfx_NAME" symbol waiting for NAME, whose name it will share. */
	bool pending;
	struct sym_ksym_ent pending_ent;
	size_t pending_len;
	char pending_name[SYM_KSYM_MAX_NAME + 1];
};

/* Names go into folded output and logs: no blanks or control bytes. */
static bool sym_ksym_name_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c <= ' ' || c == 0x7f)
			return false;
	}
	return len > 0;
}

static int sym_ksym_module(struct sym_ksym *k, const char *mod, size_t len, uint32_t *off)
{
	int err;

	if (k->last_module != SYM_KSYM_NO_MODULE && k->last_module_len == len &&
	    !memcmp(k->names.data + k->last_module, mod, len)) {
		*off = k->last_module;
		return 0;
	}
	err = strtab__add(&k->names, mod, len, off);
	if (err)
		return err;
	k->last_module = *off;
	k->last_module_len = len;
	return 0;
}

/* Appends one entry; the array never grows past max_syms, and a push
 * there is refused. 0, -E2BIG (full), -ENOMEM. */
static int sym_ksym_push(struct sym_ksym *k, const struct sym_ksym_ent *e)
{
	int err;

	if (k->n >= k->max_syms)
		return -E2BIG;
	err = VEC_RESERVE(k->ents, k->cap, k->n + 1, k->max_syms);
	if (err)
		return err;
	k->ents[k->n++] = *e;
	return 0;
}

/* Adds e named name, first settling a pending "__pfx_" symbol: it takes the
 * name of the function it pads when that function follows (the kernel lists
 * them in pairs), so half of a padded kernel's names are not stored twice.
 * The one place symbols are pushed, each once. name NULL only settles. */
static int sym_ksym_add(struct sym_ksym *k, struct sym_ksym_ent *e, const char *name, size_t len)
{
	struct sym_ksym_ent *pfx = k->pending ? &k->pending_ent : NULL;
	int err;

	k->pending = false;
	if (pfx &&
	    !(name && len == k->pending_len - SYM_KSYM_PFX_LEN &&
	      !memcmp(name, k->pending_name + SYM_KSYM_PFX_LEN, len) && e->module == pfx->module)) {
		err = strtab__add(&k->names, k->pending_name, k->pending_len, &pfx->name);
		if (!err)
			err = sym_ksym_push(k, pfx);
		if (err)
			return err;
		pfx = NULL;
	}
	if (!name)
		return 0;
	err = strtab__add(&k->names, name, len, &e->name);
	if (!err)
		err = sym_ksym_push(k, e);
	if (!err && pfx) {
		pfx->name = e->name;
		err = sym_ksym_push(k, pfx);
	}
	return err;
}

/* A bound reached (-E2BIG from the array or the name blob) ends the reading
 * quietly for the line reader (1), with one warning; the table keeps what it
 * has and the stop counts as one bad line. Other errors fail the parse. */
static int sym_ksym_bounded(struct sym_ksym *k, int err)
{
	if (err != -E2BIG)
		return err;
	if (!k->full) {
		k->full = true;
		/* The name blob's bound is counted by strtab itself. */
		if (k->n >= k->max_syms)
			caps__hit(CAPS_KSYM, 1, k->max_syms);
		if (k->n >= k->max_syms)
			log_warn(
				"sym: kallsyms has more text symbols than max_syms=%zu; the rest of "
				"kallsyms is ignored",
				k->max_syms);
		else
			log_warn(
				"sym: kallsyms names exceed max_name_bytes=%u; the rest of kallsyms "
				"is ignored symbols=%zu",
				SYM_KSYM_MAX_BLOB, k->n);
	}
	return 1;
}

/* One line: "ffffffff81000000 T name" or "... t name\t[module]". */
static int sym_ksym_line(void *ctx, const char *line, size_t len)
{
	struct sym_ksym *k = ctx;
	const char *p = line, *end = line + len, *name, *mod = NULL;
	size_t name_len, mod_len = 0;
	struct sym_ksym_ent e = { .module = SYM_KSYM_NO_MODULE };
	char type;
	int err;

	p = lines_hex(p, end, 16, &e.addr);
	if (!p || end - p < 4 || p[0] != ' ' || p[2] != ' ')
		goto bad;
	type = p[1];
	if (!((type >= 'a' && type <= 'z') || (type >= 'A' && type <= 'Z')))
		goto bad;
	name = p + 3;
	p = memchr(name, '\t', end - name);
	name_len = (p ? p : end) - name;
	if (p) {
		/* "\t[module]" and nothing after it */
		if (end - p < 4 || p[1] != '[' || end[-1] != ']')
			goto bad;
		mod = p + 2;
		mod_len = end - 1 - mod;
		if (mod_len > SYM_KSYM_MAX_MODULE || !sym_ksym_name_ok(mod, mod_len))
			goto bad;
	}
	if (name_len > SYM_KSYM_MAX_NAME || !sym_ksym_name_ok(name, name_len))
		goto bad;
	if (type != 't' && type != 'T' && type != 'w' && type != 'W')
		return 0;
	if (!e.addr) {
		k->zero_addrs++;
		return 0;
	}
	err = mod ? sym_ksym_module(k, mod, mod_len, &e.module) : 0;
	if (!err && name_len > SYM_KSYM_PFX_LEN && !memcmp(name, SYM_KSYM_PFX, SYM_KSYM_PFX_LEN)) {
		/* Settles the one before; this one waits for its function. */
		err = sym_ksym_add(k, NULL, NULL, 0);
		if (!err) {
			k->pending = true;
			k->pending_ent = e;
			k->pending_len = name_len;
			memcpy(k->pending_name, name, name_len);
		}
	} else if (!err) {
		err = sym_ksym_add(k, &e, name, name_len);
	}
	return sym_ksym_bounded(k, err);
bad:
	k->bad_lines++;
	return 0;
}

static int sym_ksym_cmp(const void *a, const void *b)
{
	const struct sym_ksym_ent *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* Blob offsets grow in file order: the first alias wins, stably. */
	return x->name < y->name ? -1 : x->name > y->name;
}

/* Sorts, drops aliases, and gives back the slack of the growth doubling. */
static void sym_ksym_finish(struct sym_ksym *k)
{
	size_t i, out = 0;
	void *p;

	if (!k->n)
		return;
	qsort(k->ents, k->n, sizeof(*k->ents), sym_ksym_cmp);
	for (i = 0; i < k->n; i++) {
		if (out && k->ents[out - 1].addr == k->ents[i].addr)
			continue;
		k->ents[out++] = k->ents[i];
	}
	k->n = out;
	if (k->n < k->cap && (p = realloc(k->ents, k->n * sizeof(*k->ents)))) {
		k->ents = p;
		k->cap = k->n;
	}
	strtab__shrink(&k->names);
}

static struct sym_ksym *sym_ksym_run(const char *text, size_t len, int fd, size_t max_syms)
{
	struct lines lines;
	struct sym_ksym *k;
	bool lines_ok = false, truncated = false;
	int err;

	k = calloc(1, sizeof(*k));
	if (!k) {
		err = -ENOMEM;
		goto cleanup;
	}
	k->last_module = SYM_KSYM_NO_MODULE;
	k->max_syms = max_syms && max_syms < SYM_KSYM_MAX_SYMS ? max_syms : SYM_KSYM_MAX_SYMS;
	k->names.max = SYM_KSYM_MAX_BLOB;
	err = lines__init(&lines, SYM_KSYM_MAX_LINE, sym_ksym_line, k);
	if (err)
		goto cleanup;
	lines_ok = true;
	if (fd >= 0) {
		/* Past the bounds on entries and names, the rest is not read. */
		err = lines__read_fd(&lines, fd, SYM_KSYM_MAX_TEXT, &truncated);
	} else {
		err = lines__feed(&lines, text, len);
		if (!err)
			err = lines__finish(&lines);
	}
	/* A "__pfx_" symbol on the last line pads nothing: it keeps its name.
	 * Once full, nothing more is pushed. */
	if (!err && !k->full)
		err = sym_ksym_bounded(k, sym_ksym_add(k, NULL, NULL, 0));
	if (err < 0)
		goto cleanup;
	err = 0;
	if (truncated && !k->full) {
		caps__hit(CAPS_KSYM, 1, SYM_KSYM_MAX_TEXT);
		log_warn(
			"sym: kallsyms is longer than max_bytes=%zu; the rest of kallsyms is ignored",
			SYM_KSYM_MAX_TEXT);
	}
	k->full |= truncated;
	/* Lines dropped past a bound are reported with the bad ones. */
	k->bad_lines += lines.overlong_lines + k->full;
	sym_ksym_finish(k);
cleanup:
	if (lines_ok)
		lines__release(&lines);
	if (err) {
		sym_ksym__free(k);
		return errno = -err, NULL;
	}
	return k;
}

struct sym_ksym *sym_ksym__parse(const char *text, size_t len)
{
	return sym_ksym_run(text, len, -1, SYM_KSYM_MAX_SYMS);
}

struct sym_ksym *sym_ksym__parse_max(const char *text, size_t len, size_t max_syms)
{
	return sym_ksym_run(text, len, -1, max_syms);
}

struct sym_ksym *sym_ksym__load(const char *path)
{
	struct sym_ksym *k;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	k = sym_ksym_run(NULL, 0, fd, SYM_KSYM_MAX_SYMS);
	err = errno;
	close(fd);
	errno = err;
	return k;
}

void sym_ksym__free(struct sym_ksym *k)
{
	if (!k)
		return;
	free(k->ents);
	free(k->names.data);
	free(k);
}

void sym_ksym__lookup(const struct sym_ksym *k, uint64_t addr, struct sym_result *r)
{
	const struct sym_ksym_ent *e;
	uint64_t span;
	size_t lo;

	memset(r, 0, sizeof(*r));
	if (!k->n) {
		r->reason = SYM_NO_KERNEL;
		return;
	}
	lo = bsearch_upper(k->ents, k->n, sizeof(*k->ents), offsetof(struct sym_ksym_ent, addr),
			   addr);
	if (lo == 0) {
		r->reason = SYM_UNKNOWN_ADDR;
		return;
	}
	e = &k->ents[lo - 1];
	span = lo < k->n ? k->ents[lo].addr - e->addr : SYM_KSYM_MAX_SPAN;
	if (span > SYM_KSYM_MAX_SPAN)
		span = SYM_KSYM_MAX_SPAN;
	if (addr - e->addr >= span) {
		r->reason = SYM_UNKNOWN_ADDR;
		return;
	}
	r->name = k->names.data + e->name;
	r->module = e->module == SYM_KSYM_NO_MODULE ? NULL : k->names.data + e->module;
	r->offset = addr - e->addr;
	r->reason = SYM_OK;
}

size_t sym_ksym__count(const struct sym_ksym *k)
{
	return k->n;
}

size_t sym_ksym__bad_lines(const struct sym_ksym *k)
{
	return k->bad_lines;
}

size_t sym_ksym__bytes(const struct sym_ksym *k)
{
	return sizeof(*k) + k->cap * sizeof(*k->ents) + k->names.cap;
}

bool sym_ksym__truncated(const struct sym_ksym *k)
{
	return k->full;
}

bool sym_ksym__restricted(const struct sym_ksym *k)
{
	return !k->n && k->zero_addrs;
}
