// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* live.c - a live subcommand's command line into the agent's
 *
 * Only sampling and naming options pass: a live view is the output, so the
 * agent's outputs, windows and config file are the subcommand's to set.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"

/* The agent options a live view forwards, with whether they take a value. */
static const struct live_opt forwarded[] = {
	{ "pid", 'p', true, 0 },
	{ "frequency", 'F', true, 0 },
	{ "no-kernel", 0, false, 0 },
	{ "no-jvm", 0, false, 0 },
	{ "jvm-min-age", 0, true, 0 },
	{ "no-demangle", 0, false, 0 },
	{ "no-mmap-events", 0, false, 0 },
	{ "log-level", 0, true, 0 },
	{ "verbose", 'v', false, 0 },
	{ "host", 0, true, 0 },
	/* The deployed agent's file: its labels and relabel rules name the
	 * services as the agent does; its outputs are dropped (main). */
	{ "config", 0, true, 0 },
	{ "label", 0, true, 0 },
	{ "off-cpu-min-us", 0, true, 0 },
	{ "off-cpu-sample", 0, true, 0 },
	{ "off-cpu-max-rate", 0, true, 0 },
	{ "off-cpu-runqueue", 0, false, 0 },
};

/* The option arg names, from own or forwarded; NULL when neither. */
static const struct live_opt *find_opt(const char *arg, size_t len, bool is_long,
				       const struct live_opt *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (is_long && strlen(set[i].name) == len && !strncmp(set[i].name, arg, len))
			return &set[i];
		if (!is_long && set[i].letter && len == 1 && set[i].letter == arg[0])
			return &set[i];
	}
	return NULL;
}

int live_argv(const char *cmd, int argc, char **argv, const struct live_opt *own, size_t nown,
	      live_opt_fn fn, void *ctx, char *const *extra, int nextra, int *out_argc,
	      char ***out_argv)
{
	char **av = calloc((size_t)(argc + nextra) * 2 + 1, sizeof(*av));
	const struct live_opt *o;
	int i, n = 0, ret;

	if (!av) {
		fprintf(stderr, "ember %s: error: out of memory\n", cmd);
		return 2;
	}
	for (i = 0; i < nextra; i++)
		av[n++] = extra[i];
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *eq, *value = NULL;
		bool is_long = !strncmp(a, "--", 2);
		size_t len;

		if (a[0] != '-' || !a[1]) {
			ret = fn(ctx, -1, a);
			if (ret)
				goto fail;
			continue;
		}
		name = a + (is_long ? 2 : 1);
		eq = is_long ? strchr(name, '=') : NULL;
		len = eq ? (size_t)(eq - name) : strlen(name);
		/* -p123: a short option with its value attached. */
		if (!is_long && len > 1) {
			eq = name; /* the value starts after it */
			len = 1;
		}
		o = find_opt(name, len, is_long, own, nown);
		if (!o && (o = find_opt(name, len, is_long, forwarded,
					sizeof(forwarded) / sizeof(forwarded[0])))) {
			/* Forwarded as written: cfg_parse validates it. */
			av[n++] = argv[i];
			if (o->takes_value && !eq) {
				if (i + 1 >= argc)
					goto no_value;
				av[n++] = argv[++i];
			}
			continue;
		}
		if (!o) {
			fprintf(stderr,
				"ember %s: error: unknown option '%s' (see ember %s --help)\n", cmd,
				a, cmd);
			ret = 2;
			goto fail;
		}
		if (o->takes_value) {
			if (eq)
				value = eq + 1;
			else if (i + 1 < argc)
				value = argv[++i];
			else
				goto no_value;
		} else if (eq) {
			fprintf(stderr, "ember %s: error: %s takes no value\n", cmd, a);
			ret = 2;
			goto fail;
		}
		ret = fn(ctx, o->id, value);
		if (ret)
			goto fail;
	}
	*out_argc = n;
	*out_argv = av;
	return 0;
no_value:
	fprintf(stderr, "ember %s: error: %s needs a value\n", cmd, argv[i]);
	ret = 2;
fail:
	free(av);
	return ret;
}
