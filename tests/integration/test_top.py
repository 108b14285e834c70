# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""`ember top` on the real sampler: the known split, the full screen under tmux.

--batch against tests/fixtures/split.c (which measures its own per-function
CPU time): its three functions in order, each self share within 3 points of
the measured truth (or Z standard errors at the sample count, if larger).
Then the full-screen view in a tmux pane: the functions on screen, keys,
a resize to a narrow terminal and back, and `q` giving the terminal back.
Root and kernel BTF (and tmux for the screen test) required.
Run: /usr/bin/python3 -m pytest -q tests/integration/test_top.py
"""
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from sampling_truth import share_tolerance

FUNCS = ("fx_work_a", "fx_work_b", "fx_work_c")
SHARE_POINTS = 3.0
# A prime rate: never in step with the scheduler tick (see test_sampler.py);
# high, so that two 2 s snapshots hold thousands of samples.
FREQ = 997
HEADER = re.compile(r"^ember top host=\S+ cpus=(\d+) interval=(\d+)s by=(\w+) "
                    r"snapshot=(\d+)/(\d+) samples=(\d+) lost=(\d+)$")
ROW = re.compile(r"^\s*(\d+\.\d\d)\s+(\d+\.\d\d)\s+(\d+) (.+)$")


def funcs_in(names):
    """The fixture's functions among names, in their order."""
    return [n for n in names if n in FUNCS]


def parse_batch(text):
    """[(header match, [(self, total, samples, name)])] from --batch output."""
    snaps = []
    for line in text.splitlines():
        if not line:
            continue
        m = HEADER.match(line)
        if m:
            snaps.append((m, []))
            continue
        r = ROW.match(line)
        assert r and snaps, f"not a batch line: {line!r}"
        snaps[-1][1].append((float(r[1]), float(r[2]), int(r[3]), r[4]))
    return snaps


def test_batch_split_in_order_and_shares(ember, procs):
    split = procs.start("split", "--threads", 2, "--seconds", 0)
    time.sleep(0.3)
    run = ember.run("top", "--batch", 2, "--interval", 2, "--pid", split.pid,
                    "--frequency", FREQ, timeout=60)
    out, _ = procs.stop(split)
    truth = json.loads(out.strip().splitlines()[-1])
    assert run.returncode == 0, run.describe()
    snaps = parse_batch(run.stdout)
    assert len(snaps) == 2, run.stdout
    got = dict.fromkeys(FUNCS, 0.0)
    n = 0
    for i, (h, rows) in enumerate(snaps, 1):
        assert (int(h[4]), int(h[5]), h[3], int(h[2])) == (i, 2, "function", 2), h[0]
        assert int(h[1]) == os.cpu_count(), h[0]
        samples = int(h[6])
        names = [r[3] for r in rows]
        # The three, hottest first (kernel frames may sit between them),
        # in every snapshot with the samples to tell 30 % from 10 % (on a
        # crowded machine a 2 s interval may hold few; the sum below is
        # checked whatever the count).
        if samples >= 300:
            assert funcs_in(names) == list(FUNCS), f"snapshot {i}:\n{run.stdout}"
        for self_pct, total_pct, count, name in rows:
            assert self_pct <= total_pct + 1e-9 and count <= samples, (name, rows)
            # Total, not self: an interrupt's kernel frames land on top of
            # the function it interrupted (the fixture's truth counts that
            # time as the function's), and the three call nothing else.
            if name in got:
                got[name] += total_pct / 100.0 * samples
        n += samples
    # The truth: each function's share of the whole process's CPU time.
    table = []
    for f in FUNCS:
        want = 100.0 * truth["cpu_ns"][f] / truth["process_cpu_ns"]
        have = 100.0 * got[f] / n
        tol = share_tolerance(want / 100.0, n, SHARE_POINTS)
        table.append((f, have, want, tol))
    text = ", ".join(f"{f}: {h:.2f}% vs {w:.2f}% (+-{t:.2f})" for f, h, w, t in table)
    print(f"top --batch over {n} samples: {text}")
    assert sorted(FUNCS, key=lambda f: -got[f]) == list(FUNCS), text
    for f, have, want, tol in table:
        assert abs(have - want) <= tol, f"{f} off by {have - want:+.2f} points ({text})"


def test_needs_a_terminal_or_batch(ember):
    p = subprocess.run([str(ember.path), "top"], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=10)
    assert p.returncode == 2, p
    assert p.stderr.strip().splitlines() == [
        "ember top: error: the full-screen view needs a terminal on stdin and stdout; "
        "use --batch N for text"]


def test_no_root_same_error_as_agent(ember):
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    top = subprocess.run([*nobody, str(ember.path), "top", "--batch", "1"], capture_output=True,
                         text=True, timeout=30)
    agent = subprocess.run([*nobody, str(ember.path), "--dry-run", "--duration", "1"],
                           capture_output=True, text=True, timeout=30)
    assert top.returncode == agent.returncode == 2, (top, agent)
    assert top.stderr == agent.stderr and top.stderr.startswith("ember: error "), (top, agent)
    assert top.stdout == ""


class Tmux:
    """One tmux server of our own (-L), so nothing else's sessions are touched."""

    serial = itertools.count()

    def __init__(self, tmp_path):
        # One server per test: a name shared across tests could reach the
        # previous test's server while it is still exiting ("server exited
        # unexpectedly").
        self.sock = f"ember-top-{os.getpid()}-{next(Tmux.serial)}"
        self.exit_file = tmp_path / "exit"

    def __call__(self, *args):
        return subprocess.run(["tmux", "-L", self.sock, *map(str, args)], capture_output=True,
                              text=True, timeout=10)

    def start(self, cmd, x, y):
        shell = f"{cmd}; echo $? > {self.exit_file}; sleep 60"
        p = self("new-session", "-d", "-s", "top", "-x", x, "-y", y, shell)
        assert p.returncode == 0, p.stderr

    def screen(self):
        return self("capture-pane", "-p", "-t", "top").stdout

    def wait_for(self, pred, timeout=20.0):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            s = self.screen()
            if pred(s):
                return s
            time.sleep(0.25)
        pytest.fail(f"the screen never showed what was expected:\n{self.screen()}")

    def exit_code(self, timeout=10.0):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.exit_file.exists() and self.exit_file.read_text().strip():
                return int(self.exit_file.read_text())
            time.sleep(0.1)
        return None

    def kill(self):
        self("kill-server")


@pytest.fixture
def tmux(tmp_path):
    if shutil.which("tmux") is None:
        sys.stderr.write("\n*** SKIPPING: tmux is not installed (Debian: tmux) ***\n")
        pytest.skip("tmux is not installed (Debian: tmux)")
    t = Tmux(tmp_path)
    yield t
    t.kill()


SCREEN_ROW = re.compile(r"^\s*\d+\.\d%\s+\d+\.\d%\s+\d+  (.*?)\s*$")


def rows_of(screen):
    """The names of the table's rows, top down."""
    return [m[1] for m in map(SCREEN_ROW.match, screen.splitlines()) if m]



def test_screen_keys_resize_and_quit(ember, procs, tmux):
    split = procs.start("split", "--threads", 2, "--seconds", 0)
    tmux.start(f"{ember.path} top --pid {split.pid} --interval 1 --frequency {FREQ}", 120, 30)
    # In order: at a few hundred samples an interval, wait for one.
    s = tmux.wait_for(lambda s: funcs_in(rows_of(s)) == list(FUNCS))
    lines = s.splitlines()
    assert lines[0].startswith("ember top - ") and " CPUs - every 1s - by function" in lines[0], s
    assert "q quit" in lines[1], s

    # By process: the fixture by name and pid; then back.
    tmux("send-keys", "-t", "top", "P")
    tmux.wait_for(lambda s: f"split [{split.pid}]" in s and "PROCESS" in s)
    tmux("send-keys", "-t", "top", "f")
    tmux.wait_for(lambda s: "FUNCTION" in s and "fx_work_a" in s)
    # A filter keeps only the matching rows.
    tmux("send-keys", "-t", "top", "/", "work_b", "Enter")
    s = tmux.wait_for(lambda s: "filter: work_b" in s)
    assert rows_of(s) == ["fx_work_b"], s
    tmux("send-keys", "-t", "top", "/", "Enter")
    tmux.wait_for(lambda s: "filter:" not in s and "fx_work_c" in s)
    # Sort by name: fx_thread_main comes before fx_work_a.
    tmux("send-keys", "-t", "top", "n")
    s = tmux.wait_for(lambda s: "sort name" in s)
    names = rows_of(s)
    assert names == sorted(names), s

    # Paused: the table stays as it was while intervals pass.
    tmux("send-keys", "-t", "top", "p")
    before = tmux.wait_for(lambda s: "PAUSED" in s)
    time.sleep(2.5)
    assert tmux.screen() == before, "the table changed while paused"
    tmux("send-keys", "-t", "top", "p")
    tmux.wait_for(lambda s: "PAUSED" not in s)

    # A narrow, short terminal: cut, not crashed; then wide again.
    tmux("resize-window", "-t", "top", "-x", 24, "-y", 6)
    time.sleep(2.5)
    s = tmux.screen()
    assert tmux.exit_code(timeout=0.1) is None, f"ember top exited on a resize:\n{s}"
    assert s.startswith("ember top"), s
    assert max(len(l) for l in s.splitlines()) <= 24, s
    tmux("resize-window", "-t", "top", "-x", 120, "-y", 30)
    tmux("send-keys", "-t", "top", "s")
    s = tmux.wait_for(lambda s: "sort self" in s and "fx_work_c" in s)

    tmux("send-keys", "-t", "top", "q")
    assert tmux.exit_code() == 0, tmux.screen()
    # The terminal is given back: the normal screen, the cursor visible.
    assert tmux("display", "-p", "-t", "top", "#{alternate_on}").stdout.strip() == "0"
    assert tmux("display", "-p", "-t", "top", "#{cursor_flag}").stdout.strip() == "1"


def test_screen_sigterm_restores_terminal(ember, procs, tmux):
    split = procs.start("split", "--threads", 1, "--seconds", 0)
    tmux.start(f"{ember.path} top --pid {split.pid} --interval 1", 100, 20)
    tmux.wait_for(lambda s: "fx_work_a" in s)
    assert tmux("display", "-p", "-t", "top", "#{alternate_on}").stdout.strip() == "1"
    pid = int(subprocess.run(["pgrep", "-f", f"^{ember.path} top --pid {split.pid} "],
                             capture_output=True, text=True).stdout.split()[0])
    os.kill(pid, 15)
    assert tmux.exit_code() == 0, tmux.screen()
    assert tmux("display", "-p", "-t", "top", "#{alternate_on}").stdout.strip() == "0"


def test_screen_hangup_ends_top(ember, procs, tmux):
    """A closed terminal (tmux or ssh gone) sends SIGHUP: top ends, it does not
    sample on as an orphan."""
    split = procs.start("split", "--threads", 1, "--seconds", 0)
    tmux.start(f"{ember.path} top --pid {split.pid} --interval 1", 100, 20)
    tmux.wait_for(lambda s: "fx_work_a" in s)
    pid = int(subprocess.run(["pgrep", "-f", f"^{ember.path} top --pid {split.pid} "],
                             capture_output=True, text=True).stdout.split()[0])
    tmux("kill-session", "-t", "top")
    t0 = time.monotonic()
    while time.monotonic() - t0 < 10 and os.path.exists(f"/proc/{pid}"):
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        time.sleep(0.1)
    alive = os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    if alive:
        os.kill(pid, 9)
    assert not alive, "ember top kept running after its terminal hung up"
