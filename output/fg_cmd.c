// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fg_cmd.c - options, inputs and outputs of `ember flamegraph` and `ember diff` */
#include <errno.h>
#include <getopt.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fg_cmd.h"
#include "fg_diff.h"
#include "fg_read.h"
#include "fg_svg.h"
#include "fg_tree.h"

/* About 64 bytes a node with its index: 1 GiB at the bound. */
#define MAX_NODES (16u << 20)
#define MAX_NAME_BYTES (512u << 20)
#define MAX_FUNCTIONS 64

static const char flamegraph_usage[] =
	"Usage: ember flamegraph [-o OUT.svg] [--title T] [--icicle] [--reverse] INPUT...\n"
	"INPUT: folded stacks (`stack count` lines), pprof (.pb.gz or not), a directory\n"
	"of --output-dir profiles (summed), or - for stdin. All inputs are summed.\n"
	"  -o, --output FILE   the SVG (default: stdout)\n"
	"      --title TEXT    the graph's title\n"
	"      --icicle        root at the top, stacks growing down\n"
	"      --reverse       leaves at the root: the callers of the hottest functions\n"
	"Exit codes: 0 written, 2 bad usage or input.\n";

static const char diff_usage[] =
	"Usage: ember diff BEFORE AFTER [-o diff.svg] [--normalize] [--fail-on-growth PTS]\n"
	"                  [--function REGEX]...\n"
	"Prints per function its self and total share of BEFORE and AFTER and the change in\n"
	"points, largest growth first. BEFORE and AFTER: folded, pprof, or directories.\n"
	"  -o, --output FILE        AFTER drawn red where a stack grew, blue where it shrank\n"
	"      --normalize          colour by change of share, not of sample count\n"
	"      --fail-on-growth PTS exit 1 when a function's total share grew by more\n"
	"                           than PTS points\n"
	"      --function REGEX     gate only the functions matching REGEX (repeatable)\n"
	"Exit codes: 0 no growth past PTS, 1 growth past PTS, 2 bad usage or input.\n";

/* One side of the command: a tree over the shared names and what was read. */
struct side {
	struct fg_tree *tree;
	struct fg_read read;
	uint64_t total;
};

static int read_side(const char *cmd, struct side *s, char **paths, int n)
{
	const struct fg_node *nd;
	size_t len;
	int i;

	for (i = 0; i < n; i++) {
		s->read.note[0] = '\0';
		if (fg_read_path(s->tree, paths[i], &s->read)) {
			fprintf(stderr, "ember %s: error: %s\n", cmd, s->read.err);
			return -1;
		}
		if (s->read.note[0])
			fprintf(stderr, "ember %s: note: %s\n", cmd, s->read.note);
	}
	if (fg_tree__finish(s->tree)) {
		fprintf(stderr, "ember %s: error: out of memory\n", cmd);
		return -1;
	}
	nd = fg_tree__nodes(s->tree, &len);
	s->total = nd[FG_ROOT].total;
	if (!s->total) {
		fprintf(stderr, "ember %s: error: %s%s: no samples\n", cmd, paths[0],
			n > 1 ? " and the other inputs" : "");
		return -1;
	}
	if (fg_tree__truncated(s->tree))
		fprintf(stderr,
			"ember %s: warning: %llu samples kept on a shorter stack: more than %u "
			"distinct stack frames\n",
			cmd, (unsigned long long)fg_tree__truncated(s->tree), MAX_NODES);
	return 0;
}

/* "count" units are samples; others (nanoseconds) keep their name. */
static const char *unit_of(const char *type)
{
	const char *u = strchr(type, '/');

	u = u ? u + 1 : type;
	return !strcmp(u, "count") ? "samples" : u;
}

static int write_svg(const char *cmd, const char *path, const struct fg_tree *t,
		     const struct fg_svg_opts *o)
{
	FILE *f = path && strcmp(path, "-") ? fopen(path, "w") : stdout;
	int err;

	if (!f) {
		fprintf(stderr, "ember %s: error: %s: %s\n", cmd, path, strerror(errno));
		return -1;
	}
	err = fg_svg_write(f, t, o);
	if (f != stdout && fclose(f) && !err)
		err = -EIO;
	if (err) {
		fprintf(stderr, "ember %s: error: %s: %s\n", cmd, path ? path : "stdout",
			strerror(-err));
		return -1;
	}
	return 0;
}

enum { OPT_TITLE = 256, OPT_ICICLE, OPT_REVERSE, OPT_NORMALIZE, OPT_FAIL, OPT_FUNCTION };

int fg_cmd_flamegraph(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "title", required_argument, NULL, OPT_TITLE },
		{ "icicle", no_argument, NULL, OPT_ICICLE },
		{ "reverse", no_argument, NULL, OPT_REVERSE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fg_svg_opts so = { .title = "Flame Graph" };
	struct side s = { 0 };
	struct fg_names *names = NULL;
	const char *out = NULL;
	bool reverse = false;
	char subtitle[256];
	int c, ret = 2;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case OPT_TITLE:
			so.title = optarg;
			break;
		case OPT_ICICLE:
			so.icicle = true;
			break;
		case OPT_REVERSE:
			reverse = true;
			break;
		case 'h':
			fputs(flamegraph_usage, stdout);
			return 0;
		default:
			fputs(flamegraph_usage, stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "ember flamegraph: error: no INPUT (a file, a directory or -)\n");
		return 2;
	}
	names = fg_names__new(MAX_NAME_BYTES);
	s.tree = names ? fg_tree__new(names, MAX_NODES, reverse) : NULL;
	if (!s.tree) {
		fprintf(stderr, "ember flamegraph: error: out of memory\n");
		goto cleanup;
	}
	if (read_side("flamegraph", &s, argv + optind, argc - optind))
		goto cleanup;
	snprintf(subtitle, sizeof(subtitle), "%llu %s (%s) from %llu input file(s)%s",
		 (unsigned long long)s.total, unit_of(s.read.type), s.read.type,
		 (unsigned long long)s.read.inputs,
		 reverse ? "; reversed: leaves at the root" : "");
	so.subtitle = subtitle;
	so.unit = unit_of(s.read.type);
	if (write_svg("flamegraph", out, s.tree, &so))
		goto cleanup;
	ret = 0;
cleanup:
	fg_tree__free(s.tree);
	fg_names__free(names);
	return ret;
}

struct gate {
	regex_t re[MAX_FUNCTIONS];
	int nre;
	double pts;
	bool on;
};

static bool gated(const struct gate *g, const char *name)
{
	int i;

	if (!g->nre)
		return true;
	for (i = 0; i < g->nre; i++)
		if (!regexec(&g->re[i], name, 0, NULL, 0))
			return true;
	return false;
}

/* 1 when a gated function's total share grew past the threshold, 0 when
 * none did, 2 when --function matched nothing (a typo must not pass CI). */
static int run_gate(const struct gate *g, const struct fg_names *names,
		    const struct fg_diff_row *rows, size_t n)
{
	size_t i, matched = 0, grew = 0;

	for (i = 0; i < n; i++) {
		const char *name = fg_names__str(names, rows[i].name);

		if (!gated(g, name))
			continue;
		matched++;
		if (g->on && rows[i].total_delta > g->pts) {
			fputs("ember diff: growth: ", stderr);
			fg_diff_put_name(stderr, name);
			fprintf(stderr, " total share %.2f%% -> %.2f%% (%+.2f points, over %.2f)\n",
				rows[i].total_before, rows[i].total_after, rows[i].total_delta,
				g->pts);
			grew++;
		}
	}
	if (!matched) {
		fprintf(stderr,
			"ember diff: error: no function in BEFORE or AFTER matches --function\n");
		return 2;
	}
	return grew ? 1 : 0;
}

int fg_cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "normalize", no_argument, NULL, OPT_NORMALIZE },
		{ "fail-on-growth", required_argument, NULL, OPT_FAIL },
		{ "function", required_argument, NULL, OPT_FUNCTION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct side before = { 0 }, after = { 0 };
	struct fg_svg_diff sd = { 0 };
	struct fg_svg_opts so = { .title = "Differential Flame Graph" };
	struct fg_diff_row *rows = NULL;
	struct fg_names *names = NULL;
	struct gate g = { 0 };
	uint64_t *matched = NULL;
	const char *out = NULL;
	char subtitle[256], *end;
	size_t nrows = 0;
	int c, i, ret = 2;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case OPT_NORMALIZE:
			sd.normalize = true;
			break;
		case OPT_FAIL:
			errno = 0;
			g.pts = strtod(optarg, &end);
			if (errno || end == optarg || *end || g.pts < 0 || g.pts > 100) {
				fprintf(stderr,
					"ember diff: error: --fail-on-growth '%s': points "
					"from 0 to 100\n",
					optarg);
				goto cleanup;
			}
			g.on = true;
			break;
		case OPT_FUNCTION:
			if (g.nre == MAX_FUNCTIONS ||
			    regcomp(&g.re[g.nre], optarg, REG_EXTENDED | REG_NOSUB)) {
				fprintf(stderr, "ember diff: error: --function '%s': %s\n", optarg,
					g.nre == MAX_FUNCTIONS ? "too many (64 at most)" :
								 "not a valid extended regex");
				goto cleanup;
			}
			g.nre++;
			break;
		case 'h':
			fputs(diff_usage, stdout);
			ret = 0;
			goto cleanup;
		default:
			fputs(diff_usage, stderr);
			goto cleanup;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "ember diff: error: needs BEFORE and AFTER (got %d input(s))\n",
			argc - optind);
		goto cleanup;
	}
	names = fg_names__new(MAX_NAME_BYTES);
	before.tree = names ? fg_tree__new(names, MAX_NODES, false) : NULL;
	after.tree = names ? fg_tree__new(names, MAX_NODES, false) : NULL;
	if (!before.tree || !after.tree) {
		fprintf(stderr, "ember diff: error: out of memory\n");
		goto cleanup;
	}
	/* AFTER first: once read, only its nodes are needed (the match looks
	 * each one up in BEFORE), so its index goes before BEFORE is read and
	 * the two largest tables never coexist. */
	if (read_side("diff", &after, argv + optind + 1, 1))
		goto cleanup;
	fg_tree__seal(after.tree);
	if (read_side("diff", &before, argv + optind, 1))
		goto cleanup;
	if (fg_diff_rows(before.tree, after.tree, &rows, &nrows)) {
		fprintf(stderr, "ember diff: error: out of memory\n");
		goto cleanup;
	}
	printf("before: %s, %llu %s; after: %s, %llu %s\n", argv[optind],
	       (unsigned long long)before.total, unit_of(before.read.type), argv[optind + 1],
	       (unsigned long long)after.total, unit_of(after.read.type));
	fg_diff_print(stdout, names, rows, nrows);
	fflush(stdout);
	if (out) {
		if (fg_diff_match(before.tree, after.tree, &matched)) {
			fprintf(stderr, "ember diff: error: out of memory\n");
			goto cleanup;
		}
		sd.before = matched;
		sd.before_total = before.total;
		snprintf(subtitle, sizeof(subtitle),
			 "AFTER %llu %s; red grew, blue shrank since BEFORE (%s)",
			 (unsigned long long)after.total, unit_of(after.read.type),
			 sd.normalize ? "by share" : "by sample count");
		so.subtitle = subtitle;
		so.unit = unit_of(after.read.type);
		so.diff = &sd;
		if (write_svg("diff", out, after.tree, &so))
			goto cleanup;
	}
	ret = run_gate(&g, names, rows, nrows);
cleanup:
	for (i = 0; i < g.nre; i++)
		regfree(&g.re[i]);
	free(matched);
	free(rows);
	fg_tree__free(before.tree);
	fg_tree__free(after.tree);
	fg_names__free(names);
	return ret;
}
