// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* k8s_setup.c - from the options to a running client, or a clear refusal
 *
 * auto turns Kubernetes on where it can work (a kubeconfig was given, or
 * the agent runs in a pod) and stays quiet elsewhere (bare metal); what the
 * user asked for explicitly and cannot work is refused at start (exit 2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "k8s.h"
#include "log.h"

static int refuse(const char *what, const char *why, const char *fix)
{
	fprintf(stderr, "ember: error %s: %s; %s\n", what, why, fix);
	return -EINVAL;
}

int k8s_setup(const struct cfg *cfg, struct k8s **out)
{
	struct k8s_opts o = { 0 };
	const char *node = cfg->node_name, *dir, *env;
	char why[256] = "";
	int err;

	*out = NULL;
	if (cfg->kubernetes == CFG_K8S_OFF)
		return 0;
	if (!node || !node[0])
		node = getenv("NODE_NAME");
	if (cfg->kubeconfig) {
		err = k8s_kubeconfig_load(cfg->kubeconfig, &o.config, why, sizeof(why));
		if (err == -ENOMEM)
			return refuse("--kubeconfig", "out of memory", "try again");
		if (err) {
			fprintf(stderr, "ember: error --kubeconfig %s: %s; see ember --help\n",
				cfg->kubeconfig, why);
			return -EINVAL;
		}
	} else {
		dir = getenv("EMBER_K8S_SA_DIR");
		err = k8s_incluster(getenv("KUBERNETES_SERVICE_HOST"),
				    getenv("KUBERNETES_SERVICE_PORT"), dir ? dir : K8S_SA_DIR,
				    &o.config, why, sizeof(why));
		if (err == -ENOENT && cfg->kubernetes == CFG_K8S_AUTO) {
			log_info("k8s: no kubeconfig and not in a pod: Kubernetes metadata is off");
			return 0;
		}
		if (err == -ENOENT)
			return refuse(
				"--kubernetes on",
				"no --kubeconfig, and no in-cluster config (KUBERNETES_SERVICE_HOST "
				"and a service account token)",
				"give --kubeconfig FILE or run in a pod");
		if (err) {
			k8s_config_free(&o.config);
			return refuse("in-cluster config", err == -ENOMEM ? "out of memory" : why,
				      "check the pod's environment");
		}
	}
	if (!node || !node[0]) {
		k8s_config_free(&o.config);
		if (cfg->kubernetes == CFG_K8S_AUTO && !cfg->kubeconfig) {
			log_warn(
				"k8s: in a pod but NODE_NAME is not set: Kubernetes metadata is off; "
				"set NODE_NAME from spec.nodeName (the downward API) or give "
				"--node-name");
			return 0;
		}
		return refuse("Kubernetes metadata", "no node name",
			      "give --node-name NAME or set NODE_NAME (spec.nodeName)");
	}
	o.node = node;
	o.watch_timeout_s = cfg->k8s_watch_timeout_s;
	o.annotated_only = cfg->profile_annotated_only;
	env = getenv("EMBER_K8S_BACKOFF_MAX_MS");
	if (env && atoi(env) > 0)
		o.backoff_max_ms = (uint32_t)atoi(env);
	*out = k8s__new(&o);
	if (!*out)
		return refuse("Kubernetes metadata", strerror(errno), "see the line above");
	return 0;
}
