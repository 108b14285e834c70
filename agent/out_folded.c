// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* out_folded.c - folded-stack text for flamegraph.pl and speedscope
 *
 * A report's stacks are unique by address; two addresses in one function
 * fold to the same text. Lines are merged per process so each named stack
 * is one line with the sum of its counts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "out_folded.h"
#include "utf8.h"

struct folded_line {
	char *text; /* "comm;root;...;leaf", without the count */
	uint64_t count;
};

static int cmp_line(const void *a, const void *b)
{
	return strcmp(((const struct folded_line *)a)->text, ((const struct folded_line *)b)->text);
}

/* Folded text splits on ';' and the last space: a name keeps neither
 * separator's meaning nor control characters. This is the only output that
 * needs it, so the report keeps names as they are. Invalid UTF-8 is repaired
 * by utf8_copy, as pprof and the labels do, so one name reads the same in
 * every output. */
static void put_clean(FILE *f, const char *s)
{
	static const char bad[] =
		";\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
		"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f";
	size_t n;

	/* Clean runs go out whole: this runs for every frame of every line. */
	for (;;) {
		n = strcspn(s, bad);
		fwrite_unlocked(s, 1, n, f);
		if (!s[n])
			return;
		fputc_unlocked(s[n] == ';' ? ':' : '?', f);
		s += n + 1;
	}
}

static void put_name(FILE *f, const char *s)
{
	char small[256], *copy = small;
	size_t len = strlen(s);

	if (utf8_valid(s, len)) {
		put_clean(f, s);
		return;
	}
	/* Rare (a comm or symbol with stray bytes): repaired into a copy. */
	if (len >= sizeof(small) && !(copy = malloc(len + 1))) {
		put_clean(f, "[invalid UTF-8]");
		return;
	}
	utf8_copy(copy, s, len);
	put_clean(f, copy);
	if (copy != small)
		free(copy);
}

/* The text of one stack; NULL on -ENOMEM. Free with free(). */
static char *stack_text(const struct report *r, const char *root, const char *comm,
			const struct report_stack *s, bool lines)
{
	char *buf = NULL;
	size_t len = 0;
	uint32_t k;
	FILE *f;

	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	if (root) {
		put_name(f, root);
		fputc(';', f);
	}
	put_name(f, comm);
	/* Stacks are leaf first: walk them backwards to print root first. A
	 * frame's inline chain is innermost first: it is walked backwards too,
	 * each level a frame of its own. */
	for (k = s->nframes; k-- > 0;) {
		const struct report_frame *fr = &r->frames[s->frames[k]];
		uint32_t l = fr->nlines ? fr->nlines : 1;

		while (l-- > 0) {
			fputc(';', f);
			put_name(f, fr->nlines ? fr->lines[l].function : fr->unnamed);
			if (lines && fr->nlines && fr->lines[l].line)
				fprintf(f, ":%u", fr->lines[l].line);
			if (fr->kind == REPORT_FRAME_KERNEL)
				fputs("_[k]", f);
		}
	}
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int write_proc(FILE *f, const struct report *r, const struct report_proc *p, bool with_lines,
		      const char *root)
{
	/* Off-CPU stacks weigh what they measured, not how often: a stack
	 * blocked once for a second outweighs one blocked ten times 1 ms. */
	bool micros = report_type_is_off_cpu(&r->type);
	struct folded_line *lines;
	size_t i, n = 0;
	int err = 0;

	if (!p->nstacks)
		return 0;
	lines = calloc(p->nstacks, sizeof(*lines));
	if (!lines)
		return -ENOMEM;
	for (i = 0; i < p->nstacks; i++) {
		lines[i].text = stack_text(r, root, p->comm, &p->stacks[i], with_lines);
		lines[i].count = micros ? p->stacks[i].value : p->stacks[i].count;
		if (!lines[i].text) {
			err = -ENOMEM;
			goto cleanup;
		}
	}
	qsort(lines, p->nstacks, sizeof(*lines), cmp_line);
	for (i = 0; i < p->nstacks; i = n) {
		uint64_t count = 0;

		for (n = i; n < p->nstacks && !strcmp(lines[n].text, lines[i].text); n++)
			count += lines[n].count;
		/* Summed in ns, rounded once per line. */
		if (micros)
			count = (count + 500) / 1000;
		fprintf(f, "%s %llu\n", lines[i].text, (unsigned long long)count);
	}
cleanup:
	for (i = 0; i < p->nstacks; i++)
		free(lines[i].text);
	free(lines);
	return err;
}

int out_folded_write(FILE *f, const struct report *r, bool lines)
{
	return out_folded_write_root(f, r, lines, NULL);
}

int out_folded_write_root(FILE *f, const struct report *r, bool lines, const char *root)
{
	size_t i;
	int err;

	for (i = 0; i < r->nprocs; i++) {
		err = write_proc(f, r, &r->procs[i], lines, root);
		if (err)
			return err;
	}
	if (fflush(f) || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}
