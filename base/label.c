// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* label.c - comparing and searching sorted label sets */
#include <stdlib.h>
#include <string.h>

#include "label.h"

int label_cmp_name(const void *a, const void *b)
{
	const struct label *x = a, *y = b;

	return strcmp(x->name, y->name);
}

int label_set_cmp(const struct label *a, size_t na, const struct label *b, size_t nb)
{
	size_t i;
	int c;

	for (i = 0; i < na && i < nb; i++) {
		c = strcmp(a[i].name, b[i].name);
		if (!c)
			c = strcmp(a[i].value, b[i].value);
		if (c)
			return c;
	}
	return na < nb ? -1 : na > nb;
}

const char *label_set_get(const struct label *set, size_t n, const char *name)
{
	const struct label key = { .name = name }, *l;

	if (!n)
		return NULL;
	l = bsearch(&key, set, n, sizeof(*set), label_cmp_name);
	return l ? l->value : NULL;
}
