// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* out_files.c - each window's pprof blobs as DIR/<service>-<UTC time>-<n>.pb.gz
 *
 * Creates the directory (mkdir -p), writes each blob to a hidden temporary
 * file in the same directory and renames it into place without replacing an
 * existing file, so readers only ever see whole profiles and two label sets
 * whose names sanitize alike never overwrite each other. Thread: main.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "out_files.h"

#define OUT_FILES_MAX_SERVICE 128
/* n in <service>-<time>-<n>.pb.gz is tried upwards until a name is free. */
#define OUT_FILES_MAX_TRIES 10000

/* mkdir -p: every missing component, 0755. */
static int make_dirs(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;
	size_t len = strlen(dir), i;

	if (!len || len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			return -errno;
		path[i] = i < len ? '/' : '\0';
	}
	if (stat(dir, &st))
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* The service name as a file name part: [A-Za-z0-9._-] kept, the rest '_',
 * no leading dot (hidden files are our temporaries). */
static void file_part(char *dst, size_t size, const char *service)
{
	size_t o = 0;
	const char *p;

	for (p = service ? service : ""; *p && o + 1 < size; p++) {
		char c = *p;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			c = '_';
		if (o == 0 && c == '.')
			c = '_';
		dst[o++] = c;
	}
	if (!o)
		o = (size_t)snprintf(dst, size, "unknown_service");
	dst[o] = '\0';
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Moves tmp to path unless path exists: -EEXIST then. */
static int place(const char *tmp, const char *path)
{
	struct stat st;

	if (!renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE))
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* A filesystem without RENAME_NOREPLACE: check, then rename. Racy only
	 * against another writer in our own output directory. */
	if (!stat(path, &st))
		return -EEXIST;
	return rename(tmp, path) ? -errno : 0;
}

/* Writes one blob under the first free name DIR/<prefix>-<*n>.pb.gz. */
static int write_blob(const char *dir, const char *prefix, const struct pprof_blob *blob,
		      unsigned int *n, char *path, size_t path_size)
{
	char tmp[PATH_MAX];
	int fd = -1, err, len;

	len = snprintf(tmp, sizeof(tmp), "%s/.%s.tmpXXXXXX", dir, prefix);
	if (len < 0 || (size_t)len >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	/* mkstemp makes 0600; profiles are meant to be read by other tools. */
	if (fchmod(fd, 0644)) {
		err = -errno;
		goto cleanup;
	}
	err = write_all(fd, blob->data, blob->len);
	if (err)
		goto cleanup;
	if (close(fd)) {
		fd = -1;
		err = -errno;
		goto cleanup;
	}
	fd = -1;
	for (err = -EEXIST; err == -EEXIST && *n < OUT_FILES_MAX_TRIES; (*n)++) {
		len = snprintf(path, path_size, "%s/%s-%u.pb.gz", dir, prefix, *n);
		if (len < 0 || (size_t)len >= path_size) {
			err = -ENAMETOOLONG;
			goto cleanup;
		}
		err = place(tmp, path);
	}
cleanup:
	if (fd >= 0)
		close(fd);
	if (err)
		unlink(tmp);
	return err;
}

int out_files_check(const char *dir)
{
	char probe[PATH_MAX];
	int fd, err, len;

	err = make_dirs(dir);
	if (err)
		return err;
	/* access(W_OK) says yes to root on a read-only mount; a real file
	 * says what the first window would meet. */
	len = snprintf(probe, sizeof(probe), "%s/.ember-probe.tmpXXXXXX", dir);
	if (len < 0 || (size_t)len >= sizeof(probe))
		return -ENAMETOOLONG;
	fd = mkstemp(probe);
	if (fd < 0)
		return -errno;
	close(fd);
	if (unlink(probe))
		return -errno;
	return 0;
}

int out_files_write(const char *dir, uint64_t start_ns, const struct labels_group *g,
		    const struct pprof_blob *blobs, size_t nblobs)
{
	char service[OUT_FILES_MAX_SERVICE + 1], stamp[32], prefix[sizeof(service) + sizeof(stamp)];
	char path[PATH_MAX] = "";
	time_t secs = (time_t)(start_ns / 1000000000ull);
	unsigned int n = 0;
	struct tm tm;
	size_t i;
	int err;

	if (!dir || !g || (nblobs && !blobs))
		return -EINVAL;
	if (!nblobs)
		return 0;
	err = make_dirs(dir);
	if (err) {
		log_ratelimited(LOG_ERR,
				"out_files: cannot create output directory dir=%s err=%d (%s)", dir,
				err, strerror(-err));
		return err;
	}
	file_part(service, sizeof(service), labels_get(g, "service_name"));
	if (!gmtime_r(&secs, &tm) || !strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm))
		return -EINVAL;
	snprintf(prefix, sizeof(prefix), "%s-%s", service, stamp);
	for (i = 0; i < nblobs; i++) {
		err = write_blob(dir, prefix, &blobs[i], &n, path, sizeof(path));
		if (err) {
			log_ratelimited(LOG_ERR,
					"out_files: cannot write profile dir=%s file=%s-%u.pb.gz "
					"err=%d (%s)",
					dir, prefix, n, err, strerror(-err));
			return err;
		}
		log_debug("out_files: wrote path=%s bytes=%zu samples=%zu", path, blobs[i].len,
			  blobs[i].samples);
	}
	return 0;
}
