// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lines.c - bounded line splitting for the /proc text parsers
 *
 * Owns one carry buffer of max_line bytes per stream, nothing else. Memory
 * stays bounded whatever the input: an overlong line is skipped up to its
 * '\n', never grown into. No parsing of line contents happens here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "lines.h"

#define LINES_CHUNK 65536

int lines__init(struct lines *l, size_t max_line, lines_fn fn, void *ctx)
{
	memset(l, 0, sizeof(*l));
	/* One spare byte so a full buffer is never mistaken for an overflow. */
	l->buf = malloc(max_line + 1);
	if (!l->buf)
		return -ENOMEM;
	l->max_line = max_line;
	l->fn = fn;
	l->ctx = ctx;
	return 0;
}

void lines__release(struct lines *l)
{
	free(l->buf);
	l->buf = NULL;
}

/* A line dropped for its length: counted here and process-wide, so no
 * parser can drop lines silently. */
static void lines_overlong(struct lines *l)
{
	l->overlong_lines++;
	caps__hit(CAPS_LINE, 1, l->max_line);
}

static int lines_emit(struct lines *l, const char *line, size_t len)
{
	int ret = l->fn(l->ctx, line, len);

	if (ret > 0) {
		l->stopped = true;
		return 0;
	}
	return ret;
}

int lines__feed(struct lines *l, const char *data, size_t n)
{
	const char *p = data, *end = data + n;
	int err = 0;

	while (p < end && !l->stopped) {
		const char *nl = memchr(p, '\n', end - p);
		size_t seg = (nl ? nl : end) - p;

		if (nl && l->len == 0 && !l->overlong) {
			/* The common case: a whole line inside the chunk, no copy. */
			if (seg > l->max_line)
				lines_overlong(l);
			else if ((err = lines_emit(l, p, seg)))
				return err;
			p = nl + 1;
			continue;
		}
		if (!l->overlong) {
			if (l->len + seg > l->max_line) {
				l->overlong = true;
				l->len = 0;
			} else {
				memcpy(l->buf + l->len, p, seg);
				l->len += seg;
			}
		}
		if (!nl)
			break;
		if (l->overlong) {
			lines_overlong(l);
			l->overlong = false;
		} else if ((err = lines_emit(l, l->buf, l->len))) {
			return err;
		}
		l->len = 0;
		p = nl + 1;
	}
	return 0;
}

int lines__finish(struct lines *l)
{
	int err = 0;

	if (l->overlong)
		lines_overlong(l);
	else if (l->len && !l->stopped)
		err = lines_emit(l, l->buf, l->len);
	l->overlong = false;
	l->len = 0;
	return err;
}

int lines__read_fd(struct lines *l, int fd, size_t max_bytes, bool *truncated)
{
	size_t total = 0;
	char *chunk;
	ssize_t r;
	int err = 0;

	*truncated = false;
	chunk = malloc(LINES_CHUNK);
	if (!chunk)
		return -ENOMEM;
	while (!l->stopped) {
		size_t want = LINES_CHUNK;

		if (total >= max_bytes) {
			*truncated = true;
			break;
		}
		if (max_bytes - total < want)
			want = max_bytes - total;
		r = read(fd, chunk, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			goto cleanup;
		}
		if (r == 0)
			break;
		total += r;
		err = lines__feed(l, chunk, r);
		if (err)
			goto cleanup;
	}
	/* A stream cut by max_bytes ends mid-line: that partial line is dropped. */
	if (*truncated) {
		l->len = 0;
		l->overlong = false;
	}
	err = lines__finish(l);
cleanup:
	free(chunk);
	return err;
}

static int lines_xdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

const char *lines_hex(const char *p, const char *end, size_t max_digits, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = 0;
	int d;

	for (; p < end && (d = lines_xdigit(*p)) >= 0; p++) {
		if (++n > max_digits)
			return NULL;
		v = v << 4 | d;
	}
	if (n == 0)
		return NULL;
	*out = v;
	return p;
}
