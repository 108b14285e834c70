/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* clock.h - clock readings in nanoseconds
 *
 * Every time in Ember is a uint64_t of nanoseconds on a named clock:
 * CLOCK_MONOTONIC for intervals and deadlines, CLOCK_REALTIME for what is
 * written into profiles, CLOCK_THREAD_CPUTIME_ID for the agent's own cost.
 */
#ifndef EMBER_CLOCK_H
#define EMBER_CLOCK_H

#include <stdint.h>
#include <time.h>

#define CLOCK_NS_PER_SEC 1000000000ull
#define CLOCK_NS_PER_MS 1000000ull

static inline uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * CLOCK_NS_PER_SEC + ts.tv_nsec;
}

#endif /* EMBER_CLOCK_H */
