// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* profiler.bpf.c - CPU-clock sampling of every CPU, off-CPU time from the
 * scheduler, plus process exec/exit
 *
 * One perf_event program per online CPU copies pid, tid, cpu, time, comm,
 * cgroup id and both stacks into one ring buffer. Every sample that cannot be
 * delivered, and every stack that cannot be copied, is counted in the per-CPU
 * "counters" array; nothing is lost silently. Process events and off-CPU time
 * come from tp_btf tracepoints, because the kernels Ember runs on may lack
 * kprobes. The off-CPU program is loaded only when asked for.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "profiler.h"

#define PF_KTHREAD 0x00200000
/* include/linux/sched.h; the same value since 2.6. */
#define TASK_DEAD 0x00000080

/* Set by the agent through the skeleton before load. */
const volatile bool include_idle = false;
const volatile bool filter_pids = false;
const volatile bool kernel_stacks = true;
/* Wake the agent only once this much is queued; it also polls on a timer. */
const volatile __u64 wakeup_bytes = 64 * 1024;
/* Off-CPU: blocks shorter than this are counted, not delivered. */
const volatile __u64 offcpu_min_ns = 1000000;
/* Off-CPU: at least 1 in offcpu_sample switch-outs is kept (stacks taken). */
const volatile __u32 offcpu_sample = 1;
/* Off-CPU: switch-outs kept per CPU per OFFCPU_WINDOW_NS before the CPU keeps
 * fewer (1 in k, weighted k); 0: no bound. Set from --off-cpu-max-rate. */
const volatile __u32 offcpu_window_budget = 0;
/* Off-CPU: also time spent preempted while runnable (waiting on a runqueue). */
const volatile bool offcpu_runqueue = false;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024); /* resized by the agent */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PROF_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PROF_MAX_PID_FILTER);
	__type(key, __u32);
	__type(value, __u8);
} pid_filter SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += 1;
}

static __always_inline __u64 wakeup_flag(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP :
									       BPF_RB_NO_WAKEUP;
}

/* A sample that interrupted user mode has no kernel stack: asking for one
 * only pays for the callchain set-up. Known on x86 from the saved CS. */
static __always_inline bool in_user_mode(struct bpf_perf_event_data *ctx)
{
#if defined(__TARGET_ARCH_x86)
	/* The verifier only allows 8-byte reads of the saved registers, and
	 * newer kernels made cs a 2-byte union member: read its whole slot.
	 * struct pt_regs is user ABI on x86, so the offset is fixed. */
	__u64 cs = *(__u64 *)((char *)&ctx->regs + __builtin_offsetof(struct pt_regs, cs));

	return (cs & 3) == 3;
#else
	return false;
#endif
}

static __always_inline bool wanted(__u32 tgid)
{
	if (tgid == 0)
		return include_idle;
	if (filter_pids && !bpf_map_lookup_elem(&pid_filter, &tgid))
		return false;
	return true;
}

/* The sample is built here, then only its used part is copied out: a
 * reserved ring buffer slot would have to be the 2 KiB worst case. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct prof_sample);
} scratch SEC(".maps");

SEC("perf_event")
int prof_sample(struct bpf_perf_event_data *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, zero = 0;
	struct prof_sample *s;
	__u64 knr = 0, unr = 0, size;
	/* Helpers return an int-sized byte count or -errno; a long keeps the
	 * verifier's signed range exact before we narrow it. */
	long n;

	if (!wanted(tgid))
		return 0;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;

	s->hdr.type = PROF_EV_SAMPLE;
	s->hdr.pid = tgid;
	s->tid = (__u32)id;
	s->cpu = bpf_get_smp_processor_id();
	s->time_ns = bpf_ktime_get_boot_ns();
	s->cgroup_id = bpf_get_current_cgroup_id();
	BPF_CORE_READ_STR_INTO(&s->comm, task, group_leader, comm);
	s->kerr = 0;
	s->uerr = 0;

	if (kernel_stacks && !in_user_mode(ctx)) {
		n = bpf_get_stack(ctx, s->stack, PROF_MAX_STACK * sizeof(__u64), 0);
		if (n < 0) {
			s->kerr = n;
			count(PROF_CNT_KSTACK_FAILED);
		} else {
			knr = n / sizeof(__u64);
		}
	}
	/* Re-bound for the verifier: the user stack is written at stack[knr]. */
	if (knr > PROF_MAX_STACK)
		knr = PROF_MAX_STACK;

	/* Kernel threads have no user stack; asking would only report -EFAULT. */
	if (!(task->flags & PF_KTHREAD)) {
		n = bpf_get_stack(ctx, &s->stack[knr], PROF_MAX_STACK * sizeof(__u64),
				  BPF_F_USER_STACK);
		if (n < 0) {
			s->uerr = n;
			count(PROF_CNT_USTACK_FAILED);
		} else {
			unr = n / sizeof(__u64);
		}
	}
	if (unr > PROF_MAX_STACK)
		unr = PROF_MAX_STACK;
	s->knr = knr;
	s->unr = unr;

	size = PROF_SAMPLE_SIZE(knr + unr);
	if (size > sizeof(*s))
		return 0;
	if (bpf_ringbuf_output(&events, s, size, wakeup_flag())) {
		count(PROF_CNT_LOST_RINGBUF);
		return 0;
	}
	count(PROF_CNT_SAMPLES);
	return 0;
}

/* Switch-outs waiting for their switch-in, by tid: only the switch-out time
 * (the stacks went to the ring buffer at once, so a kept switch-out writes
 * 8 bytes here, not 2 KiB). LRU: a thread that blocks and then exits never
 * switches in again, and its entry must not stay forever. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PROF_OFFCPU_PENDING);
	__type(key, __u32);
	__type(value, __u64);
} offcpu_pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct prof_offcpu);
} offcpu_scratch SEC(".maps");

/* Pending entries per tid slot. sched_switch runs on every context switch:
 * a switch-in checks its slot (an array lookup the verifier inlines) before
 * paying for a hash lookup, which nearly always misses. A count, not a bit,
 * so two pending tids sharing a slot never hide each other; an entry the LRU
 * evicts leaves its count behind, which costs lookups, never records. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PROF_OFFCPU_HINT_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} offcpu_hint SEC(".maps");

/* The kernel's tick rate, from its config (libbpf reads /proc/config.gz);
 * 0 when it cannot be read, then taken as 250, Debian's. */
extern unsigned int CONFIG_HZ __kconfig __weak;

/* 100 ms in jiffies: a window's start needs no clock read, only jiffies. */
static __always_inline __u64 offcpu_window_jiffies(void)
{
	__u64 hz = CONFIG_HZ ? CONFIG_HZ : 250;

	return hz >= 10 ? hz / 10 : 1;
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct prof_offcpu_rate);
} offcpu_rates SEC(".maps");

/* Returns k when this switch-out is kept as 1 in k (its weight), else 0.
 * Each is kept with probability 1/k, drawn for it alone, and k is set from
 * the past only (the last window's rate, or a burst in this one), never from
 * the switch-out itself, so weighting each kept one by k leaves the sums
 * unbiased (a countdown between kept ones would be cheaper, but restarting it
 * when k changes favours the first switch-out after a change). A CPU
 * switching 50,000 times a second pays for offcpu_window_budget stack walks
 * a window, not for 5,000. This runs for every switch-out that blocks, so it
 * reads jiffies, not a clock. */
static __always_inline __u32 offcpu_keep(void)
{
	struct prof_offcpu_rate *r;
	__u32 zero = 0, k, min_k = offcpu_sample ? offcpu_sample : 1;
	__u64 now = bpf_jiffies64();

	r = bpf_map_lookup_elem(&offcpu_rates, &zero);
	if (!r)
		return 0;
	if (now - r->window_start >= offcpu_window_jiffies()) {
		k = min_k;
		if (offcpu_window_budget && r->seen > offcpu_window_budget) {
			/* Enough to keep about the budget at last window's rate. */
			__u32 adapt = (r->seen + offcpu_window_budget - 1) / offcpu_window_budget;

			if (adapt > k)
				k = adapt;
		}
		r->window_start = now;
		r->k = k;
		r->seen = 0;
		r->kept = 0;
	}
	r->seen++;
	k = r->k ? r->k : 1;
	if (k > 1) {
		/* The draw runs for nearly every blocking switch-out on a busy
		 * CPU: a xorshift in the per-CPU state and a multiply, not a
		 * helper call and a division. x is uniform over [1, 2^32), so
		 * x * k < 2^32 has probability 1/k (to within k / 2^32). */
		__u32 x = r->rng;

		if (!x)
			x = bpf_get_prandom_u32() | 1;
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		r->rng = x;
		if (((__u64)x * k) >> 32) {
			r->skipped++;
			return 0;
		}
	}
	/* A burst within the window: keep half as many from now on. */
	if (offcpu_window_budget && ++r->kept >= 2 * offcpu_window_budget && k < (1u << 30)) {
		r->k = k * 2;
		r->kept = offcpu_window_budget;
	}
	return k;
}

/* include/linux/sched.h: io_uring and vhost workers, user threads with no
 * user stack of their own (perf gives them none either). */
#define PF_USER_WORKER 0x00004000
/* arch/x86/include/asm/segment.h: the 64-bit user code segment. */
#define USER64_CS 0x33

/* The user stack of prev, the current task, by its frame pointers: what
 * perf's perf_callchain_user() walks for bpf_get_stack(BPF_F_USER_STACK),
 * the pc at the syscall then each frame's return address, frame by frame
 * until a read fails. The kernel tries the read at a frame pointer of 0 too
 * (the outermost frame's, as _start and clone leave it), which faults, and
 * a fault is microseconds on this path; a frame pointer below the first
 * page would fault the same, so the walk stops there without reading, with
 * the same frames. Returns the frames written at out[0..], or -1 when this
 * walk does not apply (not a 64-bit task): then bpf_get_stack() does it. */
static __always_inline long offcpu_user_stack(struct task_struct *prev, __u64 *out)
{
	struct pt_regs *regs;
	__u64 fp, frame[2];
	long nr = 0;
	__u32 i;

	if (prev->flags & PF_USER_WORKER)
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(prev);
	if (!regs || regs->cs != USER64_CS)
		return -1;
	out[0] = regs->ip;
	nr = 1;
	fp = regs->bp;
	for (i = 1; i < PROF_MAX_STACK; i++) {
		if (fp < 4096)
			break;
		if (bpf_probe_read_user(frame, sizeof(frame), (void *)fp))
			break;
		out[i] = frame[1];
		nr = i + 1;
		fp = frame[0];
	}
	return nr;
}

/* prev is the current task in sched_switch: this is the last moment its
 * user stack can be read (the kernel refuses cross-task user stacks), so the
 * stacks are taken here, for every kept switch-out, before it is known
 * whether the block will be long enough to report. They go to the ring
 * buffer at once as their own record; the pending entry keeps only the time,
 * which the switch-in sends back as the join key (agent/sched_glue.c). */
static __always_inline void offcpu_out(void *ctx, struct task_struct *prev, bool preempt,
				       unsigned int prev_state)
{
	__u32 tid = prev->pid, tgid = prev->tgid, zero = 0, slot, weight, *hint;
	struct prof_offcpu *e;
	__u64 knr = 0, unr = 0, now, size;
	long n;

	/* The idle task and kernel threads wait for work, not for something
	 * a service is blocked on. */
	if (tid == 0 || (prev->flags & PF_KTHREAD) || !wanted(tgid))
		return;
	/* Preempted (or not yet asleep when preempted): it stays runnable and
	 * its wait is runqueue latency, not a block. */
	if ((preempt || prev_state == 0) && !offcpu_runqueue)
		return;
	/* A thread's last switch: it never comes back to be matched. */
	if (prev_state & TASK_DEAD)
		return;
	weight = offcpu_keep();
	if (!weight)
		return;
	e = bpf_map_lookup_elem(&offcpu_scratch, &zero);
	if (!e)
		return;
	now = bpf_ktime_get_boot_ns();
	/* Remembered first: a stack record is sent only when its end can come. */
	if (bpf_map_update_elem(&offcpu_pending, &tid, &now, BPF_ANY)) {
		count(PROF_CNT_OFFCPU_PENDING_FAILED);
		return;
	}
	e->hdr.type = PROF_EV_OFFCPU;
	e->hdr.pid = tgid;
	e->time_ns = now;
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->off_ns = 0;
	e->tid = tid;
	e->weight = weight;
	e->kerr = 0;
	e->uerr = 0;
	BPF_CORE_READ_STR_INTO(&e->comm, prev, group_leader, comm);
	if (kernel_stacks) {
		n = bpf_get_stack(ctx, e->stack, PROF_MAX_STACK * sizeof(__u64), 0);
		if (n < 0) {
			e->kerr = n;
			count(PROF_CNT_OFFCPU_STACK_FAILED);
		} else {
			knr = n / sizeof(__u64);
		}
	}
	if (knr > PROF_MAX_STACK)
		knr = PROF_MAX_STACK;
	n = offcpu_user_stack(prev, &e->stack[knr]);
	if (n >= 0) {
		unr = n;
	} else {
		n = bpf_get_stack(ctx, &e->stack[knr], PROF_MAX_STACK * sizeof(__u64),
				  BPF_F_USER_STACK);
		if (n < 0) {
			e->uerr = n;
			count(PROF_CNT_OFFCPU_STACK_FAILED);
		} else {
			unr = n / sizeof(__u64);
		}
	}
	if (unr > PROF_MAX_STACK)
		unr = PROF_MAX_STACK;
	e->knr = knr;
	e->unr = unr;
	count(PROF_CNT_OFFCPU_PENDING);
	size = PROF_OFFCPU_SIZE(knr + unr);
	if (size > sizeof(*e) || bpf_ringbuf_output(&events, e, size, wakeup_flag())) {
		/* Its end would join nothing: forget the switch-out. */
		count(PROF_CNT_OFFCPU_LOST);
		bpf_map_delete_elem(&offcpu_pending, &tid);
		return;
	}
	slot = tid & (PROF_OFFCPU_HINT_SLOTS - 1);
	hint = bpf_map_lookup_elem(&offcpu_hint, &slot);
	if (hint)
		__sync_fetch_and_add(hint, 1);
}

/* next runs again: if a switch-out of it was kept and the block was long
 * enough, a small end record joins its stack record in the agent. A short
 * one sends nothing: the agent drops its stacks when the thread's next
 * stack record comes (or at its bound). */
static __always_inline void offcpu_in(struct task_struct *next)
{
	__u32 tid = next->pid, slot = tid & (PROF_OFFCPU_HINT_SLOTS - 1), *hint;
	struct prof_offcpu_end *r;
	__u64 *out_ns, off;

	if (tid == 0)
		return;
	hint = bpf_map_lookup_elem(&offcpu_hint, &slot);
	if (!hint || !*hint)
		return;
	out_ns = bpf_map_lookup_elem(&offcpu_pending, &tid);
	if (!out_ns)
		return;
	off = bpf_ktime_get_boot_ns() - *out_ns;
	if (off < offcpu_min_ns) {
		count(PROF_CNT_OFFCPU_SHORT);
		goto done;
	}
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count(PROF_CNT_OFFCPU_LOST);
		goto done;
	}
	r->hdr.type = PROF_EV_OFFCPU_END;
	r->hdr.pid = next->tgid;
	r->time_ns = *out_ns;
	r->off_ns = off;
	r->tid = tid;
	r->pad = 0;
	bpf_ringbuf_submit(r, wakeup_flag());
	count(PROF_CNT_OFFCPU_EVENTS);
done:
	if (!bpf_map_delete_elem(&offcpu_pending, &tid))
		__sync_fetch_and_add(hint, -1);
}

/* Since 5.18 the tracepoint passes prev_state: re-reading prev->__state here
 * could already see TASK_WAKING and call a block a preemption. */
SEC("tp_btf/sched_switch")
int BPF_PROG(prof_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	offcpu_out(ctx, prev, preempt, prev_state);
	offcpu_in(next);
	return 0;
}

static __always_inline void proc_event(struct task_struct *task, __u32 type)
{
	struct prof_proc_event *e;
	__u32 tgid = task->tgid;

	if (!wanted(tgid))
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(PROF_CNT_EVENTS_LOST);
		return;
	}
	e->hdr.type = type;
	e->hdr.pid = tgid;
	e->time_ns = bpf_ktime_get_boot_ns();
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	bpf_ringbuf_submit(e, wakeup_flag());
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(prof_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	proc_event(p, PROF_EV_EXEC);
	return 0;
}

/* Fires for every thread; only the group leader's exit ends the process. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(prof_exit, struct task_struct *p)
{
	if (p->pid != p->tgid)
		return 0;
	proc_event(p, PROF_EV_EXIT);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
