/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* profiler.h - the one ABI shared by the BPF programs and the agent
 *
 * Record layouts, constants and enums that cross the kernel/user boundary live
 * here and nowhere else. Fixed-width __u* types only, largest fields first,
 * explicit padding; the agent pins the sizes with _Static_assert.
 * Each side includes its own type source (vmlinux.h or <linux/types.h>) first.
 */
#ifndef EMBER_PROFILER_H
#define EMBER_PROFILER_H

/* bpf_get_stack() stops at kernel.perf_event_max_stack, 127 by default:
 * the bound of kernel stacks, and of both stacks of off-CPU records. */
#define PROF_MAX_STACK 127
/* User frames of a CPU sample: walked by Ember's own loop (CFI or frame
 * pointers), so no sysctl bounds it. Pyroscope keeps 1000 per sample. */
#define PROF_MAX_USTACK 1024
#define PROF_COMM_LEN 16
/* Upper bound on --pid filters; the BPF hash map is sized to this. */
#define PROF_MAX_PID_FILTER 64
/* Switch-outs waiting for their switch-in (off-CPU): an LRU hash, so a
 * thread that blocks and never runs again is evicted, not kept forever.
 * Each entry is only its switch-out time (the stacks went to the ring
 * buffer at once); the agent holds as many stack records for the join. */
#define PROF_OFFCPU_PENDING 8192
/* Pending switch-outs per tid slot (tid & (SLOTS - 1)): a switch-in whose
 * slot is 0 needs no hash lookup. A power of two. */
#define PROF_OFFCPU_HINT_SLOTS 16384

enum prof_event_type {
	PROF_EV_SAMPLE = 1,
	PROF_EV_EXEC = 2,
	PROF_EV_EXIT = 3,
	PROF_EV_OFFCPU = 4, /* the stacks at a kept switch-out */
	PROF_EV_OFFCPU_END = 5, /* its switch-in, when the block was long enough */
};

/* Indexes of the per-CPU counter array "counters". */
enum prof_counter {
	PROF_CNT_SAMPLES = 0, /* samples the program was called for and kept */
	PROF_CNT_LOST_RINGBUF = 1, /* ring buffer full: sample lost */
	PROF_CNT_KSTACK_FAILED = 2, /* kernel stack copy failed (sample kept) */
	PROF_CNT_USTACK_FAILED = 3, /* no user registers to walk from (sample kept) */
	PROF_CNT_EVENTS_LOST = 4, /* exec/exit events lost (ring buffer full) */
	PROF_CNT_OFFCPU_EVENTS = 5, /* off-CPU end records delivered (long blocks) */
	PROF_CNT_OFFCPU_LOST = 6, /* kept switch-outs whose stack or end record was lost */
	PROF_CNT_OFFCPU_SHORT = 7, /* blocks shorter than the minimum, not delivered */
	PROF_CNT_OFFCPU_PENDING_FAILED = 8, /* switch-out not remembered (map update failed) */
	PROF_CNT_OFFCPU_STACK_FAILED = 9, /* a stack copy at switch-out failed (record kept) */
	PROF_CNT_OFFCPU_PENDING = 10, /* switch-outs remembered (sampled, stacks taken) */
	/* switch-outs left out by sampling (weights cover them); kept in
	 * prof_offcpu_rate.skipped, not in "counters": see there */
	PROF_CNT_OFFCPU_SKIPPED = 11,
	PROF_CNT_MAX = 12,
};

/* Every ring buffer record starts with this. */
struct prof_hdr {
	__u32 type; /* enum prof_event_type */
	__u32 pid; /* tgid in the root pid namespace */
};

/* Why the user stack walk of a sample ended: prof_sample.ustop. */
enum prof_ustop {
	PROF_USTOP_END = 0, /* a CFI STOP row, a zero return address or frame pointer */
	PROF_USTOP_DEPTH = 1, /* cut at PROF_MAX_USTACK frames: more were there */
	PROF_USTOP_READ = 2, /* the stack could not be read at the CFA or frame pointer */
	PROF_USTOP_LOOP = 3, /* the stack pointer did not grow: a loop or garbage */
	PROF_USTOP_RBP = 4, /* the frame needs an rbp that CFI said is clobbered */
	PROF_USTOP_NOREGS = 5, /* no user registers for the task */
	PROF_USTOP_MAX = 6,
};

/* prof_sample.uflags */
enum prof_uflag {
	/* The step that ended the walk was unwound by CFI (a table row), not
	 * by a frame pointer: bad data there is an error, while a frame
	 * pointer chain ending in code built without one is not. */
	PROF_UFLAG_CFI_STOP = 1,
	/* A pc taken from the registers or a CFI step (not a frame-pointer
	 * guess) fell in none of the process's mappings in "unwind_procs":
	 * code mapped since they were written (dlopen). */
	PROF_UFLAG_UNKNOWN_PC = 2,
	/* The process has no entry in "unwind_procs": frame pointers only. */
	PROF_UFLAG_NO_PROC = 4,
};

/* A sample travels with only the frames it has: stack[] holds knr kernel
 * frames (leaf first) then unr user frames (leaf first), and the record is
 * PROF_SAMPLE_SIZE(knr + unr) bytes long, not sizeof(struct prof_sample). */
struct prof_sample {
	struct prof_hdr hdr;
	__u64 time_ns; /* bpf_ktime_get_boot_ns() */
	__u64 cgroup_id; /* cgroup v2 id of the task */
	__u32 tid;
	__u32 cpu;
	__u16 knr; /* kernel frames in stack[] */
	__u16 unr; /* user frames in stack[], after the kernel ones */
	__s16 kerr; /* -errno of a failed kernel stack copy, else 0 */
	__s16 uerr; /* -errno of a failed user stack read, else 0 */
	__u8 comm[PROF_COMM_LEN]; /* the process's (group leader's) comm */
	__u8 ustop; /* enum prof_ustop */
	__u8 uflags; /* enum prof_uflag bits */
	__u16 ucfi; /* user frames found through a CFI row */
	__u32 pad;
	__u64 stack[PROF_MAX_STACK + PROF_MAX_USTACK];
};

#define PROF_SAMPLE_HDR_SIZE __builtin_offsetof(struct prof_sample, stack)
#define PROF_SAMPLE_SIZE(nframes) (PROF_SAMPLE_HDR_SIZE + (nframes) * sizeof(__u64))

/* exec and exit of a whole process (group leader). */
struct prof_proc_event {
	struct prof_hdr hdr;
	__u64 time_ns;
	__u8 comm[PROF_COMM_LEN];
};

/* Per CPU, the off-CPU sampling state ("offcpu_rates"): 1 in k blocking
 * switch-outs kept. skipped is counted here, where the hot path already is,
 * and read by the agent for PROF_CNT_OFFCPU_SKIPPED. */
struct prof_offcpu_rate {
	__u64 window_start; /* jiffies */
	__u64 skipped; /* switch-outs left out, over the agent's life */
	__u32 k;
	__u32 seen; /* eligible switch-outs this window */
	__u32 kept; /* kept since k last changed */
	__u32 rng; /* xorshift32 state for the 1 in k draw; 0 until seeded */
};

/* A task's time off CPU comes in two records. This one is sent at the
 * switch-out: the stacks it blocked in, taken there (in its own context: prev
 * is current in sched_switch). Like a sample, it travels with only its
 * knr + unr frames: PROF_OFFCPU_SIZE(knr + unr) bytes. The second, struct
 * prof_offcpu_end, comes later in the same ring buffer when the block was
 * long enough, with (tid, time_ns) as the join key; a block that is short,
 * or whose end is lost, sends none. */
struct prof_offcpu {
	struct prof_hdr hdr;
	__u64 time_ns; /* switch-out, bpf_ktime_get_boot_ns(): the join key */
	__u64 cgroup_id;
	__u64 off_ns; /* 0 as sent; the agent puts the end record's here */
	__u32 tid;
	__u32 weight; /* switch-outs this one stands for (1 in weight was kept) */
	__u16 knr;
	__u16 unr;
	__s16 kerr;
	__s16 uerr;
	__u8 comm[PROF_COMM_LEN];
	__u64 stack[2 * PROF_MAX_STACK];
};

#define PROF_OFFCPU_HDR_SIZE __builtin_offsetof(struct prof_offcpu, stack)
#define PROF_OFFCPU_SIZE(nframes) (PROF_OFFCPU_HDR_SIZE + (nframes) * sizeof(__u64))

/* The switch-in of a kept switch-out whose block lasted the minimum. */
struct prof_offcpu_end {
	struct prof_hdr hdr; /* PROF_EV_OFFCPU_END, tgid */
	__u64 time_ns; /* the switch-out's: with tid, the join key */
	__u64 off_ns; /* switch-out to switch-in */
	__u32 tid;
	__u32 pad;
};

/* ---- CFI unwinding (issue 9): the tables the agent compiles from .eh_frame /
 * .debug_frame and the BPF walker reads. x86-64 only for now. ---- */

/* Files with a table loaded at once: slots of "unwind_tables". */
#define PROF_UNWIND_MAX_FILES 4096
/* Executable mappings per process the walker can see, sorted by start. */
#define PROF_UNWIND_MAX_MAPPINGS 128
/* A mapping with no table: the walker uses the frame pointer there. */
#define PROF_UNWIND_NO_TABLE 0xffffffffu

/* How a frame's CFA (the caller's rsp, just above the return address) is
 * found: the low nibble of prof_unwind_row.rule. */
enum prof_cfa_rule {
	PROF_CFA_NONE = 0, /* no usable CFI here: fall back to the frame pointer */
	PROF_CFA_RSP = 1, /* CFA = rsp + cfa_off */
	PROF_CFA_RBP = 2, /* CFA = rbp + cfa_off */
	/* The PLT's DWARF expression: CFA = rsp + 8, plus 8 more once
	 * (pc & 15) >= cfa_off (11 or 10, by PLT variant). */
	PROF_CFA_PLT = 3,
	/* A signal trampoline (__restore_rt): rsp points at the ucontext; the
	 * interrupted rip, rsp and rbp come from its mcontext. */
	PROF_CFA_SIGNAL = 4,
	/* The outermost frame (return address undefined: _start, clone3's
	 * child, start_thread's caller): the stack is complete here. */
	PROF_CFA_STOP = 5,
	/* CFA = *(rsp + cfa_off): GCC's stack-realigning prologue. */
	PROF_CFA_DEREF_RSP = 6,
};

/* Where the caller's rbp is: the high nibble of prof_unwind_row.rule. */
enum prof_rbp_rule {
	PROF_RBP_SAME = 0, /* not saved: the caller's rbp is this frame's rbp */
	PROF_RBP_AT_CFA = 1, /* saved at CFA + 8 * rbp_off8 */
	PROF_RBP_UNDEFINED = 2, /* clobbered, unknown: the caller's rbp is not trusted */
};

#define PROF_UNWIND_RULE(cfa, rbp) ((__u8)((cfa) | ((rbp) << 4)))
#define PROF_UNWIND_CFA_RULE(rule) ((rule) & 0xf)
#define PROF_UNWIND_RBP_RULE(rule) ((rule) >> 4)

/* One row of a file's table: from pc (an ELF virtual address of the file,
 * below 4 GiB) up to the next row's pc, the frame is unwound by this rule.
 * The return address is always at CFA - 8 (x86-64 ABI; rows where the CFI
 * says otherwise are compiled to PROF_CFA_NONE). Rows are sorted by pc, with
 * no two rows at one pc; a gap between functions is a PROF_CFA_NONE row. */
struct prof_unwind_row {
	__u32 pc;
	__u16 cfa_off; /* bytes; a larger frame makes the row PROF_CFA_NONE */
	__u8 rule; /* PROF_UNWIND_RULE(enum prof_cfa_rule, enum prof_rbp_rule) */
	__s8 rbp_off8; /* caller's rbp at CFA + 8 * rbp_off8 (PROF_RBP_AT_CFA) */
};

/* "unwind_files", an ARRAY by slot: how many rows the slot's table has, and
 * its generation, bumped each time the slot is given to another file, so a
 * process mapping written for an evicted table never reads its successor. */
struct prof_unwind_file {
	__u32 rows;
	__u32 gen;
};

/* One executable mapping of a process, in "unwind_procs" (a HASH by tgid). */
struct prof_unwind_mapping {
	__u64 start; /* [start, end) in the process */
	__u64 end;
	__u64 bias; /* ELF virtual address = pc - bias */
	__u32 slot; /* "unwind_tables" slot, or PROF_UNWIND_NO_TABLE */
	__u32 gen; /* the slot's generation when this was written */
};

struct prof_unwind_proc {
	__u32 nr; /* mappings used, sorted by start */
	__u32 pad;
	struct prof_unwind_mapping maps[PROF_UNWIND_MAX_MAPPINGS];
};

#endif /* EMBER_PROFILER_H */
