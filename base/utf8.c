// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* utf8.c - checking and repairing UTF-8 by the server's rules */
#include <stdint.h>
#include <string.h>

#include "utf8.h"

bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		uint32_t cp, min;
		size_t n, k;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			n = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		/* Overlong forms, UTF-16 surrogates and values past Unicode are what
		 * Go's utf8.ValidString (the server's check) also rejects. */
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

size_t utf8_copy(char *dst, const char *src, size_t max)
{
	size_t len = strlen(src), i = 0, o = 0;

	while (i < len) {
		size_t n = 1;

		if ((unsigned char)src[i] >= 0x80) {
			/* Length of the valid sequence starting here, if any. */
			for (n = 2; n <= 4; n++) {
				if (i + n <= len && utf8_valid(src + i, n))
					break;
			}
			if (n > 4) {
				if (o + 1 > max)
					break;
				dst[o++] = '_';
				i++;
				continue;
			}
		}
		if (o + n > max)
			break;
		memcpy(dst + o, src + i, n);
		o += n;
		i += n;
	}
	dst[o] = '\0';
	return o;
}
