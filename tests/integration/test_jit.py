# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""JIT code named end to end: real JVMs and Node, and hostile perf maps.

A JDK 17 JVM started with no flags runs a two-method workload that measures
its own split; Ember asks it for its perf map over the HotSpot attach
protocol and must name both methods with the right shares. The same workload
runs under -Xrs (never signalled, counted as refused) and inside its own
mount + pid namespace (its own /tmp). Node runs with --perf-basic-prof.
Hostile maps (garbage, a 10 MB line, a symlink to /etc/shadow, a FIFO, a file
rewritten while read) and fake JVMs (never answering, exiting mid-attach, no
SIGQUIT handler) each leave a counter, while other processes stay named.
A pid reused by another process (two processes in turn pid 1 of their own
pid namespace, sharing one /tmp) is not named from the map the first left,
and a map larger than --perfmap-max-mb keeps its newest part.
One run of each kind is shared by its tests (JVM start-up is slow).
Root, kernel BTF; `java` (default-jdk-headless) and `node` (nodejs) for
their parts, which skip loudly without them. Run after `make`.
"""
import glob
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from integration_helpers import FIXTURES, leaf_user, user_frames

JAVA = shutil.which("java")
NODE = shutil.which("node") or shutil.which("nodejs")
CLASSES = FIXTURES / "java"
JVM_SECONDS = 16     # each JVM's run; Ember samples the middle of it
EMBER_SECONDS = 11
JAVA_METHOD = re.compile(r"[\w$]+\.[\w$<>]+\(")
THREAD_DUMP = "Full thread dump"


def skip_loudly(reason):
    sys.stderr.write(f"\n*** SKIPPING {__name__}: {reason} ***\n")
    pytest.skip(reason)


def tolerance(p, n):
    """Share tolerance in points: 3, or 3.5 binomial sigma at n samples."""
    return max(3.0, 3.5 * 100 * math.sqrt(max(p * (1 - p), 1e-9) / max(n, 1)))


def samples(stacks):
    return sum(s.count for s in stacks)


def top(stacks, limit=10):
    best = sorted(stacks, key=lambda s: -s.count)[:limit]
    return "\n".join(f"  {s.count:6d} {';'.join(s.frames)[-220:]}" for s in best)


def descendants(pid):
    """Pids of every descendant of pid."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def comm_of(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def no_triggers(pid, *dirs):
    """Attach trigger files left behind for pid (none expected)."""
    left = glob.glob(f"/tmp/.attach_pid{pid}")
    for d in dirs:
        left += glob.glob(f"{d}/.attach_pid*")
    return left


# ---------------------------------------------------------------------------
# Real JVMs: no flags, -Xrs, and in a namespace, all at once.

class JvmRuns:
    pass


def start_jvm(args, cwd, prefix=()):
    return subprocess.Popen([*prefix, *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def jvms(ember, tmp_path_factory):
    if JAVA is None:
        skip_loudly("`java` is not installed (Debian: default-jdk-headless; make deps-test)")
    if not (CLASSES / "JitSplit.class").exists():
        skip_loudly(f"{CLASSES}/JitSplit.class is missing: `make` builds it where javac is")
    if shutil.which("unshare") is None:
        skip_loudly("`unshare` is missing (Debian: util-linux)")
    d = tmp_path_factory.mktemp("jvm")
    cp = ["-cp", str(CLASSES), "JitSplit"]
    r = JvmRuns()
    r.cwd = d
    r.noflags = start_jvm([JAVA, *cp, "2", str(JVM_SECONDS)], d)
    r.xrs = start_jvm([JAVA, "-Xrs", *cp, "1", str(JVM_SECONDS)], d)
    # Its own pid namespace and its own /tmp: the JVM has another pid in there.
    # The classes travel into that /tmp: the checkout itself may live under the
    # host's /tmp (CI clones there), which the new tmpfs hides.
    r.ns = start_jvm(["unshare", "--mount", "--pid", "--fork", "--mount-proc", "sh", "-c",
                      f"t=$(tar -C {CLASSES} -cf - . | base64 -w0) && "
                      f"mount -t tmpfs tmpfs /tmp && mkdir /tmp/classes && "
                      f"echo \"$t\" | base64 -d | tar -C /tmp/classes -xf - && "
                      f"{JAVA} -cp /tmp/classes JitSplit 1 {JVM_SECONDS}"], d)
    procs = [r.noflags, r.xrs, r.ns]
    try:
        r.ns_pid = None
        t0 = time.monotonic()
        while r.ns_pid is None and time.monotonic() - t0 < 10:
            r.ns_pid = next((p for p in descendants(r.ns.pid) if comm_of(p) == "java"), None)
            time.sleep(0.05)
        assert r.ns_pid, "the namespaced JVM did not start"
        time.sleep(1.5)  # past --jvm-min-age 1, the workloads in their loops
        for p in procs:
            assert p.poll() is None, f"a JVM exited early: {p.args}\n{p.stderr.read()}"
        args = ("--dry-run", "--jvm-min-age", 1, "--window", 4, "--duration", EMBER_SECONDS,
                "--log-level", "info")
        runs = [ember.start(*args, "--pid", pid) for pid in (r.noflags.pid, r.xrs.pid, r.ns_pid)]
        r.run_noflags, r.run_xrs, r.run_ns = [ember.wait(p, EMBER_SECONDS + 60) for p in runs]
        r.out = {}
        for name, p in (("noflags", r.noflags), ("xrs", r.xrs), ("ns", r.ns)):
            out, err = p.communicate(timeout=JVM_SECONDS + 60)
            r.out[name] = (p.returncode, out, err)
        r.left = no_triggers(r.noflags.pid, d) + no_triggers(r.xrs.pid)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
        # The JVM writes its map and leaves it at exit (as jcmd's would).
        for pid in (r.noflags.pid, r.xrs.pid):
            Path(f"/tmp/perf-{pid}.map").unlink(missing_ok=True)
    return r


def jvm_truth(r, name):
    rc, out, err = r.out[name]
    assert rc == 0, f"JVM {name} exited {rc}\nstdout:\n{out[-2000:]}\nstderr:\n{err[-2000:]}"
    assert THREAD_DUMP not in out, f"JVM {name} printed a thread dump: it took SIGQUIT as one"
    return json.loads(out.strip().splitlines()[-1])


def method_counts(stacks):
    a = sum(s.count for s in stacks if "JitSplit.alpha" in (leaf_user(s.frames) or ""))
    b = sum(s.count for s in stacks if "JitSplit.beta" in (leaf_user(s.frames) or ""))
    return a, b


def test_jvm_no_flags_both_methods_named(jvms):
    run = jvms.run_noflags
    assert run.returncode == 0, run.describe()
    a, b = method_counts(run.stacks)
    assert a > 0 and b > 0, (f"alpha={a} beta={b}: both methods must be named\n"
                             f"{top(run.stacks)}\n{run.describe()}")
    sm = run.summary
    assert int(sm.fields["jvm_attached"]) >= 1, run.describe()
    assert int(sm.fields["jvm_failed"]) == 0, run.describe()
    assert int(sm.fields["jit_frames"]) > 0, run.describe()


def test_jvm_no_flags_shares_match_truth(jvms):
    truth = jvm_truth(jvms, "noflags")
    a, b = method_counts(jvms.run_noflags.stacks)
    n = a + b
    assert n >= 120, f"only {n} samples named alpha or beta\n{top(jvms.run_noflags.stacks)}"
    want = truth["alpha_ns"] / (truth["alpha_ns"] + truth["beta_ns"])
    got = a / n
    tol = tolerance(want, n)
    assert abs(got - want) * 100 <= tol, (
        f"alpha share {got:.1%} vs truth {want:.1%} (tolerance {tol:.1f} points, n={n}); "
        f"beta {b / n:.1%} vs {1 - want:.1%}")


def test_jvm_no_flags_most_samples_carry_a_java_method(jvms):
    stacks = jvms.run_noflags.stacks
    total = samples(stacks)
    java = sum(s.count for s in stacks if any(JAVA_METHOD.search(f) for f in s.frames))
    assert total > 0
    assert java / total >= 0.80, (f"{java}/{total} samples name a Java method\n{top(stacks)}")


def test_jvm_no_flags_exits_normally_nothing_left(jvms):
    truth = jvm_truth(jvms, "noflags")
    assert truth["alpha_ns"] > 0 and truth["beta_ns"] > 0
    assert not jvms.left, f"attach trigger files left behind: {jvms.left}"


def test_jvm_xrs_is_refused_not_signalled(jvms):
    truth = jvm_truth(jvms, "xrs")  # exit 0 and no thread dump: never signalled
    assert truth["alpha_ns"] > 0
    run = jvms.run_xrs
    assert run.returncode == 0, run.describe()
    sm = run.summary
    assert int(sm.fields["jvm_refused"]) >= 1, run.describe()
    assert int(sm.fields["jvm_attached"]) == 0, run.describe()
    assert "not attaching" in run.stderr, run.describe()


def test_jvm_in_own_namespaces_named(jvms):
    jvm_truth(jvms, "ns")
    run = jvms.run_ns
    assert run.returncode == 0, run.describe()
    a, b = method_counts(run.stacks)
    assert a > 0 and b > 0, f"alpha={a} beta={b}\n{top(run.stacks)}\n{run.describe()}"
    assert int(run.summary.fields["jvm_attached"]) >= 1, run.describe()


# ---------------------------------------------------------------------------
# Node with --perf-basic-prof.

def test_node_perf_basic_prof_hot_function_named(ember, tmp_path):
    if NODE is None:
        skip_loudly("`node` is not installed (Debian: nodejs; make deps-test)")
    node = subprocess.Popen([NODE, "--perf-basic-prof", str(FIXTURES / "hot.js"), "20"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    stacks, runs = [], []
    try:
        time.sleep(1.5)
        assert node.poll() is None, node.stderr.read()
        # A busy machine gives Node less CPU: sample on (bounded) until enough.
        while samples(stacks) < 150 and len(runs) < 3 and node.poll() is None:
            run = ember.run("--dry-run", "--pid", node.pid, "--window", 4, "--duration", 4)
            assert run.returncode == 0, run.describe()
            runs.append(run)
            stacks += run.stacks
        node.send_signal(signal.SIGTERM)
        out, err = node.communicate(timeout=30)
    finally:
        if node.poll() is None:
            node.kill()
            node.communicate()
        Path(f"/tmp/perf-{node.pid}.map").unlink(missing_ok=True)
    total = samples(stacks)
    hot = sum(s.count for s in stacks if any("hotFunction" in f for f in s.frames))
    assert total >= 50, f"{total} samples\n{runs[-1].describe()}"
    assert hot / total >= 0.90, f"hotFunction in {hot}/{total} samples\n{top(stacks)}"
    assert node.returncode in (0, -signal.SIGTERM), err


# ---------------------------------------------------------------------------
# Hostile perf maps and fake JVMs, in one run beside a process that must stay named.

LONG_LINE = 10 << 20


class Hostile:
    pass


def map_path(pid):
    return Path(f"/tmp/perf-{pid}.map")


@pytest.fixture(scope="module")
def hostile(ember, module_procs, tmp_path_factory):
    if os.uname().machine != "x86_64":
        skip_loudly("the jitloop fixture generates x86-64 code")
    d = tmp_path_factory.mktemp("hostile")
    h = Hostile()
    h.dir = d
    h.jl = {}
    for name in ("jl_good", "jl_garbage", "jl_long", "jl_symlink", "jl_fifo", "jl_rewrite"):
        exe = d / name
        shutil.copy2(FIXTURES / "jitloop", exe)
        args = ["--map", "jit_hot_loop"] if name == "jl_good" else []
        p = module_procs.start(exe, *args)
        info = json.loads(p.stdout.readline())
        h.jl[name] = (p, info)
    h.paths = [map_path(p.pid) for p, _ in h.jl.values()]
    addr = lambda n: h.jl[n][1]["addr"]
    size = lambda n: h.jl[n][1]["size"]
    pid = lambda n: h.jl[n][0].pid
    map_path(pid("jl_garbage")).write_bytes(os.urandom(8192) + b"\n")
    with open(map_path(pid("jl_long")), "wb") as f:
        f.write(b"1 1 " + b"x" * LONG_LINE + b"\n")
        f.write(f"{addr('jl_long'):x} {size('jl_long'):x} jit_after_long_line\n".encode())
    map_path(pid("jl_symlink")).symlink_to("/etc/shadow")
    os.mkfifo(map_path(pid("jl_fifo")))
    # Rewritten over and over while Ember reads it: junk, then the name.
    stop = threading.Event()
    good = f"{addr('jl_rewrite'):x} {size('jl_rewrite'):x} jit_rewritten\n".encode()

    def rewrite():
        while not stop.is_set():
            with open(map_path(pid("jl_rewrite")), "wb") as f:
                f.write(b"zz junk line\n" * 2000)
                f.write(good)
    writer = threading.Thread(target=rewrite, daemon=True)
    writer.start()

    # Fake JVMs, each in a directory of its own (its cwd: where triggers go).
    h.fake = {}
    for mode in ("silent", "exit-on-quit", "no-handler"):
        cwd = d / f"fake_{mode}"
        cwd.mkdir()
        args = {"silent": [], "exit-on-quit": ["--exit-on-quit"], "no-handler": ["--no-handler"]}
        h.fake[mode] = (module_procs.start(FIXTURES / "fakejvm" / "java", *args[mode], cwd=cwd),
                        cwd)
    h.split = module_procs.start("split", "--threads", 1, "--seconds", 0)
    time.sleep(1.2)  # past --jvm-min-age 1
    pids = [p.pid for p, _ in h.jl.values()] + [p.pid for p, _ in h.fake.values()]
    pids.append(h.split.pid)
    h.outdir = d / "pprof"
    try:
        h.run = ember.run("--dry-run", "--output-dir", h.outdir, "--jvm-min-age", 1,
                          "--window", 4, "--duration", 8,
                          *[a for p in pids for a in ("--pid", p)], timeout=60)
    finally:
        stop.set()
        writer.join()
    h.alive = {m: p.poll() is None for m, (p, _) in h.fake.items()}
    h.fake_out = {m: module_procs.stop(p) for m, (p, _) in h.fake.items()}
    h.left = [f for m, (p, cwd) in h.fake.items() for f in no_triggers(p.pid, cwd)]
    for path in h.paths:
        if path.is_symlink() or path.exists():
            path.unlink()
    return h


def named_jit(stacks):
    """Samples whose leaf got a name that is not jitloop's or libc's own: a
    name from the perf map. (A sample between two calls of the JIT code has
    jl_caller, or a libc function, as its leaf.)"""
    native = ("[unknown]", "jl_caller", "main")
    return sum(s.count for s in stacks
               if (leaf_user(s.frames) or "[unknown]") not in native
               and not (leaf_user(s.frames) or "").startswith("_"))


def comm_stacks(h, comm):
    """The stacks of comm in a run, or in a fixture's run."""
    run = getattr(h, "run", h)
    return [s for s in run.stacks if s.comm == comm]


def test_hostile_run_completes_and_control_stays_named(hostile):
    run = hostile.run
    assert run.returncode == 0, run.describe()
    split = comm_stacks(hostile, "split")
    named = sum(s.count for s in split if leaf_user(s.frames) == "fx_work_a")
    assert named > 0, f"the control process lost its names\n{top(split)}\n{run.describe()}"
    for name in hostile.jl:
        assert samples(comm_stacks(hostile, name)) > 0, f"{name} was not sampled\n{run.describe()}"


def test_good_map_names_jit_frame_under_its_caller(hostile):
    stacks = comm_stacks(hostile, "jl_good")
    hot = sum(s.count for s in stacks if leaf_user(s.frames) == "jit_hot_loop")
    under = sum(s.count for s in stacks if user_frames(s.frames)[-2:] == ["jl_caller", "jit_hot_loop"])
    total = samples(stacks)
    assert hot / total >= 0.9, f"{hot}/{total}\n{top(stacks)}"
    assert under / total >= 0.8, f"JIT frame under jl_caller in {under}/{total}\n{top(stacks)}"


def test_jit_frames_get_the_jit_mapping_in_pprof(hostile, profile_pb2):
    import gzip
    found = False
    for f in sorted(hostile.outdir.iterdir()):
        p = profile_pb2.Profile()
        p.ParseFromString(gzip.decompress(f.read_bytes()))
        maps = {m.id: p.string_table[m.filename] for m in p.mapping}
        funcs = {fn.id: p.string_table[fn.name] for fn in p.function}
        for loc in p.location:
            names = [funcs[l.function_id] for l in loc.line]
            if "jit_hot_loop" in names:
                assert maps[loc.mapping_id] == "[jit]", maps[loc.mapping_id]
                found = True
    assert found, f"no jit_hot_loop location in {list(hostile.outdir.iterdir())}"


def test_bad_lines_counted_and_line_after_10mb_named(hostile):
    sm = hostile.run.summary
    assert int(sm.fields["perfmap_bad_lines"]) >= 2, hostile.run.describe()
    stacks = comm_stacks(hostile, "jl_long")
    named = sum(s.count for s in stacks if leaf_user(s.frames) == "jit_after_long_line")
    assert named / samples(stacks) >= 0.9, top(stacks)
    garbage = comm_stacks(hostile, "jl_garbage")
    assert not named_jit(garbage), top(garbage)


def test_symlink_and_fifo_refused(hostile):
    run = hostile.run
    assert int(run.summary.fields["perfmap_refused"]) >= 2, run.describe()
    assert "perf map refused" in run.stderr, run.describe()
    for name in ("jl_symlink", "jl_fifo"):
        stacks = comm_stacks(hostile, name)
        assert not named_jit(stacks), top(stacks)
    with open("/etc/shadow") as f:
        first = f.readline().split(":")[0]
    assert f"{first}:" not in run.stdout, "/etc/shadow leaked into the names"


def test_map_rewritten_while_read(hostile):
    stacks = comm_stacks(hostile, "jl_rewrite")
    assert samples(stacks) > 0
    assert int(hostile.run.summary.fields["perfmap_errors"]) == 0, hostile.run.describe()


def test_fake_jvms_failed_refused_never_killed_nothing_left(hostile):
    run = hostile.run
    sm = run.summary
    assert int(sm.fields["jvm_failed"]) >= 2, run.describe()  # never answers; exits mid-attach
    assert int(sm.fields["jvm_refused"]) >= 1, run.describe()  # no SIGQUIT handler
    assert int(sm.fields["jvm_attached"]) == 0, run.describe()
    assert "jvm: attach failed" in run.stderr, run.describe()
    assert hostile.alive["silent"], "the JVM that never answers was killed"
    assert hostile.alive["no-handler"], "the process without a SIGQUIT handler was killed"
    silent = json.loads(hostile.fake_out["silent"][0].strip().splitlines()[-1])
    assert silent["sigquit"] == 1, f"signalled {silent['sigquit']} times in one run (backoff)"
    quiet = json.loads(hostile.fake_out["no-handler"][0].strip().splitlines()[-1])
    assert quiet["sigquit"] == 0
    assert not hostile.left, f"attach trigger files left behind: {hostile.left}"


# ---------------------------------------------------------------------------
# A pid reused by another process: the old process's map must not name it.

def start_pid1(d, *args):
    """jitloop as pid 1 of a new pid namespace whose /tmp is d, with address
    randomization off (the same code address in every run). (Popen of
    unshare, jitloop's host pid, its {"addr", "size"}.)"""
    # The fixture is run from d itself: the bind mount hides the host's /tmp,
    # and with it a checkout that lives there (CI's fresh clone may).
    exe = d / "jitloop"
    if not exe.exists():
        shutil.copy2(FIXTURES / "jitloop", exe)
    sh = 'mount --bind "$0" /tmp && exec setarch -R /tmp/jitloop "$@"'
    p = subprocess.Popen(["unshare", "--mount", "--pid", "--kill-child", "sh", "-c", sh,
                          str(d), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line:
        p.wait()
        pytest.fail(f"jitloop in a pid namespace did not start: {p.stderr.read()}")
    kids = descendants(p.pid)
    assert kids, "no jitloop under unshare"
    return p, kids[-1], json.loads(line)


def test_reused_pid_not_named_from_the_old_process_map(ember, module_procs, tmp_path):
    """Two processes in turn are pid 1 of their own pid namespace, with one
    /tmp: the first writes /tmp/perf-1.map and exits, the second runs the
    same code at the same address without a map. The second must not be
    named from the first's map (it is stale: older than the process), the
    refusal is counted, and a process with a map of its own stays named."""
    if os.uname().machine != "x86_64":
        skip_loudly("the jitloop fixture generates x86-64 code")
    for tool in ("unshare", "setarch"):
        if shutil.which(tool) is None:
            skip_loudly(f"`{tool}` is missing (Debian: util-linux)")
    old, _, old_info = start_pid1(tmp_path, "--map", "jit_of_the_old_process")
    old.kill()
    old.communicate()
    assert (tmp_path / "perf-1.map").exists(), "the first process wrote no map"
    time.sleep(1.5)  # the map is older than the next process by more than the clock's slack
    new, new_pid, new_info = start_pid1(tmp_path)
    try:
        if new_info["addr"] != old_info["addr"]:
            skip_loudly(f"setarch -R gave two addresses ({old_info} {new_info})")
        shutil.copy2(FIXTURES / "jitloop", tmp_path / "jl_control")
        control = module_procs.start(tmp_path / "jl_control", "--map", "jit_control")
        control.stdout.readline()
        run = ember.run("--dry-run", "--window", 2, "--duration", 4, "--no-jvm",
                        "--pid", new_pid, "--pid", control.pid, timeout=40)
    finally:
        new.kill()
        new.communicate()
        map_path(control.pid).unlink(missing_ok=True)
    assert run.returncode == 0, run.describe()
    reused = comm_stacks(run, "jitloop")
    assert samples(reused) > 0, f"the process on the reused pid was not sampled\n{run.describe()}"
    wrong = sum(s.count for s in reused if any("jit_of_the_old_process" in f for f in s.frames))
    assert wrong == 0, f"named from the old process's map in {wrong} samples\n{top(reused)}"
    assert int(run.summary.fields["perfmap_stale"]) >= 1, run.describe()
    assert "perf map refused" in run.stderr and "older than the process" in run.stderr, \
        run.describe()
    ctl = comm_stacks(run, "jl_control")
    hot = sum(s.count for s in ctl if leaf_user(s.frames) == "jit_control")
    assert hot >= 0.8 * samples(ctl) > 0, f"the control process lost its JIT name\n{top(ctl)}"


# ---------------------------------------------------------------------------
# A perf map larger than its memory bound: the newest part is kept.

def test_map_over_its_bound_keeps_its_newest_part(ember, module_procs, tmp_path):
    """An 8 MB V8-style map whose last line names the hot JIT code, read
    with --perfmap-max-mb 1: the map is held within the bound, the hot code
    (at the end of the file) is named, the cap is counted."""
    if os.uname().machine != "x86_64":
        skip_loudly("the jitloop fixture generates x86-64 code")
    exe = tmp_path / "jl_big"
    shutil.copy2(FIXTURES / "jitloop", exe)
    p = module_procs.start(exe)
    info = json.loads(p.stdout.readline())
    path = map_path(p.pid)
    try:
        with open(path, "w") as f:
            i = 0
            while f.tell() < 8 << 20:
                f.write(f"{0x10000000 + i * 0x40:x} 40 LazyCompile:*fn_{i} /app/m{i % 97}.js:{i}:3\n")
                i += 1
            f.write(f"{info['addr']:x} {info['size']:x} jit_newest_entry\n")
        run = ember.run("--dry-run", "--window", 2, "--duration", 4, "--no-jvm",
                        "--perfmap-max-mb", 1, "--pid", p.pid, timeout=40)
    finally:
        path.unlink(missing_ok=True)
    assert run.returncode == 0, run.describe()
    stacks = comm_stacks(run, "jl_big")
    hot = sum(s.count for s in stacks if leaf_user(s.frames) == "jit_newest_entry")
    assert hot >= 0.8 * samples(stacks) > 0, f"{hot}/{samples(stacks)}\n{top(stacks)}"
    sm = run.summary.fields
    assert int(sm["perfmap_capped"]) >= 1, run.describe()
    assert int(sm["perfmap_bytes"]) <= 1 << 20, run.describe()
    assert int(sm["perfmap_read_bytes"]) < 4 << 20, run.describe()
    assert "perf map past its bounds" in run.stderr, run.describe()
