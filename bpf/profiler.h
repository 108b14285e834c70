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

/* bpf_get_stack() stops at kernel.perf_event_max_stack, 127 by default. */
#define PROF_MAX_STACK 127
#define PROF_COMM_LEN 16
/* Upper bound on --pid filters; the BPF hash map is sized to this. */
#define PROF_MAX_PID_FILTER 64
/* Switch-outs waiting for their switch-in (off-CPU): an LRU hash, so a
 * thread that blocks and never runs again is evicted, not kept forever.
 * Each entry holds its stacks: 8192 x 2 KiB = 16 MiB of locked memory. */
#define PROF_OFFCPU_PENDING 8192
/* Pending switch-outs per tid slot (tid & (SLOTS - 1)): a switch-in whose
 * slot is 0 needs no hash lookup. A power of two. */
#define PROF_OFFCPU_HINT_SLOTS 16384

enum prof_event_type {
	PROF_EV_SAMPLE = 1,
	PROF_EV_EXEC = 2,
	PROF_EV_EXIT = 3,
	PROF_EV_OFFCPU = 4,
};

/* Indexes of the per-CPU counter array "counters". */
enum prof_counter {
	PROF_CNT_SAMPLES = 0, /* samples the program was called for and kept */
	PROF_CNT_LOST_RINGBUF = 1, /* ring buffer full: sample lost */
	PROF_CNT_KSTACK_FAILED = 2, /* kernel stack copy failed (sample kept) */
	PROF_CNT_USTACK_FAILED = 3, /* user stack copy failed (sample kept) */
	PROF_CNT_EVENTS_LOST = 4, /* exec/exit events lost (ring buffer full) */
	PROF_CNT_OFFCPU_EVENTS = 5, /* off-CPU records delivered */
	PROF_CNT_OFFCPU_LOST = 6, /* off-CPU records lost (ring buffer full) */
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
	__s16 uerr; /* -errno of a failed user stack copy, else 0 */
	__u8 comm[PROF_COMM_LEN]; /* the process's (group leader's) comm */
	__u64 stack[2 * PROF_MAX_STACK];
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
	__u32 pad;
};

/* A task's time off CPU: the stacks it blocked in, taken at switch-out (in
 * its own context: prev is current in sched_switch), and how long it stayed
 * off. Like a sample, it travels with only its knr + unr frames:
 * PROF_OFFCPU_SIZE(knr + unr) bytes. */
struct prof_offcpu {
	struct prof_hdr hdr;
	__u64 time_ns; /* switch-out, bpf_ktime_get_boot_ns() */
	__u64 cgroup_id;
	__u64 off_ns; /* switch-out to switch-in */
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

#endif /* EMBER_PROFILER_H */
