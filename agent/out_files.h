/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* out_files.h - each window's profiles as .pb.gz files in --output-dir
 *
 * One file per profile blob, named so that files sort by time and say whose
 * profile they hold; written to a temporary name and renamed, so a reader
 * never sees a half-written file. Thread: main.
 */
#ifndef EMBER_OUT_FILES_H
#define EMBER_OUT_FILES_H

#include <stddef.h>

#include "labels.h"
#include "pprof.h"

/* Writes blobs of group g (window start start_ns, CLOCK_REALTIME) under dir,
 * creating dir and its parents if missing, as
 * dir/<service_name>-<UTC start YYYYmmddTHHMMSSZ>-<n>.pb.gz, mode 0644: the
 * service name keeps [A-Za-z0-9._-] (others, and a leading '.', become '_';
 * "unknown_service" without one), n counts up from 0 to the first name not
 * taken, so no file is ever replaced. Temporaries are hidden ".<name>.tmp*"
 * files in dir, removed on error. Stops at the first failure. 0 (also for
 * nblobs 0) or -errno, logged (rate-limited per call site, so once per
 * window). Borrows everything; blobs stay the caller's. */
int out_files_write(const char *dir, uint64_t start_ns, const struct labels_group *g,
		    const struct pprof_blob *blobs, size_t nblobs);

/* Makes dir (mkdir -p) and proves it writable by creating and removing one
 * hidden probe file: run once at start-up. 0 or -errno (-ENOTDIR, -EACCES,
 * -EROFS, -ENOSPC, ...); logs nothing. */
int out_files_check(const char *dir);

#endif /* EMBER_OUT_FILES_H */
