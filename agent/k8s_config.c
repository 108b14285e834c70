// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* k8s_config.c - where the API server is and how to log in: kubeconfig or in-cluster
 *
 * A kubeconfig is read with libyaml's document API and walked from
 * current-context to its cluster and user; only the fields a bearer-token
 * or client-certificate login needs are taken. Credentials that run a
 * program (exec, auth-provider) are refused: the agent runs no commands.
 * Pure; any thread.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <yaml.h>

#include "file.h"
#include "k8s.h"

#define K8S_KUBECONFIG_MAX (1u << 20)

void k8s_config_free(struct k8s_config *c)
{
	if (!c)
		return;
	free(c->server);
	free(c->ca_file);
	free(c->ca_pem);
	free(c->token);
	free(c->token_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->cert_pem);
	free(c->key_pem);
	memset(c, 0, sizeof(*c));
}

__attribute__((format(printf, 3, 4))) static int bad(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *pr;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(d, pr->key);

		if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == strlen(key) &&
		    !memcmp(k->data.scalar.value, key, k->data.scalar.length))
			return yaml_document_get_node(d, pr->value);
	}
	return NULL;
}

/* The scalar's text, or NULL for a missing or non-scalar node. */
static const char *scalar(yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	/* libyaml NUL-terminates scalars; an embedded NUL just shortens it. */
	return (const char *)n->data.scalar.value;
}

/* The entry of list key whose name is name, its field (e.g. "cluster"). */
static yaml_node_t *named(yaml_document_t *d, yaml_node_t *root, const char *key, const char *name,
			  const char *field)
{
	yaml_node_t *list = map_get(d, root, key);
	yaml_node_item_t *it;

	if (!list || list->type != YAML_SEQUENCE_NODE)
		return NULL;
	for (it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(d, *it);
		const char *n = scalar(map_get(d, e, "name"));

		if (n && !strcmp(n, name))
			return map_get(d, e, field);
	}
	return NULL;
}

static char *path_in(const char *base_dir, const char *p)
{
	char *out;

	if (!p || !p[0])
		return NULL;
	if (p[0] == '/' || !base_dir)
		return strdup(p);
	if (asprintf(&out, "%s/%s", base_dir, p) < 0)
		return NULL;
	return out;
}

/* Base64 (certificate-authority-data and the like) to bytes. */
static int b64(const char *s, char **out, size_t *outlen)
{
	size_t len = strlen(s), i, n = 0;
	char *clean = malloc(len + 1);
	unsigned char *buf;
	int got;

	if (!clean)
		return -ENOMEM;
	for (i = 0; i < len; i++)
		if (s[i] != '\n' && s[i] != '\r' && s[i] != ' ' && s[i] != '\t')
			clean[n++] = s[i];
	clean[n] = '\0';
	if (!n || n % 4) {
		free(clean);
		return -EINVAL;
	}
	buf = malloc(n / 4 * 3 + 1);
	if (!buf) {
		free(clean);
		return -ENOMEM;
	}
	got = EVP_DecodeBlock(buf, (const unsigned char *)clean, (int)n);
	if (got < 0) {
		free(clean);
		free(buf);
		return -EINVAL;
	}
	/* EVP_DecodeBlock counts the '=' padding as zero bytes. */
	if (n >= 1 && clean[n - 1] == '=')
		got--;
	if (n >= 2 && clean[n - 2] == '=')
		got--;
	free(clean);
	buf[got] = '\0';
	*out = (char *)buf;
	*outlen = (size_t)got;
	return 0;
}

static int take_str(const char *v, char **dst)
{
	if (!v || !v[0])
		return 0;
	*dst = strdup(v);
	return *dst ? 0 : -ENOMEM;
}

static int parse_doc(yaml_document_t *d, const char *base_dir, struct k8s_config *out, char *why,
		     size_t whylen)
{
	yaml_node_t *root = yaml_document_get_root_node(d), *ctx, *cl, *us;
	const char *cur, *cname, *uname, *server, *v;
	int err;

	if (!root || root->type != YAML_MAPPING_NODE)
		return bad(why, whylen, "not a kubeconfig (no mapping at the top)");
	cur = scalar(map_get(d, root, "current-context"));
	if (!cur || !cur[0])
		return bad(why, whylen, "no current-context");
	ctx = named(d, root, "contexts", cur, "context");
	if (!ctx)
		return bad(why, whylen, "current-context '%.64s' is not in contexts", cur);
	cname = scalar(map_get(d, ctx, "cluster"));
	uname = scalar(map_get(d, ctx, "user"));
	if (!cname)
		return bad(why, whylen, "context '%.64s' names no cluster", cur);
	cl = named(d, root, "clusters", cname, "cluster");
	if (!cl)
		return bad(why, whylen, "cluster '%.64s' is not in clusters", cname);
	server = scalar(map_get(d, cl, "server"));
	if (!server || (strncmp(server, "https://", 8) && strncmp(server, "http://", 7)))
		return bad(why, whylen, "cluster '%.64s' has no http(s):// server", cname);
	out->server = strdup(server);
	if (!out->server)
		return -ENOMEM;
	/* A trailing '/' would make "//api/v1/pods". */
	while (strlen(out->server) > 8 && out->server[strlen(out->server) - 1] == '/')
		out->server[strlen(out->server) - 1] = '\0';
	v = scalar(map_get(d, cl, "insecure-skip-tls-verify"));
	out->insecure = v && !strcmp(v, "true");
	if ((v = scalar(map_get(d, cl, "certificate-authority-data")))) {
		err = b64(v, &out->ca_pem, &out->ca_pem_len);
		if (err)
			return err == -ENOMEM ?
				       err :
				       bad(why, whylen,
					   "cluster '%.64s': certificate-authority-data is not base64",
					   cname);
	} else if ((v = scalar(map_get(d, cl, "certificate-authority")))) {
		if (!(out->ca_file = path_in(base_dir, v)))
			return -ENOMEM;
	}
	if (!uname)
		return 0; /* no user: an API server that needs no login (tests, proxies) */
	us = named(d, root, "users", uname, "user");
	if (!us)
		return bad(why, whylen, "user '%.64s' is not in users", uname);
	if (map_get(d, us, "exec") || map_get(d, us, "auth-provider"))
		return bad(
			why, whylen,
			"user '%.64s' logs in with exec or auth-provider, which ember does not run; "
			"give it a token, tokenFile or client certificate",
			uname);
	if ((err = take_str(scalar(map_get(d, us, "token")), &out->token)))
		return err;
	if ((v = scalar(map_get(d, us, "tokenFile"))) && !(out->token_file = path_in(base_dir, v)))
		return -ENOMEM;
	if ((v = scalar(map_get(d, us, "client-certificate-data")))) {
		if ((err = b64(v, &out->cert_pem, &out->cert_pem_len)))
			return err == -ENOMEM ?
				       err :
				       bad(why, whylen,
					   "user '%.64s': client-certificate-data is not base64",
					   uname);
	} else if ((v = scalar(map_get(d, us, "client-certificate"))) &&
		   !(out->cert_file = path_in(base_dir, v))) {
		return -ENOMEM;
	}
	if ((v = scalar(map_get(d, us, "client-key-data")))) {
		if ((err = b64(v, &out->key_pem, &out->key_pem_len)))
			return err == -ENOMEM ?
				       err :
				       bad(why, whylen,
					   "user '%.64s': client-key-data is not base64", uname);
	} else if ((v = scalar(map_get(d, us, "client-key"))) &&
		   !(out->key_file = path_in(base_dir, v))) {
		return -ENOMEM;
	}
	if ((out->cert_file || out->cert_pem) != (out->key_file || out->key_pem))
		return bad(why, whylen, "user '%.64s': a client certificate needs its key and back",
			   uname);
	return 0;
}

int k8s_kubeconfig_parse(const char *text, size_t len, const char *base_dir, struct k8s_config *out,
			 char *why, size_t whylen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	int err;

	memset(out, 0, sizeof(*out));
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		err = bad(why, whylen, "line %zu: %s", parser.problem_mark.line + 1,
			  parser.problem ? parser.problem : "YAML error");
		yaml_parser_delete(&parser);
		return err;
	}
	err = parse_doc(&doc, base_dir, out, why, whylen);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (err)
		k8s_config_free(out);
	return err;
}

int k8s_kubeconfig_load(const char *path, struct k8s_config *out, char *why, size_t whylen)
{
	char *text, *dir, *slash;
	ssize_t len;
	int err;

	memset(out, 0, sizeof(*out));
	text = malloc(K8S_KUBECONFIG_MAX + 1);
	if (!text)
		return -ENOMEM;
	len = file_read(path, text, K8S_KUBECONFIG_MAX + 1);
	if (len < 0) {
		free(text);
		return bad(why, whylen, "cannot read it: %s",
			   len == -EFBIG ? "over 1 MB" : strerror((int)-len));
	}
	dir = strdup(path);
	if (!dir) {
		free(text);
		return -ENOMEM;
	}
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	err = k8s_kubeconfig_parse(text, (size_t)len, slash ? (dir[0] ? dir : "/") : NULL, out, why,
				   whylen);
	free(dir);
	free(text);
	return err;
}

int k8s_incluster(const char *host, const char *port, const char *dir, struct k8s_config *out,
		  char *why, size_t whylen)
{
	char path[4096];
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!host || !host[0])
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/token", dir);
	if (access(path, R_OK))
		return -ENOENT;
	if (!port || !port[0])
		port = "443";
	for (i = 0; port[i]; i++)
		if (port[i] < '0' || port[i] > '9' || i > 5)
			return bad(why, whylen, "KUBERNETES_SERVICE_PORT '%.16s' is not a port",
				   port);
	if (strspn(host,
		   "0123456789abcdefABCDEF.:-_abcdefghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ") !=
	    strlen(host))
		return bad(why, whylen, "KUBERNETES_SERVICE_HOST '%.64s' is not a host", host);
	/* An IPv6 service address needs brackets in a URL. */
	if (asprintf(&out->server, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
		     port) < 0) {
		out->server = NULL;
		return -ENOMEM;
	}
	out->token_file = strdup(path);
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	out->ca_file = strdup(path);
	if (!out->token_file || !out->ca_file) {
		k8s_config_free(out);
		return -ENOMEM;
	}
	return 0;
}
