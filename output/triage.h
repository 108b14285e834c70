/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* triage.h - per service: where the CPU goes, what it waits on, and a verdict
 *
 * Fed stacks (root first) with their CPU or off-CPU time, per service, from
 * files (output/triage_cmd.c) or live windows (agent/report_live.c); prints
 * per service its top functions by self CPU share, its CPU vs off-CPU
 * split, off-CPU time by kind of wait (told by the stack's frames: locks,
 * I/O, sleeps), and one word: cpu-bound, lock-bound, io-bound, gc-bound or
 * healthy. The verdict rules and their thresholds are in triage.c, in one
 * place. Memory grows with services x distinct leaf functions, not stacks.
 * Not thread-safe; one owner.
 */
#ifndef EMBER_TRIAGE_H
#define EMBER_TRIAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum triage_kind { TRIAGE_CPU, TRIAGE_OFF_CPU };

/* What an off-CPU stack waited on, from its frames. */
enum triage_wait {
	TRIAGE_WAIT_LOCK, /* futex, mutexes, rwsems: contention */
	TRIAGE_WAIT_IO, /* read/write, poll/epoll, io_uring, block I/O */
	TRIAGE_WAIT_SLEEP, /* nanosleep and timers: chosen, not a bottleneck */
	TRIAGE_WAIT_IDLE, /* condition variables: a worker with nothing to do */
	TRIAGE_WAIT_RUNQUEUE, /* preempted, waiting for a CPU (--off-cpu-runqueue) */
	TRIAGE_WAIT_OTHER, /* none of the above (page faults, unnamed frames) */
	TRIAGE_WAIT_MAX,
};

struct triage;

/* NULL with errno. */
struct triage *triage__new(void);
void triage__free(struct triage *t);

/* Adds ns of time spent (on CPU, or blocked) in the stack frames[0..n),
 * root first, for service. Frames may carry the folded "_[k]" suffix.
 * 0, -ENOMEM, -E2BIG past the name table's bound. */
int triage__add(struct triage *t, const char *service, enum triage_kind kind,
		const char *const *frames, size_t n, uint64_t ns);
/* Wall time the inputs cover, for the absolute thresholds (cores busy,
 * threads blocked); without it, only the relative split decides. */
void triage__set_wall(struct triage *t, uint64_t ns);
/* Services with any time. */
size_t triage__services(const struct triage *t);

/* The kind of wait of a stack (root first); exposed for the tests. */
enum triage_wait triage_classify(const char *const *frames, size_t n);

/* Text (for a person) or JSON (json-c; one object) on f, services by CPU
 * time, top functions per service. 0 or -errno (write failed, -ENOMEM). */
int triage__print(struct triage *t, FILE *f, bool json, unsigned int top);

#endif /* EMBER_TRIAGE_H */
