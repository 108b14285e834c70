// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* metrics.c - Prometheus text format 0.0.4 from the summary's items
 *
 * Counters are named ember_<name>_total, gauges ember_<name>; items of one
 * name are consecutive in the summary, so HELP and TYPE are written once, at
 * the first. Label values are static text of the agent's own (no escaping
 * needed); the one table-driven value (a bound's name) is escaped anyway.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static void put_escaped(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*v, f);
	}
}

int metrics_render(const struct summary *s, char **out, size_t *len)
{
	const char *prev = NULL;
	char *buf = NULL;
	size_t size = 0, i;
	FILE *f;

	*out = NULL;
	*len = 0;
	f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	for (i = 0; i < s->n; i++) {
		const struct summary_item *it = &s->items[i];
		const char *suffix = it->kind == SUMMARY_COUNTER ? "_total" : "";

		if (!it->metric)
			continue;
		if (!prev || strcmp(prev, it->metric)) {
			fprintf(f, "# HELP ember_%s%s %s\n# TYPE ember_%s%s %s\n", it->metric,
				suffix, it->help ? it->help : it->metric, it->metric, suffix,
				it->kind == SUMMARY_COUNTER ? "counter" : "gauge");
			prev = it->metric;
		}
		fprintf(f, "ember_%s%s", it->metric, suffix);
		if (it->labels || it->lname) {
			fputc('{', f);
			if (it->labels)
				fputs(it->labels, f);
			if (it->lname) {
				fprintf(f, "%s%s=\"", it->labels ? "," : "", it->lname);
				put_escaped(f, it->lvalue ? it->lvalue : "");
				fputc('"', f);
			}
			fputc('}', f);
		}
		/* Integers as integers: exact up to 2^53, and what a reader expects. */
		if (it->value == (double)(unsigned long long)it->value)
			fprintf(f, " %llu\n", (unsigned long long)it->value);
		else
			fprintf(f, " %.6g\n", it->value);
	}
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return -ENOMEM;
	}
	if (fclose(f)) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	*len = size;
	return 0;
}
