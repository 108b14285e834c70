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
 * reserved ring buffer slot would have to be the 9 KiB worst case. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct prof_sample);
} scratch SEC(".maps");

/* ---- User stacks: Ember's own walk, CFI rows where the agent loaded a
 * table for the mapping, the frame pointer elsewhere ---- */

/* Off: frame pointers only (--no-unwind); unwind_procs is never read. */
const volatile bool unwind_cfi = true;

/* The template of a file's table: one ARRAY of rows per slot, each sized to
 * its file by the agent (BPF_F_INNER_MAP lets the sizes differ). Sizes, not
 * BTF types: clang emits a struct only named inside __array() as a forward
 * declaration, which libbpf cannot size. */
struct unwind_rows {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_INNER_MAP);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct prof_unwind_row));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, PROF_UNWIND_MAX_FILES);
	__type(key, __u32);
	__array(values, struct unwind_rows);
} unwind_tables SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PROF_UNWIND_MAX_FILES);
	__type(key, __u32);
	__type(value, struct prof_unwind_file);
} unwind_files SEC(".maps");

/* By tgid: the process's executable mappings, sorted. Not preallocated:
 * 4 KiB a process, only for the processes that run. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct prof_unwind_proc);
} unwind_procs SEC(".maps");

/* Binary search steps: 2^7 mappings, 2^24 rows (libLLVM has 0.9 M). */
#define WALK_MAP_STEPS 8
#define WALK_ROW_STEPS 25

/* The walk's state, on the program's stack, handed to each bpf_loop step. */
struct walk {
	struct prof_sample *s;
	struct prof_unwind_proc *proc; /* NULL: frame pointers only */
	__u64 pc, sp, rbp;
	__u32 base; /* index in s->stack of the first user frame (knr) */
	__u32 n; /* user frames written */
	__u32 ncfi;
	__u8 stop; /* enum prof_ustop, valid once done */
	__u8 flags; /* enum prof_uflag */
	bool exact; /* pc is not a return address: frame 0, after a signal frame */
	/* pc came from the registers or a CFI step, not from a frame-pointer
	 * guess: a pc in no mapping then means a mapping the agent has not
	 * seen (a pc from garbage rbp would only send it reading /proc). */
	bool trusted;
	bool rbp_bad; /* CFI said the caller's rbp is clobbered */
	/* The last frame's mapping, index + 1 (0: none): callers are mostly
	 * in the same file, and this skips the binary search. */
	__u32 last_map;
	/* The last row found and the pcs it covers, [c_lo, c_hi) of table
	 * c_slot at generation c_gen: a recursive caller (an interpreter's
	 * eval loop, a tree walk) is found again without a search. */
	__u32 c_slot, c_gen, c_lo, c_hi;
	struct prof_unwind_row c_row;
	long err; /* a failed read's -errno */
};

/* Binary searches run as bpf_loop steps, not unrolled loops: the verifier
 * checks one step once, where a bounded loop over lo/hi multiplies its
 * states with each step (array keys are tracked precisely since 6.x). */
struct walk_bsearch {
	struct prof_unwind_proc *proc; /* walk_map_step */
	void *rows; /* walk_row_step */
	__u64 key;
	__u32 lo, hi;
};

/* Narrows [lo, hi) to the first mapping whose start is above key. */
static long walk_map_step(__u32 i, void *ctx)
{
	struct walk_bsearch *b = ctx;
	__u32 mid;

	if (b->lo >= b->hi)
		return 1;
	mid = (b->lo + b->hi) / 2;
	if (mid >= PROF_UNWIND_MAX_MAPPINGS)
		return 1;
	if (b->proc->maps[mid].start <= b->key)
		b->lo = mid + 1;
	else
		b->hi = mid;
	return 0;
}

/* Narrows [lo, hi) to the first row whose pc is above key. */
static long walk_row_step(__u32 i, void *ctx)
{
	struct walk_bsearch *b = ctx;
	struct prof_unwind_row *r;
	__u32 mid;

	if (b->lo >= b->hi)
		return 1;
	mid = (b->lo + b->hi) / 2;
	r = bpf_map_lookup_elem(b->rows, &mid);
	if (!r) {
		/* The table shrank under us: no row. */
		b->lo = 0;
		b->hi = 0;
		return 1;
	}
	if (r->pc <= (__u32)b->key)
		b->lo = mid + 1;
	else
		b->hi = mid;
	return 0;
}

/* The mapping of proc holding pc, or NULL. The array is sorted by start. */
static __always_inline const struct prof_unwind_mapping *walk_mapping(struct prof_unwind_proc *proc,
								      __u64 pc)
{
	struct walk_bsearch b = { .proc = proc, .key = pc, .hi = proc->nr };
	__u32 idx;

	if (b.hi > PROF_UNWIND_MAX_MAPPINGS)
		b.hi = PROF_UNWIND_MAX_MAPPINGS;
	bpf_loop(WALK_MAP_STEPS, walk_map_step, &b, 0);
	idx = b.lo;
	if (idx == 0 || idx > PROF_UNWIND_MAX_MAPPINGS)
		return NULL;
	idx--;
	if (idx >= PROF_UNWIND_MAX_MAPPINGS || pc >= proc->maps[idx].end)
		return NULL;
	return &proc->maps[idx];
}

/* The row covering ELF address vaddr in the table of mapping m, copied to
 * *out. False when the table is gone or was given to another file (gen),
 * or no row covers vaddr. */
static __always_inline bool walk_row(struct walk *w, const struct prof_unwind_mapping *m,
				     __u64 vaddr, struct prof_unwind_row *out)
{
	struct prof_unwind_file *f;
	struct prof_unwind_row *r;
	struct walk_bsearch b = { .key = vaddr };
	__u32 slot = m->slot, idx;

	if (vaddr >= (1ull << 32))
		return false;
	f = bpf_map_lookup_elem(&unwind_files, &slot);
	if (!f || f->gen != m->gen || !f->rows)
		return false;
	if (w->c_slot == slot && w->c_gen == f->gen && (__u32)vaddr >= w->c_lo &&
	    (__u32)vaddr < w->c_hi) {
		*out = w->c_row;
		return true;
	}
	b.rows = bpf_map_lookup_elem(&unwind_tables, &slot);
	if (!b.rows)
		return false;
	b.hi = f->rows;
	bpf_loop(WALK_ROW_STEPS, walk_row_step, &b, 0);
	/* Not converged (more rows than the steps cover), below the first
	 * row, or past the last (the end of the last function, no rule). */
	if (b.lo == 0 || b.lo != b.hi || b.lo >= f->rows)
		return false;
	idx = b.lo - 1;
	r = bpf_map_lookup_elem(b.rows, &idx);
	if (!r)
		return false;
	*out = *r;
	w->c_row = *r;
	w->c_lo = r->pc;
	idx = b.lo;
	r = bpf_map_lookup_elem(b.rows, &idx);
	if (r) {
		w->c_slot = slot;
		w->c_gen = f->gen;
		w->c_hi = r->pc;
	} else {
		w->c_slot = PROF_UNWIND_NO_TABLE;
	}
	return true;
}

static __always_inline long walk_fail(struct walk *w, __u8 stop, bool cfi)
{
	w->stop = stop;
	if (cfi)
		w->flags |= PROF_UFLAG_CFI_STOP;
	return 1;
}

/* One frame pointer step: [rbp] is the caller's rbp, [rbp + 8] the return
 * address, and the caller's rsp is rbp + 16. A zero rbp is how _start and
 * thread entries end the chain. */
static __always_inline long walk_fp(struct walk *w)
{
	__u64 pair[2];
	long err;

	if (w->rbp == 0 || w->rbp_bad)
		return walk_fail(w, w->rbp_bad ? PROF_USTOP_RBP : PROF_USTOP_END, false);
	/* A caller's frame is above (older than) the callee's stack pointer. */
	if (w->rbp < w->sp || w->rbp + 16 <= w->sp)
		return walk_fail(w, PROF_USTOP_LOOP, false);
	err = bpf_probe_read_user(pair, sizeof(pair), (void *)w->rbp);
	if (err) {
		w->err = err;
		return walk_fail(w, PROF_USTOP_READ, false);
	}
	w->sp = w->rbp + 16;
	w->rbp = pair[0];
	w->pc = pair[1];
	w->exact = false;
	w->trusted = false;
	return 0;
}

/* rt_sigframe on x86-64: the return address (to __restore_rt) was popped,
 * so rsp points at the ucontext; its mcontext holds the interrupted
 * registers. Offsets from struct ucontext / sigcontext (uapi, fixed). */
#define SIGFRAME_RBP 120
#define SIGFRAME_RSP 160
#define SIGFRAME_RIP 168

static __always_inline long walk_signal(struct walk *w)
{
	__u64 regs[7]; /* rbp .. rip: 120 to 176 */
	long err;

	err = bpf_probe_read_user(regs, sizeof(regs), (void *)(w->sp + SIGFRAME_RBP));
	if (err) {
		w->err = err;
		return walk_fail(w, PROF_USTOP_READ, true);
	}
	/* A signal frame does not grow the stack in a known direction (an
	 * alternate signal stack may be anywhere): only the depth bounds it. */
	w->rbp = regs[0];
	w->sp = regs[(SIGFRAME_RSP - SIGFRAME_RBP) / 8];
	w->pc = regs[(SIGFRAME_RIP - SIGFRAME_RBP) / 8];
	w->rbp_bad = false;
	/* The interrupted pc is where the instruction was, not after a call. */
	w->exact = true;
	w->trusted = true;
	return 0;
}

/* One CFI step by row r. 0 to go on, 1 when the walk ends. */
static __always_inline long walk_cfi(struct walk *w, const struct prof_unwind_row *r)
{
	__u64 cfa, ra, rbp = w->rbp;
	__u8 rule = PROF_UNWIND_CFA_RULE(r->rule);
	long err;

	switch (rule) {
	case PROF_CFA_RSP:
		cfa = w->sp + r->cfa_off;
		break;
	case PROF_CFA_RBP:
		if (w->rbp_bad)
			return walk_fail(w, PROF_USTOP_RBP, true);
		cfa = w->rbp + r->cfa_off;
		break;
	case PROF_CFA_PLT:
		cfa = w->sp + 8 + ((w->pc & 15) >= r->cfa_off ? 8 : 0);
		break;
	case PROF_CFA_DEREF_RSP:
		err = bpf_probe_read_user(&cfa, sizeof(cfa), (void *)(w->sp + r->cfa_off));
		if (err) {
			w->err = err;
			return walk_fail(w, PROF_USTOP_READ, true);
		}
		break;
	case PROF_CFA_SIGNAL:
		w->ncfi++;
		return walk_signal(w);
	case PROF_CFA_STOP:
		w->ncfi++;
		return walk_fail(w, PROF_USTOP_END, false);
	default:
		return walk_fp(w);
	}
	/* The caller's stack pointer is above the callee's: a CFA that is not
	 * is garbage, or a loop. */
	if (cfa <= w->sp)
		return walk_fail(w, PROF_USTOP_LOOP, true);
	/* The usual frame (push rbp first): rbp right below the return
	 * address, both in one read. */
	if (PROF_UNWIND_RBP_RULE(r->rule) == PROF_RBP_AT_CFA && r->rbp_off8 == -2) {
		__u64 pair[2];

		err = bpf_probe_read_user(pair, sizeof(pair), (void *)(cfa - 16));
		if (err) {
			w->err = err;
			return walk_fail(w, PROF_USTOP_READ, true);
		}
		rbp = pair[0];
		ra = pair[1];
		w->rbp_bad = false;
		goto done;
	}
	err = bpf_probe_read_user(&ra, sizeof(ra), (void *)(cfa - 8));
	if (err) {
		w->err = err;
		return walk_fail(w, PROF_USTOP_READ, true);
	}
	switch (PROF_UNWIND_RBP_RULE(r->rule)) {
	case PROF_RBP_AT_CFA:
		err = bpf_probe_read_user(&rbp, sizeof(rbp),
					  (void *)(cfa + 8 * (__s64)r->rbp_off8));
		if (err) {
			w->err = err;
			return walk_fail(w, PROF_USTOP_READ, true);
		}
		w->rbp_bad = false;
		break;
	case PROF_RBP_UNDEFINED:
		w->rbp_bad = true;
		break;
	default:
		break;
	}
done:
	w->ncfi++;
	w->sp = cfa;
	w->rbp = rbp;
	w->pc = ra;
	w->exact = false;
	w->trusted = true;
	return 0;
}

/* bpf_loop's step: writes frame i (w->pc) and finds its caller. */
static long walk_step(__u32 i, void *ctx)
{
	struct walk *w = ctx;
	const struct prof_unwind_mapping *m = NULL;
	struct prof_unwind_row row;
	__u32 idx;
	__u64 look;

	if (w->pc == 0)
		return walk_fail(w, PROF_USTOP_END, false);
	if (w->n >= PROF_MAX_USTACK)
		return walk_fail(w, PROF_USTOP_DEPTH, false);
	idx = w->base + w->n;
	if (idx >= PROF_MAX_STACK + PROF_MAX_USTACK)
		return walk_fail(w, PROF_USTOP_DEPTH, false);
	w->s->stack[idx] = w->pc;
	w->n++;

	if (w->proc) {
		/* A return address is the instruction after the call, which
		 * may be the next function: the call is one byte back. */
		look = w->exact ? w->pc : w->pc - 1;
		m = NULL;
		if (w->last_map > 0 && w->last_map <= PROF_UNWIND_MAX_MAPPINGS) {
			m = &w->proc->maps[w->last_map - 1];
			if (look < m->start || look >= m->end)
				m = NULL;
		}
		if (!m) {
			m = walk_mapping(w->proc, look);
			w->last_map = m ? (__u32)(m - w->proc->maps) + 1 : 0;
		}
		if (!m) {
			if (w->trusted)
				w->flags |= PROF_UFLAG_UNKNOWN_PC;
		} else if (m->slot != PROF_UNWIND_NO_TABLE && walk_row(w, m, look - m->bias, &row))
			return walk_cfi(w, &row);
	}
	return walk_fp(w);
}

/* The user registers the walk starts from: the sample's own when it hit
 * user mode, else those saved at the task's entry into the kernel. */
static __always_inline bool walk_regs(struct bpf_perf_event_data *ctx, struct task_struct *task,
				      struct walk *w)
{
	struct pt_regs *regs;

	if (in_user_mode(ctx)) {
		w->pc = ctx->regs.ip;
		w->sp = ctx->regs.sp;
		w->rbp = ctx->regs.bp;
		return true;
	}
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!regs)
		return false;
	w->pc = BPF_CORE_READ(regs, ip);
	w->sp = BPF_CORE_READ(regs, sp);
	w->rbp = BPF_CORE_READ(regs, bp);
	return true;
}

/* Walks the user stack into s->stack[knr..]: the frame count. */
static __always_inline __u32 walk_user(struct bpf_perf_event_data *ctx, struct task_struct *task,
				       struct prof_sample *s, __u32 tgid, __u32 knr)
{
	struct walk w = {
		.s = s, .base = knr, .exact = true, .trusted = true, .c_slot = PROF_UNWIND_NO_TABLE
	};

	if (!walk_regs(ctx, task, &w)) {
		s->ustop = PROF_USTOP_NOREGS;
		return 0;
	}
	if (unwind_cfi) {
		w.proc = bpf_map_lookup_elem(&unwind_procs, &tgid);
		if (!w.proc)
			w.flags |= PROF_UFLAG_NO_PROC;
	}
	/* One more step than frames: the step past the last frame tells a
	 * stack that ended from one that was cut. */
	bpf_loop(PROF_MAX_USTACK + 1, walk_step, &w, 0);
	s->ustop = w.stop;
	s->uflags = w.flags;
	s->ucfi = w.ncfi;
	s->uerr = w.err;
	return w.n;
}

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
	s->ustop = PROF_USTOP_END;
	s->uflags = 0;
	s->ucfi = 0;
	s->pad = 0;

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

	/* Kernel threads have no user stack. */
	if (!(task->flags & PF_KTHREAD)) {
		unr = walk_user(ctx, task, s, tgid, knr);
		if (s->ustop == PROF_USTOP_NOREGS)
			count(PROF_CNT_USTACK_FAILED);
	}
	if (unr > PROF_MAX_USTACK)
		unr = PROF_MAX_USTACK;
	s->knr = knr;
	s->unr = unr;

	size = PROF_SAMPLE_SIZE(knr + unr);
	if (size > sizeof(*s))
		return 0;
	/* A process the unwinder does not know yet: the agent reads it at
	 * once, not at its next poll, so its stacks are complete within
	 * milliseconds (a short-lived process has no 100 ms to spare). */
	if (bpf_ringbuf_output(&events, s, size,
			       (s->uflags & PROF_UFLAG_NO_PROC) ? BPF_RB_FORCE_WAKEUP :
								  wakeup_flag())) {
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
