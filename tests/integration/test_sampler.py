# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The sampler end to end on the real kernel: truth, stacks, naming, errors.

Each test drives `.output/ember --dry-run` against a fixture from
tests/fixtures whose truth is known (split measures its own per-function CPU
time) and asserts figures with tolerances from DESIGN.md's budgets: each
function's share within 2 points, the sample count within 3 % of
frequency x CPU seconds, no sample lost. The machine may be busy: a test
profiles until its fixture has used the CPU its figures need (bounded in wall
time, saying why when the bound is hit), and a budget widens only where the
statistics of the sample count at that n demand it (tests/sampling_truth.py).
Root and kernel BTF required.
"""
import json
import random
import re
import resource
import signal
import subprocess
import time

import pytest

from integration_helpers import (Timeline, copy_fixture, is_kernel, leaf_user, profile_until,
                                 user_frames, wait_attached)
from sampling_truth import (Expected, Z, check_count, process_cpu_ns, samples_for_share,
                            share_tolerance)

FUNCS = ("fx_work_a", "fx_work_b", "fx_work_c")
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

SHARE_POINTS = 2.0    # DESIGN.md: each function's share within 2 points
COUNT_BUDGET = 0.03   # DESIGN.md: the sample count within 3 %
# 97 Hz, not the default 100: a 10 ms period is 2.5 ticks of a HZ=250
# kernel, and on a crowded CPU that switches tasks at ticks one process's
# slices can sit at a fixed phase of the 20 ms common period, so its count
# follows the phase, not its CPU time. Here 100 Hz counts drifted -19 % to
# +30 % from the CPU time where 97 Hz stayed within 4 % (same runs, same
# load). The pipeline under test is the same at any rate; see also FREQ_HZ.
TRUTH_FREQ = 97
SPLIT_FREQ = TRUTH_FREQ
# The n at which Z standard errors of any share fit in SHARE_POINTS (7657),
# and 6 % more CPU, so that a count 3 % short still reaches it. Two busy
# threads on an idle 2-CPU machine need about 42 s; a busy one takes longer,
# up to the bound, and the share tolerance then grows with the statistics.
SPLIT_SAMPLES = samples_for_share(SHARE_POINTS)
SPLIT_CPU_S = 1.06 * SPLIT_SAMPLES / SPLIT_FREQ
SPLIT_BOUND_S = 75


def samples(stacks, comm=None):
    return sum(s.count for s in stacks if comm is None or s.comm == comm)


def stacks_text(stacks, limit=12):
    top = sorted(stacks, key=lambda s: -s.count)[:limit]
    return "\n".join(f"  {s.count:6d} {s.comm};{';'.join(s.frames)}" for s in top)


def assert_clean_stderr(run, verbose=False):
    """Every stderr line is Ember's own; libbpf speaks only under --verbose."""
    for line in run.stderr_lines():
        assert line.startswith("ember: "), f"stray stderr line {line!r}\n{run.describe()}"
        if not verbose:
            assert "libbpf" not in line, f"libbpf noise without --verbose: {line!r}"


# ---------------------------------------------------------------------------
# 1. A known split: 2 threads, 60:30:10, profiled with --pid until split has
#    used the CPU seconds for SPLIT_SAMPLES samples, then stopped with SIGINT.

class SplitProfile:
    def __init__(self, prof, truth, pid):
        self.run = prof.run
        self.timeline = prof.timeline
        self.reached = prof.reached
        self.reason = prof.reason
        self.truth = truth
        self.pid = pid
        self.stacks = prof.run.stacks


@pytest.fixture(scope="module")
def split_profile(ember, module_procs):
    fx = module_procs.start("split", "--threads", 2, "--seconds", 0)
    time.sleep(0.5)  # both threads are in their loops
    assert fx.poll() is None, "split exited early"
    prof = profile_until(ember, fx.pid, "--dry-run", "--pid", fx.pid, "--frequency", SPLIT_FREQ,
                         "--window", 10, cpu_s=SPLIT_CPU_S, bound_s=SPLIT_BOUND_S)
    out, _ = module_procs.stop(fx)
    truth = json.loads(out.strip().splitlines()[-1])
    assert prof.run.returncode == 0, prof.run.describe()
    return SplitProfile(prof, truth, fx.pid)


def test_split_pid_filter_keeps_only_that_process(split_profile):
    stacks = split_profile.stacks
    assert stacks, f"no stacks printed\n{split_profile.run.describe()}"
    comms = {s.comm for s in stacks}
    assert comms == {"split"}, f"--pid {split_profile.pid} let other processes in: {comms}"
    # Other tests' split processes share the comm; the summary counts pids.
    sm = split_profile.run.summary
    assert sm is not None and sm.processes == 1, split_profile.run.describe()


def split_work_counts(p):
    """Samples per fx_work_* leaf, and their total."""
    counts = dict.fromkeys(FUNCS, 0)
    for s in p.stacks:
        leaf = leaf_user(s.frames)
        if leaf in counts:
            counts[leaf] += s.count
    return counts, sum(counts.values())


def test_split_enough_samples(split_profile):
    """The run collected the SPLIT_SAMPLES samples that keep the share
    tolerance at the 2-point budget, or it was stopped by its wall-time bound
    on a busy machine (the reason is printed) and the tolerance in force has
    grown with the statistics; it must stay within twice the budget, or the
    share test could not tell 60:30:10 from 55:33:12."""
    p = split_profile
    _, named = split_work_counts(p)
    tol = share_tolerance(0.5, named, SHARE_POINTS)
    print(f"split: {named} samples in fx_work_*, aimed for {SPLIT_SAMPLES}; share tolerance in "
          f"force {tol:.2f} points (max({SHARE_POINTS:g}, {Z} binomial se at p=0.5)); {p.reason}")
    if p.reached:
        # split used the CPU for SPLIT_SAMPLES; what Ember printed must show it.
        assert named >= SPLIT_SAMPLES, (
            f"split used the CPU for {SPLIT_SAMPLES} samples, but only {named} are in fx_work_*"
            f" ({p.reason})")
    assert tol <= 2 * SHARE_POINTS, (
        f"{named} samples allow only a {tol:.2f}-point share tolerance: {p.reason}")


def test_split_sample_count_matches_cpu_time(split_profile):
    """Samples within 3 % of frequency x the CPU seconds split used while the
    agent sampled (or within the statistical spread of a count collected in
    short run slices, if larger: tests/sampling_truth.py): nothing dropped or
    double-counted between the perf event and the folded output."""
    p = split_profile
    got = samples(p.stacks, "split")
    ok, detail = check_count(got, p.timeline.expected(SPLIT_FREQ), COUNT_BUDGET)
    print(f"count: {detail}; {p.reason}")
    assert ok, detail


def test_split_function_shares_match_truth(split_profile):
    """Each fx_work_* share of samples (by leaf user frame) within 2 points of
    the share of CPU time the fixture measured for it, or within Z binomial
    standard errors at the n collected if that is more."""
    p = split_profile
    counts, named = split_work_counts(p)
    missing = [f for f in FUNCS if counts[f] == 0]
    assert not missing, f"not named: {missing}\n{stacks_text(p.stacks)}"
    assert named >= 0.95 * samples(p.stacks), \
        f"only {named} of {samples(p.stacks)} samples in fx_work_*\n{stacks_text(p.stacks)}"
    truth_total = sum(p.truth["cpu_ns"][f] for f in FUNCS)
    rows = []
    for f in FUNCS:
        got = 100.0 * counts[f] / named
        want = 100.0 * p.truth["cpu_ns"][f] / truth_total
        rows.append((f, got, want, share_tolerance(want / 100.0, named, SHARE_POINTS)))
    table = ", ".join(f"{f}: {g:.2f}% vs truth {w:.2f}% (+-{t:.2f})" for f, g, w, t in rows)
    print(f"shares over {named} samples: {table}")
    for f, got, want, tol in rows:
        assert abs(got - want) <= tol, f"{f} off by {got - want:+.2f} points ({table}; {p.reason})"


def test_split_stacks_reach_thread_entry(split_profile):
    """A frame-pointer walk from every fx_work_* sample reaches fx_thread_main,
    its direct caller. A sample on the two-instruction prologue or the final
    `ret` legitimately skips the caller, hence the 0.2 % allowance."""
    p = split_profile
    work = bad = 0
    bad_example = None
    for s in p.stacks:
        u = user_frames(s.frames)
        if not u or u[-1] not in FUNCS:
            continue
        work += s.count
        if len(u) < 2 or u[-2] != "fx_thread_main":
            bad += s.count
            bad_example = bad_example or s
    assert work > 0
    assert bad <= 0.002 * work, (
        f"{bad} of {work} fx_work_* samples do not have fx_thread_main as caller, e.g. "
        f"{bad_example and ';'.join(bad_example.frames)}")
    # Nearly every sample of the process is a worker's (main only sleeps).
    total = samples(p.stacks)
    with_entry = sum(s.count for s in p.stacks if "fx_thread_main" in s.frames)
    assert with_entry >= 0.99 * total, \
        f"{total - with_entry} of {total} samples miss fx_thread_main\n{stacks_text(p.stacks)}"


def test_split_summary_line(split_profile):
    run = split_profile.run
    sm = run.summary
    assert sm is not None, f"no summary line\n{run.describe()}"
    assert sm.samples > 0
    assert sm.processes == 1, f"processes={sm.processes} with one --pid"
    assert sm.named_pct > 90.0, f"named_pct={sm.named_pct} for a fixture with full symbols"
    printed = samples(split_profile.stacks)
    assert abs(sm.samples - printed) <= max(2, 0.005 * printed), \
        f"summary samples={sm.samples} but the folded output holds {printed}"
    assert_clean_stderr(run)


def test_split_no_sample_lost(split_profile):
    sm = split_profile.run.summary
    assert sm is not None, split_profile.run.describe()
    assert sm.lost == 0, f"lost={sm.lost} in a quiet 200 samples/s run"
    # Failed stack copies and unparsable records are counted too; none here.
    for key in ("kstack_failed", "ustack_failed", "bad_records"):
        if key in sm.fields:
            assert sm.fields[key] == "0", f"{key}={sm.fields[key]}: {split_profile.run.describe()}"


def test_folded_lines_unique_per_process(ember, procs):
    """One window, one process: each named stack is one line with its total,
    not one line per distinct raw address stack that names the same way."""
    fx = procs.start("split", "--threads", 1, "--seconds", 0)
    time.sleep(0.2)
    run = ember.run("--dry-run", "--pid", fx.pid, "--duration", 2)
    procs.stop(fx)
    assert run.returncode == 0, run.describe()
    seen = {}
    for st in run.stacks:
        key = (st.comm, tuple(st.frames))
        seen.setdefault(key, []).append(st.count)
    dups = {k: v for k, v in seen.items() if len(v) > 1}
    assert not dups, "stacks printed more than once in one window:\n" + "\n".join(
        f"  {';'.join((k[0],) + k[1])} counts={v}" for k, v in list(dups.items())[:5])


# ---------------------------------------------------------------------------
# 2. Kernel stacks under a write(2)-heavy user function.

# The writer's samples inside the syscall: at least a majority. Nearly all of
# its CPU time is between `syscall` and the return (about ten user instructions
# per write), but where a sample lands is where the timer interrupt is taken:
# one that fires while the kernel runs with interrupts off on its way back to
# user space is taken at the first user instruction after it, so part of the
# kernel's time is recorded in fx_writer_loop itself (20-24 % on the 2-CPU
# Firecracker VM this was written on; up to about 40 % on the VM of issue 13,
# where at least 184 of 310 samples were in the kernel). Likewise which
# kernel frame a sample ends in depends on where interrupts are re-enabled:
# there 137 of 310 samples ended in do_syscall_64 -> pvm_irq_enable, here 37 %
# end in do_syscall_64 itself. So the write path must show, but its share is
# not pinned.
WRITER_IN_SYSCALL = 0.5
WRITE_FUNC_MIN = 5   # samples in vfs_write or below: "it appears", not a share


def writer_profile(ember, procs, *args, cpu_s=4.0):
    fx = procs.start("writer", "--seconds", 0)
    time.sleep(0.2)
    prof = profile_until(ember, fx.pid, "--dry-run", "--pid", fx.pid, "--window", 10, *args,
                         cpu_s=cpu_s, bound_s=20)
    procs.stop(fx)
    assert prof.run.returncode == 0, prof.run.describe()
    return prof


def test_write_path_under_user_function(ember, procs):
    """A syscall-heavy fixture: most of its samples are inside the syscall
    under the user function that issued it (kernel frames, entry and dispatch
    frames included, stacked right on fx_writer_loop), and vfs_write is among
    them."""
    prof = writer_profile(ember, procs)
    run = prof.run
    stacks = [s for s in run.stacks if s.comm == "writer"]
    # write_raw() is inlined into fx_writer_loop on purpose: with DWARF it is a
    # frame of its own, innermost, right under its caller.
    loop = [s for s in stacks
            if user_frames(s.frames)[-2:] == ["fx_writer_loop", "write_raw"]
            or leaf_user(s.frames) == "fx_writer_loop"]
    n = samples(loop)
    assert n >= 100, f"only {n} samples in fx_writer_loop ({prof.reason})\n{stacks_text(stacks)}"
    inside = write = 0
    for s in loop:
        u = user_frames(s.frames)
        k = s.frames[len(u):]
        # Root first: every kernel frame comes after every user frame.
        if not k or not all(is_kernel(f) for f in k):
            continue
        inside += s.count
        if "vfs_write_[k]" in k:
            write += s.count
    share = 100.0 * inside / n
    floor = 100.0 * WRITER_IN_SYSCALL - share_tolerance(WRITER_IN_SYSCALL, n, 0.0)
    print(f"writer: {samples(stacks)} samples, {n} in fx_writer_loop, {inside} ({share:.1f} %) "
          f"inside the syscall (floor {floor:.1f} %), {write} ({100.0 * write / n:.1f} %) in "
          f"vfs_write; {prof.reason}")
    assert share >= floor, (
        f"{inside} of {n} fx_writer_loop samples ({share:.1f} %) have kernel frames on top: "
        f"a write(2) loop lives in the kernel\n{stacks_text(stacks)}")
    assert write >= WRITE_FUNC_MIN, (
        f"vfs_write_[k] under fx_writer_loop in {write} of {n} samples\n{stacks_text(stacks)}")


def test_no_kernel_option_drops_kernel_frames(ember, procs):
    prof = writer_profile(ember, procs, "--no-kernel", cpu_s=1.5)
    stacks = prof.run.stacks
    assert samples(stacks) >= 50, f"{prof.reason}\n{prof.run.describe()}"
    kframes = [s for s in stacks if any(is_kernel(f) for f in s.frames)]
    assert not kframes, f"kernel frames with --no-kernel:\n{stacks_text(kframes)}"
    assert any("fx_writer_loop" in s.frames for s in stacks), stacks_text(stacks)


# ---------------------------------------------------------------------------
# 3. A process that starts after the agent and is gone before the window ends.

def test_short_lived_process_is_named(ember, procs):
    """A process that lives 300 ms of CPU is named, and none of its samples
    is dropped when it exits: about 29 at 97 Hz, within the count tolerance
    (tests/sampling_truth.py). Alone on a CPU it runs in a few slices and
    the count is exact to a sample or two; on a busy CPU it runs in many
    short ones and the spread is wider."""
    proc = ember.start("--dry-run", "--frequency", TRUTH_FREQ, "--window", 5, "--duration", 6)
    wait_attached(proc)
    time.sleep(0.5)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    fx = procs.start("shortlived")
    fx.wait(timeout=10)
    wall = time.monotonic() - t0
    # The only child reaped in between: its CPU (exec and exit included) and
    # how many times it was switched out.
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert fx.returncode == 0
    run = ember.wait(proc, 40)
    assert run.returncode == 0, run.describe()
    mine = [s for s in run.stacks if s.comm == "shortlived"]
    n = samples(mine)
    burn = sum(s.count for s in mine if leaf_user(s.frames) == "fx_short_burn")
    cpu_s = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    slices = 1 + (ru1.ru_nvcsw - ru0.ru_nvcsw) + (ru1.ru_nivcsw - ru0.ru_nivcsw)
    # At least the 300 ms it burns by its own clock, at most all of its CPU.
    exp = Expected(TRUTH_FREQ * 0.300, TRUTH_FREQ * cpu_s, slices, cpu_s, wall)
    ok, detail = check_count(n, exp, COUNT_BUDGET)
    print(f"shortlived: {n} samples, {burn} in fx_short_burn; {detail}")
    assert ok, f"{detail}\n{stacks_text(mine)}"
    assert burn >= 0.9 * n, f"fx_short_burn is the leaf of {burn} of {n}\n{stacks_text(mine)}"
    assert run.summary is not None and run.summary.processes >= 2, run.describe()


# ---------------------------------------------------------------------------
# 4. A function in a shared library.

def test_shared_library_function_named(ember, procs):
    fx = procs.start("uselib", "--seconds", 0)
    time.sleep(0.2)
    prof = profile_until(ember, fx.pid, "--dry-run", "--pid", fx.pid, cpu_s=3, bound_s=20)
    procs.stop(fx)
    run = prof.run
    assert run.returncode == 0, run.describe()
    stacks = run.stacks
    n = samples(stacks)
    spin = sum(s.count for s in stacks if leaf_user(s.frames) == "fx_lib_spin")
    assert n >= 100, f"{n} samples of a busy process: {prof.reason}\n{run.describe()}"
    assert spin >= 0.9 * n, f"fx_lib_spin is the leaf of {spin} of {n}\n{stacks_text(stacks)}"
    # The library frame sits on the executable's main.
    with_main = sum(s.count for s in stacks
                    if leaf_user(s.frames) == "fx_lib_spin"
                    and user_frames(s.frames)[-2:-1] == ["main"])
    assert with_main >= 0.99 * spin, stacks_text(stacks)


# ---------------------------------------------------------------------------
# 5. An executable deleted while it runs (upgrades do this all the time).

def test_deleted_binary_named(ember, procs, tmp_path):
    exe = copy_fixture("split", tmp_path, "split_deleted")
    fx = procs.start(exe, "--threads", 1, "--seconds", 0)
    time.sleep(0.3)
    exe.unlink()
    with open(f"/proc/{fx.pid}/maps") as f:
        assert "(deleted)" in f.read(), "the mapping should show the file as deleted"
    prof = profile_until(ember, fx.pid, "--dry-run", "--pid", fx.pid, cpu_s=3, bound_s=20)
    procs.stop(fx)
    run = prof.run
    assert run.returncode == 0, run.describe()
    stacks = run.stacks
    leaves = {leaf_user(s.frames) for s in stacks}
    missing = [f for f in FUNCS if f not in leaves]
    assert not missing, (f"not named in the deleted binary: {missing} ({prof.reason})\n"
                         f"{stacks_text(stacks)}")
    named = sum(s.count for s in stacks if leaf_user(s.frames) in FUNCS)
    assert named >= 0.95 * samples(stacks), stacks_text(stacks)


# ---------------------------------------------------------------------------
# The --frequency option sets the rate. 199 Hz, not 200 or 250: a period that
# is a multiple of the scheduler tick (4 ms at HZ=250) samples in lockstep
# with preemption and skews per-process counts on a crowded machine.

FREQ_HZ = 199


def test_frequency_option_sets_rate(ember, procs):
    """Samples = 199 Hz x the CPU seconds uselib used while sampled, within
    the count tolerance: tells 199 from the default 100 and from 250."""
    fx = procs.start("uselib", "--seconds", 0)
    time.sleep(0.2)
    prof = profile_until(ember, fx.pid, "--dry-run", "--pid", fx.pid, "--frequency", FREQ_HZ,
                         cpu_s=4, bound_s=20)
    procs.stop(fx)
    run = prof.run
    assert run.returncode == 0, run.describe()
    ok, detail = check_count(samples(run.stacks), prof.timeline.expected(FREQ_HZ), COUNT_BUDGET)
    print(f"{FREQ_HZ} Hz: {detail}; {prof.reason}")
    assert ok, detail


# ---------------------------------------------------------------------------
# 6. Bad options and missing privileges: exit 2, one line naming the cause.

@pytest.mark.parametrize("args,needle", [
    (["--dry-run", "--frequency", "0"], "--frequency"),
    (["--dry-run", "--bogus"], "--bogus"),
    (["--dry-run", "--window"], "--window"),
    (["--dry-run", "--pid", "abc"], "--pid"),
])
def test_bad_option_exits_2_with_one_line(ember, args, needle):
    run = ember.run(*args, timeout=10)
    lines = run.stderr_lines()
    assert run.returncode == 2, run.describe()
    assert len(lines) == 1, f"expected one line:\n{run.stderr}"
    assert lines[0].startswith("ember: error "), lines[0]
    assert needle in lines[0], f"the line does not name {needle}: {lines[0]}"
    assert run.stdout == "", f"stdout must stay empty: {run.stdout!r}"


def test_without_root_exits_2_naming_privileges(ember):
    if subprocess.run(NOBODY + ["true"]).returncode != 0:
        pytest.skip("setpriv cannot drop to nobody here")
    run = ember.run("--dry-run", "--duration", 1, prefix=NOBODY, timeout=20)
    lines = run.stderr_lines()
    assert run.returncode == 2, run.describe()
    assert len(lines) == 1, f"expected one line:\n{run.stderr}"
    assert lines[0].startswith("ember: error "), lines[0]
    assert any(w in lines[0] for w in ("root", "CAP_BPF", "CAP_PERFMON")), lines[0]
    assert_clean_stderr(run)


# ---------------------------------------------------------------------------
# 9. Lost samples are counted, never silent.

LOST_RE = re.compile(r"^ember: warn sampler: samples lost to a full ring buffer:((?: cpu\d+=\d+)+);")
RINGBUF_RE = re.compile(r"ringbuf_bytes=(\d+)")
LOST_BOUND_S = 40


def ringbuf_bytes():
    """The agent's ring buffer size (agent/sampler.c: 256 KiB per possible
    CPU, a power of two, within 1..256 MiB); the test checks it against the
    size the agent logs."""
    with open("/sys/devices/system/cpu/possible") as f:
        ncpus = max(int(r.split("-")[-1]) for r in f.read().strip().split(",")) + 1
    size = 1 << max(0, (ncpus * 256 * 1024 - 1).bit_length())
    return min(max(size, 1 << 20), 256 << 20)


def test_lost_samples_counted_per_cpu(ember, procs):
    """A stopped agent cannot drain: at 5 kHz the ring buffer fills. The agent
    stays stopped until split has used the CPU for twice as many samples as
    the ring holds (however long a busy machine takes, up to LOST_BOUND_S).
    What the BPF program could not deliver is counted per CPU and reported,
    and delivered + lost add up to what the CPU clock fired: 5 kHz x the CPU
    seconds split used while sampled, within 5 % (or the count's statistical
    spread, if larger)."""
    hz = 5000
    ring = ringbuf_bytes()
    # A record is at least 64 bytes, so the ring holds at most ring / 64.
    stop_cpu_s = 2 * (ring / 64) / hz
    fx = procs.start("split", "--threads", 2, "--seconds", 0)
    time.sleep(0.2)
    tl = Timeline(fx.pid)
    proc = ember.start("--dry-run", "--verbose", "--pid", fx.pid, "--frequency", hz,
                       "--window", 120)
    tl.agent = proc.pid
    wait_attached(proc)
    time.sleep(1)
    proc.send_signal(signal.SIGSTOP)
    cpu0, t0 = process_cpu_ns(fx.pid), time.monotonic()
    while (process_cpu_ns(fx.pid) - cpu0) / 1e9 < stop_cpu_s and time.monotonic() - t0 < LOST_BOUND_S:
        time.sleep(random.uniform(0.2, 0.4))
    used, stopped = (process_cpu_ns(fx.pid) - cpu0) / 1e9, time.monotonic() - t0
    proc.send_signal(signal.SIGCONT)
    time.sleep(2)  # it drains what the ring buffer holds
    tl.stop_agent(signal.SIGINT)
    run = ember.wait(proc, 60)
    tl.stop()
    procs.stop(fx)
    assert run.returncode == 0, run.describe()
    why = (f"agent stopped {stopped:.1f} s while split used {used:.2f} CPU s "
           f"({stop_cpu_s:.2f} wanted: twice a {ring >> 10} KiB ring at {hz} Hz)")
    logged = [int(m[1]) for m in map(RINGBUF_RE.search, run.stderr_lines()) if m]
    assert logged == [ring], f"the agent's ring is {logged}, the test assumed {ring}: update it"
    s = run.summary
    assert s is not None, run.describe()
    assert s.lost > 0, f"nothing lost: {why}\n{run.describe()}"
    per_cpu = [m for m in map(LOST_RE.match, run.stderr_lines()) if m]
    assert len(per_cpu) == 1, run.describe()
    counts = [int(kv.split("=")[1]) for kv in per_cpu[0].group(1).split()]
    assert sum(counts) == s.lost, f"per-CPU {counts} vs summary lost={s.lost}"
    # Where it lost is where split ran while the ring was full: the
    # scheduler's choice (on a busy machine both threads may share a CPU), so
    # only that each listed CPU lost something is Ember's to get right.
    assert counts and all(c > 0 for c in counts), f"{why}\n{run.describe()}"
    ok, detail = check_count(s.samples + s.lost, tl.expected(hz), 0.05)
    print(f"lost: delivered={s.samples} lost={s.lost} per_cpu={counts}; delivered + lost: "
          f"{detail}; {why}")
    assert ok, f"delivered {s.samples} + lost {s.lost}: {detail}\n{run.describe()}"
