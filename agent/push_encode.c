// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* push_encode.c - request bodies and URLs for the push client
 *
 * Turns a window's series into what goes on the wire: one push.v1.PushRequest
 * (protobuf-c) for the Push API, or the /ingest URL with its labelset "name"
 * for the legacy API. Borrows the caller's strings and blobs only while
 * encoding; everything returned is a fresh copy. Pure; any thread.
 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "push_internal.h"
#include "push.pb-c.h"

/* protobuf-c's structs take char *, but only read the strings while packing. */
static char *push_unconst(const char *s)
{
	return (char *)(uintptr_t)s;
}

/* Alloy's pyroscope.write drops every __-label but __name__ before sending. */
static bool push_label_sent(const struct label *kv)
{
	if (!kv->name || !kv->value || !kv->name[0])
		return false;
	return strncmp(kv->name, "__", 2) != 0 || strcmp(kv->name, "__name__") == 0;
}

int push_encode_request(const struct push_series *series, size_t n, uint8_t **body, size_t *len)
{
	Push__V1__PushRequest req = PUSH__V1__PUSH_REQUEST__INIT;
	Push__V1__RawProfileSeries *ser = NULL, **serp = NULL;
	Types__V1__LabelPair *lab = NULL, **labp = NULL;
	Push__V1__RawSample *smp = NULL, **smpp = NULL;
	size_t i, j, nser = 0, nlab = 0, nsmp = 0, il = 0, is = 0;
	uint8_t *buf = NULL;
	size_t size;
	int err = 0;

	*body = NULL;
	*len = 0;
	for (i = 0; i < n; i++) {
		if (!series[i].nblobs)
			continue;
		nser++;
		nlab += series[i].nlabels;
		nsmp += series[i].nblobs;
	}
	if (!nser)
		return -ENODATA;

	ser = calloc(nser, sizeof(*ser));
	serp = calloc(nser, sizeof(*serp));
	lab = calloc(nlab ? nlab : 1, sizeof(*lab));
	labp = calloc(nlab ? nlab : 1, sizeof(*labp));
	smp = calloc(nsmp, sizeof(*smp));
	smpp = calloc(nsmp, sizeof(*smpp));
	if (!ser || !serp || !lab || !labp || !smp || !smpp) {
		err = -ENOMEM;
		goto cleanup;
	}

	for (i = 0; i < n; i++) {
		const struct push_series *s = &series[i];
		Push__V1__RawProfileSeries *rs;

		if (!s->nblobs)
			continue;
		rs = &ser[req.n_series];
		push__v1__raw_profile_series__init(rs);
		rs->labels = &labp[il];
		for (j = 0; j < s->nlabels; j++) {
			if (!push_label_sent(&s->labels[j]))
				continue;
			types__v1__label_pair__init(&lab[il]);
			lab[il].name = push_unconst(s->labels[j].name);
			lab[il].value = push_unconst(s->labels[j].value);
			labp[il] = &lab[il];
			il++;
			rs->n_labels++;
		}
		rs->samples = &smpp[is];
		for (j = 0; j < s->nblobs; j++) {
			push__v1__raw_sample__init(&smp[is]);
			smp[is].raw_profile.data = s->blobs[j].data;
			smp[is].raw_profile.len = s->blobs[j].len;
			smpp[is] = &smp[is];
			is++;
			rs->n_samples++;
		}
		serp[req.n_series++] = rs;
	}
	req.series = serp;

	size = push__v1__push_request__get_packed_size(&req);
	buf = malloc(size ? size : 1);
	if (!buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (push__v1__push_request__pack(&req, buf) != size) {
		err = -EPROTO;
		goto cleanup;
	}
	*body = buf;
	*len = size;
	buf = NULL;
cleanup:
	free(buf);
	free(ser);
	free(serp);
	free(lab);
	free(labp);
	free(smp);
	free(smpp);
	return err;
}

static bool push_is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.';
}

static bool push_is_app_char(char c)
{
	return push_is_name_char(c) || c == '-' || c == '/';
}

/* What part of an /ingest name a string becomes: each has its own charset. */
enum push_name_part {
	PUSH_PART_APP, /* the application name before '{' */
	PUSH_PART_LABEL_NAME,
	PUSH_PART_LABEL_VALUE,
};

/* Appends s to buf at *pos, each byte outside part's charset made '_'. buf
 * has room (callers size it for the worst case: every byte copied). */
static void push_put(char *buf, size_t *pos, const char *s, enum push_name_part part)
{
	for (; *s; s++) {
		char c = *s;

		if (part == PUSH_PART_APP && !push_is_app_char(c))
			c = '_';
		else if (part == PUSH_PART_LABEL_NAME && !push_is_name_char(c))
			c = '_';
		else if (part == PUSH_PART_LABEL_VALUE && (c == ',' || c == '}' || c == '='))
			c = '_';
		buf[(*pos)++] = c;
	}
}

static bool push_app_clean(const char *s)
{
	for (; *s; s++)
		if (!push_is_app_char(*s))
			return false;
	return true;
}

int push_ingest_name(const struct label *labels, size_t n, char **name)
{
	const char *service = NULL;
	size_t i, size = 32, pos = 0;
	bool first = true;
	char *buf;

	*name = NULL;
	for (i = 0; i < n; i++) {
		if (!labels[i].name || !labels[i].value)
			continue;
		size += strlen(labels[i].name) + strlen(labels[i].value) + 2;
		if (!strcmp(labels[i].name, "service_name") && labels[i].value[0])
			service = labels[i].value;
	}
	/* Room for the app name and, possibly, service_name again as a tag. */
	size += 2 * (service ? strlen(service) : 0) + sizeof("unknown_service") + 16;
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;

	/* The app name becomes service_name on the server; a name the app syntax
	 * cannot carry goes along exactly as a service_name tag instead. */
	push_put(buf, &pos, service ? service : "unknown_service", PUSH_PART_APP);
	buf[pos++] = '{';
	if (service && !push_app_clean(service)) {
		pos += (size_t)sprintf(buf + pos, "service_name=");
		push_put(buf, &pos, service, PUSH_PART_LABEL_VALUE);
		first = false;
	}
	for (i = 0; i < n; i++) {
		const struct label *kv = &labels[i];

		/* __name__ would replace the app name; the server derives it from
		 * the pprof sample type anyway. */
		if (!kv->name || !kv->value || !kv->name[0] || !kv->value[0] ||
		    !strncmp(kv->name, "__", 2) || !strcmp(kv->name, "service_name"))
			continue;
		if (!first)
			buf[pos++] = ',';
		first = false;
		push_put(buf, &pos, kv->name, PUSH_PART_LABEL_NAME);
		buf[pos++] = '=';
		push_put(buf, &pos, kv->value, PUSH_PART_LABEL_VALUE);
	}
	buf[pos++] = '}';
	buf[pos] = '\0';
	*name = buf;
	return 0;
}

int push_ingest_url(const char *base, const char *name, uint64_t from_s, uint64_t until_s,
		    uint32_t hz, char **url)
{
	char *esc = NULL, *buf = NULL;
	size_t size;
	int err = 0;

	*url = NULL;
	/* The handle argument is ignored since libcurl 7.82. */
	esc = curl_easy_escape(NULL, name, 0);
	if (!esc) {
		err = -ENOMEM;
		goto cleanup;
	}
	size = strlen(base) + strlen(esc) + 160;
	buf = malloc(size);
	if (!buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	snprintf(buf, size,
		 "%s/ingest?name=%s&from=%" PRIu64 "&until=%" PRIu64
		 "&format=pprof&sampleRate=%" PRIu32 "&spyName=ember",
		 base, esc, from_s, until_s, hz);
	*url = buf;
	buf = NULL;
cleanup:
	curl_free(esc);
	free(buf);
	return err;
}
