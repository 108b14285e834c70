// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* unwind_tables.c - what the CFI unwind tables of files cost: rows, kernel
 * bytes (as the store charges them against --unwind-memory), compile time
 * (wall and this thread's CPU) and the compile's peak heap growth
 *
 * Each file on the command line is compiled REPEAT times (the best time is
 * kept: the machine is shared); one markdown row per file, then the total.
 * No root needed. `make bench-unwind` runs it over libc, libstdc++,
 * libpython3.11 and the largest shared library found on the host.
 */
#include <linux/types.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "unwind_store.h"
#include "unwind_table.h"

#define REPEAT 3

static double now_s(clockid_t clk)
{
	struct timespec t;

	clock_gettime(clk, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static long maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
	size_t total_rows = 0, total_bytes = 0;
	int i, k;

	printf("| file | FDEs | CFI rows | table rows | kernel bytes | compile ms (wall, best of %d) | CPU ms | "
	       "none rows | maxrss after, MB |\n|---|---|---|---|---|---|---|---|---|\n",
	       REPEAT);
	for (i = 1; i < argc; i++) {
		double best = 1e9, best_cpu = 1e9;
		struct unwind_table t = { 0 };
		struct unwind_table_stats st = { 0 };
		int r = 0;

		for (k = 0; k < REPEAT; k++) {
			double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_THREAD_CPUTIME_ID);

			unwind_table_free(&t);
			r = unwind_table_compile(argv[i], NULL, 0, &t, &st);
			if (now_s(CLOCK_MONOTONIC) - w0 < best)
				best = now_s(CLOCK_MONOTONIC) - w0;
			if (now_s(CLOCK_THREAD_CPUTIME_ID) - c0 < best_cpu)
				best_cpu = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
			if (r)
				break;
		}
		if (r) {
			printf("| %s | error %d |||||||\n", argv[i], r);
			continue;
		}
		printf("| %s | %lu | %lu | %zu | %zu | %.0f | %.0f | %lu | %.1f |\n", argv[i],
		       (unsigned long)st.fdes, (unsigned long)st.cfi_rows, t.nr,
		       unwind_store_table_bytes(t.nr), best * 1e3, best_cpu * 1e3,
		       (unsigned long)st.none_rows, maxrss_kb() / 1024.0);
		total_rows += t.nr;
		total_bytes += unwind_store_table_bytes(t.nr);
		unwind_table_free(&t);
		malloc_trim(0);
	}
	printf("| total | | | %zu | %zu (%.1f MiB) | | | | |\n", total_rows, total_bytes,
	       total_bytes / 1048576.0);
	return 0;
}
