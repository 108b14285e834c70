// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* log.c - leveled logging to stderr */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

enum log_level log_level = LOG_WARN;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_vemit(enum log_level lvl, const char *fmt, va_list ap)
{
	char line[1024];
	int n, m;

	n = snprintf(line, sizeof(line), "ember: %s ", level_names[lvl]);
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	/* libbpf's lines already end in a newline. */
	if (line[n - 1] != '\n')
		line[n++] = '\n';
	/* One write per line so lines from several threads never interleave. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
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
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	if (*last_ns && now - *last_ns < 1000000000ull)
		return false;
	*last_ns = now;
	return true;
}
