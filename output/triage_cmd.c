// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* triage_cmd.c - `ember report INPUT...`: files into output/triage.h
 *
 * Each file is read on its own (a tree of its own, names shared), since the
 * inputs mix profile types and services that the flame graph readers would
 * sum; its stacks are handed to the triage, then the tree goes.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fg_read.h"
#include "fg_tree.h"
#include "triage.h"
#include "triage_cmd.h"

#define MAX_NODES (16u << 20)
#define MAX_NAME_BYTES (512u << 20)
/* Ember's default sampling rate: a folded CPU file's samples are this many
 * a second per busy thread, unless --frequency says otherwise. */
#define DEFAULT_HZ 100
#define DEFAULT_TOP 5
#define OFF_CPU_ROOT "[off-cpu]"
#define MAX_FORCED 256

const char triage_usage[] =
	"Usage: ember report [--json] [--top N] INPUT... [--cpu FILE]... [--off-cpu FILE]...\n"
	"       ember report --live --duration S [--pid PID]... [--json] [--top N]\n"
	"Per service: its top functions by self CPU share, its CPU vs off-CPU split, the\n"
	"off-CPU time by kind of wait, and a verdict: cpu-bound, lock-bound, io-bound,\n"
	"gc-bound or healthy (thresholds: docs/report.md).\n"
	"INPUT: an --output-dir directory (profiles summed per service, named by file),\n"
	"pprof files (cpu or off_cpu samples), or folded files (the dry run's: process\n"
	"name first; off-CPU lines under [off-cpu], in microseconds).\n"
	"      --cpu FILE        a folded or pprof file of CPU samples\n"
	"      --off-cpu FILE    a folded (microseconds) or pprof file of off-CPU time\n"
	"      --frequency HZ    sampling rate of folded CPU files (default 100)\n"
	"      --seconds S       wall time the inputs cover (pprof files carry their own)\n"
	"      --json            one JSON object instead of text\n"
	"      --top N           functions per service (default 5)\n"
	"      --live            sample now instead (root, like the agent): for\n"
	"                        --duration S, CPU and off-CPU, --pid to narrow it,\n"
	"                        --config FILE for the agent's service names\n"
	"Exit codes: 0 printed, 1 a failure while sampling, 2 bad usage or input.\n";

enum force { FORCE_NONE, FORCE_CPU, FORCE_OFF };

struct rd {
	struct fg_names *names;
	struct triage *tr;
	double hz;
	uint64_t start_ns, end_ns;
	uint64_t files;
	const char *frames[FG_MAX_DEPTH + 2];
};

/* The service an Ember --output-dir file is for: its name is
 * <service>-<YYYYMMDDTHHMMSSZ>-<n>.pb.gz. Else the file's name without its
 * extension. */
static void service_of(const char *path, char *out, size_t size)
{
	const char *base = strrchr(path, '/');
	size_t len, i;
	char *dash;

	base = base ? base + 1 : path;
	snprintf(out, size, "%s", base);
	len = strlen(out);
	if (len > 6 && !strcmp(out + len - 6, ".pb.gz"))
		out[len -= 6] = '\0';
	dash = strrchr(out, '-');
	if (dash && dash[1] && strspn(dash + 1, "0123456789") == strlen(dash + 1)) {
		*dash = '\0';
		dash = strrchr(out, '-');
		len = dash ? strlen(dash + 1) : 0;
		if (len == 16 && dash[9] == 'T' && dash[16] == 'Z') {
			for (i = 1; i <= 15; i++)
				if (i != 9 && (dash[i] < '0' || dash[i] > '9'))
					break;
			if (i == 16 && dash != out) {
				*dash = '\0';
				return;
			}
		}
	}
	/* Not Ember's pattern: the base name, less a known extension. */
	snprintf(out, size, "%s", base);
	len = strlen(out);
	for (i = 0; i < 4; i++) {
		static const char *const ext[] = { ".pb.gz", ".pb", ".folded", ".txt" };
		size_t el = strlen(ext[i]);

		if (len > el && !strcmp(out + len - el, ext[i])) {
			out[len - el] = '\0';
			break;
		}
	}
}

/* Hands every stack of the file's tree to the triage. */
static int feed(struct rd *d, const char *path, struct fg_tree *t, const struct fg_read *r,
		enum force force)
{
	bool folded = !strcmp(r->type, "samples/count") && r->lines;
	bool off = !strncmp(r->type, "off_cpu/", 8);
	bool cpu = !strncmp(r->type, "cpu/", 4) || !strcmp(r->type, "samples/count");
	const struct fg_names *nm = fg_tree__names(t);
	const struct fg_node *nodes;
	char service[256];
	size_t n, i, depth, skip;
	uint32_t j;
	int err;

	if (!off && !cpu) {
		fprintf(stderr,
			"ember report: error: %s: a %s profile, neither CPU (cpu, or samples in "
			"folded text) nor off-CPU (off_cpu)\n",
			path, r->type);
		return -EINVAL;
	}
	if ((force == FORCE_CPU && off) || (force == FORCE_OFF && cpu && !folded)) {
		fprintf(stderr, "ember report: error: %s: a %s profile given as %s\n", path,
			r->type, force == FORCE_CPU ? "--cpu" : "--off-cpu");
		return -EINVAL;
	}
	if (!folded && strcmp(strchr(r->type, '/') + 1, "nanoseconds") &&
	    strcmp(r->type, "samples/count")) {
		fprintf(stderr,
			"ember report: error: %s: %s: CPU and off-CPU time must be in "
			"nanoseconds\n",
			path, r->type);
		return -EINVAL;
	}
	service_of(path, service, sizeof(service));
	nodes = fg_tree__nodes(t, &n);
	for (i = 1; i < n; i++) {
		enum triage_kind kind = off || force == FORCE_OFF ? TRIAGE_OFF_CPU : TRIAGE_CPU;
		const char *svc = service;
		uint64_t ns;

		if (!nodes[i].self)
			continue;
		depth = nodes[i].depth;
		for (j = (uint32_t)i; j != FG_ROOT; j = nodes[j].parent)
			d->frames[nodes[j].depth - 1] = fg_names__str(nm, nodes[j].name);
		skip = 0;
		if (folded) {
			/* The dry run's lines: [off-cpu]? comm frames... */
			if (depth > 1 && !strcmp(d->frames[0], OFF_CPU_ROOT)) {
				kind = TRIAGE_OFF_CPU;
				skip = 1;
			}
			svc = d->frames[skip];
			if (depth > skip + 1)
				skip++;
			/* Samples at hz, or microseconds blocked. */
			ns = kind == TRIAGE_CPU ? (uint64_t)((double)nodes[i].self * 1e9 / d->hz) :
						  nodes[i].self * 1000;
		} else {
			ns = strcmp(r->type, "samples/count") ?
				     nodes[i].self :
				     (uint64_t)((double)nodes[i].self * 1e9 / d->hz);
		}
		err = triage__add(d->tr, svc, kind, d->frames + skip, depth - skip, ns);
		if (err) {
			fprintf(stderr, "ember report: error: %s: %s\n", path, strerror(-err));
			return err;
		}
	}
	return 0;
}

static int read_file(struct rd *d, const char *path, enum force force)
{
	struct fg_read r = { 0 };
	struct fg_tree *t = fg_tree__new(d->names, MAX_NODES, false);
	int err;

	if (!t) {
		fprintf(stderr, "ember report: error: out of memory\n");
		return -ENOMEM;
	}
	err = fg_read_path(t, path, &r);
	if (err) {
		fprintf(stderr, "ember report: error: %s\n", r.err);
		goto cleanup;
	}
	if (r.note[0] && strncmp(r.type, "cpu/", 4))
		fprintf(stderr, "ember report: note: %s\n", r.note);
	err = fg_tree__finish(t);
	if (err) {
		fprintf(stderr, "ember report: error: out of memory\n");
		goto cleanup;
	}
	if (r.start_ns && (!d->start_ns || r.start_ns < d->start_ns))
		d->start_ns = r.start_ns;
	if (r.end_ns > d->end_ns)
		d->end_ns = r.end_ns;
	d->files++;
	err = feed(d, path, t, &r, force);
cleanup:
	fg_tree__free(t);
	return err;
}

static int skip_hidden(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

/* A directory: each non-hidden regular file, in name order. */
static int read_input(struct rd *d, const char *path, enum force force)
{
	struct dirent **ents = NULL;
	struct stat st;
	char full[4096];
	int n, i, err = 0;

	if (strcmp(path, "-") && !stat(path, &st) && S_ISDIR(st.st_mode)) {
		n = scandir(path, &ents, skip_hidden, alphasort);
		if (n < 0) {
			fprintf(stderr, "ember report: error: %s: %s\n", path, strerror(errno));
			return -errno;
		}
		for (i = 0; i < n; i++) {
			snprintf(full, sizeof(full), "%s/%s", path, ents[i]->d_name);
			if (!err && !stat(full, &st) && S_ISREG(st.st_mode))
				err = read_file(d, full, force);
			free(ents[i]);
		}
		free(ents);
		return err;
	}
	return read_file(d, path, force);
}

enum { OPT_CPU = 256, OPT_OFF, OPT_FREQ, OPT_SECONDS, OPT_JSON, OPT_TOP };

int triage_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cpu", required_argument, NULL, OPT_CPU },
		{ "off-cpu", required_argument, NULL, OPT_OFF },
		{ "frequency", required_argument, NULL, OPT_FREQ },
		{ "seconds", required_argument, NULL, OPT_SECONDS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rd d = { .hz = DEFAULT_HZ };
	struct triage_out o = { .top = DEFAULT_TOP };
	struct {
		const char *path;
		enum force force;
	} forced[MAX_FORCED];
	double seconds = 0, v;
	char *end;
	int c, i, nforced = 0, ret = 2;

	d.names = fg_names__new(MAX_NAME_BYTES);
	d.tr = triage__new();
	if (!d.names || !d.tr) {
		fprintf(stderr, "ember report: error: out of memory\n");
		goto cleanup;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_CPU:
		case OPT_OFF:
			/* Read after the options: --frequency may come later. */
			if (nforced == MAX_FORCED) {
				fprintf(stderr,
					"ember report: error: more than %d --cpu and "
					"--off-cpu files\n",
					MAX_FORCED);
				goto cleanup;
			}
			forced[nforced].path = optarg;
			forced[nforced++].force = c == OPT_CPU ? FORCE_CPU : FORCE_OFF;
			break;
		case OPT_FREQ:
		case OPT_SECONDS:
		case OPT_TOP:
			errno = 0;
			v = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(v > 0) || v > 1e9 ||
			    (c == OPT_TOP && v != (unsigned int)v)) {
				fprintf(stderr, "ember report: error: %s '%s': a number above 0\n",
					c == OPT_FREQ ? "--frequency" :
					c == OPT_TOP  ? "--top" :
							"--seconds",
					optarg);
				goto cleanup;
			}
			if (c == OPT_FREQ)
				d.hz = v;
			else if (c == OPT_TOP)
				o.top = (unsigned int)v;
			else
				seconds = v;
			break;
		case OPT_JSON:
			o.json = true;
			break;
		case 'h':
			fputs(triage_usage, stdout);
			ret = 0;
			goto cleanup;
		default:
			fputs(triage_usage, stderr);
			goto cleanup;
		}
	}
	for (i = 0; i < nforced; i++)
		if (read_input(&d, forced[i].path, forced[i].force))
			goto cleanup;
	for (i = optind; i < argc; i++)
		if (read_input(&d, argv[i], FORCE_NONE))
			goto cleanup;
	if (!d.files) {
		fprintf(stderr, "ember report: error: no INPUT (files, directories, --cpu FILE or "
				"--off-cpu FILE)\n");
		goto cleanup;
	}
	if (!triage__services(d.tr)) {
		fprintf(stderr, "ember report: error: the inputs hold no samples\n");
		goto cleanup;
	}
	if (seconds > 0)
		triage__set_wall(d.tr, (uint64_t)(seconds * 1e9));
	else if (d.end_ns > d.start_ns)
		triage__set_wall(d.tr, d.end_ns - d.start_ns);
	if (triage__print(d.tr, stdout, o.json, o.top)) {
		fprintf(stderr, "ember report: error: cannot write to stdout: %s\n",
			strerror(errno ? errno : EIO));
		goto cleanup;
	}
	ret = 0;
cleanup:
	triage__free(d.tr);
	fg_names__free(d.names);
	return ret;
}
