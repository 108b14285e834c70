// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* report.c - a finished window's memory: one arena, freed in one go
 *
 * A report is built once and read by every output, then dropped whole, so
 * its strings and arrays come from an arena rather than thousands of small
 * mallocs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

struct report_type report_type_cpu(uint32_t frequency)
{
	return (struct report_type){
		.name = "process_cpu",
		.sample_type = "cpu",
		.sample_unit = "nanoseconds",
		.period_type = "cpu",
		.period_unit = "nanoseconds",
		.period = 1000000000 / (int64_t)frequency,
	};
}

struct report_type report_type_off_cpu(void)
{
	/* Pyroscope's own name for the type (ProfileNameOffCpu) and the
	 * OpenTelemetry profiler's sample type. A period type is still given:
	 * the pprof builder and the profile type id want one. */
	return (struct report_type){
		.name = "off_cpu",
		.sample_type = "off_cpu",
		.sample_unit = "nanoseconds",
		.period_type = "off_cpu",
		.period_unit = "nanoseconds",
		.period = 1,
	};
}

bool report_type_is_off_cpu(const struct report_type *t)
{
	return t->name && !strcmp(t->name, "off_cpu");
}

struct report *report__new(void)
{
	struct report *r = calloc(1, sizeof(*r));

	if (!r)
		errno = ENOMEM;
	return r;
}

void *report__alloc(struct report *r, size_t size)
{
	return arena_alloc(&r->arena, size);
}

const char *report__strdup(struct report *r, const char *s)
{
	return arena_strdup(&r->arena, s);
}

void report__free(struct report *r)
{
	if (!r)
		return;
	arena_release(&r->arena);
	free(r);
}
