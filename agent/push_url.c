// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* push_url.c - whether a --server URL is one the push client can use
 *
 * libcurl's own URL parser decides (the one that will later read the URL),
 * with unsupported schemes refused; on top of it, a base URL needs http or
 * https, a host, a port from 1 to 65535, no query or fragment (the endpoint
 * path is appended to it) and no control characters or spaces. Pure; any
 * thread.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "push.h"

static bool push_url_has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return true;
	return false;
}

int push_check_url(const char *url, char *why, size_t why_size)
{
	char *scheme = NULL, *host = NULL, *port = NULL, *query = NULL, *frag = NULL;
	CURLUcode rc;
	CURLU *h = NULL;
	int err = -EINVAL;

	snprintf(why, why_size, "not a URL");
	if (!url || push_url_has_ctl(url)) {
		snprintf(why, why_size, "control characters or spaces in the URL");
		goto cleanup;
	}
	h = curl_url();
	if (!h) {
		err = -ENOMEM;
		snprintf(why, why_size, "out of memory");
		goto cleanup;
	}
	/* No CURLU_NON_SUPPORT_SCHEME: a scheme libcurl cannot speak is refused. */
	rc = curl_url_set(h, CURLUPART_URL, url, 0);
	if (rc != CURLUE_OK) {
		snprintf(why, why_size, "%s", curl_url_strerror(rc));
		goto cleanup;
	}
	if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
		snprintf(why, why_size, "the scheme must be http or https");
		goto cleanup;
	}
	if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0]) {
		snprintf(why, why_size, "no host");
		goto cleanup;
	}
	/* Absent means the scheme's default; 0 parses but cannot be reached. */
	if (curl_url_get(h, CURLUPART_PORT, &port, 0) == CURLUE_OK && !strcmp(port, "0")) {
		snprintf(why, why_size, "port 0");
		goto cleanup;
	}
	if (curl_url_get(h, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
	    curl_url_get(h, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK) {
		snprintf(why, why_size, "a query or fragment in a base URL");
		goto cleanup;
	}
	why[0] = '\0';
	err = 0;
cleanup:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(query);
	curl_free(frag);
	curl_url_cleanup(h);
	return err;
}
