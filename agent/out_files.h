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

/* Writes blobs of group g (window start start_ns) under dir. 0 or -errno
 * (logged once per failing directory). */
int out_files_write(const char *dir, uint64_t start_ns, const struct labels_group *g,
		    const struct pprof_blob *blobs, size_t nblobs);

#endif /* EMBER_OUT_FILES_H */
