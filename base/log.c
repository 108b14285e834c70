// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* log.c - leveled logging to stderr */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

enum log_level log_level = LOG_WARN;

static const char *const level_names[] = { "error ", "warn ", "info ", "debug " };

/* One line "ember: <prefix><message>\n", in one write(2) so that lines from
 * several threads never interleave. */
static void log_vwrite(const char *prefix, const char *fmt, va_list ap)
{
	/* The exit summary is one line of several dozen key=value fields. */
	char line[4096];
	int n, m;

	n = snprintf(line, sizeof(line), "ember: %s", prefix);
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	/* libbpf's lines already end in a newline. */
	if (line[n - 1] != '\n')
		line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

void log_vemit(enum log_level lvl, const char *fmt, va_list ap)
{
	log_vwrite(level_names[lvl], fmt, ap);
}

void log_summary(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite("", fmt, ap);
	va_end(ap);
}

void log_emit(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(lvl, fmt, ap);
	va_end(ap);
}

bool log_ratelimit(uint64_t *last_ns)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC);

	if (*last_ns && now - *last_ns < CLOCK_NS_PER_SEC)
		return false;
	*last_ns = now;
	return true;
}
