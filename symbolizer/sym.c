// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sym.c - the symbolizer's front: batch naming of user, vDSO and kernel frames
 *
 * Owns the file registry (sym_file.c), the LRU cache of symbol tables
 * (sym_cache.c), the kernel table (sym_ksym.c), the vDSO's table, and the
 * buffer the names of one batch are read into (until the next batch). A
 * batch never fails whole: each frame gets a name or an enum sym_reason. A
 * file that cannot be parsed is marked once and never parsed again.
 * Thread: one owner (the agent's main loop).
 */
#include <elf.h>
#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <limits.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>

#include "log.h"
#include "vec.h"
#include "clock.h"
#include "sym.h"
#include "caps.h"
#include "sym_cache.h"
#include "sym_debug.h"
#include "sym_debuginfod.h"
#include "sym_demangle.h"
#include "sym_dwarf.h"
#include "sym_elf.h"
#include "sym_file.h"
#include "sym_ksym.h"

/* Tables hold 16 bytes per function, names stay in the files: 8 MiB is half
 * a million functions (libLLVM's .dynsym, 34000 of them, takes 0.5 MiB). */
#define SYM_DEFAULT_CACHE_BYTES (8u << 20)
/* libdw's structures for the units looked up, and the pages it reads. */
#define SYM_DEFAULT_DWARF_BYTES (8u << 20)
/* Files awaiting a debuginfod fetch tracked at most (its queue's size). */
#define SYM_PENDING_MAX 64
/* The vDSO is one or two pages; anything bigger is not what we expect. */
#define SYM_VDSO_MAX (1u << 20)
/* A file no process uses any more keeps its tables this long, unless it was
 * deleted: short processes run the same binaries again and again (a shell
 * loop, a cron job, 500 execs a second of /bin/true), and each would
 * otherwise load its tables and DWARF anew. */
#define SYM_GONE_GRACE_NS (30ull * 1000000000ull)
/* Files parked in that grace at most; past it they are dropped at once. */
#define SYM_PARKED_MAX 4096

struct sym {
	char *proc_root;
	char *kallsyms_path;
	char *debug_dir; /* NULL: no debug file lookup */
	struct sym_files *files;
	struct sym_cache *cache;
	struct sym_ksym *ksym;
	struct sym_elf_table *vdso;
	struct sym_dwarf_cache *dwarf; /* NULL: --no-dwarf */
	bool demangle;
	struct arena names; /* the current batch's names and inline chains */
	enum sym_reason vdso_reason; /* why vdso is NULL, once tried */
	bool vdso_tried;
	uint64_t cache_loads;
	uint64_t bad_files;
	uint64_t no_symbols;
	uint64_t open_errors;
	uint64_t name_errors; /* names not read: file truncated, I/O error */
	uint64_t stale_tables;
	uint64_t dwarf_errors;
	uint64_t demangle_failures;
	uint64_t go_tables;
	uint64_t go_errors;
	struct sym_debug_stats debug;
	/* Files named while their debuginfod fetch was under way: their
	 * tables are dropped each time a fetch ends, so the next batch loads
	 * them again with the debug file when it landed. */
	struct sym_debuginfod *debuginfod;
	uint64_t debuginfod_gen; /* when pending was last looked at */
	struct {
		struct sym_cache_key key;
		uint64_t gen; /* the generation before its table was loaded */
	} pending[SYM_PENDING_MAX];
	size_t npending;
	/* Files released while still on disk, in release order. */
	struct sym_parked {
		struct sym_cache_key key;
		uint64_t since_ns;
	} *parked;
	size_t nparked, parked_cap;
};

static int sym_kernel_load(struct sym *s)
{
	struct sym_ksym *k;

	k = sym_ksym__load(s->kallsyms_path);
	if (!k) {
		log_warn(
			"sym: cannot read kernel symbols path=%s err=%d; kernel frames stay unnamed",
			s->kallsyms_path, -errno);
		return -errno;
	}
	if (sym_ksym__restricted(k))
		log_warn("sym: kernel addresses hidden path=%s; run as root or set "
			 "kernel.kptr_restrict=0 for kernel names",
			 s->kallsyms_path);
	else if (!sym_ksym__count(k))
		log_warn("sym: no kernel text symbols path=%s", s->kallsyms_path);
	if (sym_ksym__bad_lines(k))
		log_warn("sym: skipped bad kallsyms lines path=%s lines=%zu", s->kallsyms_path,
			 sym_ksym__bad_lines(k));
	log_debug("sym: kernel symbols loaded count=%zu bytes=%zu", sym_ksym__count(k),
		  sym_ksym__bytes(k));
	sym_ksym__free(s->ksym);
	s->ksym = k;
	return 0;
}

struct sym *sym__new(const struct sym_opts *opts)
{
	size_t cache_bytes = opts->cache_bytes ? opts->cache_bytes : SYM_DEFAULT_CACHE_BYTES;
	struct sym *s;
	int err;

	s = calloc(1, sizeof(*s));
	if (!s) {
		err = -ENOMEM;
		goto cleanup;
	}
	/* Keeps the bound on sections read per table (a multiple) from overflowing. */
	if (cache_bytes > (SIZE_MAX >> 3))
		cache_bytes = SIZE_MAX >> 3;
	s->proc_root = strdup(opts->proc_root ? opts->proc_root : "/proc");
	s->kallsyms_path = opts->kallsyms_path ? strdup(opts->kallsyms_path) : NULL;
	if (!opts->debug_dir || opts->debug_dir[0])
		s->debug_dir = strdup(opts->debug_dir ? opts->debug_dir : "/usr/lib/debug");
	s->files = sym_files__new();
	s->cache = sym_cache__new(cache_bytes);
	s->demangle = !opts->no_demangle;
	if (!opts->no_dwarf)
		s->dwarf = sym_dwarf_cache__new(opts->dwarf_bytes ? opts->dwarf_bytes :
								    SYM_DEFAULT_DWARF_BYTES);
	if (!s->proc_root || (opts->kallsyms_path && !s->kallsyms_path) || !s->files || !s->cache ||
	    (!opts->no_dwarf && !s->dwarf) ||
	    ((!opts->debug_dir || opts->debug_dir[0]) && !s->debug_dir)) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (opts->debuginfod || (getenv("DEBUGINFOD_URLS") && getenv("DEBUGINFOD_URLS")[0])) {
		struct sym_debuginfod_opts dopts = {
			.cache_dir = opts->debuginfod_cache,
			.cache_bytes = opts->debuginfod_cache_bytes,
		};

		/* Naming without it is still naming: a warning, not an error. */
		s->debuginfod = sym_debuginfod__new(&dopts);
		if (!s->debuginfod)
			log_warn("sym: debuginfod off err=%d%s", -errno,
				 errno == ENOENT ? " (DEBUGINFOD_URLS is empty)" : "");
	}
	/* A host without readable kallsyms still profiles user space. */
	if (s->kallsyms_path && sym_kernel_load(s) == -ENOMEM) {
		err = -ENOMEM;
		goto cleanup;
	}
	return s;
cleanup:
	sym__free(s);
	return errno = -err, NULL;
}

void sym__free(struct sym *s)
{
	if (!s)
		return;
	sym_debuginfod__free(s->debuginfod);
	sym_elf_table__free(s->vdso);
	sym_ksym__free(s->ksym);
	sym_cache__free(s->cache);
	sym_dwarf_cache__free(s->dwarf);
	arena_release(&s->names);
	free(s->parked);
	/* Files still referenced by the agent outlive the symbolizer. */
	sym_files__free(s->files);
	free(s->kallsyms_path);
	free(s->debug_dir);
	free(s->proc_root);
	free(s);
}

struct sym_file *sym__open_file(struct sym *s, uint32_t pid, const struct sym_map *m)
{
	struct sym_file *f;
	bool created;

	f = sym_files__open(s->files, s->proc_root, pid, m, &created);
	if (!f) {
		int err = errno;

		s->open_errors++;
		/* Processes exit all the time; anything else is worth a warning. */
		if (err == ESRCH || err == ENOENT)
			log_debug_ratelimited("sym: cannot open mapped file pid=%u path=%s err=%d",
					      pid, m->path ? m->path : "(anon)", -err);
		else
			log_warn_ratelimited("sym: cannot open mapped file pid=%u path=%s err=%d",
					     pid, m->path ? m->path : "(anon)", -err);
		errno = err;
		return NULL;
	}
	if (created && sym_file__bad(f) == SYM_NOT_ELF) {
		s->bad_files++;
		log_warn_ratelimited("sym: mapped file is not ELF path=%s pid=%u", m->path, pid);
	}
	return f;
}

struct sym_file *sym__open_path(struct sym *s, const char *const *roots, size_t nroots,
				const struct sym_map *m)
{
	struct sym_file *f;
	bool created;

	f = sym_files__open_path(s->files, roots, nroots, m, &created);
	if (!f) {
		int err = errno;

		s->open_errors++;
		log_debug_ratelimited("sym: cannot open mapped file by path path=%s err=%d",
				      m->path ? m->path : "(anon)", -err);
		errno = err;
		return NULL;
	}
	if (created && sym_file__bad(f) == SYM_NOT_ELF) {
		s->bad_files++;
		log_warn_ratelimited("sym: mapped file is not ELF path=%s", m->path);
	}
	return f;
}

/* Errors that say something about the file itself, not about this moment. */
static enum sym_reason sym_load_failed(struct sym *s, struct sym_file *f, int err)
{
	const char *path = sym_file__path(f);

	switch (err) {
	case -ENOEXEC:
		s->bad_files++;
		sym_file__set_bad(f, SYM_NOT_ELF);
		log_warn_ratelimited("sym: corrupt or unsupported ELF file path=%s", path);
		return SYM_NOT_ELF;
	case -ENODATA:
		s->no_symbols++;
		sym_file__set_bad(f, SYM_NO_SYMBOLS);
		log_debug_ratelimited("sym: no function symbols path=%s", path);
		return SYM_NO_SYMBOLS;
	case -E2BIG:
		caps__hit(CAPS_SYM_TABLE, 1, sym_cache__max_table(s->cache));
		s->no_symbols++;
		sym_file__set_bad(f, SYM_NO_SYMBOLS);
		log_warn_ratelimited("sym: symbol table exceeds the cache bound path=%s; raise "
				     "the cache size to name it",
				     path);
		return SYM_NO_SYMBOLS;
	default:
		log_warn_ratelimited("sym: cannot load symbols path=%s err=%d", path, err);
		return SYM_NO_SYMBOLS;
	}
}

/* A fetch ended since a pending table was loaded: the table goes, to be
 * loaded again (with the debug file, if it landed). The generation is the
 * one read before the load: a fetch may end while the load runs. */
static void sym_pending_check(struct sym *s)
{
	uint64_t gen;
	size_t i;

	if (!s->debuginfod || !s->npending)
		return;
	gen = sym_debuginfod__generation(s->debuginfod);
	if (gen == s->debuginfod_gen)
		return;
	s->debuginfod_gen = gen;
	for (i = 0; i < s->npending;) {
		if (s->pending[i].gen == gen) {
			i++;
			continue;
		}
		sym_cache__remove(s->cache, &s->pending[i].key);
		s->pending[i] = s->pending[--s->npending];
	}
}

static void sym_pending_add(struct sym *s, const struct sym_cache_key *k, uint64_t gen)
{
	size_t i;

	for (i = 0; i < s->npending; i++) {
		if (s->pending[i].key.len == k->len &&
		    !memcmp(s->pending[i].key.bytes, k->bytes, k->len)) {
			s->pending[i].gen = gen;
			return;
		}
	}
	/* Full: this one keeps what it has until its table is evicted. */
	if (s->npending < SYM_PENDING_MAX) {
		s->pending[s->npending].key = *k;
		s->pending[s->npending++].gen = gen;
	}
	/* Looked at again on the next table lookup, whatever the last saw. */
	s->debuginfod_gen = UINT64_MAX;
}

/* The table of f, from the cache or loaded into it; NULL with *why set. */
static const struct sym_elf_table *sym_user_table(struct sym *s, struct sym_file *f,
						  enum sym_reason *why)
{
	const struct sym_elf_table *t;
	struct sym_elf_table *loaded;
	struct sym_cache_key key;
	int err;

	if (!f) {
		*why = SYM_NO_FILE;
		return NULL;
	}
	if ((*why = sym_file__bad(f)) != SYM_OK)
		return NULL;
	sym_file__key(f, &key);
	sym_pending_check(s);
	t = sym_cache__get(s->cache, &key);
	/* Its file was rewritten or truncated in place: names are read from it
	 * at the offsets it had, so load the table again, from f (the table may
	 * have come from another file with the same build-id). */
	if (t && sym_elf_table__stale(t)) {
		s->stale_tables++;
		log_warn_ratelimited("sym: file changed since its symbols were loaded path=%s; "
				     "reloading them",
				     sym_file__path(f));
		sym_cache__remove(s->cache, &key);
		t = NULL;
	}
	if (t)
		return t;
	/* A miss, first time or after eviction: the fd is still open. */
	s->cache_loads++;
	err = sym_elf_table__from_fd(sym_file__fd(f), sym_cache__max_table(s->cache), &loaded);
	/* Only .dynsym, or no function symbols at all: a debug file may
	 * have the rest (a binary that is not ELF got -ENOEXEC above). */
	if (!err || err == -ENODATA) {
		uint64_t gen = s->debuginfod ? sym_debuginfod__generation(s->debuginfod) : 0;
		struct sym_debug_ctx dc = {
			.proc_root = s->proc_root,
			.debug_dir = s->debug_dir,
			.max_bytes = sym_cache__max_table(s->cache),
			.stats = &s->debug,
			.debuginfod = s->debuginfod,
		};

		loaded = sym_debug_table(&dc, f, err ? NULL : loaded);
		err = loaded ? 0 : err;
		/* Nothing to name with until the fetch lands: not a verdict on
		 * the file, so it is tried again next batch. */
		if (dc.pending && err) {
			*why = SYM_NO_SYMBOLS;
			return NULL;
		}
		if (dc.pending)
			sym_pending_add(s, &key, gen);
	}
	if (!err) {
		if (sym_elf_table__go(loaded))
			s->go_tables++;
		t = loaded;
		err = sym_cache__add(s->cache, &key, loaded);
	}
	if (err) {
		*why = sym_load_failed(s, f, err);
		return NULL;
	}
	return t;
}

static void sym_fill(struct sym_result *results, size_t n, enum sym_reason why)
{
	size_t i;

	for (i = 0; i < n; i++)
		results[i] = (struct sym_result){ .reason = why };
}

/* raw as its language spells it, into l (function and system_name). */
static void sym_spell(struct sym *s, const char *raw, struct sym_line *l)
{
	const char *d = NULL;

	l->function = raw;
	l->system_name = NULL;
	if (!s->demangle || !sym_demangle_candidate(raw))
		return;
	d = sym_demangle(&s->names, raw, false);
	if (!d) {
		s->demangle_failures++;
		log_debug_ratelimited("sym: name kept mangled name=%.128s", raw);
		return;
	}
	l->function = d;
	l->system_name = raw;
}

/* Turns r (named from a symbol table, raw) into its line chain: the inline
 * levels DWARF has at vaddr, the outermost named by the symbol table, each
 * spelled as its language does. On any failure r keeps one level. */
static void sym_chain(struct sym *s, struct sym_dwarf *d, uint64_t vaddr, bool have_vaddr,
		      struct sym_result *r)
{
	struct sym_line levels[SYM_DWARF_MAX_LEVELS], *lines;
	int n = 0, i;

	if (d && have_vaddr) {
		n = sym_dwarf__lookup(s->dwarf, d, vaddr, &s->names, levels, SYM_DWARF_MAX_LEVELS);
		if (n < 0) {
			s->dwarf_errors++;
			n = 0;
		}
	}
	/* No DWARF: the table's own line, when it has one (Go's). */
	if (!n)
		levels[n++] = r->nlines ? r->lines[0] : (struct sym_line){ 0 };
	lines = arena_alloc(&s->names, n * sizeof(*lines));
	if (!lines) {
		/* Still named, without a chain: the caller copes with nlines 0. */
		return;
	}
	/* The symbol table knows the function the address belongs to best:
	 * DWARF's outermost name may lack a clone suffix or a namespace. */
	levels[n - 1].function = r->name;
	for (i = 0; i < n; i++) {
		lines[i] = levels[i];
		sym_spell(s, levels[i].function ? levels[i].function : "[inlined]", &lines[i]);
	}
	r->lines = lines;
	r->nlines = n;
	r->name = lines[n - 1].function;
}

static bool sym_cache_key_eq(const struct sym_cache_key *a, const struct sym_cache_key *b)
{
	return a->len == b->len && !memcmp(a->bytes, b->bytes, a->len);
}

static void sym_drop_tables(struct sym *s, const struct sym_cache_key *k)
{
	sym_cache__remove(s->cache, k);
	sym_dwarf_cache__remove(s->dwarf, k);
}

/* Whether the file k's cached table reads from was deleted: the table's
 * fd then pins its disk space. */
static bool sym_table_file_deleted(struct sym *s, const struct sym_cache_key *k)
{
	int fd = sym_cache__fd(s->cache, k);
	struct stat st;

	return fd >= 0 && !fstat(fd, &st) && st.st_nlink == 0;
}

/* Drops the tables and DWARF cached for files no longer in use: both hold
 * an fd of the file (or of its debug file), and processes that come and go
 * with binaries of their own (a CI host) would otherwise pile up fds and pin
 * deleted files until the byte bounds evicted them. A released file is
 * parked for SYM_GONE_GRACE_NS, and its tables dropped then unless a
 * process maps it again by then; a parked file whose table's file is
 * deleted goes at the next call. A live file of the same build-id
 * elsewhere just loads its table again. */
static void sym_release_gone(struct sym *s)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	struct sym_cache_key *keys;
	size_t i, j, kept, n = sym_files__take_gone(s->files, &keys);

	for (i = 0; i < n; i++) {
		/* Released again: its grace starts over. */
		for (j = s->nparked; j > 0; j--)
			if (sym_cache_key_eq(&s->parked[j - 1].key, &keys[i]))
				break;
		if (j) {
			s->parked[j - 1].since_ns = now;
			continue;
		}
		if (VEC_RESERVE(s->parked, s->parked_cap, s->nparked + 1, SYM_PARKED_MAX)) {
			sym_drop_tables(s, &keys[i]);
			continue;
		}
		s->parked[s->nparked].key = keys[i];
		s->parked[s->nparked++].since_ns = now;
	}
	free(keys);
	for (i = kept = 0; i < s->nparked; i++) {
		struct sym_parked *p = &s->parked[i];

		if (now - p->since_ns < SYM_GONE_GRACE_NS && !sym_table_file_deleted(s, &p->key)) {
			s->parked[kept++] = *p;
			continue;
		}
		/* In use again: its next release parks it anew. */
		if (!sym_files__key_in_use(s->files, &p->key))
			sym_drop_tables(s, &p->key);
	}
	s->nparked = kept;
}

void sym__release_unused(struct sym *s)
{
	sym_release_gone(s);
}

void sym__user(struct sym *s, struct sym_file *f, const uint64_t *offsets, size_t n,
	       struct sym_result *results)
{
	const struct sym_elf_table *t;
	struct sym_dwarf *d = NULL;
	struct sym_cache_key key;
	enum sym_reason why;
	size_t i, failed = 0;
	int err, last_err = 0;

	arena_reset(&s->names);
	sym_release_gone(s);
	t = sym_user_table(s, f, &why);
	if (!t) {
		sym_fill(results, n, why);
		return;
	}
	/* Opened after the table: a table load may evict, a DWARF one too,
	 * but neither frees the other's. */
	if (s->dwarf) {
		sym_file__key(f, &key);
		d = sym_dwarf_cache__get(s->dwarf, &key, sym_file__fd(f), &err);
		if (err == -ENOEXEC || err == -E2BIG) {
			s->dwarf_errors++;
			log_warn_ratelimited("sym: DWARF not used path=%s err=%d; frames keep "
					     "their symbol names without lines",
					     sym_file__path(f), err);
		}
	}
	for (i = 0; i < n; i++) {
		uint64_t vaddr = 0;
		bool mapped;

		err = sym_elf_table__lookup(t, offsets[i], &s->names, &results[i]);
		if (err) {
			failed++;
			last_err = err;
		}
		mapped = sym_elf_table__vaddr(t, offsets[i], &vaddr);
		if (results[i].reason == SYM_OK)
			sym_chain(s, d, vaddr, mapped, &results[i]);
	}
	/* A file cut short under us: the next batch finds the table stale. */
	if (failed) {
		s->name_errors += failed;
		log_warn_ratelimited("sym: cannot read symbol names path=%s names=%zu err=%d",
				     sym_file__path(f), failed, last_err);
	}
}

/* The extent of our own vDSO image, from its ELF headers (the mapping's
 * length is not recorded anywhere else). 0 or -errno. */
static int sym_vdso_image(const void **img, size_t *len)
{
	const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)getauxval(AT_SYSINFO_EHDR);
	const ElfW(Phdr) * ph;
	uint64_t end;
	size_t i;

	if (!eh)
		return -ENOENT;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_phentsize != sizeof(*ph))
		return -ENOEXEC;
	end = (uint64_t)eh->e_shoff + (uint64_t)eh->e_shnum * eh->e_shentsize;
	if (end < sizeof(*eh))
		end = sizeof(*eh);
	if ((uint64_t)eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(*ph) > SYM_VDSO_MAX)
		return -E2BIG;
	ph = (const ElfW(Phdr) *)((const char *)eh + eh->e_phoff);
	for (i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && ph[i].p_offset + ph[i].p_filesz > end)
			end = ph[i].p_offset + ph[i].p_filesz;
	}
	if (end > SYM_VDSO_MAX)
		return -E2BIG;
	*img = eh;
	*len = end;
	return 0;
}

static void sym_vdso_load(struct sym *s)
{
	const void *img;
	size_t len;
	int err;

	s->vdso_tried = true;
	err = sym_vdso_image(&img, &len);
	if (!err)
		err = sym_elf_table__from_mem(img, len, SYM_VDSO_MAX, &s->vdso);
	if (!err)
		return;
	s->vdso_reason = err == -ENOENT	 ? SYM_NO_FILE :
			 err == -ENODATA ? SYM_NO_SYMBOLS :
					   SYM_NOT_ELF;
	log_warn("sym: cannot read the vDSO's symbols err=%d", err);
}

void sym__vdso(struct sym *s, const uint64_t *offsets, size_t n, struct sym_result *results)
{
	size_t i;

	arena_reset(&s->names);
	if (!s->vdso_tried)
		sym_vdso_load(s);
	if (!s->vdso) {
		sym_fill(results, n, s->vdso_reason);
		return;
	}
	/* From memory: only -ENOMEM, which leaves SYM_NO_FILE in the result. */
	for (i = 0; i < n; i++) {
		if (sym_elf_table__lookup(s->vdso, offsets[i], &s->names, &results[i]))
			s->name_errors++;
		if (results[i].reason == SYM_OK)
			sym_chain(s, NULL, 0, false, &results[i]);
	}
}

void sym__kernel(struct sym *s, const uint64_t *addrs, size_t n, struct sym_result *results)
{
	size_t i;

	if (!s->ksym) {
		sym_fill(results, n, SYM_NO_KERNEL);
		return;
	}
	for (i = 0; i < n; i++)
		sym_ksym__lookup(s->ksym, addrs[i], &results[i]);
}

int sym__kernel_reload(struct sym *s)
{
	if (!s->kallsyms_path)
		return -ENOENT;
	return sym_kernel_load(s);
}

void sym__stats(const struct sym *s, struct sym_stats *out)
{
	struct sym_cache_stats cs;

	memset(out, 0, sizeof(*out));
	sym_cache__stats(s->cache, &cs);
	out->files_open = sym_files__count(s->files);
	out->cache_bytes = cs.bytes;
	out->cache_loads = s->cache_loads;
	out->cache_evictions = cs.evictions;
	out->bad_files = s->bad_files;
	out->no_symbols = s->no_symbols;
	out->open_errors = s->open_errors;
	out->name_errors = s->name_errors;
	out->stale_tables = s->stale_tables;
	out->dwarf_errors = s->dwarf_errors;
	out->demangle_failures = s->demangle_failures;
	out->go_tables = s->go_tables;
	out->go_errors = s->go_errors;
	if (s->dwarf) {
		struct sym_dwarf_stats ds;

		sym_dwarf_cache__stats(s->dwarf, &ds);
		out->dwarf_loads = ds.loads;
		out->dwarf_bytes = ds.bytes;
		out->dwarf_evictions = ds.evictions;
	}
	out->debug_files = s->debug.by_buildid + s->debug.by_debuglink + s->debug.by_minidebug;
	out->debug_by_link = s->debug.by_debuglink;
	out->debug_by_minidebug = s->debug.by_minidebug;
	out->debug_crc_mismatch = s->debug.crc_mismatch;
	out->debug_buildid_mismatch = s->debug.buildid_mismatch;
	out->debug_bad_files = s->debug.bad_debug_files;
	out->debug_by_debuginfod = s->debug.by_debuginfod;
	out->debug_files += s->debug.by_debuginfod;
	if (s->debuginfod) {
		struct sym_debuginfod_stats ds;

		sym_debuginfod__stats(s->debuginfod, &ds);
		out->debuginfod_fetched = ds.fetched;
		out->debuginfod_missing = ds.missing;
		out->debuginfod_bad = ds.bad;
		out->debuginfod_timeouts = ds.timeouts;
		out->debuginfod_queue_full = ds.queue_full;
		out->debuginfod_evictions = ds.evictions;
	}
	if (s->ksym) {
		out->kernel_symbols = sym_ksym__count(s->ksym);
		out->kernel_bytes = sym_ksym__bytes(s->ksym);
		out->kernel_bad_lines = sym_ksym__bad_lines(s->ksym);
	}
}
