/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* jvm_attach.h - asking HotSpot JVMs for their perf map, without jcmd
 *
 * Runs the HotSpot attach protocol (trigger file, SIGQUIT, UNIX socket,
 * "jcmd Compiler.perfmap") on a worker thread of its own, so sampling never
 * waits on a JVM. Only a process that maps libjvm.so and catches SIGQUIT is
 * ever signalled; files in the target's file system are made as its uid/gid
 * and removed; every attach is time-boxed and each JVM is asked at most once
 * per retry period, backing off after failures.
 * Thread: requests and reads from the main loop; the worker does the rest.
 */
#ifndef EMBER_JVM_ATTACH_H
#define EMBER_JVM_ATTACH_H

#include <stdbool.h>
#include <stdint.h>

struct jvm_attach;

struct jvm_attach_opts {
	const char *proc_root; /* "/proc" */
	uint32_t min_age_s; /* a JVM younger than this is left to start up */
	uint32_t timeout_ms; /* one whole attach; 0: 2000 */
	uint32_t retry_s; /* at most one attempt per JVM per this; 0: 60 */
};

struct jvm_attach_stats {
	uint64_t attached; /* maps written on request */
	uint64_t refused; /* processes never signalled: no SIGQUIT handler, not HotSpot */
	uint64_t failed; /* attaches that did not get a map: timeout, exit, pid reused */
	uint64_t dropped; /* requests refused: too many JVMs tracked */
};

/* Starts the worker. NULL with errno. */
struct jvm_attach *jvm_attach__new(const struct jvm_attach_opts *opts);
/* Stops the worker (an attach in progress ends within its time box) and
 * frees everything. Accepts NULL. */
void jvm_attach__free(struct jvm_attach *ja);

/* Asks, without waiting, that the JVM (pid, start time in clock ticks after
 * boot) write its perf map. reask: it was asked before and its code cache
 * keeps producing unnamed frames. Ignored while the JVM's retry period or
 * backoff lasts, and for processes refused once. */
void jvm_attach__request(struct jvm_attach *ja, uint32_t pid, uint64_t start_time, bool reask);
/* How many maps the JVM has written on Ember's request: when it changes, a
 * fresh map waits to be read whole. */
uint32_t jvm_attach__maps(struct jvm_attach *ja, uint32_t pid, uint64_t start_time);
void jvm_attach__stats(struct jvm_attach *ja, struct jvm_attach_stats *out);

/* Parses /proc/PID/status text: effective uid and gid, the innermost
 * namespace pid (NStgid's last field; the pid itself without NStgid) and
 * whether SIGQUIT is caught and not ignored. 0 or -EINVAL. For tests. */
int jvm_parse_status(const char *text, uint32_t pid, uint32_t *uid, uint32_t *gid, uint32_t *nspid,
		     bool *sigquit);

#endif /* EMBER_JVM_ATTACH_H */
