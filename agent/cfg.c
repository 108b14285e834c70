// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cfg.c - command-line options into a validated struct cfg
 *
 * Every value is checked here, once, so the modules can trust what they read.
 * A bad value gets one line that names it and says what would be accepted.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "cfg_internal.h"
#include "log.h"

#define CFG_MAX_FREQUENCY 10000

enum {
	OPT_DRY_RUN = 1000,
	OPT_NO_KERNEL,
	OPT_OUTPUT_DIR,
	OPT_SERVER,
	OPT_PROTOCOL,
	OPT_LABEL,
	OPT_HOST,
	OPT_TENANT,
	OPT_BASIC_USER,
	OPT_BASIC_PASSWORD_FILE,
	OPT_BEARER_TOKEN_FILE,
	OPT_HEADER,
	OPT_CA_FILE,
	OPT_CERT_FILE,
	OPT_KEY_FILE,
	OPT_INSECURE,
	OPT_CONNECT_TIMEOUT,
	OPT_TIMEOUT,
	OPT_QUEUE_SIZE,
	OPT_MAX_RETRIES,
	OPT_LOG_LEVEL,
	OPT_NO_DEMANGLE,
	OPT_LINES,
	OPT_NO_JVM,
	OPT_JVM_MIN_AGE,
	OPT_PERFMAP_MAX_MB,
	OPT_UNWIND_MEMORY,
	OPT_NO_MMAP_EVENTS,
	OPT_DEBUGINFOD,
	OPT_DEBUGINFOD_CACHE,
	OPT_DEBUGINFOD_CACHE_MB,
	OPT_CONFIG,
	OPT_HTTP_LISTEN,
	OPT_PROFILES,
	OPT_OFF_CPU_MIN_US,
	OPT_OFF_CPU_SAMPLE,
	OPT_OFF_CPU_RUNQUEUE,
	OPT_OFF_CPU_MAX_RATE,
	OPT_KUBERNETES,
	OPT_KUBECONFIG,
	OPT_NODE_NAME,
	OPT_K8S_POD_LABELS,
	OPT_PROFILE_ANNOTATED_ONLY,
	OPT_K8S_WATCH_TIMEOUT,
	OPT_NO_UNWIND,
	OPT_UNWIND,
};

static const struct option long_opts[] = {
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "pid", required_argument, NULL, 'p' },
	{ "frequency", required_argument, NULL, 'F' },
	{ "window", required_argument, NULL, 'w' },
	{ "duration", required_argument, NULL, 'd' },
	{ "no-kernel", no_argument, NULL, OPT_NO_KERNEL },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "output-dir", required_argument, NULL, OPT_OUTPUT_DIR },
	{ "server", required_argument, NULL, OPT_SERVER },
	{ "protocol", required_argument, NULL, OPT_PROTOCOL },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "host", required_argument, NULL, OPT_HOST },
	{ "tenant", required_argument, NULL, OPT_TENANT },
	{ "basic-auth-user", required_argument, NULL, OPT_BASIC_USER },
	{ "basic-auth-password-file", required_argument, NULL, OPT_BASIC_PASSWORD_FILE },
	{ "bearer-token-file", required_argument, NULL, OPT_BEARER_TOKEN_FILE },
	{ "header", required_argument, NULL, OPT_HEADER },
	{ "ca-file", required_argument, NULL, OPT_CA_FILE },
	{ "cert-file", required_argument, NULL, OPT_CERT_FILE },
	{ "key-file", required_argument, NULL, OPT_KEY_FILE },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "queue-size", required_argument, NULL, OPT_QUEUE_SIZE },
	{ "max-retries", required_argument, NULL, OPT_MAX_RETRIES },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "no-demangle", no_argument, NULL, OPT_NO_DEMANGLE },
	{ "lines", no_argument, NULL, OPT_LINES },
	{ "no-jvm", no_argument, NULL, OPT_NO_JVM },
	{ "jvm-min-age", required_argument, NULL, OPT_JVM_MIN_AGE },
	{ "perfmap-max-mb", required_argument, NULL, OPT_PERFMAP_MAX_MB },
	{ "unwind-memory", required_argument, NULL, OPT_UNWIND_MEMORY },
	{ "no-mmap-events", no_argument, NULL, OPT_NO_MMAP_EVENTS },
	{ "debuginfod", no_argument, NULL, OPT_DEBUGINFOD },
	{ "debuginfod-cache", required_argument, NULL, OPT_DEBUGINFOD_CACHE },
	{ "debuginfod-cache-mb", required_argument, NULL, OPT_DEBUGINFOD_CACHE_MB },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "http-listen", required_argument, NULL, OPT_HTTP_LISTEN },
	{ "profiles", required_argument, NULL, OPT_PROFILES },
	{ "off-cpu-min-us", required_argument, NULL, OPT_OFF_CPU_MIN_US },
	{ "off-cpu-sample", required_argument, NULL, OPT_OFF_CPU_SAMPLE },
	{ "off-cpu-runqueue", no_argument, NULL, OPT_OFF_CPU_RUNQUEUE },
	{ "off-cpu-max-rate", required_argument, NULL, OPT_OFF_CPU_MAX_RATE },
	{ "kubernetes", required_argument, NULL, OPT_KUBERNETES },
	{ "kubeconfig", required_argument, NULL, OPT_KUBECONFIG },
	{ "node-name", required_argument, NULL, OPT_NODE_NAME },
	{ "kubernetes-pod-labels", no_argument, NULL, OPT_K8S_POD_LABELS },
	{ "profile-annotated-only", no_argument, NULL, OPT_PROFILE_ANNOTATED_ONLY },
	{ "kubernetes-watch-timeout", required_argument, NULL, OPT_K8S_WATCH_TIMEOUT },
	{ "no-unwind", no_argument, NULL, OPT_NO_UNWIND },
	{ "unwind", required_argument, NULL, OPT_UNWIND },
	{ NULL, 0, NULL, 0 },
};

static const char usage_text[] =
	"Usage: ember [OPTIONS]\n"
	"       ember flamegraph [-o OUT.svg] [--title T] [--icicle] [--reverse] INPUT...\n"
	"       ember diff BEFORE AFTER [-o diff.svg] [--normalize] [--fail-on-growth PTS]\n"
	"                  [--function REGEX]\n"
	"       ember top [--pid PID]... [--interval S] [--by function|process|service]\n"
	"                 [--batch N]\n"
	"       ember report [--json] [--top N] INPUT... | --live --duration S [--pid PID]...\n"
	"Host-wide continuous CPU profiler: samples every CPU with eBPF, names every frame,\n"
	"prints folded stacks (--dry-run), writes pprof files and pushes to Pyroscope.\n"
	"\n"
	"Sampling:\n"
	"  -p, --pid PID              profile only this process (repeatable, up to 64);\n"
	"                             it must be running at start\n"
	"  -F, --frequency HZ         samples per second per CPU (default 100)\n"
	"  -w, --window SECONDS       aggregation window (default 15)\n"
	"  -d, --duration SECONDS     stop after this long (default: until SIGINT/SIGTERM)\n"
	"      --no-kernel            leave out kernel stacks\n"
	"      --unwind MODE          user stacks: cfi (default: .eh_frame tables, frame\n"
	"                             pointers where a file has none) or fp (frame\n"
	"                             pointers only)\n"
	"      --no-unwind            the same as --unwind fp\n"
	"      --profiles LIST        cpu, off-cpu or both, comma-separated (default cpu);\n"
	"                             off-cpu: time blocked per stack, from the scheduler\n"
	"      --off-cpu-min-us N     off-CPU: leave out blocks shorter than N us\n"
	"                             (default 1000)\n"
	"      --off-cpu-sample N     off-CPU: keep at most 1 in N switch-outs, each\n"
	"                             weighted N (default 1: all)\n"
	"      --off-cpu-max-rate N   off-CPU: keep about N switch-outs a second over the\n"
	"                             host, sampling more sparsely (weighted) past it;\n"
	"                             bounds the cost on busy hosts (default 50, 0: no bound)\n"
	"      --off-cpu-runqueue     off-CPU: also time preempted while runnable\n"
	"                             (runqueue latency)\n"
	"Names:\n"
	"      --no-demangle          keep C++ and Rust names mangled, as in the symbol table\n"
	"      --lines                folded stacks: end each name in :LINE (its source line)\n"
	"      --no-jvm               never attach to JVMs to ask for their perf map\n"
	"      --jvm-min-age SECONDS  leave JVMs younger than this alone (default 10)\n"
	"      --perfmap-max-mb MB    memory for all perf maps (default 8); one process's\n"
	"                             map is read up to half of it\n"
	"      --unwind-memory MB     kernel memory for the CFI unwind tables (default 32);\n"
	"                             past it, least recently used files fall back to\n"
	"                             frame pointers\n"
	"      --no-mmap-events       read mappings from /proc only (processes that exit\n"
	"                             within milliseconds then stay unnamed)\n"
	"      --debuginfod           fetch missing debug files from DEBUGINFOD_URLS (also on\n"
	"                             when DEBUGINFOD_URLS is set); cached on disk\n"
	"      --debuginfod-cache DIR its cache (default /var/cache/ember/debuginfod as\n"
	"                             root, else $XDG_CACHE_HOME/ember/debuginfod)\n"
	"      --debuginfod-cache-mb N  cap on that cache, oldest files go (default 1024)\n"
	"Outputs (any combination; at least one):\n"
	"      --dry-run              print folded stacks to stdout at each window end\n"
	"      --output-dir DIR       write each window's profiles as DIR/*.pb.gz\n"
	"      --server URL           push to a Pyroscope-compatible server\n"
	"Push:\n"
	"      --protocol push|ingest Connect Push API (default) or legacy /ingest\n"
	"      --label KEY=VALUE      static label on every profile (repeatable)\n"
	"      --host NAME            value of the host label (default: the hostname)\n"
	"      --tenant ID            X-Scope-OrgID header\n"
	"      --basic-auth-user USER, --basic-auth-password-file FILE\n"
	"      --bearer-token-file FILE\n"
	"      --header 'NAME: VALUE' extra request header (repeatable)\n"
	"      --ca-file FILE, --cert-file FILE, --key-file FILE, --insecure\n"
	"      --connect-timeout SECONDS (default 5), --timeout SECONDS (default 10)\n"
	"      --queue-size N         requests kept while the server is away (default 64)\n"
	"      --max-retries N        per request (default 5)\n"
	"Kubernetes (pod metadata from the API server; docs/operating.md):\n"
	"      --kubernetes auto|on|off  auto (default): on when --kubeconfig is given or\n"
	"                             KUBERNETES_SERVICE_HOST and a service account token are\n"
	"                             there (in a pod); on: refuse to start without them\n"
	"      --kubeconfig FILE      reach the API server as this kubeconfig's current\n"
	"                             context says (default: in-cluster config)\n"
	"      --node-name NAME       the node whose pods to watch (default: $NODE_NAME)\n"
	"      --kubernetes-pod-labels  each pod label as pod_label_<name> on its profiles\n"
	"      --profile-annotated-only  profile only pods annotated ember.dev/profile: \"true\"\n"
	"                             (default: all but those annotated \"false\")\n"
	"      --kubernetes-watch-timeout SECONDS  timeoutSeconds of each watch (default 300)\n"
	"Other:\n"
	"      --config FILE          YAML file: any option above by its long name, labels:,\n"
	"                             headers:, relabel_configs:; flags override it\n"
	"      --http-listen ADDR     serve /metrics and /healthz on HOST:PORT, [IPv6]:PORT\n"
	"                             or :PORT (all addresses); default: off\n"
	"      --log-level LEVEL      error, warn (default), info or debug\n"
	"  -v, --verbose              debug logs, libbpf's included\n"
	"  -h, --help                 this text\n"
	"\n"
	"Files (no root, no sampling; `ember flamegraph --help`, docs/flamegraph.md):\n"
	"  flamegraph                 folded or pprof files, or - for stdin, as one\n"
	"                             interactive SVG flame graph\n"
	"  diff                       two profiles (files or --output-dir directories):\n"
	"                             per-function shares before and after, a red/blue\n"
	"                             SVG, exit 1 when a share grew past --fail-on-growth\n"
	"  report                     per service: top functions, CPU vs off-CPU, and a\n"
	"                             verdict (cpu-, lock-, io-, gc-bound, healthy);\n"
	"                             also --live (root)\n"
	"Live (root, the agent's sampler; `ember top --help`, docs/report.md):\n"
	"  top                        the hottest functions, processes or services, full\n"
	"                             screen or --batch N text\n"
	"\n"
	"Exit codes: 0 every window reached every output; 1 a failure while running;\n"
	"2 a setting refused at start; 3 a window did not reach an output (see the\n"
	"summary line). SIGTERM/SIGINT: last window and summary, then exit. SIGUSR1:\n"
	"end the window now. SIGHUP: reload --config FILE (docs/operating.md).\n";

void cfg_usage(void *file)
{
	fputs(usage_text, file);
}

int cfg_bad(const struct cfg_where *w, const char *fmt, ...)
{
	va_list ap;

	fputs("ember: error ", stderr);
	if (w && w->file && w->line)
		fprintf(stderr, "%s:%u: ", w->file, w->line);
	else if (w && w->file)
		fprintf(stderr, "%s: ", w->file);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (w && w->reload)
		fputs("; the reload is refused and the running configuration stays\n", stderr);
	else
		fputs(w && w->file ? "; see ember --help and docs/operating.md\n" :
				     "; see ember --help\n",
		      stderr);
	return -EINVAL;
}

static int parse_u32(const struct cfg_where *w, const char *opt, const char *s, uint32_t min,
		     uint32_t max, uint32_t *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	/* strtoul skips leading blanks and takes a sign: " 10" and "-1" are typos. */
	if (errno || end == s || *end || s[0] < '0' || s[0] > '9' || v < min || v > max)
		return cfg_bad(w, "invalid %s value '%s': expected a whole number from %u to %u", opt, s,
			   min, max);
	*out = v;
	return 0;
}

/* Seconds with an optional fraction, returned in milliseconds. */
static int parse_seconds_ms(const struct cfg_where *w, const char *opt, const char *s, uint32_t *ms)
{
	size_t digits = strspn(s, "0123456789"), frac = 0;
	char *end;
	double v;

	/* Plain decimal only: strtod would also take leading blanks, a sign,
	 * hex ("0x1p3"), "inf" and "nan", all typos in a timeout. */
	if (s[digits] == '.')
		frac = strspn(s + digits + 1, "0123456789");
	if (digits + frac == 0 || s[digits + (s[digits] == '.') + frac])
		return cfg_bad(w, "invalid %s value '%s': expected seconds from 0.001 to 3600", opt, s);
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0.001 || v > 3600)
		return cfg_bad(w, "invalid %s value '%s': expected seconds from 0.001 to 3600", opt, s);
	*ms = (uint32_t)llround(v * 1000);
	return 0;
}

static int parse_kv(const struct cfg_where *w, const char *opt, char *s, char sep, struct label *kv)
{
	char *p = strchr(s, sep);

	if (!p || p == s)
		return cfg_bad(w, "invalid %s '%s': expected KEY%cVALUE", opt, s, sep);
	*p++ = '\0';
	if (sep == ':')
		p += strspn(p, " \t");
	kv->name = s;
	kv->value = p;
	return 0;
}

/* Appends a KEY<sep>VALUE pair; a pair from the command line whose name one
 * of the file's first nfile pairs has replaces that one: flags override the
 * file. Two of one name from one source are left for labels_check. */
static int add_pair(const struct cfg_where *w, const char *opt, char *arg, char sep,
		    struct label *pairs, size_t *n, size_t nfile, size_t max)
{
	struct label kv;
	size_t i;
	int err = parse_kv(w, opt, arg, sep, &kv);

	if (err)
		return err;
	for (i = 0; !w->file && i < nfile; i++) {
		/* Header names are case-insensitive, label names are not. */
		if (sep == ':' ? !strcasecmp(pairs[i].name, kv.name) :
				 !strcmp(pairs[i].name, kv.name)) {
			pairs[i] = kv;
			return 0;
		}
	}
	if (*n == max)
		return cfg_bad(w, "too many %s options: at most %zu", opt, max);
	pairs[(*n)++] = kv;
	return 0;
}

static void cfg_defaults(struct cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->frequency = 100;
	cfg->profile_cpu = true;
	cfg->off_cpu_min_us = 1000;
	cfg->off_cpu_sample = 1;
	cfg->off_cpu_max_rate = 50;
	cfg->window_s = 15;
	cfg->kernel = true;
	cfg->mmap_events = true;
	cfg->unwind_cfi = true;
	cfg->protocol = CFG_PROTO_PUSH;
	cfg->connect_timeout_ms = 5000;
	cfg->timeout_ms = 10000;
	cfg->queue_max = 64;
	cfg->max_retries = 5;
	cfg->log_level = LOG_WARN;
	cfg->jvm = true;
	cfg->jvm_min_age_s = 10;
	cfg->perfmap_max_mb = 8;
	cfg->unwind_memory_mb = 32;
	cfg->k8s_watch_timeout_s = 300;
}

/* "cpu", "off-cpu" or both, comma-separated, each at most once. */
static int parse_profiles(const struct cfg_where *w, const char *s, struct cfg *cfg)
{
	const char *p = s, *end;
	bool cpu = false, off = false, *which;
	size_t len;

	for (;;) {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len == 3 && !strncmp(p, "cpu", 3))
			which = &cpu;
		else if (len == 7 && !strncmp(p, "off-cpu", 7))
			which = &off;
		else
			return cfg_bad(w, "invalid --profiles '%s': expected cpu, off-cpu or cpu,off-cpu",
				   s);
		if (*which)
			return cfg_bad(w, "invalid --profiles '%s': each profile once", s);
		*which = true;
		if (!end)
			break;
		p = end + 1;
	}
	cfg->profile_cpu = cpu;
	cfg->profile_off_cpu = off;
	return 0;
}

static int cfg_check(const struct cfg *cfg, const struct cfg_where *w)
{
	if (!cfg->dry_run && !cfg->output_dir && !cfg->server)
		return cfg_bad(w, "no output chosen: give --dry-run, --output-dir DIR or --server URL");
	if (cfg->server && strncmp(cfg->server, "http://", 7) &&
	    strncmp(cfg->server, "https://", 8))
		return cfg_bad(w, "invalid --server '%s': expected an http:// or https:// URL",
			   cfg->server);
	if ((cfg->cert_file != NULL) != (cfg->key_file != NULL))
		return cfg_bad(w, "--cert-file and --key-file go together");
	if (cfg->basic_user && !cfg->basic_password_file)
		return cfg_bad(w, "--basic-auth-user needs --basic-auth-password-file");
	/* Without a user the password would be ignored and requests would go
	 * out unauthenticated. */
	if (cfg->basic_password_file && !cfg->basic_user)
		return cfg_bad(w, "--basic-auth-password-file needs --basic-auth-user");
	if (cfg->basic_user && cfg->bearer_token_file)
		return cfg_bad(w, "choose one of basic auth and --bearer-token-file");
	return 0;
}

/* Options with a value or a switch, from the command line or the file: one
 * validation for both. */
int cfg_apply(struct cfg *cfg, int opt, char *arg, const struct cfg_where *w)
{
	int err = 0;

	switch (opt) {
	case 'p':
		if (cfg->npids == PROF_MAX_PID_FILTER)
			return cfg_bad(w, "too many --pid options: at most %d",
				   PROF_MAX_PID_FILTER);
		err = parse_u32(w, "--pid", arg, 1, INT_MAX, &cfg->pids[cfg->npids]);
		if (!err)
			cfg->npids++;
		break;
	case 'F':
		err = parse_u32(w, "--frequency", arg, 1, CFG_MAX_FREQUENCY,
				&cfg->frequency);
		break;
	case 'w':
		err = parse_u32(w, "--window", arg, 1, 3600, &cfg->window_s);
		break;
	case 'd':
		err = parse_u32(w, "--duration", arg, 1, UINT32_MAX / 1000,
				&cfg->duration_s);
		break;
	case 'v':
		cfg->verbose = true;
		cfg->log_level = LOG_DEBUG;
		break;
	case OPT_LOG_LEVEL:
		if (!strcmp(arg, "error"))
			cfg->log_level = LOG_ERR;
		else if (!strcmp(arg, "warn"))
			cfg->log_level = LOG_WARN;
		else if (!strcmp(arg, "info"))
			cfg->log_level = LOG_INFO;
		else if (!strcmp(arg, "debug"))
			cfg->log_level = LOG_DEBUG;
		else
			err = cfg_bad(w, 
				"invalid --log-level '%s': expected error, warn, info or debug",
				arg);
		break;
	case OPT_DRY_RUN:
		cfg->dry_run = true;
		break;
	case OPT_NO_KERNEL:
		cfg->kernel = false;
		break;
	case OPT_NO_DEMANGLE:
		cfg->no_demangle = true;
		break;
	case OPT_LINES:
		cfg->lines = true;
		break;
	case OPT_NO_JVM:
		cfg->jvm = false;
		break;
	case OPT_JVM_MIN_AGE:
		err = parse_u32(w, "--jvm-min-age", arg, 0, 3600, &cfg->jvm_min_age_s);
		break;
	case OPT_PERFMAP_MAX_MB:
		err = parse_u32(w, "--perfmap-max-mb", arg, 1, 4096, &cfg->perfmap_max_mb);
		break;
	case OPT_UNWIND_MEMORY:
		err = parse_u32(w, "--unwind-memory", arg, 1, 4096, &cfg->unwind_memory_mb);
		break;
	case OPT_HTTP_LISTEN:
		cfg->http_listen = arg;
		break;
	case OPT_PROFILES:
		err = parse_profiles(w, arg, cfg);
		break;
	case OPT_OFF_CPU_MIN_US:
		err = parse_u32(w, "--off-cpu-min-us", arg, 0, 3600u * 1000000u, &cfg->off_cpu_min_us);
		break;
	case OPT_OFF_CPU_SAMPLE:
		err = parse_u32(w, "--off-cpu-sample", arg, 1, 1000000, &cfg->off_cpu_sample);
		break;
	case OPT_OFF_CPU_MAX_RATE:
		err = parse_u32(w, "--off-cpu-max-rate", arg, 0, 10000000, &cfg->off_cpu_max_rate);
		break;
	case OPT_OFF_CPU_RUNQUEUE:
		cfg->off_cpu_runqueue = true;
		break;
	case OPT_NO_MMAP_EVENTS:
		cfg->mmap_events = false;
		break;
	case OPT_NO_UNWIND:
		cfg->unwind_cfi = false;
		break;
	case OPT_UNWIND:
		if (!strcmp(arg, "cfi"))
			cfg->unwind_cfi = true;
		else if (!strcmp(arg, "fp"))
			cfg->unwind_cfi = false;
		else
			err = cfg_bad(w, "invalid --unwind '%s': expected cfi or fp", arg);
		break;
	case OPT_DEBUGINFOD:
		cfg->debuginfod = true;
		break;
	case OPT_DEBUGINFOD_CACHE:
		cfg->debuginfod_cache = arg;
		break;
	case OPT_DEBUGINFOD_CACHE_MB:
		err = parse_u32(w, "--debuginfod-cache-mb", arg, 1, 1u << 20,
				&cfg->debuginfod_cache_mb);
		break;
	case OPT_OUTPUT_DIR:
		cfg->output_dir = arg;
		break;
	case OPT_SERVER:
		cfg->server = arg;
		break;
	case OPT_PROTOCOL:
		if (!strcmp(arg, "push"))
			cfg->protocol = CFG_PROTO_PUSH;
		else if (!strcmp(arg, "ingest"))
			cfg->protocol = CFG_PROTO_INGEST;
		else
			err = cfg_bad(w, "invalid --protocol '%s': expected push or ingest",
				  arg);
		break;
	case OPT_LABEL:
		err = add_pair(w, "--label", arg, '=', cfg->labels, &cfg->nlabels, cfg->nlabels_file,
			       CFG_MAX_LABELS);
		break;
	case OPT_HOST:
		cfg->host = arg;
		break;
	case OPT_TENANT:
		cfg->tenant = arg;
		break;
	case OPT_BASIC_USER:
		cfg->basic_user = arg;
		break;
	case OPT_BASIC_PASSWORD_FILE:
		cfg->basic_password_file = arg;
		break;
	case OPT_BEARER_TOKEN_FILE:
		cfg->bearer_token_file = arg;
		break;
	case OPT_HEADER:
		err = add_pair(w, "--header", arg, ':', cfg->headers, &cfg->nheaders,
			       cfg->nheaders_file, CFG_MAX_HEADERS);
		break;
	case OPT_CA_FILE:
		cfg->ca_file = arg;
		break;
	case OPT_CERT_FILE:
		cfg->cert_file = arg;
		break;
	case OPT_KEY_FILE:
		cfg->key_file = arg;
		break;
	case OPT_INSECURE:
		cfg->insecure = true;
		break;
	case OPT_CONNECT_TIMEOUT:
		err = parse_seconds_ms(w, "--connect-timeout", arg,
				       &cfg->connect_timeout_ms);
		break;
	case OPT_TIMEOUT:
		err = parse_seconds_ms(w, "--timeout", arg, &cfg->timeout_ms);
		break;
	case OPT_QUEUE_SIZE:
		err = parse_u32(w, "--queue-size", arg, 1, 100000, &cfg->queue_max);
		break;
	case OPT_MAX_RETRIES:
		err = parse_u32(w, "--max-retries", arg, 0, 1000, &cfg->max_retries);
		break;
	case OPT_KUBERNETES:
		if (!strcmp(arg, "auto"))
			cfg->kubernetes = CFG_K8S_AUTO;
		else if (!strcmp(arg, "on"))
			cfg->kubernetes = CFG_K8S_ON;
		else if (!strcmp(arg, "off"))
			cfg->kubernetes = CFG_K8S_OFF;
		else
			err = cfg_bad(w, "invalid --kubernetes '%s': expected auto, on or off", arg);
		break;
	case OPT_KUBECONFIG:
		cfg->kubeconfig = arg;
		break;
	case OPT_NODE_NAME:
		if (!arg[0])
			err = cfg_bad(w, "--node-name needs a node name");
		cfg->node_name = arg;
		break;
	case OPT_K8S_POD_LABELS:
		cfg->k8s_pod_labels = true;
		break;
	case OPT_PROFILE_ANNOTATED_ONLY:
		cfg->profile_annotated_only = true;
		break;
	case OPT_K8S_WATCH_TIMEOUT:
		err = parse_u32(w, "--kubernetes-watch-timeout", arg, 1, 3600,
				&cfg->k8s_watch_timeout_s);
		break;
	case OPT_CONFIG:
		/* Loaded before any flag, so that flags override it. */
		break;
	default:
		return cfg_bad(w, "option %d is not known", opt);
	}
	return err;
}

static int parse(struct cfg *cfg, int argc, char **argv, bool reload)
{
	struct cfg_where cmdline = { .reload = reload };
	const char *path = NULL;
	int c, err;

	cfg_defaults(cfg);
	/* The file first, whatever the order on the command line: every flag
	 * overrides it. A first getopt pass finds --config as the second
	 * will see it (--config=F, abbreviations); the second reports errors. */
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":p:F:w:d:vh", long_opts, NULL)) != -1) {
		if (c == OPT_CONFIG)
			path = optarg;
	}
	if (path) {
		cfg->config_file = path;
		err = cfg_file_load(cfg, path, reload);
		if (err)
			return err;
	}
	cfg->nlabels_file = cfg->nlabels;
	cfg->nheaders_file = cfg->nheaders;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":p:F:w:d:vh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			cfg_usage(stdout);
			return 1;
		case ':':
			return cfg_bad(&cmdline, "option '%s' needs a value", argv[optind - 1]);
		case '?':
			return cfg_bad(&cmdline, "unknown option '%s'", argv[optind - 1]);
		default:
			err = cfg_apply(cfg, c, optarg, &cmdline);
			if (err)
				return err;
		}
	}
	if (optind < argc)
		return cfg_bad(&cmdline, "unexpected argument '%s'", argv[optind]);
	cmdline.file = path;
	return cfg_check(cfg, &cmdline);
}

int cfg_parse(struct cfg *cfg, int argc, char **argv)
{
	return parse(cfg, argc, argv, false);
}

int cfg_reparse(struct cfg *cfg, int argc, char **argv)
{
	return parse(cfg, argc, argv, true);
}

int cfg_option(const char *name, bool *takes_value)
{
	const struct option *o;

	for (o = long_opts; o->name; o++) {
		if (!strcmp(o->name, name)) {
			*takes_value = o->has_arg == required_argument;
			return o->val;
		}
	}
	return -1;
}

void cfg_free(struct cfg *cfg)
{
	relabel__free(cfg->relabel);
	cfg->relabel = NULL;
	arena_release(&cfg->strings);
	arena_release(&cfg->reload_strings);
	free(cfg->file_opts);
	cfg->file_opts = NULL;
	cfg->nfile_opts = 0;
}
