/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* fg_tree.h - the aggregated-stack model: interned names and a call tree
 *
 * Every reader (folded text, pprof, a window series) feeds stacks here and
 * every view (flame graph, diff, later top and report) reads the tree. A
 * stack is never kept as text: each (parent, name) pair is one node, found
 * through a hash index, so memory grows with the number of unique stack
 * prefixes, never with the number of input lines. Names live in an
 * fg_names table that several trees may share (a diff's BEFORE and AFTER),
 * so one name has one id in both. Not thread-safe; one owner each.
 */
#ifndef EMBER_FG_TREE_H
#define EMBER_FG_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Node 0 is the root ("all"); name 0 is its name. */
#define FG_ROOT 0
#define FG_NONE UINT32_MAX
/* Frames kept per stack; deeper stacks lose their leafmost frames (their
 * samples stay, on the deepest frame kept), counted in caps fg_depth. */
#define FG_MAX_DEPTH 4096

struct fg_names;

/* NULL with errno set. The name table is bounded by max_bytes. */
struct fg_names *fg_names__new(size_t max_bytes);
void fg_names__free(struct fg_names *n);
/* Interns s[0..len), repaired to valid UTF-8 first (so one name reads the
 * same in every output); *id gets its id. 0, -E2BIG past the bound, -ENOMEM. */
int fg_names__intern(struct fg_names *n, const char *s, size_t len, uint32_t *id);
/* The NUL-terminated name of id; valid until the table is freed. */
const char *fg_names__str(const struct fg_names *n, uint32_t id);
size_t fg_names__count(const struct fg_names *n);

struct fg_node {
	uint32_t name;
	uint32_t parent; /* FG_NONE for the root */
	uint32_t child; /* first child, FG_NONE for a leaf */
	uint32_t next; /* next sibling, FG_NONE for the last */
	uint32_t depth; /* the root is 0 */
	uint64_t total; /* samples of this node and everything under it */
	uint64_t self; /* samples that end here */
};

struct fg_tree;

/* A tree over names (borrowed; must outlive the tree), at most max_nodes
 * nodes. reverse builds the inverted tree: leaves become roots, so the
 * graph shows the callers of the hottest functions. NULL with errno set. */
struct fg_tree *fg_tree__new(struct fg_names *names, size_t max_nodes, bool reverse);
void fg_tree__free(struct fg_tree *t);
/* Adds count samples of the stack ids[0..n), root first. A stack that needs
 * a node past max_nodes ends at the deepest node that exists (its samples
 * are kept there, counted in caps fg_nodes, one warning). 0, -EOVERFLOW when
 * the total would pass 2^63, -ENOMEM. */
int fg_tree__add(struct fg_tree *t, const uint32_t *ids, size_t n, uint64_t count);
/* Orders every node's children by name, so the layout is the same whatever
 * the input order. Call once, after the last add. 0 or -ENOMEM. */
int fg_tree__finish(struct fg_tree *t);
/* Frees the index behind fg_tree__child and fg_tree__add, a third of a
 * large tree's memory, for a tree that will only be read through its
 * nodes. After it, fg_tree__add returns -EPERM and fg_tree__child FG_NONE. */
void fg_tree__seal(struct fg_tree *t);
/* The nodes, root first; stable after fg_tree__finish. */
const struct fg_node *fg_tree__nodes(const struct fg_tree *t, size_t *n);
/* The node after i in depth-first order (children in their order), or
 * FG_NONE after the last: from FG_ROOT, every node once. */
uint32_t fg_tree__next(const struct fg_tree *t, uint32_t i);
/* The child of parent named name, or FG_NONE. */
uint32_t fg_tree__child(const struct fg_tree *t, uint32_t parent, uint32_t name);
const struct fg_names *fg_tree__names(const struct fg_tree *t);
/* fg_names__intern on the tree's name table, for the readers. */
int fg_tree__intern(struct fg_tree *t, const char *s, size_t len, uint32_t *id);
/* Samples whose stacks were cut short by the bounds. */
uint64_t fg_tree__truncated(const struct fg_tree *t);

#endif /* EMBER_FG_TREE_H */
