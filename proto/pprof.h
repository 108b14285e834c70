/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* pprof.h - builds gzipped pprof (perftools.profiles) profiles from a report
 *
 * One profile per label set per window: the caller passes the processes that
 * share a label set. Sample and period types and the period come from the
 * report's type, each sample's value is its stack's value, locations are
 * leaf first with one Line per inline level, every location named,
 * string_table[0] empty, every id non-zero. A profile whose encoding would
 * pass max_raw_bytes is split by stacks into several profiles.
 * Pure function of its input; any thread. */
#ifndef EMBER_PPROF_H
#define EMBER_PPROF_H

#include <stddef.h>
#include <stdint.h>

#include "report.h"

#define PPROF_MAX_RAW_BYTES (1024 * 1024)
/* Server limit (max_profile_stacktrace_samples); a larger profile is split. */
#define PPROF_MAX_SAMPLES 16000

struct pprof_blob {
	uint8_t *data; /* gzipped profile.proto bytes */
	size_t len;
	size_t raw_len; /* uncompressed size */
	size_t samples; /* pprof samples (unique stacks) in this profile */
};

/* Builds the profiles for procs of r. max_raw_bytes 0 means PPROF_MAX_RAW_BYTES.
 * Equal stacks of several procs become one sample (no pid label: sample labels
 * would become series labels). Stacks are taken in order and a profile is cut
 * before the stack that would take its encoding past max_raw_bytes or its
 * samples past PPROF_MAX_SAMPLES; each cut is a complete profile holding only
 * the strings, mappings, locations and functions its samples use. A single
 * stack over the bound gets a profile of its own (raw_len > max_raw_bytes,
 * logged). Strings that are not valid UTF-8 are repaired ('_' per bad byte).
 * On success returns 0 and *blobs (free with pprof_blobs_free) holding *nblobs
 * >= 1 profiles, or *blobs NULL and 0 profiles when procs have no samples.
 * -EINVAL (no type or a period <= 0, a frame index out of range), -ENOMEM. Reads r only
 * during the call. */
int pprof_build(const struct report *r, const struct report_proc *const *procs, size_t nprocs,
		size_t max_raw_bytes, struct pprof_blob **blobs, size_t *nblobs);
void pprof_blobs_free(struct pprof_blob *blobs, size_t n);

#endif /* EMBER_PPROF_H */
