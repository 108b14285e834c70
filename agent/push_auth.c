// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* push_auth.c - the push client's credentials and request headers
 *
 * Reads the password / token files once (one line, trailing newline dropped,
 * never logged) and builds the two header lists (Push, /ingest) with the
 * tenant, the bearer token and the user's extra headers, refusing anything
 * that could split a header. Runs once, in push_client__new.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "log.h"
#include "secret.h"
#include "push_internal.h"

#define PUSH_SECRET_MAX (64 * 1024) /* password / token file size limit */

void push_slist_free(struct curl_slist *l)
{
	struct curl_slist *it;

	/* One of them may carry a bearer token. */
	for (it = l; it; it = it->next)
		secret_wipe(it->data);
	curl_slist_free_all(l);
}

/* Reads a one-line secret (password, token): trailing CR/LF stripped, no
 * other control bytes allowed (they would split headers). Logs the path and
 * the cause, never the content. */
int push_read_secret(const char *path, const char *opt, char **out)
{
	char *buf;
	ssize_t n;
	int err = 0;
	size_t i;

	*out = NULL;
	buf = malloc(PUSH_SECRET_MAX + 1);
	if (!buf)
		return -ENOMEM;
	n = file_read(path, buf, PUSH_SECRET_MAX + 1);
	if (n == -EFBIG) {
		err = -EFBIG;
		log_err("push: %s file too large path=%s max_bytes=%d", opt, path, PUSH_SECRET_MAX);
		goto cleanup;
	}
	if (n < 0) {
		err = n;
		log_err("push: cannot read %s path=%s err=%s; check the file and its permissions",
			opt, path, strerror(-err));
		goto cleanup;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	for (i = 0; i < (size_t)n; i++) {
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) {
			err = -EINVAL;
			log_err("push: %s file must hold one line path=%s", opt, path);
			goto cleanup;
		}
	}
	if (!n) {
		err = -ENODATA;
		log_err("push: %s file is empty path=%s", opt, path);
		goto cleanup;
	}
	*out = buf;
	buf = NULL;
cleanup:
	secret_free_buf(buf, PUSH_SECRET_MAX + 1);
	return err;
}

static bool push_tenant_ok(const char *t)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "0123456789!-_.*'()";
	size_t len = strlen(t);

	if (!len || len > 150 || !strcmp(t, ".") || !strcmp(t, ".."))
		return false;
	return strspn(t, ok) == len;
}

static bool push_header_ok(const struct label *kv)
{
	static const char tchar[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789!#$%&'*+-.^_`|~";
	const char *v;

	if (!kv->name || !kv->name[0] || strspn(kv->name, tchar) != strlen(kv->name) || !kv->value)
		return false;
	for (v = kv->value; *v; v++)
		if ((unsigned char)*v < 0x20 && *v != '\t')
			return false;
	return true;
}

static int push_append(struct curl_slist **l, const char *line)
{
	struct curl_slist *n = curl_slist_append(*l, line);

	if (!n)
		return -ENOMEM;
	*l = n;
	return 0;
}

int push_build_headers(const struct cfg *cfg, const char *token, struct curl_slist **hdr_push,
		       struct curl_slist **hdr_ingest)
{
	struct curl_slist *hp = NULL, *hi = NULL;
	char line[1024], *auth = NULL;
	size_t i, k;
	int err = 0;

	snprintf(line, sizeof(line), "Connect-Timeout-Ms: %" PRIu32, cfg->timeout_ms);
	/* Expect: 100-continue would cost a round trip on every large body. */
	if ((err = push_append(&hp, "Content-Type: application/proto")) ||
	    (err = push_append(&hp, "Connect-Protocol-Version: 1")) ||
	    (err = push_append(&hp, line)) || (err = push_append(&hp, "Expect:")) ||
	    (err = push_append(&hi, "Content-Type: application/octet-stream")) ||
	    (err = push_append(&hi, "Expect:")))
		goto cleanup;
	if (cfg->tenant) {
		if (!push_tenant_ok(cfg->tenant)) {
			err = -EINVAL;
			/* Not echoed: it may hold control characters. */
			log_err("push: invalid --tenant: use 1 to 150 of A-Z a-z 0-9 !-_.*'()");
			goto cleanup;
		}
		snprintf(line, sizeof(line), "X-Scope-OrgID: %s", cfg->tenant);
		if ((err = push_append(&hp, line)) || (err = push_append(&hi, line)))
			goto cleanup;
	}
	if (token) {
		if (asprintf(&auth, "Authorization: Bearer %s", token) < 0) {
			auth = NULL;
			err = -ENOMEM;
			goto cleanup;
		}
		if ((err = push_append(&hp, auth)) || (err = push_append(&hi, auth)))
			goto cleanup;
	}
	for (i = 0; i < cfg->nheaders && i < CFG_MAX_HEADERS; i++) {
		const struct label *kv = &cfg->headers[i];

		if (!push_header_ok(kv)) {
			char shown[64];

			err = -EINVAL;
			push_error_message(kv->name, kv->name ? strlen(kv->name) : 0, shown,
					   sizeof(shown));
			log_err("push: invalid --header '%s': expected 'Name: value', no control "
				"characters",
				shown);
			goto cleanup;
		}
		k = strlen(kv->name);
		if ((k == 12 && !strncasecmp(kv->name, "Content-Type", k)) ||
		    (k == 14 && !strncasecmp(kv->name, "Content-Length", k))) {
			log_warn("push: ignoring --header %s: the client sets it", kv->name);
			continue;
		}
		if (snprintf(line, sizeof(line), "%s: %s", kv->name, kv->value) >=
		    (int)sizeof(line)) {
			err = -EINVAL;
			log_err("push: --header %s too long max_bytes=%zu", kv->name,
				sizeof(line) - 1);
			goto cleanup;
		}
		if ((err = push_append(&hp, line)) || (err = push_append(&hi, line)))
			goto cleanup;
	}
cleanup:
	secret_free(auth);
	if (err) {
		push_slist_free(hp);
		push_slist_free(hi);
	} else {
		*hdr_push = hp;
		*hdr_ingest = hi;
	}
	return err;
}
