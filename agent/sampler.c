// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sampler.c - load the BPF object, open a CPU-clock perf event per online CPU,
 * attach, and drain the ring buffer
 *
 * Wake-ups are batched on both sides: the BPF program only forces a wake-up
 * once wakeup_bytes are queued, and the agent polls on a short timer, so a
 * quiet host costs a few wake-ups a second and a busy one a wake-up per batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "file.h"
#include "log.h"
/* The generated skeleton casts away const; it is not ours to fix. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include "profiler.skel.h"
#pragma GCC diagnostic pop
#include "sampler.h"

_Static_assert(sizeof(struct prof_hdr) == 8, "prof_hdr layout");
_Static_assert(PROF_SAMPLE_HDR_SIZE == 64, "prof_sample header layout");
_Static_assert(sizeof(struct prof_sample) == 64 + (PROF_MAX_STACK + PROF_MAX_USTACK) * 8,
	       "prof_sample layout");
_Static_assert(sizeof(struct prof_unwind_row) == 8, "prof_unwind_row layout");
_Static_assert(sizeof(struct prof_unwind_file) == 8, "prof_unwind_file layout");
_Static_assert(sizeof(struct prof_unwind_mapping) == 32, "prof_unwind_mapping layout");
_Static_assert(sizeof(struct prof_unwind_proc) == 8 + 32 * PROF_UNWIND_MAX_MAPPINGS,
	       "prof_unwind_proc layout");
_Static_assert(sizeof(struct prof_proc_event) == 32, "prof_proc_event layout");
_Static_assert(PROF_OFFCPU_HDR_SIZE == 64, "prof_offcpu header layout");
_Static_assert(sizeof(struct prof_offcpu_rate) == 32, "prof_offcpu_rate layout");
_Static_assert(sizeof(struct prof_offcpu) == 64 + 2 * PROF_MAX_STACK * 8, "prof_offcpu layout");
_Static_assert(sizeof(struct prof_offcpu_end) == 32, "prof_offcpu_end layout");

/* Ring buffer: about 4 s of worst-case 100 Hz samples per CPU, in one power of two. */
#define SAMPLER_RB_PER_CPU (256 * 1024)
#define SAMPLER_RB_MIN (1024 * 1024)
#define SAMPLER_RB_MAX (256 * 1024 * 1024)

struct sampler {
	struct profiler_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link **links;
	int *pfds;
	int nlinks;
	int ncpus_possible;
	sampler_record_fn fn;
	void *ctx;
};

/* libbpf's warnings are noise next to Ember's own one-line errors, unless the
 * user asked for detail with --verbose. */
static int sampler_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (log_level < LOG_DEBUG)
		return 0;
	log_vemit(level == LIBBPF_WARN ? LOG_WARN : LOG_DEBUG, fmt, ap);
	return 0;
}

const char *sampler_strerror(int err)
{
	switch (err) {
	case EPERM:
		return "loading BPF needs root, or CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE; "
		       "run ember with sudo";
	case EACCES:
		return "the kernel's verifier rejected the BPF program; run with --verbose for "
		       "its log, and report it with the kernel version";
	case ENOTSUP:
		return "the kernel has no BTF (/sys/kernel/btf/vmlinux); Ember needs a kernel "
		       "built with CONFIG_DEBUG_INFO_BTF=y (5.8 or later)";
	case ENOENT:
		return "a tracepoint or BPF feature is missing from this kernel; Ember needs "
		       "5.17 or later with BTF, ring buffers, tp_btf and bpf_loop; run with "
		       "--verbose for detail";
	default:
		return "the BPF program could not be loaded or attached; run with --verbose "
		       "for libbpf's detail";
	}
}

static unsigned long roundup_pow2(unsigned long v)
{
	unsigned long p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static int open_cpu_clock(int cpu, uint32_t frequency)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.freq = 1,
		.sample_freq = frequency,
	};

	/* pid -1, one CPU: every task on that CPU. */
	return syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

static int ringbuf_cb(void *ctx, void *data, size_t size)
{
	struct sampler *s = ctx;

	return s->fn(s->ctx, data, size);
}

/* Parses a CPU list such as "0-3,6,8-9" into online[0..max). 0 or -EINVAL. */
static int parse_cpu_list(const char *text, bool *online, int max)
{
	const char *p = text;
	char *end;
	long a, b, c;

	while (*p && *p != '\n') {
		a = strtol(p, &end, 10);
		if (end == p || a < 0)
			return -EINVAL;
		b = a;
		if (*end == '-') {
			p = end + 1;
			b = strtol(p, &end, 10);
			if (end == p || b < a)
				return -EINVAL;
		}
		for (c = a; c <= b && c < max; c++)
			online[c] = true;
		p = end;
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	return 0;
}

static int read_online_cpus(bool *online, int max)
{
	char buf[4096];
	ssize_t n;

	n = file_read("/sys/devices/system/cpu/online", buf, sizeof(buf));
	if (n <= 0)
		return n < 0 ? n : -EINVAL;
	return parse_cpu_list(buf, online, max);
}

static int sampler_attach_cpus(struct sampler *s, uint32_t frequency)
{
	bool *online;
	int cpu, fd, err;

	online = calloc(s->ncpus_possible, sizeof(*online));
	if (!online)
		return -ENOMEM;
	err = read_online_cpus(online, s->ncpus_possible);
	if (err) {
		log_err("sampler: cannot read the online CPUs err=%d", err);
		goto cleanup;
	}
	for (cpu = 0; cpu < s->ncpus_possible; cpu++) {
		if (!online[cpu])
			continue;
		fd = open_cpu_clock(cpu, frequency);
		if (fd < 0) {
			err = -errno;
			/* A CPU that went offline since we read the mask. */
			if (err == -ENODEV)
				continue;
			log_err("sampler: perf_event_open failed cpu=%d err=%d", cpu, err);
			goto cleanup;
		}
		s->pfds[cpu] = fd;
		s->links[cpu] = bpf_program__attach_perf_event(s->skel->progs.prof_sample, fd);
		if (!s->links[cpu]) {
			err = -errno;
			log_err("sampler: attaching to the perf event failed cpu=%d err=%d", cpu,
				err);
			goto cleanup;
		}
		s->nlinks++;
	}
	err = s->nlinks ? 0 : -ENODEV;
cleanup:
	free(online);
	return err;
}

/* The BPF side bounds kept switch-outs per CPU per 100 ms window: the
 * host-wide rate shared by the online CPUs, at least one each. */
static __u32 offcpu_window_budget(uint32_t max_rate)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t per_window;

	if (!max_rate)
		return 0;
	per_window = max_rate / (online > 0 ? (uint64_t)online : 1) / 10;
	return per_window ? per_window : 1;
}

struct sampler *sampler__new(const struct sampler_opts *opts, sampler_record_fn fn, void *ctx)
{
	struct sampler *s;
	unsigned long rb_size;
	int err, i;
	__u8 one = 1;

	libbpf_set_print(sampler_libbpf_print);
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		errno = ENOTSUP;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->fn = fn;
	s->ctx = ctx;
	s->ncpus_possible = libbpf_num_possible_cpus();
	if (s->ncpus_possible <= 0) {
		err = s->ncpus_possible ? s->ncpus_possible : -ENODEV;
		goto err_out;
	}
	s->links = calloc(s->ncpus_possible, sizeof(*s->links));
	s->pfds = malloc(s->ncpus_possible * sizeof(*s->pfds));
	if (!s->links || !s->pfds) {
		err = -ENOMEM;
		goto err_out;
	}
	for (i = 0; i < s->ncpus_possible; i++)
		s->pfds[i] = -1;

	s->skel = profiler_bpf__open();
	if (!s->skel) {
		err = -errno;
		goto err_out;
	}
	s->skel->rodata->kernel_stacks = opts->kernel;
	s->skel->rodata->unwind_cfi = opts->unwind_cfi;
	s->skel->rodata->filter_pids = opts->npids > 0;
	rb_size = roundup_pow2((unsigned long)s->ncpus_possible * SAMPLER_RB_PER_CPU);
	if (rb_size < SAMPLER_RB_MIN)
		rb_size = SAMPLER_RB_MIN;
	if (rb_size > SAMPLER_RB_MAX)
		rb_size = SAMPLER_RB_MAX;
	s->skel->rodata->wakeup_bytes = rb_size / 16;
	err = bpf_map__set_max_entries(s->skel->maps.events, rb_size);
	if (err)
		goto err_out;
	if (opts->off_cpu) {
		s->skel->rodata->offcpu_min_ns = (__u64)opts->off_cpu_min_us * 1000;
		s->skel->rodata->offcpu_sample = opts->off_cpu_sample ? opts->off_cpu_sample : 1;
		s->skel->rodata->offcpu_runqueue = opts->off_cpu_runqueue;
		s->skel->rodata->offcpu_window_budget =
			offcpu_window_budget(opts->off_cpu_max_rate);
	} else {
		/* Not loaded, and its pending map not allocated. */
		bpf_program__set_autoload(s->skel->progs.prof_switch, false);
		err = bpf_map__set_max_entries(s->skel->maps.offcpu_pending, 1);
		if (err)
			goto err_out;
	}

	err = profiler_bpf__load(s->skel);
	if (err)
		goto err_out;
	for (i = 0; i < (int)opts->npids; i++) {
		err = bpf_map__update_elem(s->skel->maps.pid_filter, &opts->pids[i],
					   sizeof(opts->pids[i]), &one, sizeof(one), BPF_ANY);
		if (err)
			goto err_out;
	}
	/* Process events first, so no process starts unseen once samples flow. */
	err = profiler_bpf__attach(s->skel);
	if (err)
		goto err_out;
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), ringbuf_cb, s, NULL);
	if (!s->rb) {
		err = -errno;
		goto err_out;
	}
	if (opts->cpu) {
		err = sampler_attach_cpus(s, opts->frequency);
		if (err)
			goto err_out;
	}
	log_info("sampler: attached cpus=%d frequency=%u off_cpu=%d ringbuf_bytes=%lu", s->nlinks,
		 opts->cpu ? opts->frequency : 0, opts->off_cpu, rb_size);
	return s;

err_out:
	sampler__free(s);
	/* Unprivileged, the kernel answers EACCES as often as EPERM. */
	if ((err == -EACCES || err == -EPERM) && geteuid() != 0)
		err = -EPERM;
	errno = -err;
	return NULL;
}

void sampler__free(struct sampler *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; s->links && i < s->ncpus_possible; i++)
		bpf_link__destroy(s->links[i]);
	for (i = 0; s->pfds && i < s->ncpus_possible; i++)
		if (s->pfds[i] >= 0)
			close(s->pfds[i]);
	ring_buffer__free(s->rb);
	profiler_bpf__destroy(s->skel);
	free(s->links);
	free(s->pfds);
	free(s);
}

int sampler__poll(struct sampler *s, int timeout_ms)
{
	int n, m;

	n = ring_buffer__poll(s->rb, timeout_ms);
	if (n < 0 && n != -EINTR)
		return n;
	/* Records submitted without a wake-up never make epoll ready, and
	 * ring_buffer__poll() only drains rings that epoll reported. */
	m = ring_buffer__consume(s->rb);
	if (m < 0)
		return m;
	return (n > 0 ? n : 0) + m;
}

/* The BPF side counts switch-outs left out by sampling in its per-CPU rate
 * state, not in "counters": it is already at hand on that hot path. */
static int sampler_offcpu_skipped(struct sampler *s, uint64_t *out)
{
	struct prof_offcpu_rate *vals;
	__u32 key = 0;
	int err, cpu;

	vals = calloc(s->ncpus_possible, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	err = bpf_map__lookup_elem(s->skel->maps.offcpu_rates, &key, sizeof(key), vals,
				   s->ncpus_possible * sizeof(*vals), 0);
	for (cpu = 0; !err && cpu < s->ncpus_possible; cpu++)
		*out += vals[cpu].skipped;
	free(vals);
	return err;
}

int sampler__counters(struct sampler *s, uint64_t out[PROF_CNT_MAX])
{
	uint64_t *vals;
	__u32 key;
	int err = 0, cpu;

	vals = calloc(s->ncpus_possible, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (key = 0; key < PROF_CNT_MAX; key++) {
		out[key] = 0;
		err = bpf_map__lookup_elem(s->skel->maps.counters, &key, sizeof(key), vals,
					   s->ncpus_possible * sizeof(*vals), 0);
		if (err)
			break;
		for (cpu = 0; cpu < s->ncpus_possible; cpu++)
			out[key] += vals[cpu];
	}
	free(vals);
	if (!err)
		err = sampler_offcpu_skipped(s, &out[PROF_CNT_OFFCPU_SKIPPED]);
	return err;
}

int sampler__lost_by_cpu(struct sampler *s, uint64_t *lost, int n)
{
	__u32 key = PROF_CNT_LOST_RINGBUF;
	uint64_t *vals;
	int err, cpu;

	vals = calloc(s->ncpus_possible, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	err = bpf_map__lookup_elem(s->skel->maps.counters, &key, sizeof(key), vals,
				   s->ncpus_possible * sizeof(*vals), 0);
	if (n > s->ncpus_possible)
		n = s->ncpus_possible;
	for (cpu = 0; !err && cpu < n; cpu++)
		lost[cpu] = vals[cpu];
	free(vals);
	return err ? err : n;
}

void sampler__unwind_fds(const struct sampler *s, int *tables_fd, int *files_fd, int *procs_fd)
{
	*tables_fd = bpf_map__fd(s->skel->maps.unwind_tables);
	*files_fd = bpf_map__fd(s->skel->maps.unwind_files);
	*procs_fd = bpf_map__fd(s->skel->maps.unwind_procs);
}

int sampler__add_wake_fd(struct sampler *s, int fd)
{
	/* libbpf takes an event's data as the index of a ring to drain: 0,
	 * the only ring, which is drained anyway. */
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = 0 };

	if (fd < 0)
		return -EBADF;
	if (epoll_ctl(ring_buffer__epoll_fd(s->rb), EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	return 0;
}

int sampler__ncpus(const struct sampler *s)
{
	return s->nlinks;
}
