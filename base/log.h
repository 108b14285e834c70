/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* log.h - leveled, key=value logging to stderr
 *
 * One line per event: "ember: <level> <module>: msg key=value ...". The level is
 * checked before the arguments are evaluated. The *_ratelimited variants print
 * at most once per second per call site, for per-sample paths. Thread-safe
 * (each line is one write(2)).
 */
#ifndef EMBER_LOG_H
#define EMBER_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* The one mutable global besides the stop flag: set once at start-up. */
extern enum log_level log_level;

__attribute__((format(printf, 2, 3))) void log_emit(enum log_level lvl, const char *fmt, ...);
/* "ember: <text>" whatever the level: the run's summary, which an operator
 * and the tests read at exit. */
__attribute__((format(printf, 1, 2))) void log_summary(const char *fmt, ...);
/* log_emit with a va_list, for adapters (libbpf's print callback). */
void log_vemit(enum log_level lvl, const char *fmt, va_list ap);
/* Returns true when the call site's bucket allows one more line now. */
bool log_ratelimit(uint64_t *last_ns);

#define log_at(lvl, ...)                              \
	do {                                          \
		if ((lvl) <= log_level)               \
			log_emit((lvl), __VA_ARGS__); \
	} while (0)
#define log_err(...) log_at(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)

#define log_ratelimited(lvl, ...)                                        \
	do {                                                             \
		static uint64_t log_last_ns__;                           \
		if ((lvl) <= log_level && log_ratelimit(&log_last_ns__)) \
			log_emit((lvl), __VA_ARGS__);                    \
	} while (0)
#define log_warn_ratelimited(...) log_ratelimited(LOG_WARN, __VA_ARGS__)
#define log_debug_ratelimited(...) log_ratelimited(LOG_DEBUG, __VA_ARGS__)

#endif /* EMBER_LOG_H */
