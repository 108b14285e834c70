// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* file.c - reading a small file whole, bounded */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "file.h"

ssize_t file_read(const char *path, char *buf, size_t size)
{
	ssize_t n, total = 0;
	char extra;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		/* Once buf is full, one more byte tells a file that fits from one
		 * that does not. */
		if ((size_t)total < size - 1)
			n = read(fd, buf + total, size - 1 - total);
		else
			n = read(fd, &extra, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = -errno;
		else if (n > 0 && (size_t)total == size - 1)
			err = -EFBIG;
		if (n <= 0 || err)
			break;
		total += n;
	}
	close(fd);
	buf[total] = '\0';
	return err ? err : total;
}
