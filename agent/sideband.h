/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sideband.h - the kernel's exec, fork, mmap and exit records, as perf takes them
 *
 * One dummy software perf event per online CPU (it never samples) with
 * mmap2, comm and task records on, read from its ring without wake-ups:
 * the main loop drains it before each poll of the sample ring, and the
 * mapstore asks for a drain when a sample names a mapping not yet seen.
 * What each process mapped is thus known even if it exited before its
 * first sample was read. Records feed the mapstore; a record that does not
 * parse is counted, never trusted.
 * Thread: the main loop only.
 */
#ifndef EMBER_SIDEBAND_H
#define EMBER_SIDEBAND_H

#include <stddef.h>
#include <stdint.h>

#include "mapstore.h"

struct sideband;

struct sideband_stats {
	uint64_t records; /* records read */
	uint64_t lost; /* records the kernel dropped (PERF_RECORD_LOST) */
	uint64_t bad; /* records too short or inconsistent */
	uint64_t drains;
};

/* Opens the events on every online CPU. NULL with errno (EPERM without
 * CAP_PERFMON, ENOMEM). */
struct sideband *sideband__new(struct mapstore *ms);
void sideband__free(struct sideband *sb);
/* Reads every pending record into the mapstore. Returns the records read. */
int sideband__drain(struct sideband *sb);
void sideband__stats(const struct sideband *sb, struct sideband_stats *out);

/* Decodes one record (struct perf_event_header first, sample_id with TID
 * and TIME at its end) into ms. 0, -EINVAL for a malformed record, or the
 * mapstore's error. Exposed for tests and the fuzz harness. */
int sideband_record(struct mapstore *ms, const void *rec, size_t size);

#endif /* EMBER_SIDEBAND_H */
