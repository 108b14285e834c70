// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_k8s.c - kubeconfig and in-cluster config, the Pod / PodList / watch event parsers */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "k8s.h"

#define CID_WEB "bacb920470900725e0aa7d914fee5eb0854315448b024b6b8420ad8429c607ba"
#define CID_INIT "9e07365d65e8f8a5f3e2b4c7d8e9fa0b1c2d3e4f5a6b7c8d9e0f1a2b3c4dba98"
#define UID_A "4c9f1974-5c46-44c2-b42f-3bbf0e98eef9"

static char why[256];

static int parse_kc(const char *text, struct k8s_config *c)
{
	why[0] = '\0';
	return k8s_kubeconfig_parse(text, strlen(text), "/etc/kube", c, why, sizeof(why));
}

#define KC_HEAD                                             \
	"apiVersion: v1\n"                                  \
	"kind: Config\n"                                    \
	"current-context: prod\n"                           \
	"contexts:\n"                                       \
	"- name: dev\n"                                     \
	"  context: {cluster: devc, user: devu}\n"          \
	"- name: prod\n"                                    \
	"  context:\n"                                      \
	"    cluster: prodc\n"                              \
	"    user: produ\n"                                 \
	"    namespace: kube-system\n"                      \
	"clusters:\n"                                       \
	"- name: devc\n"                                    \
	"  cluster: {server: 'https://dev.example:6443'}\n" \
	"- name: prodc\n"                                   \
	"  cluster:\n"

static void test_kubeconfig(void **state)
{
	struct k8s_config c;
	/* "-----BEGIN X-----\n" in base64. */
	const char *kc = KC_HEAD "    server: https://10.0.0.1:6443/\n"
				 "    certificate-authority-data: LS0tLS1CRUdJTiBYLS0tLS0K\n"
				 "users:\n"
				 "- name: devu\n"
				 "  user: {token: wrong}\n"
				 "- name: produ\n"
				 "  user:\n"
				 "    tokenFile: tokens/agent\n"
				 "    client-certificate: /pki/agent.crt\n"
				 "    client-key: agent.key\n";

	(void)state;
	assert_int_equal(parse_kc(kc, &c), 0);
	/* The current context's cluster, not the first one; the '/' cut. */
	assert_string_equal(c.server, "https://10.0.0.1:6443");
	assert_non_null(c.ca_pem);
	assert_int_equal(c.ca_pem_len, 18);
	assert_memory_equal(c.ca_pem, "-----BEGIN X-----\n", 18);
	assert_null(c.ca_file);
	assert_false(c.insecure);
	assert_null(c.token);
	/* Relative paths are the kubeconfig directory's. */
	assert_string_equal(c.token_file, "/etc/kube/tokens/agent");
	assert_string_equal(c.cert_file, "/pki/agent.crt");
	assert_string_equal(c.key_file, "/etc/kube/agent.key");
	k8s_config_free(&c);

	kc = KC_HEAD "    server: http://127.0.0.1:8001\n"
		     "    certificate-authority: ca.pem\n"
		     "    insecure-skip-tls-verify: true\n"
		     "users:\n"
		     "- name: produ\n"
		     "  user: {token: abc.def}\n";
	assert_int_equal(parse_kc(kc, &c), 0);
	assert_string_equal(c.ca_file, "/etc/kube/ca.pem");
	assert_true(c.insecure);
	assert_string_equal(c.token, "abc.def");
	k8s_config_free(&c);
}

static void test_kubeconfig_bad(void **state)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
		{ "", "not a kubeconfig" },
		{ "- a\n- b\n", "not a kubeconfig" },
		{ "kind: Config\n", "no current-context" },
		{ "current-context: x\ncontexts: []\n", "current-context 'x' is not in contexts" },
		{ "current-context: x\ncontexts: [{name: x, context: {user: u}}]\n",
		  "names no cluster" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n",
		  "cluster 'c' is not in clusters" },
		{ "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
		  "clusters: [{name: c, cluster: {server: 'ftp://x'}}]\n",
		  "has no http(s):// server" },
		{ KC_HEAD "    server: https://a\n    certificate-authority-data: '!!notbase64'\n",
		  "certificate-authority-data is not base64" },
		{ KC_HEAD
		  "    server: https://a\nusers: [{name: produ, user: {exec: {command: aws}}}]\n",
		  "exec or auth-provider" },
		{ KC_HEAD "    server: https://a\nusers: [{name: produ, user: {client-key: k}}]\n",
		  "a client certificate needs its key" },
		{ KC_HEAD "    server: https://a\n", "user 'produ' is not in users" },
		{ "a: [unclosed\n", "line" },
	};
	struct k8s_config c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse_kc(cases[i].text, &c), -EINVAL);
		if (!strstr(why, cases[i].why))
			fail_msg("case %zu: why '%s' lacks '%s'", i, why, cases[i].why);
		/* Nothing is left allocated on a refusal. */
		assert_null(c.server);
	}
}

static void test_incluster(void **state)
{
	char dir[] = "/tmp/ember-k8s-XXXXXX", path[256];
	struct k8s_config c;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	why[0] = '\0';
	assert_int_equal(k8s_incluster(NULL, "443", dir, &c, why, sizeof(why)), -ENOENT);
	/* No token: not in a pod. */
	assert_int_equal(k8s_incluster("10.96.0.1", "443", dir, &c, why, sizeof(why)), -ENOENT);
	snprintf(path, sizeof(path), "%s/token", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("tok\n", f);
	fclose(f);
	assert_int_equal(k8s_incluster("10.96.0.1", "443", dir, &c, why, sizeof(why)), 0);
	assert_string_equal(c.server, "https://10.96.0.1:443");
	assert_string_equal(c.token_file, path);
	assert_non_null(strstr(c.ca_file, "/ca.crt"));
	k8s_config_free(&c);
	assert_int_equal(k8s_incluster("fd00::1", NULL, dir, &c, why, sizeof(why)), 0);
	assert_string_equal(c.server, "https://[fd00::1]:443");
	k8s_config_free(&c);
	assert_int_equal(k8s_incluster("10.96.0.1", "44x", dir, &c, why, sizeof(why)), -EINVAL);
	assert_int_equal(k8s_incluster("a/b@c", "443", dir, &c, why, sizeof(why)), -EINVAL);
	unlink(path);
	rmdir(dir);
}

/* A pod as the API server sends it (trimmed from a real one). */
static const char pod_json[] =
	"{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"checkout-7d9f8b6c5d-x2x7q\","
	"\"generateName\":\"checkout-7d9f8b6c5d-\",\"namespace\":\"shop\",\"uid\":\"" UID_A "\","
	"\"resourceVersion\":\"81234\",\"labels\":{\"app\":\"checkout\",\"pod-template-hash\":"
	"\"7d9f8b6c5d\",\"n\":1},\"annotations\":{\"pyroscope.io/service_name\":\"shop-checkout\","
	"\"ember.dev/profile\":\"False\"},\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":"
	"\"Node\",\"name\":\"n\",\"uid\":\"x\"},{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\","
	"\"name\":\"checkout-7d9f8b6c5d\",\"uid\":\"y\",\"controller\":true}]},"
	"\"spec\":{\"nodeName\":\"node-1\",\"containers\":[{\"name\":\"web\"},{\"name\":\"side\"}]},"
	"\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"web\",\"containerID\":"
	"\"containerd://" CID_WEB "\"},{\"name\":\"side\",\"containerID\":\"\"}],"
	"\"initContainerStatuses\":[{\"name\":\"migrate\",\"containerID\":\"cri-o://" CID_INIT
	"\"}]}}";

static struct k8s_pod *parse_pod(const char *text)
{
	struct json_object *o = json_tokener_parse(text);
	struct k8s_pod *p = NULL;
	int err;

	assert_non_null(o);
	err = k8s_pod_from_json(o, &p);
	json_object_put(o);
	return err ? NULL : p;
}

static void test_pod(void **state)
{
	struct k8s_pod *p = parse_pod(pod_json);

	(void)state;
	assert_non_null(p);
	assert_string_equal(p->uid, UID_A);
	assert_string_equal(p->ns, "shop");
	assert_string_equal(p->name, "checkout-7d9f8b6c5d-x2x7q");
	assert_string_equal(p->node, "node-1");
	assert_string_equal(p->phase, "Running");
	/* The controller reference, not the first; the template hash stripped. */
	assert_string_equal(p->ctrl_kind, "deployment");
	assert_string_equal(p->ctrl_name, "checkout");
	assert_string_equal(p->owner_kind, "ReplicaSet");
	assert_string_equal(p->service_name, "shop-checkout");
	assert_int_equal(p->profile, 0);
	/* A label whose value is not a string is skipped. */
	assert_int_equal(p->nlabels, 2);
	assert_int_equal(p->nannotations, 2);
	/* Containers with an id only; init containers too. */
	assert_int_equal(p->ncontainers, 2);
	assert_string_equal(p->containers[0].id, CID_WEB);
	assert_string_equal(p->containers[0].name, "web");
	assert_false(p->containers[0].init);
	assert_string_equal(p->containers[1].id, CID_INIT);
	assert_string_equal(p->containers[1].name, "migrate");
	assert_true(p->containers[1].init);
	assert_int_equal(p->nspec, 2);
	assert_string_equal(p->spec_first, "web");
	k8s_pod_free(p);
}

static void test_pod_controllers(void **state)
{
	static const struct {
		const char *kind, *name, *hash, *want_kind, *want_name;
	} cases[] = {
		{ "StatefulSet", "db", NULL, "statefulset", "db" },
		{ "DaemonSet", "node-agent", NULL, "daemonset", "node-agent" },
		{ "Job", "backup-29012345", NULL, "job", "backup-29012345" },
		/* A bare ReplicaSet (no pod-template-hash) keeps its name. */
		{ "ReplicaSet", "legacy-rs", NULL, "replicaset", "legacy-rs" },
		/* A hash that is not the name's suffix is not stripped. */
		{ "ReplicaSet", "web-abc", "xyz", "replicaset", "web-abc" },
		{ "ReplicaSet", "web-abc", "abc", "deployment", "web" },
	};
	char buf[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct k8s_pod *p;

		snprintf(buf, sizeof(buf),
			 "{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\",\"uid\":\"" UID_A "\","
			 "\"labels\":{\"pod-template-hash\":\"%s\"},\"ownerReferences\":[{\"kind\":"
			 "\"%s\",\"name\":\"%s\",\"controller\":true}]}}",
			 cases[i].hash ? cases[i].hash : "", cases[i].kind, cases[i].name);
		p = parse_pod(buf);
		assert_non_null(p);
		assert_string_equal(p->ctrl_kind, cases[i].want_kind);
		assert_string_equal(p->ctrl_name, cases[i].want_name);
		assert_int_equal(p->profile, -1);
		k8s_pod_free(p);
	}
}

static void test_pod_bad(void **state)
{
	static const char *const bad[] = {
		"{}",
		"[]",
		"{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\"}}",
		/* A uid the kubelet never writes into a cgroup path. */
		"{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\",\"uid\":\"../../etc\"}}",
		"{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\",\"uid\":\"4C9F1974-5C46-44C2-B42F-3BBF0E98EEF9\"}}",
		"{\"metadata\":{\"name\":7,\"namespace\":\"n\",\"uid\":\"" UID_A "\"}}",
		"{\"metadata\":{\"name\":\"p\",\"namespace\":\"\",\"uid\":\"" UID_A "\"}}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(parse_pod(bad[i]));
	/* Wrong types inside are skipped, not fatal. */
	{
		struct k8s_pod *p = parse_pod(
			"{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\",\"uid\":\"" UID_A
			"\",\"labels\":[1],\"annotations\":\"x\",\"ownerReferences\":{}},"
			"\"spec\":[],\"status\":{\"containerStatuses\":[1,{\"name\":\"c\","
			"\"containerID\":\"containerd://short\"},{\"containerID\":\"docker://" CID_WEB
			"\"}]}}");

		assert_non_null(p);
		assert_int_equal(p->nlabels, 0);
		assert_int_equal(p->ncontainers, 0);
		assert_null(p->ctrl_kind);
		k8s_pod_free(p);
	}
	/* Bytes that are not UTF-8 (json-c passes them through) never
	 * reach a label: the value is left out, a name refuses the pod. */
	{
		struct k8s_pod *p = parse_pod(
			"{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\",\"uid\":\"" UID_A
			"\",\"labels\":{\"ok\":\"v\",\"bad\":\"\xff\xfe\",\"\xc3\":\"v\"}}}");

		assert_non_null(p);
		assert_int_equal(p->nlabels, 1);
		assert_string_equal(p->labels[0].name, "ok");
		k8s_pod_free(p);
		assert_null(parse_pod("{\"metadata\":{\"name\":\"p\xff\",\"namespace\":\"n\","
				      "\"uid\":\"" UID_A "\"}}"));
	}
}

static void test_events(void **state)
{
	struct k8s_event ev;
	char buf[4096];

	(void)state;
	snprintf(buf, sizeof(buf), "{\"type\":\"ADDED\",\"object\":%s}", pod_json);
	assert_int_equal(k8s_event_parse(buf, strlen(buf), &ev), 0);
	assert_int_equal(ev.type, K8S_EV_ADDED);
	assert_string_equal(ev.rv, "81234");
	assert_non_null(ev.pod);
	assert_string_equal(ev.pod->uid, UID_A);
	k8s_pod_free(ev.pod);

	snprintf(buf, sizeof(buf), "{\"type\":\"DELETED\",\"object\":%s}", pod_json);
	assert_int_equal(k8s_event_parse(buf, strlen(buf), &ev), 0);
	assert_int_equal(ev.type, K8S_EV_DELETED);
	k8s_pod_free(ev.pod);

	strcpy(buf, "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\","
		    "\"metadata\":{\"resourceVersion\":\"12746\"}}}");
	assert_int_equal(k8s_event_parse(buf, strlen(buf), &ev), 0);
	assert_int_equal(ev.type, K8S_EV_BOOKMARK);
	assert_string_equal(ev.rv, "12746");
	assert_null(ev.pod);

	strcpy(buf,
	       "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
	       "\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource version: "
	       "1 (2)\",\"reason\":\"Expired\",\"code\":410}}");
	assert_int_equal(k8s_event_parse(buf, strlen(buf), &ev), 0);
	assert_int_equal(ev.type, K8S_EV_ERROR);
	assert_int_equal(ev.code, 410);
	assert_string_equal(ev.reason, "Expired");

	static const char *const bad[] = {
		"",
		"{",
		"null",
		"[1]",
		"{\"type\":\"ADDED\"}",
		"{\"type\":\"WAT\",\"object\":{}}",
		/* A bookmark without a version is worth nothing. */
		"{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{}}}",
		"{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"p\"}}}",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(k8s_event_parse(bad[i], strlen(bad[i]), &ev), -EINVAL);
		assert_null(ev.pod);
	}
}

static void collect(void *ctx, struct k8s_pod *p)
{
	(*(int *)ctx)++;
	k8s_pod_free(p);
}

static void test_podlist(void **state)
{
	char buf[8192], rv[64];
	struct json_object *o;
	int n = 0;

	(void)state;
	snprintf(buf, sizeof(buf),
		 "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":"
		 "\"777\"},\"items\":[%s,{\"metadata\":{}},%s]}",
		 pod_json, pod_json);
	o = json_tokener_parse(buf);
	assert_non_null(o);
	assert_int_equal(k8s_podlist_from_json(o, rv, sizeof(rv), collect, &n), 0);
	assert_string_equal(rv, "777");
	/* The bad item is skipped, the good ones kept. */
	assert_int_equal(n, 2);
	json_object_put(o);
	o = json_tokener_parse("{\"kind\":\"Status\",\"code\":403}");
	assert_int_equal(k8s_podlist_from_json(o, rv, sizeof(rv), collect, &n), -EINVAL);
	json_object_put(o);
}

static void test_sanitize(void **state)
{
	char buf[16];

	(void)state;
	k8s_sanitize(buf, sizeof(buf), "app.kubernetes.io/name");
	assert_string_equal(buf, "app_kubernetes_");
	k8s_sanitize(buf, sizeof(buf), "a-b");
	assert_string_equal(buf, "a_b");
	k8s_sanitize(buf, sizeof(buf), "\xc3\xa9x");
	assert_string_equal(buf, "__x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kubeconfig),	cmocka_unit_test(test_kubeconfig_bad),
		cmocka_unit_test(test_incluster),	cmocka_unit_test(test_pod),
		cmocka_unit_test(test_pod_controllers), cmocka_unit_test(test_pod_bad),
		cmocka_unit_test(test_events),		cmocka_unit_test(test_podlist),
		cmocka_unit_test(test_sanitize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
