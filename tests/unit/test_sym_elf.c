// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_sym_elf.c - ELF symbol tables and build-ids on the fixture binaries
 * (PIE, non-PIE, stripped to .dynsym, shared library) against offsets taken
 * from the files themselves; corrupt, truncated, empty and non-ELF inputs;
 * names read from the file at lookup: long, cut, and from a file truncated
 * after loading; table sizes for big libraries */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "sym_buildid.h"
#include "sym_elf.h"
#include "sym_test_elf.h"

#define BIG (16u << 20)

static struct sym_elf_table *load(const char *path, size_t max_bytes, int *err)
{
	struct sym_elf_table *t = NULL;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	*err = sym_elf_table__from_fd(fd, max_bytes, &t);
	close(fd);
	return t;
}

static struct arena *names_new(void)
{
	struct arena *names = calloc(1, sizeof(*names));

	assert_non_null(names);
	return names;
}

static void names_free(struct arena *names)
{
	arena_release(names);
	free(names);
}

/* name at its first byte, in its middle and at its last byte. */
static void check_func(const struct sym_elf_table *t, struct arena *names, const char *path,
		       const char *name)
{
	struct sym_test_func fn;
	struct sym_result r;

	assert_true(sym_test_func(path, name, &fn));
	assert_true(fn.size > 2);
	assert_int_equal(sym_elf_table__lookup(t, fn.off, names, &r), 0);
	assert_int_equal(r.reason, SYM_OK);
	assert_string_equal(r.name, name);
	assert_int_equal(r.offset, 0);
	assert_int_equal(sym_elf_table__lookup(t, fn.off + fn.size / 2, names, &r), 0);
	assert_int_equal(r.reason, SYM_OK);
	assert_string_equal(r.name, name);
	assert_int_equal(r.offset, fn.size / 2);
	assert_int_equal(sym_elf_table__lookup(t, fn.off + fn.size - 1, names, &r), 0);
	assert_string_equal(r.name, name);
	assert_null(r.module);
}

static void check_program(const char *file, bool dynsym)
{
	struct arena *names = names_new();
	char path[512];
	struct sym_elf_table *t;
	struct sym_result r;
	int err;

	snprintf(path, sizeof(path), FIXTURES_DIR "/%s", file);
	t = load(path, BIG, &err);
	assert_int_equal(err, 0);
	assert_non_null(t);
	assert_int_equal(sym_elf_table__dynsym(t), dynsym);
	check_func(t, names, path, "sym_alpha");
	check_func(t, names, path, "sym_beta");
	check_func(t, names, path, "sym_gamma");
	if (!dynsym)
		check_func(t, names, path, "main");
	/* The ELF header is mapped but is no function; past the file is nothing. */
	sym_elf_table__lookup(t, 0, names, &r);
	assert_int_equal(r.reason, SYM_UNKNOWN_ADDR);
	assert_null(r.name);
	sym_elf_table__lookup(t, 1ull << 40, names, &r);
	assert_int_equal(r.reason, SYM_UNKNOWN_ADDR);
	assert_true(sym_elf_table__count(t) >= 3);
	assert_true(sym_elf_table__bytes(t) < 4096);
	assert_false(sym_elf_table__stale(t));
	sym_elf_table__free(t);
	names_free(names);
}

static void test_pie(void **state)
{
	check_program("sym_pie", false);
}

static void test_nopie(void **state)
{
	check_program("sym_nopie", false);
}

static void test_stripped(void **state)
{
	check_program("sym_stripped", true);
}

static void test_shared_lib(void **state)
{
	const char *path = FIXTURES_DIR "/libsym.so";
	struct arena *names = names_new();
	struct sym_test_func fn;
	struct sym_elf_table *t;
	struct sym_result r;
	int err;

	t = load(path, BIG, &err);
	assert_int_equal(err, 0);
	check_func(t, names, path, "sym_lib_alpha");
	check_func(t, names, path, "sym_lib_beta");
	/* A size-0 symbol covers the bytes up to the next symbol. */
	assert_true(sym_test_func(path, "sym_lib_nosize", &fn));
	assert_int_equal(fn.size, 0);
	sym_elf_table__lookup(t, fn.off + 8, names, &r);
	assert_int_equal(r.reason, SYM_OK);
	assert_string_equal(r.name, "sym_lib_nosize");
	assert_int_equal(r.offset, 8);
	sym_elf_table__free(t);
	names_free(names);
}

static void test_build_id(void **state)
{
	static const char *const files[] = { "sym_pie", "sym_nopie", "sym_stripped", "libsym.so" };
	char path[512], want[SYM_BUILDID_HEX], got[SYM_BUILDID_HEX];
	size_t i;
	int fd;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), FIXTURES_DIR "/%s", files[i]);
		assert_true(sym_test_build_id(path, want, sizeof(want)));
		fd = open(path, O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(sym_buildid_fd(fd, got), 0);
		close(fd);
		assert_string_equal(got, want);
		assert_int_equal(strlen(got), 40);
		assert_int_equal(strspn(got, "0123456789abcdef"), 40);
	}
}

static char *read_all(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc(st.st_size);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, st.st_size), st.st_size);
	close(fd);
	*len = st.st_size;
	return buf;
}

static void copy_file(const char *from, const char *to)
{
	size_t len;
	char *buf = read_all(from, &len);
	int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	free(buf);
}

static void test_bad_files(void **state)
{
	char dir[] = "/tmp/ember-elf-XXXXXX", path[256], hex[SYM_BUILDID_HEX];
	struct sym_elf_table *t = (struct sym_elf_table *)1;
	int fd;

	assert_non_null(mkdtemp(dir));
	/* empty */
	snprintf(path, sizeof(path), "%s/empty", dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(sym_elf_table__from_fd(fd, BIG, &t), -ENOEXEC);
	assert_null(t);
	assert_int_equal(sym_buildid_fd(fd, hex), -ENOEXEC);
	/* text */
	assert_int_equal(write(fd, "#!/bin/sh\necho hi\n", 18), 18);
	assert_int_equal(sym_elf_table__from_fd(fd, BIG, &t), -ENOEXEC);
	close(fd);
	unlink(path);
	/* a directory */
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(sym_elf_table__from_fd(fd, BIG, &t), -ENOEXEC);
	assert_int_equal(sym_buildid_fd(fd, hex), -ENOEXEC);
	close(fd);
	/* a bad fd */
	assert_int_equal(sym_elf_table__from_fd(-1, BIG, &t), -ENOEXEC);
	/* not executable code: a relocatable object has no segments */
	assert_int_equal(sym_elf_table__from_mem("\177ELF", 4, BIG, &t), -ENOEXEC);
	assert_int_equal(sym_elf_table__from_mem("", 0, BIG, &t), -ENOEXEC);
	rmdir(dir);
}

/* Every prefix length class of a real binary: never a crash, a clean error
 * or a table whose lookups work. */
static void test_truncated(void **state)
{
	static const size_t cuts[] = {
		1, 4, 16, 52, 63, 64, 65, 100, 0x200, 0x400, 0x1000, 0x3000
	};
	struct arena *names = names_new();
	char hex[SYM_BUILDID_HEX];
	struct sym_elf_table *t;
	struct sym_result r;
	size_t len, i;
	char *img = read_all(FIXTURES_DIR "/sym_pie", &len);
	int err;

	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]) + 2; i++) {
		size_t ncuts = sizeof(cuts) / sizeof(cuts[0]);
		/* then half the file, and all but the last byte */
		size_t cut = i < ncuts ? cuts[i] : i == ncuts ? len / 2 : len - 1;

		assert_true(cut < len);
		err = sym_elf_table__from_mem(img, cut, BIG, &t);
		if (cut < 64)
			assert_int_equal(err, -ENOEXEC);
		assert_true(err == 0 || err == -ENOEXEC || err == -ENODATA);
		if (!err) {
			assert_int_equal(sym_elf_table__lookup(t, 0x1100, names, &r), 0);
			sym_elf_table__free(t);
		}
		err = sym_buildid_mem(img, cut, hex);
		assert_true(err == 0 || err == -ENOEXEC || err == -ENODATA);
	}
	names_free(names);
	free(img);
}

/* Random corruption of the headers and tables, reproducibly seeded. */
static void test_corrupt(void **state)
{
	struct arena *names = names_new();
	char hex[SYM_BUILDID_HEX];
	struct sym_elf_table *t;
	struct sym_result r;
	size_t len, i, j, ok = 0;
	char *img = read_all(FIXTURES_DIR "/libsym.so", &len);
	char *bad = malloc(len);
	unsigned int seed = 12345;

	assert_non_null(bad);
	for (i = 0; i < 500; i++) {
		memcpy(bad, img, len);
		for (j = 0; j < 1 + i % 8; j++) {
			/* Half the hits in the first 4 KiB, where headers live. */
			size_t at = rand_r(&seed) % (j % 2 ? len : (len < 4096 ? len : 4096));

			bad[at] = (char)rand_r(&seed);
		}
		if (!sym_elf_table__from_mem(bad, len, BIG, &t)) {
			ok++;
			for (j = 0; j < 64; j++) {
				/* From memory, reading a name cannot fail. */
				assert_int_equal(sym_elf_table__lookup(t, rand_r(&seed) % (2 * len),
								       names, &r),
						 0);
				assert_true(r.reason != SYM_OK ||
					    strlen(r.name) <= SYM_ELF_MAX_NAME);
			}
			arena_reset(names);
			sym_elf_table__free(t);
		}
		sym_buildid_mem(bad, len, hex);
	}
	/* Most single-byte hits land where nothing is read. */
	assert_true(ok > 100);
	names_free(names);
	free(bad);
	free(img);
}

/* The bound holds: a .symtab over it falls back to .dynsym, and nothing
 * usable under it is -E2BIG. */
static void test_bound(void **state)
{
	const char *lib = FIXTURES_DIR "/libsym.so";
	struct arena *names = names_new();
	struct sym_elf_table *t;
	size_t full;
	int err;

	t = load(lib, BIG, &err);
	assert_int_equal(err, 0);
	assert_false(sym_elf_table__dynsym(t));
	full = sym_elf_table__bytes(t);
	sym_elf_table__free(t);
	t = load(lib, full - 1, &err);
	assert_int_equal(err, 0);
	assert_true(sym_elf_table__dynsym(t));
	assert_true(sym_elf_table__bytes(t) <= full - 1);
	check_func(t, names, lib, "sym_lib_alpha");
	sym_elf_table__free(t);
	names_free(names);
	t = load(lib, 64, &err);
	assert_int_equal(err, -E2BIG);
	assert_null(t);
	t = load(FIXTURES_DIR "/sym_pie", 200, &err);
	assert_int_equal(err, -E2BIG);
}

/* Synthetic files: function i at vaddr (= file offset) SYN_BASE + 0x100 * i,
 * 0x80 bytes long, named names[i]. */
#define SYN_BASE 0x10000u
#define SYN_NAMES 4

/* A minimal shared object written with libelf: one PT_LOAD covering the
 * function addresses, a .symtab and its .strtab, where the last name has no
 * NUL and runs to the section's end. Returns the .strtab's file offset. */
static uint64_t write_elf(const char *path, const char *const *names, size_t n)
{
	static const char shstrs[] = "\0.strtab\0.symtab\0.shstrtab";
	Elf64_Sym syms[SYN_NAMES + 1] = { 0 };
	char *strs = malloc(1 + SYN_NAMES * (SYM_ELF_MAX_NAME + 1024));
	size_t len = 1, i;
	Elf_Scn *str, *sym, *shs;
	Elf64_Ehdr *eh;
	Elf64_Phdr *ph;
	Elf_Data *d;
	uint64_t str_off;
	Elf *e;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0 && strs && n <= SYN_NAMES);
	strs[0] = '\0';
	for (i = 0; i < n; i++) {
		syms[i + 1] = (Elf64_Sym){
			.st_name = len,
			.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
			.st_shndx = SHN_ABS,
			.st_value = SYN_BASE + 0x100 * i,
			.st_size = 0x80,
		};
		memcpy(strs + len, names[i], strlen(names[i]));
		len += strlen(names[i]);
		if (i + 1 < n)
			strs[len++] = '\0';
	}
	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	e = elf_begin(fd, ELF_C_WRITE, NULL);
	assert_non_null(e);
	eh = elf64_newehdr(e);
	assert_non_null(eh);
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_DYN;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	ph = elf64_newphdr(e, 1);
	assert_non_null(ph);

	str = elf_newscn(e);
	d = elf_newdata(str);
	d->d_buf = strs;
	d->d_size = len;
	d->d_type = ELF_T_BYTE;
	d->d_align = 1;
	elf64_getshdr(str)->sh_type = SHT_STRTAB;
	elf64_getshdr(str)->sh_name = 1;
	sym = elf_newscn(e);
	d = elf_newdata(sym);
	d->d_buf = syms;
	d->d_size = (n + 1) * sizeof(syms[0]);
	d->d_type = ELF_T_SYM;
	d->d_align = 8;
	elf64_getshdr(sym)->sh_type = SHT_SYMTAB;
	elf64_getshdr(sym)->sh_name = 9;
	elf64_getshdr(sym)->sh_link = elf_ndxscn(str);
	elf64_getshdr(sym)->sh_info = 1;
	elf64_getshdr(sym)->sh_entsize = sizeof(syms[0]);
	shs = elf_newscn(e);
	d = elf_newdata(shs);
	d->d_buf = (void *)(uintptr_t)shstrs;
	d->d_size = sizeof(shstrs);
	d->d_type = ELF_T_BYTE;
	d->d_align = 1;
	elf64_getshdr(shs)->sh_type = SHT_STRTAB;
	elf64_getshdr(shs)->sh_name = 17;
	eh->e_shstrndx = elf_ndxscn(shs);

	assert_true(elf_update(e, ELF_C_NULL) > 0);
	*ph = (Elf64_Phdr){ .p_type = PT_LOAD,
			    .p_flags = PF_R | PF_X,
			    .p_align = 0x1000,
			    .p_filesz = 2 * SYN_BASE,
			    .p_memsz = 2 * SYN_BASE };
	elf_flagphdr(e, ELF_C_SET, ELF_F_DIRTY);
	assert_true(elf_update(e, ELF_C_WRITE) > 0);
	str_off = elf64_getshdr(str)->sh_offset;
	elf_end(e);
	close(fd);
	free(strs);
	return str_off;
}

/* Names: short, past the first read, past the bound, and unterminated. */
struct syn_names {
	char longer[301];
	char huge[SYM_ELF_MAX_NAME + 1001];
	const char *all[SYN_NAMES];
};

static void syn_names(struct syn_names *s)
{
	memset(s->longer, 'l', sizeof(s->longer) - 1);
	s->longer[sizeof(s->longer) - 1] = '\0';
	memcpy(s->longer, "long_", 5);
	memset(s->huge, 'h', sizeof(s->huge) - 1);
	s->huge[sizeof(s->huge) - 1] = '\0';
	s->all[0] = "short_name";
	s->all[1] = s->longer;
	s->all[2] = s->huge;
	s->all[3] = "tail_without_nul";
}

/* Every name of the synthetic file, many times over in one names buffer:
 * all stay valid together, and after the table is freed. */
static void check_syn(struct sym_elf_table *t, const struct syn_names *s)
{
	struct arena *names = names_new();
	struct sym_result r[10 * SYN_NAMES];
	size_t i;

	for (i = 0; i < 10 * SYN_NAMES; i++) {
		assert_int_equal(sym_elf_table__lookup(t, SYN_BASE + 0x100 * (i % SYN_NAMES) + 3,
						       names, &r[i]),
				 0);
		assert_int_equal(r[i].reason, SYM_OK);
		assert_int_equal(r[i].offset, 3);
	}
	sym_elf_table__free(t);
	for (i = 0; i < 10 * SYN_NAMES; i++) {
		const char *want = s->all[i % SYN_NAMES];

		if (i % SYN_NAMES == 2) {
			/* Cut at the bound, and still returned. */
			assert_int_equal(strlen(r[i].name), SYM_ELF_MAX_NAME);
			assert_memory_equal(r[i].name, want, SYM_ELF_MAX_NAME);
		} else {
			assert_string_equal(r[i].name, want);
		}
	}
	arena_reset(names);
	names_free(names);
}

static void test_long_names(void **state)
{
	char dir[] = "/tmp/ember-elf-XXXXXX", path[256];
	struct syn_names s;
	struct sym_elf_table *t;
	size_t len;
	char *img;
	int err;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/long.so", dir);
	syn_names(&s);
	write_elf(path, s.all, SYN_NAMES);
	t = load(path, BIG, &err);
	assert_int_equal(err, 0);
	assert_int_equal(sym_elf_table__count(t), SYN_NAMES);
	/* From the file, no names held: only entries and segments. */
	assert_true(sym_elf_table__bytes(t) < 512);
	check_syn(t, &s);
	/* From memory, the same names from the copied string section. */
	img = read_all(path, &len);
	assert_int_equal(sym_elf_table__from_mem(img, len, BIG, &t), 0);
	assert_true(sym_elf_table__bytes(t) > sizeof(s.huge));
	assert_false(sym_elf_table__stale(t));
	check_syn(t, &s);
	free(img);
	unlink(path);
	rmdir(dir);
}

/* The file cut short after loading: a clean error, never a crash; the
 * table says it is stale. A file replaced by rename leaves the table on the
 * old inode, which still names. */
static void test_truncated_after_load(void **state)
{
	char dir[] = "/tmp/ember-elf-XXXXXX", path[256], other[300];
	struct arena *names = names_new();
	struct sym_test_func fn;
	struct sym_elf_table *t;
	struct sym_result r;
	struct syn_names s;
	uint64_t str_off;
	size_t i;
	int err;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cut.so", dir);
	syn_names(&s);
	str_off = write_elf(path, s.all, SYN_NAMES);
	t = load(path, BIG, &err);
	assert_int_equal(err, 0);
	assert_false(sym_elf_table__stale(t));
	/* Inside the first name: a part is there, its end is not. */
	assert_int_equal(truncate(path, str_off + 4), 0);
	assert_true(sym_elf_table__stale(t));
	for (i = 0; i < SYN_NAMES; i++) {
		r.name = "stale";
		assert_int_equal(sym_elf_table__lookup(t, SYN_BASE + 0x100 * i, names, &r), -EIO);
		assert_int_equal(r.reason, SYM_NO_FILE);
		assert_null(r.name);
	}
	/* Not covered is still not covered, without reading. */
	assert_int_equal(sym_elf_table__lookup(t, SYN_BASE - 1, names, &r), 0);
	assert_int_equal(r.reason, SYM_UNKNOWN_ADDR);
	sym_elf_table__free(t);

	/* A real library, emptied. */
	copy_file(FIXTURES_DIR "/libsym.so", path);
	assert_true(sym_test_func(path, "sym_lib_alpha", &fn));
	t = load(path, BIG, &err);
	assert_int_equal(err, 0);
	check_func(t, names, path, "sym_lib_alpha");
	assert_int_equal(truncate(path, 0), 0);
	assert_int_equal(sym_elf_table__lookup(t, fn.off, names, &r), -EIO);
	assert_int_equal(r.reason, SYM_NO_FILE);
	sym_elf_table__free(t);

	/* Replaced by rename, as package managers do. */
	copy_file(FIXTURES_DIR "/libsym.so", path);
	t = load(path, BIG, &err);
	assert_int_equal(err, 0);
	snprintf(other, sizeof(other), "%s.new", path);
	copy_file(FIXTURES_DIR "/sym_pie", other);
	assert_int_equal(rename(other, path), 0);
	check_func(t, names, FIXTURES_DIR "/libsym.so", "sym_lib_alpha");
	assert_false(sym_elf_table__stale(t));
	sym_elf_table__free(t);

	names_free(names);
	unlink(path);
	rmdir(dir);
}

/* Ground truth for a big library, by libelf and independent of the code
 * under test: its function symbols, their names' total size (what the
 * tables held before names stayed on disk) and the longest name alone at
 * its address. */
struct big_lib {
	size_t funcs;
	size_t name_bytes;
	char longest[SYM_ELF_MAX_NAME + 1];
};

static bool big_lib_scan(const char *path, bool dynsym, struct big_lib *out)
{
	int fd = open(path, O_RDONLY);
	Elf_Scn *scn = NULL;
	GElf_Addr longest_addr = 0;
	GElf_Shdr sh;
	GElf_Sym sym;
	size_t i, n, pass;
	Elf *e;

	memset(out, 0, sizeof(*out));
	if (fd < 0)
		return false;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	while (e && (scn = elf_nextscn(e, scn))) {
		if (gelf_getshdr(scn, &sh) && sh.sh_type == (dynsym ? SHT_DYNSYM : SHT_SYMTAB))
			break;
	}
	/* Pass 0 sums and finds the longest name; pass 1 checks it has no alias. */
	for (pass = 0; scn && pass < 2; pass++) {
		Elf_Data *d = elf_getdata(scn, NULL);

		n = d && sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		for (i = 1; i < n; i++) {
			int type;
			const char *name;

			if (!gelf_getsym(d, i, &sym))
				continue;
			type = GELF_ST_TYPE(sym.st_info);
			name = elf_strptr(e, sh.sh_link, sym.st_name);
			if ((type != STT_FUNC && type != STT_GNU_IFUNC) ||
			    sym.st_shndx == SHN_UNDEF || !sym.st_value || !name || !*name)
				continue;
			if (pass == 1) {
				if (sym.st_value == longest_addr && strcmp(name, out->longest))
					out->longest[0] = '\0';
				continue;
			}
			out->funcs++;
			out->name_bytes += strnlen(name, SYM_ELF_MAX_NAME) + 1;
			if (strlen(name) <= SYM_ELF_MAX_NAME &&
			    strlen(name) > strlen(out->longest)) {
				strcpy(out->longest, name);
				longest_addr = sym.st_value;
			}
		}
	}
	elf_end(e);
	close(fd);
	return out->funcs > 0;
}

/* Tables of big C++ libraries hold no names: a small fraction of what
 * they were, 16 bytes per function. Names still come out right. */
static void test_big_library(void **state)
{
	static const char *const libs[] = {
		"/usr/lib/x86_64-linux-gnu/libLLVM-14.so.1",
		"/usr/lib/x86_64-linux-gnu/libLLVM-15.so.1",
		"/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
		"/usr/lib64/libstdc++.so.6",
		"/usr/lib/libstdc++.so.6",
	};
	struct arena *names = names_new();
	struct big_lib *big = malloc(sizeof(*big));
	struct sym_test_func fn;
	struct sym_elf_table *t;
	struct sym_result r;
	size_t i, tested = 0, before, after;
	int err;

	assert_non_null(big);
	for (i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
		if (access(libs[i], R_OK))
			continue;
		t = load(libs[i], BIG, &err);
		assert_int_equal(err, 0);
		assert_true(big_lib_scan(libs[i], sym_elf_table__dynsym(t), big));
		/* Aliases share an entry; the old blob held every alias's name. */
		assert_true(sym_elf_table__count(t) <= big->funcs);
		after = sym_elf_table__bytes(t);
		before = after + big->name_bytes;
		assert_true(after <= 16 * sym_elf_table__count(t) + 4096);
		assert_true(after * 3 < before);
		fprintf(stderr,
			"test_sym_elf: %s functions=%zu bytes=%zu (with names %zu) longest=%zu\n",
			libs[i], sym_elf_table__count(t), after, before, strlen(big->longest));
		if (big->longest[0] && sym_test_func(libs[i], big->longest, &fn)) {
			assert_int_equal(sym_elf_table__lookup(t, fn.off, names, &r), 0);
			assert_int_equal(r.reason, SYM_OK);
			assert_string_equal(r.name, big->longest);
		}
		sym_elf_table__free(t);
		tested++;
	}
	free(big);
	names_free(names);
	if (!tested) {
		fprintf(stderr, "test_sym_elf: no libLLVM or libstdc++.so.6 found: skipped\n");
		skip();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pie),
		cmocka_unit_test(test_nopie),
		cmocka_unit_test(test_stripped),
		cmocka_unit_test(test_shared_lib),
		cmocka_unit_test(test_build_id),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_truncated_after_load),
		cmocka_unit_test(test_big_library),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
