// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* triage.c - per-service CPU and off-CPU totals, the wait classes and the verdict
 *
 * A stack is classified once, when added; only per-service sums and each
 * service's leaf functions (self CPU time) are kept.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "fg_tree.h"
#include "hindex.h"
#include "triage.h"
#include "vec.h"

/* The verdict's thresholds, in one place.
 *
 * A service's CPU demand is its time on CPU plus its time preempted,
 * waiting for a CPU (runqueue, when recorded): both say it wants more CPU.
 * Its "busy time" is that demand plus its time blocked on locks or I/O.
 * Sleeps and condition-variable waits are left out (a thread that sleeps
 * or has no work is not slowed down by anything), and so are waits the
 * frames do not explain ("other": shown, never a verdict on a guess).
 *
 * TRIAGE_IDLE: under a quarter of a core of CPU demand and under a quarter
 * of a thread blocked on average over the wall time is a service that is
 * not where time goes (a daemon ticking over): healthy, whatever its
 * split. Needs the wall time; without it this rule is skipped.
 *
 * TRIAGE_GC: a quarter of the CPU in garbage-collector threads and frames
 * means the heap, not the code, is the first thing to look at: even a
 * well-tuned JVM spends a few percent there, and past a quarter the pauses
 * show in latency.
 *
 * TRIAGE_CPU: CPU demand for at least half of its busy time, a service
 * goes faster with faster code or more cores; below half, most of its busy
 * time is waiting, and the larger of lock and I/O waits names the verdict.
 */
#define TRIAGE_IDLE_CORES 0.25
#define TRIAGE_GC_SHARE 0.25
#define TRIAGE_CPU_SHARE 0.50

#define TRIAGE_MAX_NAME_BYTES (256u << 20)

static const char *const wait_names[TRIAGE_WAIT_MAX] = { "lock", "io",	     "sleep",
							 "idle", "runqueue", "other" };

/* Frame name fragments per kind of wait. The user-space ones are checked
 * first: a pthread_cond_wait blocks in the kernel's futex too, but is an
 * idle worker, not a contended lock. Then the kernel's, leaf first: the
 * first frame that says why the task blocked decides. */
struct pattern {
	const char *text;
	enum triage_wait wait;
};

static const struct pattern user_patterns[] = {
	{ "pthread_cond_", TRIAGE_WAIT_IDLE },	    { "lll_lock_wait", TRIAGE_WAIT_LOCK },
	{ "pthread_mutex_lock", TRIAGE_WAIT_LOCK }, { "pthread_rwlock_", TRIAGE_WAIT_LOCK },
	{ "pthread_spin_lock", TRIAGE_WAIT_LOCK },
};

static const struct pattern kernel_patterns[] = {
	{ "futex", TRIAGE_WAIT_LOCK },
	{ "mutex_lock", TRIAGE_WAIT_LOCK },
	{ "rwsem", TRIAGE_WAIT_LOCK },
	{ "rt_mutex", TRIAGE_WAIT_LOCK },
	{ "io_schedule", TRIAGE_WAIT_IO },
	{ "io_uring", TRIAGE_WAIT_IO },
	{ "ep_poll", TRIAGE_WAIT_IO },
	{ "epoll_wait", TRIAGE_WAIT_IO },
	{ "do_sys_poll", TRIAGE_WAIT_IO },
	{ "do_select", TRIAGE_WAIT_IO },
	{ "pipe_read", TRIAGE_WAIT_IO },
	{ "pipe_write", TRIAGE_WAIT_IO },
	{ "blk_", TRIAGE_WAIT_IO },
	{ "folio_wait", TRIAGE_WAIT_IO },
	{ "wait_on_page", TRIAGE_WAIT_IO },
	{ "sock_recvmsg", TRIAGE_WAIT_IO },
	{ "sock_sendmsg", TRIAGE_WAIT_IO },
	{ "tcp_recvmsg", TRIAGE_WAIT_IO },
	{ "unix_stream_read", TRIAGE_WAIT_IO },
	{ "inet_csk_accept", TRIAGE_WAIT_IO },
	{ "vfs_read", TRIAGE_WAIT_IO },
	{ "vfs_write", TRIAGE_WAIT_IO },
	{ "ksys_read", TRIAGE_WAIT_IO },
	{ "ksys_write", TRIAGE_WAIT_IO },
	{ "nanosleep", TRIAGE_WAIT_SLEEP },
	{ "msleep", TRIAGE_WAIT_SLEEP },
	/* Preempted with no wait function leafward of it (docs/off-cpu.md):
	 * the task wanted a CPU. */
	{ "preempt_schedule", TRIAGE_WAIT_RUNQUEUE },
	{ "irqentry_exit", TRIAGE_WAIT_RUNQUEUE },
	{ "exit_to_user_mode_loop", TRIAGE_WAIT_RUNQUEUE },
	{ "sched_yield", TRIAGE_WAIT_RUNQUEUE },
};

/* JVM garbage collection: HotSpot's GC thread names (a folded stack's
 * first frame can be a thread's comm) and its collectors' C++ classes. */
static const char *const gc_patterns[] = {
	"GC Thread",	  "G1 ",
	"G1Par",	  "G1Young",
	"G1Conc",	  "G1Refine",
	"G1Collected",	  "ParallelGC",
	"PSScavenge",	  "PSParallelCompact",
	"PSPromotion",	  "ParNew",
	"VM Thread",	  "VMThread",
	"VM_GC",	  "GCTaskThread",
	"ConcurrentMark", "ZDriver",
	"ZWorker",	  "Shenandoah",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct svc {
	uint32_t name;
	uint64_t cpu_ns, off_ns, gc_ns;
	uint64_t wait_ns[TRIAGE_WAIT_MAX];
};

/* One service's leaf function and its self CPU time. */
struct fn {
	uint32_t svc, name;
	uint64_t ns;
};

struct triage {
	struct fg_names *names;
	struct svc *svcs;
	size_t nsvcs, svcs_cap;
	uint32_t *svc_of; /* name id -> service index + 1 */
	size_t svc_of_cap;
	struct fn *fns;
	size_t nfns, fns_cap;
	struct hindex fn_ix;
	uint64_t wall_ns;
	bool off_cpu; /* any off-CPU time was given at all */
};

struct triage *triage__new(void)
{
	struct triage *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->names = fg_names__new(TRIAGE_MAX_NAME_BYTES);
	if (!t->names) {
		free(t);
		return NULL;
	}
	return t;
}

void triage__free(struct triage *t)
{
	if (!t)
		return;
	fg_names__free(t->names);
	free(t->svcs);
	free(t->svc_of);
	free(t->fns);
	hindex_release(&t->fn_ix);
	free(t);
}

void triage__set_wall(struct triage *t, uint64_t ns)
{
	t->wall_ns = ns;
}

size_t triage__services(const struct triage *t)
{
	return t->nsvcs;
}

static bool has(const char *s, const char *frag)
{
	return strstr(s, frag) != NULL;
}

enum triage_wait triage_classify(const char *const *frames, size_t n)
{
	size_t i, k;

	for (i = n; i-- > 0;)
		for (k = 0; k < N(user_patterns); k++)
			if (has(frames[i], user_patterns[k].text))
				return user_patterns[k].wait;
	for (i = n; i-- > 0;)
		for (k = 0; k < N(kernel_patterns); k++)
			if (has(frames[i], kernel_patterns[k].text))
				return kernel_patterns[k].wait;
	return TRIAGE_WAIT_OTHER;
}

static bool is_gc(const char *const *frames, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++)
		for (k = 0; k < N(gc_patterns); k++)
			if (has(frames[i], gc_patterns[k]))
				return true;
	return false;
}

static int svc_get(struct triage *t, const char *service, struct svc **out)
{
	uint32_t id;
	size_t old;
	int err;

	err = fg_names__intern(t->names, service, strlen(service), &id);
	if (err)
		return err;
	if (id >= t->svc_of_cap) {
		old = t->svc_of_cap;
		err = VEC_RESERVE(t->svc_of, t->svc_of_cap, (size_t)id + 1, SIZE_MAX);
		if (err)
			return err;
		memset(t->svc_of + old, 0, (t->svc_of_cap - old) * sizeof(*t->svc_of));
	}
	if (!t->svc_of[id]) {
		err = VEC_RESERVE(t->svcs, t->svcs_cap, t->nsvcs + 1, SIZE_MAX);
		if (err)
			return err;
		t->svcs[t->nsvcs] = (struct svc){ .name = id };
		t->svc_of[id] = (uint32_t)++t->nsvcs;
	}
	*out = &t->svcs[t->svc_of[id] - 1];
	return 0;
}

struct fn_key {
	uint32_t svc, name;
};

static bool fn_eq(const void *ctx, uint32_t val, const void *key)
{
	const struct fn *f = &((const struct triage *)ctx)->fns[val - 1];
	const struct fn_key *k = key;

	return f->svc == k->svc && f->name == k->name;
}

static int fn_add(struct triage *t, uint32_t svc, const char *name, uint64_t ns)
{
	struct fn_key key = { .svc = svc };
	uint64_t h;
	uint32_t v;
	int err;

	err = fg_names__intern(t->names, name, strlen(name), &key.name);
	if (err)
		return err;
	h = hindex_mix64(((uint64_t)svc << 32) | key.name);
	v = hindex_find(&t->fn_ix, h, fn_eq, t, &key);
	if (!v) {
		err = VEC_RESERVE(t->fns, t->fns_cap, t->nfns + 1, UINT32_MAX - 1);
		if (err)
			return err;
		t->fns[t->nfns] = (struct fn){ .svc = svc, .name = key.name };
		err = hindex_add(&t->fn_ix, h, (uint32_t)t->nfns + 1);
		if (err)
			return err;
		v = (uint32_t)++t->nfns;
	}
	t->fns[v - 1].ns += ns;
	return 0;
}

int triage__add(struct triage *t, const char *service, enum triage_kind kind,
		const char *const *frames, size_t n, uint64_t ns)
{
	struct svc *s;
	int err;

	if (!ns)
		return 0;
	err = svc_get(t, service, &s);
	if (err)
		return err;
	if (kind == TRIAGE_OFF_CPU) {
		s->off_ns += ns;
		s->wait_ns[triage_classify(frames, n)] += ns;
		t->off_cpu = true;
		return 0;
	}
	s->cpu_ns += ns;
	if (is_gc(frames, n))
		s->gc_ns += ns;
	return n ? fn_add(t, (uint32_t)(s - t->svcs), frames[n - 1], ns) : 0;
}

/* What a service's figures say: the verdict and one line of why. */
struct verdict {
	const char *word;
	char why[256];
	double busy_share; /* on CPU / busy time; -1 when nothing was busy */
};

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

static void judge(const struct triage *t, const struct svc *s, struct verdict *v)
{
	uint64_t lock = s->wait_ns[TRIAGE_WAIT_LOCK], io = s->wait_ns[TRIAGE_WAIT_IO];
	uint64_t runq = s->wait_ns[TRIAGE_WAIT_RUNQUEUE], demand = s->cpu_ns + runq;
	uint64_t blocked = lock + io;
	double wall = secs(t->wall_ns), gc = s->cpu_ns ? (double)s->gc_ns / (double)s->cpu_ns : 0;

	v->busy_share = demand + blocked ? (double)demand / (double)(demand + blocked) : -1;
	if (wall > 0 && secs(demand) / wall < TRIAGE_IDLE_CORES &&
	    secs(blocked) / wall < TRIAGE_IDLE_CORES) {
		v->word = "healthy";
		snprintf(v->why, sizeof(v->why),
			 "%.2f cores of CPU demand and %.2f threads blocked on locks or I/O on "
			 "average: both under %.2f",
			 secs(demand) / wall, secs(blocked) / wall, TRIAGE_IDLE_CORES);
		return;
	}
	if (gc >= TRIAGE_GC_SHARE) {
		v->word = "gc-bound";
		snprintf(v->why, sizeof(v->why),
			 "%.0f%% of its CPU is garbage collection (threshold %.0f%%)", 100 * gc,
			 100 * TRIAGE_GC_SHARE);
		return;
	}
	if (v->busy_share < 0) {
		v->word = "healthy";
		snprintf(v->why, sizeof(v->why), "no CPU time and no lock or I/O waits");
		return;
	}
	if (v->busy_share >= TRIAGE_CPU_SHARE) {
		v->word = "cpu-bound";
		snprintf(v->why, sizeof(v->why), "on CPU%s %.0f%% of its busy time%s%s",
			 runq ? " or waiting for one" : "", 100 * v->busy_share,
			 runq * 5 > demand ? " (much of it preempted: the host is short of CPU)" :
					     "",
			 t->off_cpu ? "" : " (no off-CPU profile given: its waits are unknown)");
		return;
	}
	v->word = lock >= io ? "lock-bound" : "io-bound";
	snprintf(v->why, sizeof(v->why),
		 "blocked %.0f%% of its busy time, mostly %s (lock %.0f%%, I/O %.0f%% of the "
		 "blocked time)",
		 100 * (1 - v->busy_share), lock >= io ? "on locks" : "in I/O",
		 100.0 * (double)lock / (double)blocked, 100.0 * (double)io / (double)blocked);
}

static int cmp_svc(const void *a, const void *b, void *ctx)
{
	const struct triage *t = ctx;
	const struct svc *x = a, *y = b;
	uint64_t bx = x->cpu_ns + x->off_ns, by = y->cpu_ns + y->off_ns;

	if (bx != by)
		return bx < by ? 1 : -1;
	return strcmp(fg_names__str(t->names, x->name), fg_names__str(t->names, y->name));
}

static int cmp_fn(const void *a, const void *b, void *ctx)
{
	const struct triage *t = ctx;
	const struct fn *x = a, *y = b;

	if (x->svc != y->svc)
		return x->svc < y->svc ? -1 : 1;
	if (x->ns != y->ns)
		return x->ns < y->ns ? 1 : -1;
	return strcmp(fg_names__str(t->names, x->name), fg_names__str(t->names, y->name));
}

/* Services' order for printing; fns sorted by service, then self time. */
static int order(struct triage *t, struct svc **svcs, size_t **first)
{
	size_t i;

	qsort_r(t->fns, t->nfns, sizeof(*t->fns), cmp_fn, t);
	*first = calloc(t->nsvcs + 1, sizeof(**first));
	*svcs = malloc((t->nsvcs ? t->nsvcs : 1) * sizeof(**svcs));
	if (!*first || !*svcs)
		return -ENOMEM;
	/* first[i]: index of service i's first function (fns are grouped). */
	for (i = t->nfns; i-- > 0;)
		(*first)[t->fns[i].svc] = i;
	for (i = 0; i < t->nsvcs; i++)
		if (!t->nfns || (*first)[i] >= t->nfns || t->fns[(*first)[i]].svc != i)
			(*first)[i] = t->nfns;
	memcpy(*svcs, t->svcs, t->nsvcs * sizeof(**svcs));
	qsort_r(*svcs, t->nsvcs, sizeof(**svcs), cmp_svc, t);
	return 0;
}

/* A name on a line of its own: control characters would break the line. */
static void put_name(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static void print_text(const struct triage *t, FILE *f, const struct svc *svcs, const size_t *first,
		       unsigned int top)
{
	double wall = secs(t->wall_ns);
	size_t i, k, w;

	fprintf(f, "ember report: %zu service(s)", t->nsvcs);
	if (wall > 0)
		fprintf(f, " over %.1f s", wall);
	fprintf(f, "; %s\n",
		t->off_cpu ? "CPU and off-CPU profiles" :
			     "CPU profiles only: waits unknown, give off-CPU profiles for them");
	for (i = 0; i < t->nsvcs; i++) {
		const struct svc *s = &svcs[i];
		uint32_t idx = t->svc_of[s->name] - 1;
		struct verdict v;

		judge(t, s, &v);
		fputc('\n', f);
		put_name(f, fg_names__str(t->names, s->name));
		fprintf(f, ": %s\n  why: %s\n", v.word, v.why);
		fprintf(f, "  on CPU %.2f s", secs(s->cpu_ns));
		if (wall > 0)
			fprintf(f, " (%.2f cores)", secs(s->cpu_ns) / wall);
		if (s->gc_ns)
			fprintf(f, ", GC %.0f%% of it",
				100.0 * (double)s->gc_ns / (double)s->cpu_ns);
		if (t->off_cpu)
			fprintf(f, "\n  off CPU %.2f s", secs(s->off_ns));
		else
			fprintf(f, "\n  off CPU: unknown (no off-CPU profile given)");
		for (w = 0; w < TRIAGE_WAIT_MAX && s->off_ns; w++)
			fprintf(f, "%s%s %.2f s", w ? ", " : ": ", wait_names[w],
				secs(s->wait_ns[w]));
		if (v.busy_share >= 0 && t->off_cpu)
			fprintf(f,
				"\n  busy time: %.0f%% on CPU (or waiting for one), %.0f%% blocked "
				"on locks or I/O",
				100 * v.busy_share, 100 * (1 - v.busy_share));
		fprintf(f, "\n  top functions by self CPU:\n");
		for (k = first[idx]; k < t->nfns && t->fns[k].svc == idx && k - first[idx] < top;
		     k++) {
			fprintf(f, "    %5.1f%%  ",
				100.0 * (double)t->fns[k].ns / (double)s->cpu_ns);
			put_name(f, fg_names__str(t->names, t->fns[k].name));
			fputc('\n', f);
		}
		if (!s->cpu_ns)
			fprintf(f, "    (no CPU samples)\n");
	}
}

/* Six significant digits, printed as such: a share is 0.1, not
 * 0.10000000000000001. */
static json_object *jnum(double v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.6g", v);
	return json_object_new_double_s(v, buf);
}

static json_object *json_text(const struct triage *t, const struct svc *svcs, const size_t *first,
			      unsigned int top)
{
	json_object *root = json_object_new_object(), *arr = json_object_new_array(), *o, *w, *fa;
	size_t i, k, j;

	json_object_object_add(root, "wall_seconds", jnum(secs(t->wall_ns)));
	json_object_object_add(root, "off_cpu_profiles", json_object_new_boolean(t->off_cpu));
	json_object_object_add(root, "services", arr);
	for (i = 0; i < t->nsvcs; i++) {
		const struct svc *s = &svcs[i];
		uint32_t idx = t->svc_of[s->name] - 1;
		struct verdict v;

		judge(t, s, &v);
		o = json_object_new_object();
		json_object_object_add(o, "service",
				       json_object_new_string(fg_names__str(t->names, s->name)));
		json_object_object_add(o, "verdict", json_object_new_string(v.word));
		json_object_object_add(o, "why", json_object_new_string(v.why));
		json_object_object_add(o, "cpu_seconds", jnum(secs(s->cpu_ns)));
		json_object_object_add(o, "off_cpu_seconds", jnum(secs(s->off_ns)));
		json_object_object_add(o, "gc_share",
				       jnum(s->cpu_ns ? (double)s->gc_ns / (double)s->cpu_ns : 0));
		json_object_object_add(o, "cpu_share_of_busy",
				       v.busy_share < 0 ? NULL : jnum(v.busy_share));
		w = json_object_new_object();
		for (j = 0; j < TRIAGE_WAIT_MAX; j++)
			json_object_object_add(w, wait_names[j], jnum(secs(s->wait_ns[j])));
		json_object_object_add(o, "off_cpu_by_wait_seconds", w);
		fa = json_object_new_array();
		for (k = first[idx]; k < t->nfns && t->fns[k].svc == idx && k - first[idx] < top;
		     k++) {
			json_object *fn = json_object_new_object();

			json_object_object_add(
				fn, "name",
				json_object_new_string(fg_names__str(t->names, t->fns[k].name)));
			json_object_object_add(fn, "self_share",
					       jnum((double)t->fns[k].ns / (double)s->cpu_ns));
			json_object_array_add(fa, fn);
		}
		json_object_object_add(o, "top_functions", fa);
		json_object_array_add(arr, o);
	}
	return root;
}

int triage__print(struct triage *t, FILE *f, bool json, unsigned int top)
{
	struct svc *svcs = NULL;
	size_t *first = NULL;
	json_object *root;
	int err;

	err = order(t, &svcs, &first);
	if (err)
		goto cleanup;
	if (json) {
		root = json_text(t, svcs, first, top);
		fprintf(f, "%s\n",
			json_object_to_json_string_ext(
				root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(root);
	} else {
		print_text(t, f, svcs, first, top);
	}
	if (fflush(f) || ferror(f))
		err = -EIO;
cleanup:
	free(svcs);
	free(first);
	return err;
}
