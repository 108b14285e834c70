// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* strtab.c - a growable, bounded blob of strings addressed by offset */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "strtab.h"

#define STRTAB_MIN 4096

int strtab__add(struct strtab *t, const char *s, size_t len, uint32_t *off)
{
	size_t need = t->len + len + 1, cap;
	char *data;

	if (need > t->max || need > UINT32_MAX) {
		caps__hit(CAPS_STRTAB, 1, t->max);
		return -E2BIG;
	}
	if (need > t->cap) {
		cap = t->cap ? t->cap * 2 : STRTAB_MIN;
		while (cap < need)
			cap *= 2;
		if (cap > t->max)
			cap = t->max;
		data = realloc(t->data, cap);
		if (!data)
			return -ENOMEM;
		t->data = data;
		t->cap = cap;
	}
	memcpy(t->data + t->len, s, len);
	t->data[t->len + len] = '\0';
	*off = t->len;
	t->len = need;
	return 0;
}

void strtab__shrink(struct strtab *t)
{
	char *data;

	if (t->len && t->len < t->cap && (data = realloc(t->data, t->len))) {
		t->data = data;
		t->cap = t->len;
	}
}
