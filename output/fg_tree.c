// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fg_tree.c - interned names and a call tree keyed by (parent, name) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "fg_tree.h"
#include "hindex.h"
#include "strtab.h"
#include "utf8.h"
#include "vec.h"

struct fg_names {
	struct strtab blob;
	uint32_t *offs; /* id -> offset in blob */
	size_t len, cap;
	struct hindex ix;
};

struct fg_tree {
	struct fg_names *names;
	struct fg_node *nodes;
	size_t len, cap, max;
	struct hindex ix; /* hash(parent, name) -> node + 1 */
	/* The last stack added, in walk order, and its nodes: inputs come
	 * sorted or grouped, so the next stack mostly shares a prefix that
	 * needs no lookup. */
	uint32_t last_ids[FG_MAX_DEPTH], last_path[FG_MAX_DEPTH];
	size_t last_n;
	uint64_t truncated;
	bool reverse;
	bool sealed;
};

struct name_key {
	const char *s;
	size_t len;
};

static bool name_eq(const void *ctx, uint32_t val, const void *key)
{
	const struct fg_names *n = ctx;
	const struct name_key *k = key;
	const char *s = n->blob.data + n->offs[val - 1];

	return !strncmp(s, k->s, k->len) && s[k->len] == '\0';
}

struct fg_names *fg_names__new(size_t max_bytes)
{
	struct fg_names *n = calloc(1, sizeof(*n));
	uint32_t id;

	if (!n)
		return NULL;
	n->blob.max = max_bytes;
	if (fg_names__intern(n, "all", 3, &id)) {
		fg_names__free(n);
		errno = ENOMEM;
		return NULL;
	}
	return n;
}

void fg_names__free(struct fg_names *n)
{
	if (!n)
		return;
	free(n->blob.data);
	free(n->offs);
	hindex_release(&n->ix);
	free(n);
}

int fg_names__intern(struct fg_names *n, const char *s, size_t len, uint32_t *id)
{
	char small[1024], *fixed = NULL;
	struct name_key key;
	uint64_t h;
	uint32_t val, off;
	int err;

	/* A name with stray bytes is stored repaired: the SVG must be valid
	 * UTF-8, and the repaired text is what a search should match. */
	if (!utf8_valid(s, len)) {
		/* utf8_copy reads a C string: s is a slice of a line, so it is
		 * terminated in the second half of the buffer first. */
		fixed = 2 * (len + 1) <= sizeof(small) ? small : malloc(2 * (len + 1));
		if (!fixed)
			return -ENOMEM;
		memcpy(fixed + len + 1, s, len);
		fixed[2 * len + 1] = '\0';
		len = utf8_copy(fixed, fixed + len + 1, len);
		s = fixed;
	}
	key = (struct name_key){ s, len };
	h = hindex_hash_bytes(s, len);
	val = hindex_find(&n->ix, h, name_eq, n, &key);
	if (val) {
		*id = val - 1;
		err = 0;
		goto cleanup;
	}
	err = VEC_RESERVE(n->offs, n->cap, n->len + 1, UINT32_MAX - 1);
	if (!err)
		err = strtab__add(&n->blob, s, len, &off);
	if (!err)
		err = hindex_add(&n->ix, h, (uint32_t)n->len + 1);
	if (err)
		goto cleanup;
	n->offs[n->len] = off;
	*id = (uint32_t)n->len++;
cleanup:
	if (fixed != small)
		free(fixed);
	return err;
}

const char *fg_names__str(const struct fg_names *n, uint32_t id)
{
	return id < n->len ? n->blob.data + n->offs[id] : "?";
}

size_t fg_names__count(const struct fg_names *n)
{
	return n->len;
}

static uint64_t node_hash(uint32_t parent, uint32_t name)
{
	return hindex_mix64(((uint64_t)parent << 32) | name);
}

struct node_key {
	uint32_t parent, name;
};

static bool node_eq(const void *ctx, uint32_t val, const void *key)
{
	const struct fg_tree *t = ctx;
	const struct node_key *k = key;
	const struct fg_node *nd = &t->nodes[val - 1];

	return nd->parent == k->parent && nd->name == k->name;
}

struct fg_tree *fg_tree__new(struct fg_names *names, size_t max_nodes, bool reverse)
{
	struct fg_tree *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->names = names;
	t->max = max_nodes < UINT32_MAX - 1 ? max_nodes : UINT32_MAX - 1;
	t->reverse = reverse;
	if (VEC_RESERVE(t->nodes, t->cap, 1, t->max)) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->nodes[0] = (struct fg_node){ .parent = FG_NONE, .child = FG_NONE, .next = FG_NONE };
	t->len = 1;
	return t;
}

void fg_tree__free(struct fg_tree *t)
{
	if (!t)
		return;
	free(t->nodes);
	hindex_release(&t->ix);
	free(t);
}

uint32_t fg_tree__child(const struct fg_tree *t, uint32_t parent, uint32_t name)
{
	struct node_key key = { parent, name };
	uint32_t val = hindex_find(&t->ix, node_hash(parent, name), node_eq, t, &key);

	return val ? val - 1 : FG_NONE;
}

/* The child of parent named name, made if missing: FG_NONE past the bound. */
static uint32_t child_get(struct fg_tree *t, uint32_t parent, uint32_t name, int *err)
{
	uint32_t c = fg_tree__child(t, parent, name);
	struct fg_node *p;

	if (c != FG_NONE)
		return c;
	*err = VEC_RESERVE(t->nodes, t->cap, t->len + 1, t->max);
	if (*err == -ENOSPC) {
		*err = 0;
		return FG_NONE;
	}
	if (*err || (*err = hindex_add(&t->ix, node_hash(parent, name), (uint32_t)t->len + 1)))
		return FG_NONE;
	c = (uint32_t)t->len++;
	p = &t->nodes[parent];
	t->nodes[c] = (struct fg_node){ .name = name,
					.parent = parent,
					.child = FG_NONE,
					.next = p->child,
					.depth = p->depth + 1 };
	p->child = c;
	return c;
}

int fg_tree__add(struct fg_tree *t, const uint32_t *ids, size_t n, uint64_t count)
{
	uint32_t at = FG_ROOT, c;
	bool cut = false;
	size_t i;
	int err = 0;

	if (t->sealed)
		return -EPERM;
	if (t->nodes[FG_ROOT].total + count < count || t->nodes[FG_ROOT].total + count > INT64_MAX)
		return -EOVERFLOW;
	if (n > FG_MAX_DEPTH) {
		caps__hit(CAPS_FG_DEPTH, 1, FG_MAX_DEPTH);
		/* The root side is kept: in a reversed tree that is the leaf. */
		if (t->reverse)
			ids += n - FG_MAX_DEPTH;
		n = FG_MAX_DEPTH;
	}
	/* Nodes are made first and counted after, so a stack that fails half
	 * way (no memory) leaves every total unchanged. */
	for (i = 0; i < n; i++) {
		uint32_t id = ids[t->reverse ? n - 1 - i : i];

		if (i < t->last_n && t->last_ids[i] == id) {
			at = t->last_path[i];
			continue;
		}
		t->last_n = i; /* the cached path ends where this one differs */
		c = child_get(t, at, id, &err);
		if (err)
			return err;
		if (c == FG_NONE) {
			cut = true;
			break;
		}
		at = c;
		t->last_ids[i] = id;
		t->last_path[i] = c;
		t->last_n = i + 1;
	}
	if (!cut && n < t->last_n)
		t->last_n = n;
	if (cut) {
		caps__hit(CAPS_FG_NODES, 1, t->max);
		t->truncated += count;
	}
	t->nodes[at].self += count;
	for (c = at; c != FG_NONE; c = t->nodes[c].parent)
		t->nodes[c].total += count;
	return 0;
}

static int cmp_by_name(const void *a, const void *b, void *ctx)
{
	const struct fg_tree *t = ctx;
	const struct fg_node *x = &t->nodes[*(const uint32_t *)a];
	const struct fg_node *y = &t->nodes[*(const uint32_t *)b];

	return strcmp(fg_names__str(t->names, x->name), fg_names__str(t->names, y->name));
}

int fg_tree__finish(struct fg_tree *t)
{
	uint32_t *kids = NULL, c;
	size_t cap = 0, n, i, k;
	int err;

	for (i = 0; i < t->len; i++) {
		n = 0;
		for (c = t->nodes[i].child; c != FG_NONE; c = t->nodes[c].next) {
			err = VEC_RESERVE(kids, cap, n + 1, SIZE_MAX);
			if (err)
				goto cleanup;
			kids[n++] = c;
		}
		if (n < 2)
			continue;
		qsort_r(kids, n, sizeof(*kids), cmp_by_name, t);
		t->nodes[i].child = kids[0];
		for (k = 0; k < n; k++)
			t->nodes[kids[k]].next = k + 1 < n ? kids[k + 1] : FG_NONE;
	}
	err = 0;
cleanup:
	free(kids);
	return err;
}

uint32_t fg_tree__next(const struct fg_tree *t, uint32_t i)
{
	const struct fg_node *nd = t->nodes;

	if (nd[i].child != FG_NONE)
		return nd[i].child;
	for (; i != FG_NONE; i = nd[i].parent)
		if (nd[i].next != FG_NONE)
			return nd[i].next;
	return FG_NONE;
}

void fg_tree__seal(struct fg_tree *t)
{
	hindex_release(&t->ix);
	t->last_n = 0;
	t->sealed = true;
}

const struct fg_node *fg_tree__nodes(const struct fg_tree *t, size_t *n)
{
	*n = t->len;
	return t->nodes;
}

const struct fg_names *fg_tree__names(const struct fg_tree *t)
{
	return t->names;
}

int fg_tree__intern(struct fg_tree *t, const char *s, size_t len, uint32_t *id)
{
	return fg_names__intern(t->names, s, len, id);
}

uint64_t fg_tree__truncated(const struct fg_tree *t)
{
	return t->truncated;
}
