# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""faultlib.py - running the real agent into a fault, for tests/faults

Paths, a runner that starts a busy fixture and the agent on it (bounded in
time, the agent's own CPU time measured), the summary line as a dict, and
the accounting identity every destination must keep:
windows_D = delivered_D + failed_D + dropped_D + abandoned_D.
Imported as `faultlib`: a conftest.py here would shadow tests/e2e's, whose
tests import from `conftest`, when the suites run together. Modules take
the make_receiver fixture by importing it, and call require_root().
"""
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("EMBER_OUTPUT", REPO / ".output")).resolve()
EMBER = str(OUTPUT / "ember")
FIX = OUTPUT / "tests" / "fixtures"
SPLIT = str(FIX / "split")

# The strict receiver of the e2e suite, with its fault modes.
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import receiver as rx  # noqa: E402

OUTCOMES = ("delivered", "failed", "dropped", "abandoned")


def why_skip():
    if os.geteuid() != 0:
        return "the fault suite runs the agent, which loads BPF: run as root"
    for p in (EMBER, SPLIT):
        if not os.access(p, os.X_OK):
            return "%s missing: run `make` first" % p
    return None


def require_root():
    """Skips the calling test module, loudly, where the agent cannot run."""
    reason = why_skip()
    if reason:
        pytest.skip("SKIP: " + reason, allow_module_level=True)


@pytest.fixture
def make_receiver():
    """Factory: make_receiver(**options) -> a started Receiver, stopped at teardown."""
    started = []

    def make(**kw):
        r = rx.Receiver(**kw).start()
        started.append(r)
        return r

    yield make
    for r in started:
        r.stop()


def parse_summary(err):
    m = re.findall(r"^ember: summary (.*)$", err, re.M)
    assert len(m) == 1, "want one summary line, stderr:\n" + err
    return {k: float(v) if "." in v else int(v) for k, v in (kv.split("=", 1) for kv in m[0].split())}


def assert_identity(s, dest):
    """Every window of dest ended exactly one way."""
    parts = {k: s["%s_%s" % (k, dest)] for k in OUTCOMES}
    assert s["windows_" + dest] == sum(parts.values()), (dest, s)
    return parts


class Run:
    def __init__(self, rc, out, err, cpu_s, elapsed):
        self.rc, self.out, self.err, self.cpu_s, self.elapsed = rc, out, err, cpu_s, elapsed
        self.summary = parse_summary(err)

    def lines(self, level="error"):
        return [l for l in self.err.splitlines() if l.startswith("ember: %s" % level)]

    def __repr__(self):
        return "<Run rc=%s cpu_s=%.2f elapsed=%.1f>\nstderr:\n%s" % (self.rc, self.cpu_s, self.elapsed,
                                                                    self.err)


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_agent(*args, duration=3, window=1, stdout=subprocess.PIPE, during=None, timeout=None,
              target=None):
    """Runs the agent on a busy split (or on target, a pid) for duration
    seconds; during(agent) runs meanwhile. The agent's CPU time is what it
    alone used (it is the only child reaped in between)."""
    split = None
    if target is None:
        split = subprocess.Popen([SPLIT, "--threads", "1", "--seconds", "0"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        target = split.pid
    agent = None
    try:
        cmd = [EMBER, "--pid", str(target), "--window", str(window)]
        if duration:
            cmd += ["--duration", str(duration)]
        cmd += [str(a) for a in args]
        cpu0, t0 = child_cpu(), time.monotonic()
        agent = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True)
        if during:
            during(agent)
        out, err = agent.communicate(timeout=timeout or (duration or 0) + 30)
        cpu, elapsed = child_cpu() - cpu0, time.monotonic() - t0
    finally:
        if agent and agent.poll() is None:
            agent.kill()
            agent.communicate()
        if split:
            split.send_signal(signal.SIGTERM)
            split.wait(10)
    return Run(agent.returncode, out, err, cpu, elapsed)
