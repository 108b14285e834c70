// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* out_folded.c - folded-stack text for flamegraph.pl and speedscope */
#include <errno.h>

#include "out_folded.h"

int out_folded_write(FILE *f, const struct report *r)
{
	size_t i, j;
	uint32_t k;

	for (i = 0; i < r->nprocs; i++) {
		const struct report_proc *p = &r->procs[i];

		for (j = 0; j < p->nstacks; j++) {
			const struct report_stack *s = &p->stacks[j];

			fputs(p->comm, f);
			/* Stacks are leaf first: walk them backwards to print root first. */
			for (k = s->nframes; k-- > 0;) {
				const struct report_frame *fr = &r->frames[s->frames[k]];

				fputc(';', f);
				fputs(fr->name, f);
				if (fr->kind == REPORT_FRAME_KERNEL)
					fputs("_[k]", f);
			}
			fprintf(f, " %llu\n", (unsigned long long)s->count);
		}
	}
	if (fflush(f) || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}
