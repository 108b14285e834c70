// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* top.c - ember top: options, the full-screen view (ncurses) and --batch text
 *
 * The screen is redrawn whole at each window and key: a few dozen rows,
 * so there is nothing to gain from partial updates, and a resize needs no
 * bookkeeping. Names are cut to the terminal's width (by characters, at a
 * UTF-8 boundary), never wrapped. Logs go to stderr, which shares the
 * terminal: the full screen runs at log level error unless told otherwise.
 */
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <ncurses.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "top.h"

#define TOP_DEFAULT_INTERVAL 2
#define TOP_DEFAULT_LIMIT 25
/* Columns before the name: "%6.1f%%  %6.1f%%  %8llu  ". */
#define TOP_NAME_COL 28

static const char top_usage[] =
	"Usage: ember top [--pid PID]... [--interval S] [--by function|process|service]\n"
	"                 [--batch N [--limit ROWS]] [sampling options]\n"
	"The hottest code right now, from the same sampler and symbolizer as the agent,\n"
	"refreshed every interval. Needs root (or CAP_BPF+CAP_PERFMON), like the agent.\n"
	"  -p, --pid PID       only this process (repeatable)\n"
	"  -i, --interval S    seconds per refresh (default 2)\n"
	"      --by WHAT       function (default): self and total share per function;\n"
	"                      process or service (the agent's service_name label)\n"
	"      --batch N       print N snapshots as plain text and exit: a header line,\n"
	"                      then rows `self% total% samples name`\n"
	"      --limit ROWS    rows per batch snapshot (default 25)\n"
	"  Also: -F/--frequency, --no-kernel, --no-jvm, --no-demangle, --log-level,\n"
	"  --verbose, --host, --label, as for the agent (ember --help), and --config FILE:\n"
	"  the agent's file, for its labels and relabel rules (its outputs stay off).\n"
	"Keys: q quit, p pause, s/t/n sort by self/total/name, / filter (regex, empty\n"
	"clears), f/P/v by function/process/service.\n"
	"Exit codes: 0 done, 1 a failure while running, 2 bad usage or no privileges.\n";

static const char *const by_name[TOP_BY_MAX] = { "function", "process", "service" };
static const char *const sort_name[TOP_SORT_MAX] = { "self", "total", "name" };

enum { TOP_OPT_INTERVAL, TOP_OPT_BY, TOP_OPT_BATCH, TOP_OPT_LIMIT, TOP_OPT_HELP };

static const struct live_opt top_opts_list[] = {
	{ "interval", 'i', true, TOP_OPT_INTERVAL }, { "by", 0, true, TOP_OPT_BY },
	{ "batch", 0, true, TOP_OPT_BATCH },	     { "limit", 0, true, TOP_OPT_LIMIT },
	{ "help", 'h', false, TOP_OPT_HELP },
};

static int parse_num(const char *opt, const char *s, unsigned long min, unsigned long max,
		     uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > max) {
		fprintf(stderr, "ember top: error: %s '%s': a whole number from %lu to %lu\n", opt,
			s, min, max);
		return 2;
	}
	*out = (uint32_t)v;
	return 0;
}

static int top_opt(void *ctx, int id, const char *value)
{
	struct top_opts *o = ctx;
	int by;

	switch (id) {
	case TOP_OPT_INTERVAL:
		return parse_num("--interval", value, 1, 3600, &o->interval_s);
	case TOP_OPT_BY:
		for (by = 0; by < TOP_BY_MAX; by++) {
			if (!strcmp(value, by_name[by])) {
				o->by = by;
				return 0;
			}
		}
		fprintf(stderr, "ember top: error: --by '%s': one of function, process, service\n",
			value);
		return 2;
	case TOP_OPT_BATCH:
		return parse_num("--batch", value, 1, 1000000, &o->batch);
	case TOP_OPT_LIMIT:
		return parse_num("--limit", value, 1, 100000, &o->limit);
	case TOP_OPT_HELP:
		fputs(top_usage, stdout);
		return 1;
	default:
		fprintf(stderr, "ember top: error: unexpected argument '%s'\n", value);
		return 2;
	}
}

int top_args(int argc, char **argv, struct top_opts *o, int *aargc, char ***aargv)
{
	/* The agent's command line: the view is its only output, one window
	 * per interval (its text is filled in once parsed). --dry-run passes
	 * cfg's "an output" check; main turns it off again (the view replaces
	 * stdout). */
	static char prog[] = "ember", dry[] = "--dry-run", window[] = "--window";
	char *extra[] = { prog, dry, window, o->interval_arg };
	int err;

	memset(o, 0, sizeof(*o));
	o->interval_s = TOP_DEFAULT_INTERVAL;
	o->limit = TOP_DEFAULT_LIMIT;
	err = live_argv("top", argc, argv, top_opts_list,
			sizeof(top_opts_list) / sizeof(top_opts_list[0]), top_opt, o, extra,
			sizeof(extra) / sizeof(extra[0]), aargc, aargv);
	if (err)
		return err;
	snprintf(o->interval_arg, sizeof(o->interval_arg), "%u", o->interval_s);
	if (!o->batch && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		fprintf(stderr, "ember top: error: the full-screen view needs a terminal on stdin "
				"and stdout; use --batch N for text\n");
		free(*aargv);
		*aargv = NULL;
		return 2;
	}
	return 0;
}

struct top {
	struct top_opts o;
	const struct cfg *cfg;
	const char *host;
	struct sampler *sampler;
	struct top_snap *snap; /* shown */
	struct top_snap *pending; /* newest while paused */
	uint64_t lost_total, lost; /* ring buffer losses: all, last interval's */
	uint32_t printed; /* batch snapshots */
	SCREEN *scr;
	bool screen, paused, stop, editing;
	enum top_by by;
	enum top_sort sort;
	regex_t filter;
	bool has_filter;
	char filter_text[128];
	char edit[128];
	size_t editlen;
	char msg[192];
	int status;
};

struct top *top__new(const struct top_opts *o, const struct cfg *cfg, const char *host,
		     struct sampler *sampler)
{
	struct top *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->o = *o;
	t->cfg = cfg;
	t->host = host;
	t->sampler = sampler;
	t->by = o->by;
	t->sort = TOP_SORT_SELF;
	return t;
}

void top__free(struct top *t)
{
	if (!t)
		return;
	top__end(t);
	top_snap__free(t->snap);
	top_snap__free(t->pending);
	if (t->has_filter)
		regfree(&t->filter);
	free(t);
}

int top__status(const struct top *t)
{
	return t->status;
}

static double pct(uint64_t n, uint64_t of)
{
	return of ? 100.0 * (double)n / (double)of : 0.0;
}

static void print_batch(struct top *t, const struct top_snap *s)
{
	size_t i, n = s->nrows[t->by];

	printf("ember top host=%s cpus=%d interval=%us by=%s snapshot=%u/%u samples=%llu "
	       "lost=%llu\n",
	       t->host, sampler__ncpus(t->sampler), t->o.interval_s, by_name[t->by], t->printed + 1,
	       t->o.batch, (unsigned long long)s->samples, (unsigned long long)t->lost);
	for (i = 0; i < n && i < t->o.limit; i++) {
		const struct top_row *row = &s->rows[t->by][i];

		printf("%6.2f %6.2f %8llu %s\n", pct(row->self, s->samples),
		       pct(row->total, s->samples), (unsigned long long)row->total, row->name);
	}
	putchar('\n');
	if (fflush(stdout) || ferror(stdout)) {
		log_err("top: cannot write to stdout err=%d", -errno);
		t->status = 1;
		t->stop = true;
	}
}

static void draw(struct top *t);

void top__window(void *ctx, struct report *r)
{
	struct top *t = ctx;
	uint64_t cnt[PROF_CNT_MAX] = { 0 };
	struct top_snap *s;

	if (report_type_is_off_cpu(&r->type) || t->stop)
		return;
	if (!sampler__counters(t->sampler, cnt)) {
		t->lost = cnt[PROF_CNT_LOST_RINGBUF] - t->lost_total;
		t->lost_total = cnt[PROF_CNT_LOST_RINGBUF];
	}
	s = top_snap__new(t->cfg, r);
	if (!s) {
		log_err("top: building the snapshot failed err=%d", -errno);
		return;
	}
	top_snap__sort(s, t->by, t->o.batch ? TOP_SORT_SELF : t->sort);
	if (t->o.batch) {
		print_batch(t, s);
		top_snap__free(s);
		if (++t->printed >= t->o.batch)
			t->stop = true;
		return;
	}
	if (t->paused) {
		top_snap__free(t->pending);
		t->pending = s;
	} else {
		top_snap__free(t->snap);
		t->snap = s;
	}
	if (t->screen)
		draw(t);
}

/* Writes s at row y, cut to the screen's width by characters (at a UTF-8
 * boundary, so a name never ends in half a character). */
static void put_line(int y, const char *s)
{
	int cols = COLS, chars = 0;
	size_t i = 0;

	if (y >= LINES)
		return;
	while (s[i] && chars < cols) {
		i++;
		while ((s[i] & 0xc0) == 0x80)
			i++;
		chars++;
	}
	move(y, 0);
	addnstr(s, (int)i);
	clrtoeol();
}

/* src in at most room characters: a longer name keeps its start and ends
 * in "..." (a function's name is told by its start). */
static void cut_name(char *dst, size_t size, const char *src, int room)
{
	size_t i = 0;
	int chars = 0;

	while (src[i] && i + 4 < size) {
		if (chars == room - 3 && room > 3) {
			size_t rest = i, more = 0;

			/* Cut only when more than three characters remain. */
			while (src[rest] && more <= 3) {
				rest++;
				while ((src[rest] & 0xc0) == 0x80)
					rest++;
				more++;
			}
			if (more > 3) {
				memcpy(dst, src, i);
				memcpy(dst + i, "...", 4);
				return;
			}
		}
		i++;
		while ((src[i] & 0xc0) == 0x80)
			i++;
		chars++;
	}
	if (i >= size)
		i = size - 1;
	memcpy(dst, src, i);
	dst[i] = '\0';
}

static void draw(struct top *t)
{
	const struct top_snap *s = t->snap;
	char line[1024], name[512];
	size_t i, n = s ? s->nrows[t->by] : 0;
	int y = 3, room = COLS - TOP_NAME_COL;

	erase();
	snprintf(line, sizeof(line),
		 "ember top - %s - %d CPUs - every %us - by %s - sort %s - samples %llu - "
		 "lost %llu%s%s%s",
		 t->host, sampler__ncpus(t->sampler), t->o.interval_s, by_name[t->by],
		 sort_name[t->sort], (unsigned long long)(s ? s->samples : 0),
		 (unsigned long long)t->lost, t->paused ? " - PAUSED" : "",
		 t->has_filter ? " - filter: " : "", t->has_filter ? t->filter_text : "");
	attron(A_BOLD);
	put_line(0, line);
	attroff(A_BOLD);
	if (t->editing)
		snprintf(line, sizeof(line), "filter (regex, Enter applies, Esc cancels): %.*s_",
			 (int)t->editlen, t->edit);
	else if (t->msg[0])
		snprintf(line, sizeof(line), "%s", t->msg);
	else
		snprintf(line, sizeof(line),
			 "q quit  p pause  s/t/n sort self/total/name  / filter  "
			 "f/P/v functions/processes/services");
	put_line(1, line);
	snprintf(line, sizeof(line), "%7s  %7s  %8s  %s", "SELF", "TOTAL", "SAMPLES",
		 t->by == TOP_BY_FUNCTION ? "FUNCTION" :
		 t->by == TOP_BY_PROCESS  ? "PROCESS [PID]" :
					    "SERVICE");
	attron(A_REVERSE);
	put_line(2, line);
	attroff(A_REVERSE);
	if (!s || !s->samples) {
		snprintf(line, sizeof(line),
			 s ? "no samples in the last %us: is anything running?" :
			     "sampling; the first table comes after %us",
			 t->o.interval_s);
		put_line(y, line);
	}
	for (i = 0; s && i < n && y < LINES; i++) {
		const struct top_row *row = &s->rows[t->by][i];

		if (t->has_filter && regexec(&t->filter, row->name, 0, NULL, 0))
			continue;
		/* A narrow terminal cuts the name, and past that the row. */
		cut_name(name, sizeof(name), row->name, room);
		snprintf(line, sizeof(line), "%6.1f%%  %6.1f%%  %8llu  %s",
			 pct(row->self, s->samples), pct(row->total, s->samples),
			 (unsigned long long)row->total, name);
		put_line(y++, line);
	}
	if (s && s->samples && t->has_filter && y == 3)
		put_line(y, "no row matches the filter (/ then Enter clears it)");
	refresh();
}

static bool screen_start(struct top *t)
{
	SCREEN *scr;

	/* Names are UTF-8; the C locale would draw their bytes as escapes.
	 * Only LC_CTYPE: printf's decimal point stays ".". */
	if (!setlocale(LC_CTYPE, "") || MB_CUR_MAX == 1)
		setlocale(LC_CTYPE, "C.UTF-8");
	scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		log_err("top: cannot start the full-screen view (TERM=%s); use --batch N",
			getenv("TERM") ? getenv("TERM") : "unset");
		t->status = 1;
		return false;
	}
	set_term(scr);
	t->scr = scr;
	cbreak(); /* ^C still signals: the main loop stops, the screen ends */
	noecho();
	nodelay(stdscr, TRUE);
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	t->screen = true;
	draw(t);
	return true;
}

static void apply_filter(struct top *t)
{
	regex_t re;

	t->editing = false;
	t->edit[t->editlen] = '\0';
	t->msg[0] = '\0';
	if (!t->editlen) {
		if (t->has_filter)
			regfree(&t->filter);
		t->has_filter = false;
		return;
	}
	if (regcomp(&re, t->edit, REG_EXTENDED | REG_ICASE | REG_NOSUB)) {
		snprintf(t->msg, sizeof(t->msg),
			 "filter '%.100s' is not a valid regex; kept the old one", t->edit);
		return;
	}
	if (t->has_filter)
		regfree(&t->filter);
	t->filter = re;
	t->has_filter = true;
	snprintf(t->filter_text, sizeof(t->filter_text), "%s", t->edit);
}

static void key_edit(struct top *t, int c)
{
	if (c == '\n' || c == '\r' || c == KEY_ENTER) {
		apply_filter(t);
	} else if (c == 27) {
		t->editing = false;
	} else if (c == KEY_BACKSPACE || c == 127 || c == 8) {
		if (t->editlen)
			t->editlen--;
	} else if (c >= 32 && c < 256 && t->editlen + 1 < sizeof(t->edit)) {
		t->edit[t->editlen++] = (char)c;
	}
}

static void key(struct top *t, int c)
{
	if (t->editing) {
		key_edit(t, c);
		return;
	}
	t->msg[0] = '\0';
	switch (c) {
	case 'q':
	case 'Q':
		t->stop = true;
		return;
	case 'p':
		t->paused = !t->paused;
		if (!t->paused && t->pending) {
			top_snap__free(t->snap);
			t->snap = t->pending;
			t->pending = NULL;
		}
		break;
	case 's':
		t->sort = TOP_SORT_SELF;
		break;
	case 't':
		t->sort = TOP_SORT_TOTAL;
		break;
	case 'n':
		t->sort = TOP_SORT_NAME;
		break;
	case 'f':
		t->by = TOP_BY_FUNCTION;
		break;
	case 'P':
		t->by = TOP_BY_PROCESS;
		break;
	case 'v':
		t->by = TOP_BY_SERVICE;
		break;
	case '/':
		t->editing = true;
		t->editlen = 0;
		break;
	case KEY_RESIZE:
		break;
	default:
		return;
	}
	if (t->snap)
		top_snap__sort(t->snap, t->by, t->sort);
}

bool top__tick(void *ctx)
{
	struct top *t = ctx;
	bool seen = false;
	int c;

	if (t->o.batch || t->stop)
		return !t->stop;
	if (!t->screen && !screen_start(t))
		return false;
	while ((c = getch()) != ERR) {
		key(t, c);
		seen = true;
		if (t->stop)
			return false;
	}
	if (seen)
		draw(t);
	return true;
}

void top__end(void *ctx)
{
	struct top *t = ctx;

	if (!t->screen)
		return;
	t->screen = false;
	endwin();
	delscreen(t->scr);
	t->scr = NULL;
}
