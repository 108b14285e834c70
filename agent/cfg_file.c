// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cfg_file.c - the --config YAML file, and what a reload may change
 *
 * A top-level mapping whose keys are the long options' names (frequency,
 * output-dir, basic-auth-password-file, ...), each value handed to
 * cfg_apply as its flag's would be; plus labels: and headers: as mappings
 * and relabel_configs: as Prometheus writes them. libyaml reads the file;
 * every refusal names the file and the line. Thread: main.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cfg.h"
#include "cfg_internal.h"
#include "file.h"
#include "log.h"
#include "relabel.h"
#include "vec.h"

/* A configuration is a page of text; a bigger file is a mistake. */
#define CFG_FILE_MAX (1024 * 1024)
#define CFG_FILE_MAX_KEYS 128

/* Keys a reload takes while running; any other change needs a restart. */
static const char *const reloadable_keys[] = {
	"labels", "label", "host", "relabel_configs", "log-level", "verbose",
};

/* Keys that may be given as a list, like their repeatable flags. */
static const char *const list_keys[] = { "pid", "label", "header" };

struct loader {
	struct cfg *cfg;
	yaml_document_t doc;
	struct cfg_where where;
	size_t opts_cap;
};

/* A key's value as text: what a reload compares. */
struct text {
	char *p;
	size_t len, cap;
};

static bool in_list(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!strcmp(s, list[i]))
			return true;
	}
	return false;
}

static const struct cfg_where *at(struct loader *ld, const yaml_node_t *n)
{
	ld->where.line = n->start_mark.line + 1;
	return &ld->where;
}

static const char *kind(const yaml_node_t *n)
{
	return n->type == YAML_MAPPING_NODE  ? "a mapping" :
	       n->type == YAML_SEQUENCE_NODE ? "a list" :
					       "a value";
}

/* The scalar n copied into cfg's strings, or NULL (logged) when n is no
 * scalar. */
static char *scalar(struct loader *ld, const yaml_node_t *n, const char *key)
{
	char *s;

	if (n->type != YAML_SCALAR_NODE) {
		cfg_bad(at(ld, n), "%s expects a single value, not %s", key, kind(n));
		return NULL;
	}
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
		cfg_bad(at(ld, n), "%s has a NUL byte in its value", key);
		return NULL;
	}
	s = arena_strdup(&ld->cfg->strings, (const char *)n->data.scalar.value);
	if (!s)
		cfg_bad(at(ld, n), "out of memory");
	return s;
}

/* Keeps key's value as text in cfg, for a reload to compare. */
static int remember_key(struct loader *ld, const char *key, const char *text)
{
	struct cfg *cfg = ld->cfg;
	char *k = arena_strdup(&cfg->strings, key), *v = arena_strdup(&cfg->strings, text);

	if (!k || !v ||
	    VEC_RESERVE(cfg->file_opts, ld->opts_cap, cfg->nfile_opts + 1, CFG_FILE_MAX_KEYS))
		return -ENOMEM;
	cfg->file_opts[cfg->nfile_opts++] = (struct label){ k, v };
	return 0;
}

/* Appends one value and a newline. */
static int text_add(struct text *t, const char *value)
{
	size_t len = strlen(value);
	int err = VEC_RESERVE(t->p, t->cap, t->len + len + 2, CFG_FILE_MAX);

	if (err)
		return err;
	memcpy(t->p + t->len, value, len);
	t->len += len;
	t->p[t->len++] = '\n';
	t->p[t->len] = '\0';
	return 0;
}

/* One value of option opt from node n: the same cfg_apply as its flag. */
static int apply_value(struct loader *ld, const char *key, int opt, const yaml_node_t *n,
		       struct text *t)
{
	char *s = scalar(ld, n, key);

	if (!s)
		return -EINVAL;
	/* Before cfg_apply: it may cut s in two (KEY=VALUE). */
	if (text_add(t, s))
		return cfg_bad(at(ld, n), "out of memory");
	return cfg_apply(ld->cfg, opt, s, at(ld, n));
}

/* labels: and headers:, as mappings of names to values. */
static int load_pairs(struct loader *ld, const char *key, const char *flag, const char *sep,
		      const yaml_node_t *map, struct text *t)
{
	yaml_node_pair_t *pair;
	bool takes_value;
	int opt = cfg_option(flag, &takes_value);
	int err;

	if (map->type != YAML_MAPPING_NODE)
		return cfg_bad(at(ld, map), "%s expects a mapping of names to values, not %s", key,
			       kind(map));
	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(&ld->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(&ld->doc, pair->value);
		char *name = k ? scalar(ld, k, key) : NULL, *value, *joined;
		size_t len;

		if (!name || !v || !(value = scalar(ld, v, name)))
			return -EINVAL;
		len = strlen(name) + strlen(sep) + strlen(value) + 1;
		joined = arena_alloc(&ld->cfg->strings, len);
		if (!joined)
			return cfg_bad(at(ld, v), "out of memory");
		snprintf(joined, len, "%s%s%s", name, sep, value);
		if (text_add(t, joined))
			return cfg_bad(at(ld, v), "out of memory");
		err = cfg_apply(ld->cfg, opt, joined, at(ld, k));
		if (err)
			return err;
	}
	return 0;
}

static int parse_modulus(struct loader *ld, const yaml_node_t *n, uint64_t *out)
{
	char *s = scalar(ld, n, "modulus"), *end;
	unsigned long long v;

	if (!s)
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] < '1' || s[0] > '9')
		return cfg_bad(at(ld, n), "invalid modulus '%s': expected a whole number above 0",
			       s);
	*out = v;
	return 0;
}

/* One relabel_configs entry: Prometheus's field names, relabel__add's rules. */
static int load_rule(struct loader *ld, const yaml_node_t *map, size_t index)
{
	const char *sources[RELABEL_MAX_SOURCES];
	struct relabel_spec spec = { .source_labels = sources };
	yaml_node_pair_t *pair;
	char why[512];
	int err;

	if (map->type != YAML_MAPPING_NODE)
		return cfg_bad(at(ld, map), "relabel_configs entry %zu is %s, not a mapping",
			       index + 1, kind(map));
	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(&ld->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(&ld->doc, pair->value);
		const char *name = k ? scalar(ld, k, "relabel_configs") : NULL;
		const char **field = NULL;

		if (!name || !v)
			return -EINVAL;
		if (!strcmp(name, "action"))
			field = &spec.action;
		else if (!strcmp(name, "separator"))
			field = &spec.separator;
		else if (!strcmp(name, "regex"))
			field = &spec.regex;
		else if (!strcmp(name, "target_label"))
			field = &spec.target_label;
		else if (!strcmp(name, "replacement"))
			field = &spec.replacement;
		if (field) {
			if (!(*field = scalar(ld, v, name)))
				return -EINVAL;
			continue;
		}
		if (!strcmp(name, "modulus")) {
			if ((err = parse_modulus(ld, v, &spec.modulus)))
				return err;
			continue;
		}
		if (strcmp(name, "source_labels"))
			return cfg_bad(at(ld, k),
				       "unknown relabel_configs field '%.64s': expected action, "
				       "source_labels, separator, regex, target_label, replacement "
				       "or modulus",
				       name);
		if (v->type != YAML_SEQUENCE_NODE)
			return cfg_bad(at(ld, v), "source_labels expects a list of names, not %s",
				       kind(v));
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			yaml_node_t *item = yaml_document_get_node(&ld->doc, *it);

			if (spec.nsource_labels == RELABEL_MAX_SOURCES)
				return cfg_bad(at(ld, v), "more than %d source_labels",
					       RELABEL_MAX_SOURCES);
			if (!item ||
			    !(sources[spec.nsource_labels++] = scalar(ld, item, "source_labels")))
				return -EINVAL;
		}
	}
	err = relabel__add(ld->cfg->relabel, &spec, why, sizeof(why));
	if (err)
		return cfg_bad(at(ld, map), "relabel_configs entry %zu: %s", index + 1, why);
	return 0;
}

static int load_rules(struct loader *ld, const yaml_node_t *seq)
{
	yaml_node_item_t *it;
	int err;

	if (seq->type != YAML_SEQUENCE_NODE)
		return cfg_bad(at(ld, seq), "relabel_configs expects a list of rules, not %s",
			       kind(seq));
	if (!ld->cfg->relabel && !(ld->cfg->relabel = relabel__new()))
		return cfg_bad(at(ld, seq), "out of memory");
	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *rule = yaml_document_get_node(&ld->doc, *it);

		if (!rule)
			return cfg_bad(at(ld, seq), "relabel_configs has an empty entry");
		err = load_rule(ld, rule, it - seq->data.sequence.items.start);
		if (err)
			return err;
	}
	return 0;
}

/* Any other key: a long option by its name. */
static int load_option(struct loader *ld, const yaml_node_t *k, const char *key,
		       const yaml_node_t *v, struct text *t)
{
	bool takes_value;
	int opt = cfg_option(key, &takes_value), err;
	char *s;

	if (!strcmp(key, "config") || !strcmp(key, "help"))
		return cfg_bad(at(ld, k), "%s cannot be set in the configuration file", key);
	if (opt < 0)
		return cfg_bad(at(ld, k),
			       "unknown key '%.64s': keys are the long options' names (as in "
			       "ember --help, without --), labels, headers or relabel_configs",
			       key);
	if (!takes_value) {
		if (!(s = scalar(ld, v, key)))
			return -EINVAL;
		if (text_add(t, s))
			return cfg_bad(at(ld, v), "out of memory");
		if (!strcmp(s, "false"))
			return 0;
		if (strcmp(s, "true"))
			return cfg_bad(at(ld, v), "%s expects true or false, not '%.64s'", key, s);
		return cfg_apply(ld->cfg, opt, NULL, at(ld, v));
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return apply_value(ld, key, opt, v, t);
	if (!in_list(key, list_keys, sizeof(list_keys) / sizeof(list_keys[0])))
		return cfg_bad(at(ld, v), "%s takes one value, not a list", key);
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *item = yaml_document_get_node(&ld->doc, *it);

		if (!item)
			return cfg_bad(at(ld, v), "%s has an empty entry", key);
		if ((err = apply_value(ld, key, opt, item, t)))
			return err;
	}
	return 0;
}

static int load_root(struct loader *ld, const yaml_node_t *root)
{
	struct text t = { 0 };
	yaml_node_pair_t *pair, *prev;
	int err = 0;

	if (root->type != YAML_MAPPING_NODE)
		return cfg_bad(at(ld, root), "the file must be a mapping of keys to values, not %s",
			       kind(root));
	for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(&ld->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(&ld->doc, pair->value);
		const char *key;

		if (!k || !v || k->type != YAML_SCALAR_NODE) {
			err = cfg_bad(k ? at(ld, k) : &ld->where, "a key must be a plain name");
			break;
		}
		key = (const char *)k->data.scalar.value;
		/* YAML leaves a repeated key to the reader: refuse it rather
		 * than pick one. */
		for (prev = root->data.mapping.pairs.start; prev < pair; prev++) {
			yaml_node_t *pk = yaml_document_get_node(&ld->doc, prev->key);

			if (pk && pk->type == YAML_SCALAR_NODE &&
			    !strcmp((const char *)pk->data.scalar.value, key))
				break;
		}
		if (prev < pair) {
			err = cfg_bad(at(ld, k), "key %.64s is given twice", key);
			break;
		}
		t.len = 0;
		if (!strcmp(key, "relabel_configs"))
			err = load_rules(ld, v);
		else if (!strcmp(key, "labels"))
			err = load_pairs(ld, key, "label", "=", v, &t);
		else if (!strcmp(key, "headers"))
			err = load_pairs(ld, key, "header", ": ", v, &t);
		else
			err = load_option(ld, k, key, v, &t);
		if (!err && (err = remember_key(ld, key, t.p ? t.p : "")))
			err = err == -ENOSPC ?
				      cfg_bad(at(ld, k), "more than %d keys", CFG_FILE_MAX_KEYS) :
				      cfg_bad(at(ld, k), "out of memory");
		if (err)
			break;
	}
	free(t.p);
	return err;
}

int cfg_file_parse(struct cfg *cfg, const char *name, const char *text, size_t len, bool reload)
{
	struct loader ld = { .cfg = cfg, .where = { .file = name, .reload = reload } };
	yaml_parser_t parser;
	yaml_node_t *root;
	int err;

	if (!yaml_parser_initialize(&parser))
		return cfg_bad(&ld.where, "out of memory starting the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &ld.doc)) {
		ld.where.line = parser.problem_mark.line + 1;
		err = cfg_bad(&ld.where, "not valid YAML: %s%s%s",
			      parser.problem ? parser.problem : "parse error",
			      parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return err;
	}
	root = yaml_document_get_root_node(&ld.doc);
	/* An empty file (or only comments) sets nothing. */
	err = root ? load_root(&ld, root) : 0;
	yaml_document_delete(&ld.doc);
	yaml_parser_delete(&parser);
	return err;
}

int cfg_file_load(struct cfg *cfg, const char *path, bool reload)
{
	struct cfg_where where = { .file = path, .reload = reload };
	ssize_t len;
	char *buf;
	int err;

	buf = malloc(CFG_FILE_MAX + 1);
	if (!buf)
		return cfg_bad(&where, "out of memory reading the configuration file");
	len = file_read(path, buf, CFG_FILE_MAX + 1);
	if (len == -EFBIG)
		err = cfg_bad(&where, "the file is over %d bytes", CFG_FILE_MAX);
	else if (len < 0)
		err = cfg_bad(&where, "cannot read the configuration file: %s",
			      strerror((int)-len));
	else
		err = cfg_file_parse(cfg, path, buf, (size_t)len, reload);
	free(buf);
	return err;
}

static const char *file_value(const struct cfg *cfg, const char *key)
{
	size_t i;

	for (i = 0; i < cfg->nfile_opts; i++) {
		if (!strcmp(cfg->file_opts[i].name, key))
			return cfg->file_opts[i].value;
	}
	return NULL;
}

/* Logs key when its file value differs between cur and next. */
static size_t restart_needed(const struct cfg *cur, const struct cfg *next, const char *key)
{
	const char *a = file_value(cur, key), *b = file_value(next, key);

	if (in_list(key, reloadable_keys, sizeof(reloadable_keys) / sizeof(reloadable_keys[0])))
		return 0;
	if ((!a && !b) || (a && b && !strcmp(a, b)))
		return 0;
	log_warn("config: %s changed in %s but needs a restart; the running value is kept", key,
		 next->config_file);
	return 1;
}

size_t cfg_take_reloadable(struct cfg *cur, struct cfg *next)
{
	struct relabel *rl;
	struct arena strings;
	size_t i, n = 0;

	for (i = 0; i < next->nfile_opts; i++)
		n += restart_needed(cur, next, next->file_opts[i].name);
	/* A key the new file no longer has changed too. */
	for (i = 0; i < cur->nfile_opts; i++) {
		if (!file_value(next, cur->file_opts[i].name))
			n += restart_needed(cur, next, cur->file_opts[i].name);
	}
	memcpy(cur->labels, next->labels, sizeof(cur->labels));
	cur->nlabels = next->nlabels;
	cur->host = next->host;
	cur->log_level = next->log_level;
	cur->verbose = next->verbose;
	rl = cur->relabel;
	cur->relabel = next->relabel;
	next->relabel = rl;
	/* The labels now point into next's file strings, and cur's previous
	 * reload's strings are no longer read: they go with next. */
	strings = cur->reload_strings;
	cur->reload_strings = next->strings;
	next->strings = strings;
	return n;
}
