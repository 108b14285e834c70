# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""User stacks walked in BPF from CFI tables (issue 9): real BPF, real processes.

Every workload is exec'd while the agent already runs (`sh -c 'sleep; exec'`
under --pid), the way a service starts on a profiled host: its own files are
compiled when the exec is seen, the shared libraries were preloaded at the
agent's start. The sleep lets the preload finish first on a busy 2-CPU box;
how long a new binary runs before its stacks are complete is measured in
bench/unwind.sh, not asserted here.

Truths come from the fixtures (tests/fixtures/unwind.c): which functions call
which, how deep, how many calls each caller made. Each assertion also has a
frame-pointer-only control where that shows the test can fail.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_unwind.py (root).
"""
import json
import shutil
from pathlib import Path

import pytest

from integration_helpers import FIXTURES, REPO, is_kernel, profile_until, user_frames

# Frames a complete stack starts from: the process's or the thread's entry.
ENTRIES = {"_start", "__libc_start_call_main", "start_thread", "clone3", "__clone3"}
# Seconds the exec waits: the agent's preload (libc, libstdc++, python) is
# compiled by then, so the workload's own first samples are what is tested.
WARM_S = 3
HOT_PY = """
def hot(n):
    s = 0
    for i in range(n):
        s += i * i
    return s
while True:
    hot(100000)
"""


def fixture(name):
    path = FIXTURES / name
    if not path.exists():
        pytest.fail(f"fixture {path} is missing: run `make` (C++/Rust need make deps-test)")
    return str(path)


def run_exec(ember, procs, argv, *args, cpu_s=3.0, hz=499, bound_s=60, cwd=None):
    """Profiles argv, exec'd WARM_S after the agent attached (in cwd), until it
    used cpu_s CPU seconds. Returns (EmberRun, the workload's stdout); the
    run's workload_pid is the workload's pid."""
    cmd = " ".join(f"'{a}'" for a in argv)
    p = procs.start("/bin/sh", "-c", f"sleep {WARM_S}; exec {cmd}", cwd=cwd)
    prof = profile_until(ember, p.pid, "--dry-run", "--no-jvm", "--pid", p.pid,
                         "--frequency", hz, "--window", 600, *args,
                         cpu_s=cpu_s, bound_s=bound_s + WARM_S)
    out, _ = procs.stop(p)
    run = prof.run
    run.workload_pid = p.pid
    assert run.returncode == 0, run.describe()
    assert prof.reached, prof.reason
    assert not [l for l in run.stderr_lines() if l.startswith("ember: error")], run.describe()
    return run, out


def counted(stacks, pred):
    return sum(s.count for s in stacks if pred(s))


def field(run, key):
    s = run.summary
    assert s is not None, run.describe()
    assert key in s.fields, f"summary has no {key}: {run.describe()}"
    return int(s.fields[key])


def entry_share(stacks):
    total = counted(stacks, lambda s: True)
    assert total > 0, "no samples"
    return counted(stacks, lambda s: ENTRIES & set(s.frames)) / total, total


def describe(stacks, n=6):
    top = sorted(stacks, key=lambda s: -s.count)[:n]
    return "\n".join(f"{s.count} {';'.join(s.frames)[:300]}" for s in top)


WORKLOADS = {
    "c-nofp": lambda: [fixture("unwind_nofp"), "hot"],
    "c-nofp-thread": lambda: [fixture("unwind_nofp"), "thread"],
    "cpp": lambda: [fixture("hxpoly")],
    "rust": lambda: [fixture("hxrust")],
    "python3": lambda: ["/usr/bin/python3", "-c", HOT_PY],
}


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_stacks_reach_the_entry(ember, procs, name):
    """Built without frame pointers (C at -O2 -fomit-frame-pointer, C++ and
    Rust at their defaults, Debian's python3): at least 95 % of the samples
    reach _start / __libc_start_call_main / start_thread / clone3."""
    run, _ = run_exec(ember, procs, WORKLOADS[name]())
    share, total = entry_share(run.stacks)
    print(f"{name}: {100 * share:.1f} % of {total} samples reach the entry")
    assert share >= 0.95, f"{100 * share:.1f} % of {total}:\n{describe(run.stacks)}"
    assert field(run, "unwind_cfi_frames") > 0, run.describe()


def test_frame_pointers_alone_do_not_reach_the_entry(ember, procs):
    """The control: the same no-frame-pointer program with --unwind fp loses
    its callers, so the test above can fail."""
    run, _ = run_exec(ember, procs, WORKLOADS["c-nofp"](), "--unwind", "fp", cpu_s=1.0)
    share, total = entry_share(run.stacks)
    print(f"fp only: {100 * share:.1f} % of {total} samples reach the entry")
    assert share < 0.5, describe(run.stacks)
    assert field(run, "unwind_cfi_frames") == 0


def caller_shares(stacks):
    """Among samples in uw_leaf: {caller: samples} by the frame under it."""
    by = {}
    for s in stacks:
        u = user_frames(s.frames)
        if "uw_leaf" not in u:
            continue
        i = u.index("uw_leaf")
        caller = u[i - 1] if i > 0 else "(none)"
        by[caller] = by.get(caller, 0) + s.count
    return by


@pytest.mark.parametrize("build", ["unwind_nofp", "unwind_fp"])
def test_leaf_callers_split(ember, procs, build):
    """uw_caller_a and uw_caller_b call the frameless leaf uw_leaf, a at
    random 70 % of the calls: each caller's share of the leaf's samples is
    within 2 points of the share of calls it made (counted by the fixture)."""
    run, out = run_exec(ember, procs, [fixture(build), "split", "70"], cpu_s=4.0, hz=1999)
    truth = json.loads(out.strip().splitlines()[-1])
    calls = truth["calls_a"] + truth["calls_b"]
    assert calls > 0, out
    by = caller_shares(run.stacks)
    n = sum(by.values())
    assert n >= 2000, f"only {n} samples in uw_leaf: {by}"
    for caller, key in (("uw_caller_a", "calls_a"), ("uw_caller_b", "calls_b")):
        got, want = by.get(caller, 0) / n, truth[key] / calls
        print(f"{build}: {caller} {100 * got:.2f} % of {n} leaf samples, "
              f"{100 * want:.2f} % of {calls} calls")
        assert abs(got - want) <= 0.02, f"{caller}: {by} vs {truth}"


def test_leaf_callers_lost_by_frame_pointers(ember, procs):
    """The control: a frame-pointer walk of the frame-pointer build skips the
    caller of a leaf that sets up no frame."""
    run, _ = run_exec(ember, procs, [fixture("unwind_fp"), "split", "70"], "--no-unwind",
                      cpu_s=1.0)
    by = caller_shares(run.stacks)
    n = sum(by.values())
    right = by.get("uw_caller_a", 0) + by.get("uw_caller_b", 0)
    assert n > 0 and right / n < 0.5, by


def recursion(frames):
    return sum(1 for f in frames if f == "uw_recurse")


def test_recursion_300_deep_complete(ember, procs):
    """300 frames of uw_recurse: every one kept, and the stack reaches _start."""
    run, _ = run_exec(ember, procs, [fixture("unwind_nofp"), "deep", "300"])
    total = counted(run.stacks, lambda s: True)
    full = counted(run.stacks, lambda s: recursion(s.frames) == 300 and "_start" in s.frames)
    print(f"deep 300: {full} of {total} samples hold 300 frames and _start")
    assert full >= 0.95 * total, describe(run.stacks)
    assert field(run, "stacks_truncated") == 0


def test_recursion_2000_deep_truncated(ember, procs):
    """2000 frames: the stack keeps the 1024 leaf-most user frames, ends in
    [truncated], and is counted."""
    run, _ = run_exec(ember, procs, [fixture("unwind_nofp"), "deep", "2000"])
    total = counted(run.stacks, lambda s: True)

    def cut(s):
        u = [f for f in s.frames if not is_kernel(f)]
        return u[0] == "[truncated]" and len(u) == 1025 and recursion(u) >= 1020
    marked = counted(run.stacks, cut)
    print(f"deep 2000: {marked} of {total} samples cut at 1024 frames and marked")
    assert marked >= 0.95 * total, describe(run.stacks, 3)
    assert field(run, "stacks_truncated") >= marked


def test_signal_handler_under_main(ember, procs):
    """A SIGPROF handler does the work: its samples show the handler over the
    signal frame over uw_main_spin and main."""
    run, _ = run_exec(ember, procs, [fixture("unwind_nofp"), "signal"])
    handler = [s for s in run.stacks if "uw_handler_work" in s.frames]
    n = counted(handler, lambda s: True)
    assert n >= 100, describe(run.stacks)

    def under_main(s):
        u = user_frames(s.frames)
        i = u.index("uw_handler_work")
        return "main" in u[:i] and "uw_main_spin" in u[:i] and "_start" in u[:i]
    good = counted(handler, under_main)
    print(f"signal: {good} of {n} handler samples show main under the signal frame")
    assert good >= 0.95 * n, describe(handler)


@pytest.mark.parametrize("mode,leaf,reason", [
    ("badrsp", "uw_bad_rsp", "unwind_stopped_read"),
    ("loop", "uw_loop_frames", "unwind_stopped_loop"),
])
def test_corrupt_stack_delivered_marked_counted(ember, procs, mode, leaf, reason):
    """rsp/rbp pointing at unmapped memory, and a frame record naming itself
    as its caller: every sample is delivered with the frame it has, marked
    [unwind-stopped], and counted; the agent logs no error."""
    run, _ = run_exec(ember, procs, [fixture("unwind_nofp"), mode], cpu_s=2.0)
    total = counted(run.stacks, lambda s: leaf in s.frames)
    marked = counted(run.stacks, lambda s: leaf in s.frames and s.frames[0] == "[unwind-stopped]")
    print(f"{mode}: {marked} of {total} samples in {leaf} marked; {reason}={field(run, reason)}")
    assert total >= 100, describe(run.stacks)
    assert marked >= 0.9 * total, describe(run.stacks)
    assert field(run, reason) >= marked
    assert run.summary.fields.get("bad_records") == "0"


# Mixed stacks: code without tables (JIT code, Go's own frames) is walked by
# its frame pointer and native code by its CFI, in one stack.
HOT_JS = REPO / "tests" / "fixtures" / "hot.js"


def test_mixed_node_jit_and_native(ember, procs, tmp_path):
    """node --perf-basic-prof: the JIT'd hotFunction (a perf map, frame
    pointers) sits on V8's and node's native frames (CFI), node::Start and
    the entry."""
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("`node` is not installed (Debian: nodejs; make deps-test)")
    # In tmp_path: node leaves its isolate log in the working directory.
    run, _ = run_exec(ember, procs, [node, "--perf-basic-prof", str(HOT_JS), "120"],
                      cpu_s=2.0, cwd=tmp_path)
    Path(f"/tmp/perf-{run.workload_pid}.map").unlink(missing_ok=True)
    hot = [s for s in run.stacks if any("hotFunction" in f for f in s.frames)]
    n = counted(hot, lambda s: True)
    assert n >= 100, describe(run.stacks)
    both = counted(hot, lambda s: ENTRIES & set(s.frames) and "node::Start" in s.frames)
    print(f"node: {both} of {n} hotFunction samples reach node::Start and the entry")
    assert both >= 0.9 * n, describe(hot)


def test_mixed_go_frame_pointers_and_cfi(ember, procs):
    """A Go program: goChurn's callers come back through main.main and
    runtime.main to runtime.goexit, Go's own outermost frame."""
    path = FIXTURES / "hxgo"
    if not path.exists():
        pytest.skip("the Go fixture is not built (Debian: golang-go; make deps-test)")
    run, _ = run_exec(ember, procs, [str(path)], cpu_s=2.0)
    hot = [s for s in run.stacks if "main.goChurn" in s.frames]
    n = counted(hot, lambda s: True)
    assert n >= 100, describe(run.stacks)
    full = counted(hot, lambda s: {"main.main", "runtime.main"} <= set(s.frames)
                   and s.frames[0].startswith("runtime.goexit"))
    print(f"go: {full} of {n} goChurn samples reach runtime.goexit")
    assert full >= 0.9 * n, describe(hot)
