// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_k8s_pod.c - libFuzzer harness for the API server's replies: watch events, pods, pod lists,
 * and kubeconfigs
 *
 * The first byte picks the parser. What any output must hold: a pod's uid
 * is 36 characters of lower-case hex and '-', container ids 64 lower-case
 * hex, counts within their bounds.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "k8s.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool valid(const char *s)
{
	return !s || utf8_valid(s, strlen(s));
}

static void check_pod(const struct k8s_pod *p)
{
	size_t i, j;

	if (strlen(p->uid) != 36 || strspn(p->uid, "0123456789abcdef-") != 36)
		__builtin_trap();
	if (!p->ns || !p->name || p->ncontainers > K8S_MAX_CONTAINERS || p->nlabels > K8S_MAX_KV ||
	    p->nannotations > K8S_MAX_KV)
		__builtin_trap();
	for (i = 0; i < p->ncontainers; i++) {
		if (strlen(p->containers[i].id) != 64 ||
		    strspn(p->containers[i].id, "0123456789abcdef") != 64 || !p->containers[i].name)
			__builtin_trap();
	}
	for (i = 0; i < p->nannotations; i++)
		if (strlen(p->annotations[i].value) > K8S_MAX_VALUE ||
		    !valid(p->annotations[i].name) || !valid(p->annotations[i].value))
			__builtin_trap();
	/* Everything goes into label values and PCRE2 unchecked: UTF-8. */
	if (!valid(p->ns) || !valid(p->name) || !valid(p->node) || !valid(p->ctrl_name) ||
	    !valid(p->service_name))
		__builtin_trap();
	for (i = 0; i < p->ncontainers; i++)
		if (!valid(p->containers[i].name))
			__builtin_trap();
	/* The controller kind is a label name only when it is a plain word:
	 * labels.c checks; here, that it is set with its name. */
	if ((p->ctrl_kind == NULL) != (p->ctrl_name == NULL))
		__builtin_trap();
	for (i = 0; i < p->nlabels; i++)
		for (j = 0; j < p->nlabels; j++)
			if (!p->labels[i].name[0] || !p->labels[j].value ||
			    !valid(p->labels[j].name) || !valid(p->labels[j].value))
				__builtin_trap();
}

static void on_pod(void *ctx, struct k8s_pod *p)
{
	(void)ctx;
	check_pod(p);
	k8s_pod_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct k8s_event ev;
	struct k8s_config c;
	char why[256], rv[128];
	int err;

	if (!size)
		return 0;
	switch (data[0] % 3) {
	case 0:
		if (!k8s_event_parse((const char *)data + 1, size - 1, &ev)) {
			if (ev.pod)
				check_pod(ev.pod);
			if (strlen(ev.rv) >= sizeof(ev.rv))
				__builtin_trap();
			k8s_pod_free(ev.pod);
		}
		break;
	case 1: {
		struct json_tokener *tok = json_tokener_new_ex(64);
		struct json_object *o;

		if (!tok)
			return 0;
		o = json_tokener_parse_ex(tok, (const char *)data + 1, (int)(size - 1));
		if (o)
			k8s_podlist_from_json(o, rv, sizeof(rv), on_pod, NULL);
		json_object_put(o);
		json_tokener_free(tok);
		break;
	}
	default:
		why[0] = '\0';
		err = k8s_kubeconfig_parse((const char *)data + 1, size - 1, "/d", &c, why,
					   sizeof(why));
		if (!err) {
			if (!c.server || strncmp(c.server, "http", 4))
				__builtin_trap();
			k8s_config_free(&c);
		} else if (err == -EINVAL && !why[0]) {
			__builtin_trap(); /* a refusal always says why */
		}
		break;
	}
	return 0;
}
