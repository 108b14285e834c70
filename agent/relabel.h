/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* relabel.h - Prometheus relabel_configs rules applied to a process's label set
 *
 * Rules are checked and their regexes compiled (PCRE2, anchored as Prometheus
 * anchors them: ^(?:RE)$) once, when the configuration is loaded; applying
 * them to a label set then cannot fail except for memory. The semantics are
 * Prometheus's (replace, keep, drop, labelmap, labeldrop, labelkeep, hashmod,
 * lowercase, uppercase): a missing label reads as "", a label set to "" is
 * deleted. What the set becomes afterwards (which names survive, the __
 * prefix) is the caller's business (agent/labels.c). Thread: whoever owns
 * the rule list (the main loop): each rule keeps its own PCRE2 match data.
 */
#ifndef EMBER_RELABEL_H
#define EMBER_RELABEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "label.h"

/* Bounds: a configuration past them is refused at load with one line. */
#define RELABEL_MAX_RULES 256
#define RELABEL_MAX_SOURCES 32
/* A set grows past this only by a rule bug (labelmap copying everything
 * twice); apply() then stops adding and counts it. */
#define RELABEL_MAX_SET 256
/* PCRE2's match limit per match: past it the value does not match, and the
 * bound is counted (cap_relabel_match). */
#define RELABEL_MATCH_LIMIT 100000

/* One rule as written in the configuration; NULL / 0 fields take
 * Prometheus's defaults. Strings are copied by relabel__add. */
struct relabel_spec {
	const char *action; /* NULL: "replace" */
	const char *const *source_labels;
	size_t nsource_labels;
	const char *separator; /* NULL: ";" */
	const char *regex; /* NULL: "(.*)" */
	const char *target_label; /* NULL: none */
	const char *replacement; /* NULL: "$1" */
	uint64_t modulus; /* hashmod only; 0: not given */
};

/* A label set being relabelled: pairs in no particular order, no name
 * twice. Strings put in are borrowed from the caller; strings rules make
 * live in *arena. A value type: zero it, set arena, reuse it with
 * relabel_set_clear, free it with relabel_set_release. */
struct relabel_set {
	struct label *v;
	size_t n, cap;
	struct arena *arena;
	uint64_t overflows; /* labels not added: the set was at RELABEL_MAX_SET */
};

/* Sets name to value (both borrowed, both valid UTF-8: the rules match
 * without checking), replacing a label of that name; an
 * empty or NULL value deletes it, as Prometheus's Set does. 0 or -ENOMEM
 * (-ENOSPC past RELABEL_MAX_SET, counted in overflows). */
int relabel_set_put(struct relabel_set *s, const char *name, const char *value);
/* The value of name, or NULL. */
const char *relabel_set_get(const struct relabel_set *s, const char *name);
void relabel_set_del(struct relabel_set *s, const char *name);
void relabel_set_clear(struct relabel_set *s);
void relabel_set_release(struct relabel_set *s);

struct relabel;

/* An empty rule list (applying it keeps every set unchanged). NULL with errno. */
struct relabel *relabel__new(void);
/* Accepts NULL. */
void relabel__free(struct relabel *rl);
/* Checks spec against Prometheus's rules (an action it knows, the fields
 * that action needs and no fields it ignores, a target label that is a
 * valid name or a $-template for replace, a modulus for hashmod, a regex
 * that compiles) and appends it. 0; -EINVAL with the reason in why (no
 * newline, no location: the caller knows the file and line); -ENOSPC past
 * RELABEL_MAX_RULES; -ENOMEM. */
int relabel__add(struct relabel *rl, const struct relabel_spec *spec, char *why, size_t whylen);
size_t relabel__count(const struct relabel *rl);

/* Applies every rule in order to s. 1: keep the set; 0: a keep or drop rule
 * dropped it (s is then left as it was at that rule); -ENOMEM. */
int relabel__apply(const struct relabel *rl, struct relabel_set *s);

/* True when name is a valid label name in the legacy Prometheus charset,
 * [A-Za-z_][A-Za-z0-9_]*, what Pyroscope 1.x accepts unsanitized. */
bool relabel_name_valid(const char *name);

#endif /* EMBER_RELABEL_H */
