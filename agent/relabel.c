// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* relabel.c - Prometheus relabel_configs semantics over PCRE2
 *
 * Follows Prometheus's model/relabel package rule for rule: the source
 * values joined by the separator are matched against the fully anchored
 * regex, and replacement and (for replace) target_label are expanded with
 * Go's Regexp.Expand rules ($1, ${1}, ${name}, $$; a $ that names nothing
 * stays a literal $; a group that did not take part expands to "").
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "caps.h"
#include "relabel.h"
#include "utf8.h"
#include "vec.h"

enum relabel_action {
	RELABEL_REPLACE,
	RELABEL_KEEP,
	RELABEL_DROP,
	RELABEL_LABELMAP,
	RELABEL_LABELDROP,
	RELABEL_LABELKEEP,
	RELABEL_HASHMOD,
	RELABEL_LOWERCASE,
	RELABEL_UPPERCASE,
};

static const char *const action_names[] = {
	[RELABEL_REPLACE] = "replace",	   [RELABEL_KEEP] = "keep",
	[RELABEL_DROP] = "drop",	   [RELABEL_LABELMAP] = "labelmap",
	[RELABEL_LABELDROP] = "labeldrop", [RELABEL_LABELKEEP] = "labelkeep",
	[RELABEL_HASHMOD] = "hashmod",	   [RELABEL_LOWERCASE] = "lowercase",
	[RELABEL_UPPERCASE] = "uppercase",
};

#define DEFAULT_SEPARATOR ";"
#define DEFAULT_REGEX "(.*)"
#define DEFAULT_REPLACEMENT "$1"

struct relabel_rule {
	enum relabel_action action;
	char **sources;
	size_t nsources;
	char *separator;
	char *target;
	char *replacement;
	uint64_t modulus;
	pcre2_code *re;
	pcre2_match_data *md; /* sized for re; only the applying thread uses it */
	EVP_MD *md5; /* hashmod: fetched once, an implicit fetch per digest costs more than it */
	pcre2_match_context *mctx; /* the list's, borrowed */
};

struct relabel {
	struct relabel_rule *rules;
	size_t n, cap;
	pcre2_match_context *mctx; /* the match limit, for every rule */
};

/* A growing output buffer for joins and expansions. */
struct buf {
	char *p;
	size_t len, cap;
};

static int buf_add(struct buf *b, const char *s, size_t len)
{
	int err = VEC_RESERVE(b->p, b->cap, b->len + len + 1, SIZE_MAX);

	if (err)
		return err;
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

bool relabel_name_valid(const char *s)
{
	const char *p;

	if (!s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (p = s + 1; *p; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	}
	return true;
}

/* ---- the label set ---- */

static ssize_t set_find(const struct relabel_set *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (!strcmp(s->v[i].name, name))
			return (ssize_t)i;
	}
	return -1;
}

const char *relabel_set_get(const struct relabel_set *s, const char *name)
{
	ssize_t i = set_find(s, name);

	return i < 0 ? NULL : s->v[i].value;
}

void relabel_set_del(struct relabel_set *s, const char *name)
{
	ssize_t i = set_find(s, name);

	if (i >= 0)
		s->v[i] = s->v[--s->n];
}

int relabel_set_put(struct relabel_set *s, const char *name, const char *value)
{
	ssize_t i;
	int err;

	if (!value || !value[0]) {
		relabel_set_del(s, name);
		return 0;
	}
	i = set_find(s, name);
	if (i >= 0) {
		s->v[i].value = value;
		return 0;
	}
	err = VEC_RESERVE(s->v, s->cap, s->n + 1, RELABEL_MAX_SET);
	if (err) {
		if (err == -ENOSPC)
			s->overflows++;
		return err;
	}
	s->v[s->n++] = (struct label){ name, value };
	return 0;
}

void relabel_set_clear(struct relabel_set *s)
{
	s->n = 0;
}

void relabel_set_release(struct relabel_set *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

/* ---- building rules ---- */

__attribute__((format(printf, 3, 4))) static int why_set(char *why, size_t len, const char *fmt,
							 ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static void rule_fini(struct relabel_rule *r)
{
	size_t i;

	for (i = 0; i < r->nsources; i++)
		free(r->sources[i]);
	free(r->sources);
	free(r->separator);
	free(r->target);
	free(r->replacement);
	pcre2_match_data_free(r->md);
	pcre2_code_free(r->re);
	EVP_MD_free(r->md5);
}

struct relabel *relabel__new(void)
{
	struct relabel *rl = calloc(1, sizeof(*rl));

	if (!rl)
		return NULL;
	/* PCRE2 backtracks (RE2, Prometheus's engine, does not): a regex like
	 * (a+)+b over a long path could spin. The limit bounds each match. */
	rl->mctx = pcre2_match_context_create(NULL);
	if (!rl->mctx || pcre2_set_match_limit(rl->mctx, RELABEL_MATCH_LIMIT)) {
		relabel__free(rl);
		errno = ENOMEM;
		return NULL;
	}
	return rl;
}

void relabel__free(struct relabel *rl)
{
	size_t i;

	if (!rl)
		return;
	for (i = 0; i < rl->n; i++)
		rule_fini(&rl->rules[i]);
	free(rl->rules);
	pcre2_match_context_free(rl->mctx);
	free(rl);
}

size_t relabel__count(const struct relabel *rl)
{
	return rl ? rl->n : 0;
}

/* Prometheus's check of a replace target: a name, or a template of names
 * and $-references (relabelTarget in model/relabel). */
static bool target_template_valid(const char *s)
{
	const char *p = s;

	if (!*p)
		return false;
	while (*p) {
		if (*p == '$') {
			p++;
			if (*p == '{') {
				const char *q = ++p;

				while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
				       (*p >= '0' && *p <= '9') || *p == '_')
					p++;
				if (p == q || *p != '}')
					return false;
				p++;
				continue;
			}
		}
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
		p++;
	}
	return s[0] < '0' || s[0] > '9';
}

static int compile_regex(struct relabel_rule *r, const char *regex, char *why, size_t whylen)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	struct buf pat = { 0 };
	int code, err;

	/* Prometheus anchors at both ends; DOLLAR_ENDONLY because PCRE2's $
	 * would also match before a final newline, Go's does not. */
	if ((err = buf_add(&pat, "^(?:", 4)) || (err = buf_add(&pat, regex, strlen(regex))) ||
	    (err = buf_add(&pat, ")$", 2))) {
		free(pat.p);
		return err;
	}
	r->re = pcre2_compile((PCRE2_SPTR)pat.p, pat.len, PCRE2_UTF | PCRE2_DOLLAR_ENDONLY, &code,
			      &off, NULL);
	free(pat.p);
	if (!r->re) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		/* The offset is in the wrapped pattern: 4 bytes of "^(?:" before
		 * the regex, and past its end when something is left open. */
		off = off >= 4 ? off - 4 : 0;
		if (off > strlen(regex))
			off = strlen(regex);
		return why_set(why, whylen, "regex '%.200s' does not compile: %s at offset %zu",
			       regex, (const char *)msg, (size_t)off);
	}
	/* JIT when the CPU has it: 50 rules on every process each window. */
	pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
	r->md = pcre2_match_data_create_from_pattern(r->re, NULL);
	return r->md ? 0 : -ENOMEM;
}

static char *dup_or(const char *s, const char *def)
{
	return strdup(s ? s : def);
}

int relabel__add(struct relabel *rl, const struct relabel_spec *spec, char *why, size_t whylen)
{
	struct relabel_rule r = { 0 };
	size_t i;
	int err;

	if (rl->n >= RELABEL_MAX_RULES) {
		why_set(why, whylen, "more than %d relabel rules", RELABEL_MAX_RULES);
		return -ENOSPC;
	}
	r.action = RELABEL_REPLACE;
	if (spec->action) {
		for (i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++) {
			if (!strcmp(spec->action, action_names[i]))
				break;
		}
		if (i == sizeof(action_names) / sizeof(action_names[0]))
			return why_set(
				why, whylen,
				"unknown relabel action '%.64s': expected replace, keep, drop, "
				"labelmap, labeldrop, labelkeep, hashmod, lowercase or "
				"uppercase",
				spec->action);
		r.action = i;
	}
	/* What rules write must stay UTF-8: matching skips the check. */
	if ((spec->separator && !utf8_valid(spec->separator, strlen(spec->separator))) ||
	    (spec->replacement && !utf8_valid(spec->replacement, strlen(spec->replacement))) ||
	    (spec->target_label && !utf8_valid(spec->target_label, strlen(spec->target_label))))
		return why_set(why, whylen,
			       "separator, replacement and target_label must be UTF-8");
	if (spec->nsource_labels > RELABEL_MAX_SOURCES)
		return why_set(why, whylen, "more than %d source_labels", RELABEL_MAX_SOURCES);
	for (i = 0; i < spec->nsource_labels; i++) {
		if (!relabel_name_valid(spec->source_labels[i]))
			return why_set(why, whylen,
				       "source label '%.64s' is not a valid label name "
				       "([A-Za-z_][A-Za-z0-9_]*)",
				       spec->source_labels[i]);
	}
	switch (r.action) {
	case RELABEL_REPLACE:
	case RELABEL_HASHMOD:
	case RELABEL_LOWERCASE:
	case RELABEL_UPPERCASE:
		if (!spec->target_label || !spec->target_label[0])
			return why_set(why, whylen, "relabel action %s needs target_label",
				       action_names[r.action]);
		if (r.action == RELABEL_REPLACE ? !target_template_valid(spec->target_label) :
						  !relabel_name_valid(spec->target_label))
			return why_set(why, whylen,
				       "target_label '%.64s' is not a valid label name",
				       spec->target_label);
		break;
	case RELABEL_LABELDROP:
	case RELABEL_LABELKEEP:
		if (spec->nsource_labels || spec->separator || spec->target_label ||
		    spec->replacement || spec->modulus)
			return why_set(why, whylen,
				       "relabel action %s takes only regex, no other field",
				       action_names[r.action]);
		break;
	default:
		break;
	}
	if (r.action == RELABEL_HASHMOD && !spec->modulus)
		return why_set(why, whylen, "relabel action hashmod needs a modulus above 0");
	if (r.action != RELABEL_HASHMOD && spec->modulus)
		return why_set(why, whylen, "modulus is only for the hashmod action");
	if (r.action == RELABEL_LABELMAP && spec->target_label)
		return why_set(why, whylen, "relabel action labelmap takes no target_label");

	err = VEC_RESERVE(rl->rules, rl->cap, rl->n + 1, RELABEL_MAX_RULES);
	if (err)
		return err;
	r.modulus = spec->modulus;
	r.mctx = rl->mctx;
	r.nsources = spec->nsource_labels;
	r.sources = calloc(r.nsources ? r.nsources : 1, sizeof(*r.sources));
	r.separator = dup_or(spec->separator, DEFAULT_SEPARATOR);
	r.replacement = dup_or(spec->replacement, DEFAULT_REPLACEMENT);
	r.target = spec->target_label ? strdup(spec->target_label) : NULL;
	err = -ENOMEM;
	if (!r.sources || !r.separator || !r.replacement || (spec->target_label && !r.target))
		goto cleanup;
	for (i = 0; i < r.nsources; i++) {
		r.sources[i] = strdup(spec->source_labels[i]);
		if (!r.sources[i])
			goto cleanup;
	}
	err = compile_regex(&r, spec->regex ? spec->regex : DEFAULT_REGEX, why, whylen);
	if (err)
		goto cleanup;
	/* MD5 is no security here: Prometheus's sharding hash, matched. */
	if (r.action == RELABEL_HASHMOD && !(r.md5 = EVP_MD_fetch(NULL, "MD5", NULL))) {
		err = why_set(why, whylen, "hashmod needs MD5, which libcrypto does not offer");
		goto cleanup;
	}
	rl->rules[rl->n++] = r;
	return 0;
cleanup:
	if (err == -ENOMEM)
		why_set(why, whylen, "out of memory");
	rule_fini(&r);
	return err;
}

/* ---- applying rules ---- */

static bool is_word(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* Appends group number (or name, when num < 0) of the last match to out;
 * nothing when the group does not exist or did not take part. */
static int expand_group(const struct relabel_rule *r, const char *subject, long num,
			const char *name, size_t namelen, struct buf *out)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
	uint32_t count = pcre2_get_ovector_count(r->md);
	char namez[64];

	if (num < 0) {
		if (namelen >= sizeof(namez))
			return 0;
		memcpy(namez, name, namelen);
		namez[namelen] = '\0';
		num = pcre2_substring_number_from_name(r->re, (PCRE2_SPTR)namez);
		if (num < 0)
			return 0;
	}
	if ((uint32_t)num >= count || ov[2 * num] == PCRE2_UNSET)
		return 0;
	return buf_add(out, subject + ov[2 * num], ov[2 * num + 1] - ov[2 * num]);
}

/* Go's Regexp.Expand of template over the last match of r on subject. */
static int expand(const struct relabel_rule *r, const char *tmpl, const char *subject,
		  struct buf *out)
{
	const char *p = tmpl, *dollar, *name;
	size_t namelen, i;
	bool brace, digits;
	long num;
	int err;

	out->len = 0;
	if ((err = buf_add(out, "", 0)))
		return err;
	while ((dollar = strchr(p, '$'))) {
		if ((err = buf_add(out, p, dollar - p)))
			return err;
		p = dollar + 1;
		if (*p == '$') {
			if ((err = buf_add(out, "$", 1)))
				return err;
			p++;
			continue;
		}
		brace = *p == '{';
		name = p + brace;
		for (namelen = 0; is_word(name[namelen]); namelen++)
			;
		if (!namelen || (brace && name[namelen] != '}')) {
			/* Malformed: the $ is kept as text. */
			if ((err = buf_add(out, "$", 1)))
				return err;
			continue;
		}
		p = name + namelen + brace;
		digits = true;
		for (i = 0; i < namelen; i++)
			digits = digits && name[i] >= '0' && name[i] <= '9';
		num = -1;
		if (digits) {
			/* Go gives up past 1e8: such a group never exists. */
			if (namelen > 8)
				continue;
			num = strtol(name, NULL, 10);
		}
		if ((err = expand_group(r, subject, num, name, namelen, out)))
			return err;
	}
	return buf_add(out, p, strlen(p));
}

/* NO_UTF_CHECK: every string here is valid UTF-8 (relabel_set_put's
 * contract, relabel__add's checks, and groups cut at character boundaries),
 * and the check was a fifth of a match's cost. */
static bool match(const struct relabel_rule *r, const char *s)
{
	int rc =
		pcre2_match(r->re, (PCRE2_SPTR)s, strlen(s), 0, PCRE2_NO_UTF_CHECK, r->md, r->mctx);

	/* Past the limit the value counts as not matching. */
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT)
		caps__hit(CAPS_RELABEL_MATCH, 1, RELABEL_MATCH_LIMIT);
	return rc >= 0;
}

/* Prometheus's hashmod: the low 64 bits of the MD5 of value, big-endian. */
static uint64_t hash_md5_64(const struct relabel_rule *r, const char *s)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;
	uint64_t v = 0;

	if (!EVP_Digest(s, strlen(s), md, &len, r->md5, NULL) || len != 16)
		return 0;
	for (i = 8; i < 16; i++)
		v = (v << 8) | md[i];
	return v;
}

static int put_copy(struct relabel_set *s, const char *name, const char *value)
{
	char *n = arena_strdup(s->arena, name), *v;

	if (!value || !value[0]) {
		relabel_set_del(s, name);
		return 0;
	}
	v = arena_strdup(s->arena, value);
	if (!n || !v)
		return -ENOMEM;
	return relabel_set_put(s, n, v);
}

/* Keeps what fits when a rule would grow the set past its bound: counted
 * in s->overflows. */
static int put_checked(struct relabel_set *s, const char *name, const char *value)
{
	int err = put_copy(s, name, value);

	return err == -ENOSPC ? 0 : err;
}

static int apply_one(const struct relabel_rule *r, struct relabel_set *s, struct buf *val,
		     struct buf *tmp, struct buf *tmp2)
{
	struct label *snap;
	size_t i, nsnap;
	char num[24];
	int err = 0;

	val->len = 0;
	if ((err = buf_add(val, "", 0)))
		return err;
	for (i = 0; i < r->nsources; i++) {
		const char *v = relabel_set_get(s, r->sources[i]);

		if ((i && (err = buf_add(val, r->separator, strlen(r->separator)))) ||
		    (v && (err = buf_add(val, v, strlen(v)))))
			return err;
	}
	switch (r->action) {
	case RELABEL_KEEP:
		return match(r, val->p) ? 1 : 0;
	case RELABEL_DROP:
		return match(r, val->p) ? 0 : 1;
	case RELABEL_REPLACE:
		if (!match(r, val->p))
			return 1;
		if ((err = expand(r, r->target, val->p, tmp)))
			return err;
		if (!relabel_name_valid(tmp->p))
			return 1;
		if ((err = expand(r, r->replacement, val->p, tmp2)))
			return err;
		err = put_checked(s, tmp->p, tmp2->p);
		return err ? err : 1;
	case RELABEL_HASHMOD:
		snprintf(num, sizeof(num), "%llu",
			 (unsigned long long)(hash_md5_64(r, val->p) % r->modulus));
		err = put_checked(s, r->target, num);
		return err ? err : 1;
	case RELABEL_LOWERCASE:
	case RELABEL_UPPERCASE:
		/* ASCII only: Go's ToLower also maps other scripts, rarely
		 * wanted in a label. */
		for (i = 0; i < val->len; i++) {
			char c = val->p[i];

			if (r->action == RELABEL_LOWERCASE && c >= 'A' && c <= 'Z')
				val->p[i] = c - 'A' + 'a';
			else if (r->action == RELABEL_UPPERCASE && c >= 'a' && c <= 'z')
				val->p[i] = c - 'a' + 'A';
		}
		err = put_checked(s, r->target, val->p);
		return err ? err : 1;
	case RELABEL_LABELMAP:
	case RELABEL_LABELDROP:
	case RELABEL_LABELKEEP:
		break;
	}
	/* The name actions see the set as it was when the rule started, as
	 * Prometheus's Builder.Range does. */
	nsnap = s->n;
	snap = malloc((nsnap ? nsnap : 1) * sizeof(*snap));
	if (!snap)
		return -ENOMEM;
	memcpy(snap, s->v, nsnap * sizeof(*snap));
	for (i = 0; i < nsnap && !err; i++) {
		bool m = match(r, snap[i].name);

		if (r->action == RELABEL_LABELDROP && m)
			relabel_set_del(s, snap[i].name);
		else if (r->action == RELABEL_LABELKEEP && !m)
			relabel_set_del(s, snap[i].name);
		else if (r->action == RELABEL_LABELMAP && m &&
			 !(err = expand(r, r->replacement, snap[i].name, tmp)))
			err = put_checked(s, tmp->p, snap[i].value);
	}
	free(snap);
	return err ? err : 1;
}

int relabel__apply(const struct relabel *rl, struct relabel_set *s)
{
	struct buf val = { 0 }, tmp = { 0 }, tmp2 = { 0 };
	size_t i;
	int ret = 1;

	for (i = 0; rl && i < rl->n && ret == 1; i++)
		ret = apply_one(&rl->rules[i], s, &val, &tmp, &tmp2);
	free(val.p);
	free(tmp.p);
	free(tmp2.p);
	return ret;
}
