# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Shared helpers for the sampler's integration tests (real BPF, real kernel).

What they give the tests: repository paths, a factory that starts fixture
processes and always reaps them, a runner for `.output/ember` that parses its
folded stdout into Stack records and its summary line from stderr, and
profile_until(), which profiles a fixture until it has used the CPU seconds a
figure needs (or a wall-time bound passes, saying why). The timeline and the
statistics behind every tolerance are in tests/sampling_truth.py, shared with
tests/e2e.

Needs root and kernel BTF; without them every test here is skipped, loudly.
Run: /usr/bin/python3 -m pytest -ra tests/integration  (after `make`).
"""
import importlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
from sampling_truth import Timeline, perf_event_fds, schedstat  # noqa: E402
# EMBER_OUTPUT points the tests at another build directory (make OUTPUT=...).
OUTPUT = Path(os.environ.get("EMBER_OUTPUT", REPO / ".output")).resolve()
EMBER = OUTPUT / "ember"
FIXTURES = OUTPUT / "tests" / "fixtures"
BTF = Path("/sys/kernel/btf/vmlinux")

# Test modules import these helpers as `integration_helpers`: a bare
# `import conftest` could pick up tests/e2e/conftest.py when both run together.
sys.modules.setdefault("integration_helpers", sys.modules[__name__])

# One folded line: "comm;root;...;leaf count". Frames may hold spaces
# (demangled C++), so the count is split off the right.
Stack = namedtuple("Stack", "comm frames count")
# The contract's four fields come first; more key=value fields may follow.
SUMMARY_RE = re.compile(
    r"^ember: summary samples=(\d+) lost=(\d+) processes=(\d+) named_pct=(\d+(?:\.\d+)?)"
    r"((?: \w+=\S*)*)\s*$")


class Summary(namedtuple("Summary", "samples lost processes named_pct fields")):
    """The summary line; fields holds every key=value on it, as strings."""


def why_skip():
    """The reason these tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "integration tests need root (BPF + perf events): run as root"
    if not BTF.exists():
        return f"kernel has no BTF ({BTF} missing): CO-RE BPF cannot load"
    return None


def pytest_collection_modifyitems(config, items):
    reason = why_skip()
    if reason is None:
        return
    here = Path(__file__).parent
    mark = pytest.mark.skip(reason=reason)
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(mark)
    sys.stderr.write(f"\n*** SKIPPING tests/integration: {reason} ***\n")


def is_kernel(frame):
    return frame.endswith("_[k]")


def user_frames(frames):
    return [f for f in frames if not is_kernel(f)]


def leaf_user(frames):
    """The innermost user frame, ignoring kernel frames stacked on top."""
    u = user_frames(frames)
    return u[-1] if u else None


def parse_folded(text):
    """Folded stdout -> [Stack]. Raises on any line that is not folded."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        head, sep, count = line.rpartition(" ")
        assert sep and count.isdigit(), f"stdout line {n} is not folded: {line!r}"
        parts = head.split(";")
        assert len(parts) >= 2, f"stdout line {n} has no frames: {line!r}"
        out.append(Stack(parts[0], parts[1:], int(count)))
    return out


def parse_summary(stderr):
    """The one summary line on stderr -> Summary, or None when absent."""
    found = [m for m in map(SUMMARY_RE.match, stderr.splitlines()) if m]
    assert len(found) <= 1, f"more than one summary line:\n{stderr}"
    if not found:
        return None
    m = found[0]
    fields = dict(kv.split("=", 1) for kv in m.group(0).split()[2:])
    return Summary(int(m[1]), int(m[2]), int(m[3]), float(m[4]), fields)


class EmberRun:
    def __init__(self, args, proc, stdout, stderr, started, ended):
        self.args = args
        self.returncode = proc.returncode
        self.pid = proc.pid
        self.stdout = stdout
        self.stderr = stderr
        self.started = started
        self.ended = ended

    @property
    def stacks(self):
        return parse_folded(self.stdout)

    @property
    def summary(self):
        return parse_summary(self.stderr)

    def stderr_lines(self):
        return [l for l in self.stderr.splitlines() if l.strip()]

    def describe(self):
        """Context for assertion messages: the command and what it said."""
        tail = "\n".join(self.stderr_lines()[-15:])
        return (f"command: {' '.join(map(str, self.args))}\nexit: {self.returncode}\n"
                f"stderr (last lines):\n{tail}")


class Ember:
    """Starts `.output/ember` and collects its output; see run() and start()."""

    def __init__(self):
        self.path = EMBER

    def cmd(self, *args):
        return [str(self.path), *map(str, args)]

    def start(self, *args, preexec=None, prefix=()):
        """Starts ember in the background; finish with wait()."""
        args = [*prefix, *self.cmd(*args)]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, errors="replace", preexec_fn=preexec)
        proc.ember_args = args
        proc.started = time.monotonic()
        return proc

    def wait(self, proc, timeout):
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)
            try:
                out, err = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            pytest.fail(f"ember did not finish within {timeout}s: {' '.join(proc.ember_args)}\n"
                        f"stderr:\n{err[-3000:]}")
        return EmberRun(proc.ember_args, proc, out, err, proc.started, time.monotonic())

    def run(self, *args, timeout=None, prefix=()):
        """Runs ember to completion. timeout defaults to --duration + 30 s."""
        if timeout is None:
            d = 0
            a = list(map(str, args))
            if "--duration" in a:
                d = float(a[a.index("--duration") + 1])
            timeout = d + 30
        return self.wait(self.start(*args, prefix=prefix), timeout)


@pytest.fixture(scope="session")
def ember():
    if not EMBER.exists():
        pytest.fail(f"{EMBER} is missing: run `make` first")
    for name in ("split", "writer", "shortlived", "uselib", "libfxlib.so"):
        if not (FIXTURES / name).exists():
            pytest.fail(f"fixture {FIXTURES / name} is missing: run `make` first")
    return Ember()


class Procs:
    """Starts fixture processes; every one left running is killed at teardown."""

    def __init__(self):
        self.procs = []

    def start(self, name_or_path, *args, **kw):
        path = Path(name_or_path)
        if not path.is_absolute():
            path = FIXTURES / path
        p = subprocess.Popen([str(path), *map(str, args)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, **kw)
        self.procs.append(p)
        return p

    def stop(self, p, timeout=10):
        """SIGTERM, then (stdout, stderr). Fixtures print their JSON on SIGTERM."""
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            return p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            return p.communicate()

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            try:
                p.communicate(timeout=5)
            except (subprocess.TimeoutExpired, ValueError):
                pass


@pytest.fixture
def procs():
    p = Procs()
    yield p
    p.cleanup()


@pytest.fixture(scope="module")
def module_procs():
    p = Procs()
    yield p
    p.cleanup()


def wait_attached(proc, timeout=15.0):
    """Waits until the agent holds perf events (it is sampling), then returns
    the time it took. Fails if it exits or never attaches."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"ember exited before attaching (exit {proc.returncode}):\n{err}")
        if perf_event_fds(proc.pid) > 0:
            return time.monotonic() - t0
        time.sleep(0.02)
    pytest.fail(f"ember held no perf events after {timeout}s")


def copy_fixture(name, dest_dir, new_name=None):
    dst = Path(dest_dir) / (new_name or name)
    shutil.copy2(FIXTURES / name, dst)
    return dst


class Profiled(namedtuple("Profiled", "run timeline reached reason")):
    """A profile_until() run: the EmberRun, the target's Timeline, whether the
    target used the CPU it was to use, and the sentence that says so."""


def profile_until(ember, pid, *args, cpu_s, bound_s, min_wall_s=0.0):
    """Runs ember *args (no --duration: it runs until told) while pid works,
    until pid has used cpu_s CPU seconds since the agent attached and
    min_wall_s have passed, or until bound_s wall seconds have passed; then
    SIGINT, which makes ember print its last window and the summary. A busy
    machine makes the run longer, not its figures poorer; when even the bound
    is not enough, the reason is printed (and returned) with what pid got."""
    tl = Timeline(pid)
    proc = ember.start(*args)
    tl.agent = proc.pid
    wait_attached(proc)
    t0 = time.monotonic()
    st0 = schedstat(pid)
    assert st0 is not None, f"pid {pid} is gone"
    reached = gone = False
    while proc.poll() is None:
        # Seldom and at random: see Timeline on periodic wakers.
        time.sleep(random.uniform(0.2, 0.4))
        st = schedstat(pid)
        used = (st[0] - st0[0]) / 1e9 if st else 0.0
        wall = time.monotonic() - t0
        if used >= cpu_s and wall >= min_wall_s:
            reached = True
            break
        gone = st is None
        if wall >= bound_s or gone:
            break
    st1 = schedstat(pid) or st0
    wall = time.monotonic() - t0
    if proc.poll() is None:
        tl.stop_agent(signal.SIGINT)
    run = ember.wait(proc, 60)
    tl.stop()
    used = (st1[0] - st0[0]) / 1e9
    waited = (st1[1] - st0[1]) / 1e9
    ncpu = len(os.sched_getaffinity(0))
    got = (f"pid {pid} used {used:.2f} CPU s in {wall:.1f} s ({100 * used / wall / ncpu:.0f} % of "
           f"{ncpu} CPUs) and waited {waited:.1f} s runnable for a CPU")
    if reached:
        reason = f"collected: {got}, {cpu_s:.2f} CPU s wanted"
    elif gone:
        reason = f"pid {pid} exited before it used {cpu_s:.2f} CPU s: {got}"
    elif tl.signalled is None:
        reason = f"ember exited before pid {pid} used {cpu_s:.2f} CPU s: {got}"
    else:
        reason = (f"stopped at the {bound_s:g} s bound, short of {cpu_s:.2f} CPU s: {got}; "
                  f"the machine is busier than the test can wait for")
    print(f"profile_until: {reason}")
    return Profiled(run, tl, reached, reason)


@pytest.fixture(scope="session")
def profile_pb2(tmp_path_factory):
    """perftools.profiles messages compiled from proto/profile.proto."""
    if shutil.which("protoc") is None:
        msg = "`protoc` is not installed (Debian: protobuf-compiler)"
        sys.stderr.write(f"\n*** SKIPPING: {msg} ***\n")
        pytest.skip(msg)
    out = tmp_path_factory.mktemp("pb2")
    subprocess.run(["protoc", f"--proto_path={REPO / 'proto'}", f"--python_out={out}",
                    str(REPO / "proto" / "profile.proto")], check=True)
    sys.path.insert(0, str(out))
    try:
        return importlib.import_module("profile_pb2")
    finally:
        sys.path.remove(str(out))
