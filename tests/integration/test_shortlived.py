# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Processes that exit within milliseconds are named like long-lived ones.

The churn fixture execs churnchild ~500 times a second, each burning 1 ms of
CPU in fx_churn_burn; nearly all are gone before the agent reads their first
sample. What is checked: the user frames of their samples that lie in a
mapped file are named (>= 99 %), the hot function shows up, and the agent's
RSS and fd count stay flat while the churn goes on. Frames the agent cannot
be blamed for are left out, and counted in the message: `[unknown]` (a
frame-pointer walk through ld.so, built without them, or a sample inside
execve whose pc is still the old image's) and ld.so's entry point `_start`,
a sizeless NOTYPE symbol no symbolizer names.

Needs root; bounded (about 20 s). The 60 s version is bench/shortlived.py.
"""
import json
import os
import re
import subprocess
import time

import pytest

from integration_helpers import EMBER, FIXTURES, parse_folded, parse_summary, wait_attached

CHURN_SECONDS = 12
RATE = 500


def ld_so_entry():
    """(name, entry offset) of the dynamic loader, from its ELF header."""
    out = subprocess.run(["readelf", "-hW", "/lib64/ld-linux-x86-64.so.2"], text=True,
                         capture_output=True, check=True).stdout
    entry = int(re.search(r"Entry point address:\s+0x([0-9a-f]+)", out)[1], 16)
    return "ld-linux-x86-64.so.2", entry


def frame_figures(stacks, comm):
    """Counts over the user frames of comm's samples."""
    ld_name, ld_entry = ld_so_entry()
    f = dict(samples=0, hot=0, unknown=0, ld_start=0, named=0, unnamed=0)
    unnamed = {}
    for s in stacks:
        if s.comm != comm:
            continue
        f["samples"] += s.count
        user = [x for x in s.frames if not x.endswith("_[k]")]
        if user and user[-1] == "fx_churn_burn":
            f["hot"] += s.count
        for x in user:
            m = re.fullmatch(r"(.*)\+0x([0-9a-f]+)", x)
            if x == "[unknown]":
                f["unknown"] += s.count
            elif m and m[1] == ld_name and 0 <= int(m[2], 16) - ld_entry < 0x20:
                f["ld_start"] += s.count
            elif m:
                f["unnamed"] += s.count
                unnamed[x] = unnamed.get(x, 0) + s.count
            else:
                f["named"] += s.count
    return f, sorted(unnamed.items(), key=lambda kv: -kv[1])[:10]


def agent_rss_kb(pid):
    with open(f"/proc/{pid}/status") as fh:
        return int(re.search(r"VmRSS:\s+(\d+)", fh.read())[1])


def agent_fds(pid):
    """(all fds, fds on the churn's own binary): the agent holds one fd per
    distinct file in use, host-wide, so only the second says "leak"."""
    n = mine = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        n += 1
        try:
            mine += "churnchild" in os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            pass
    return n, mine


class Run:
    """ember with stdout and stderr in files: a thousand processes a window
    fill a pipe, and an undrained pipe would stall the agent at window end."""

    def __init__(self, tmp_path, *args):
        self.out = open(tmp_path / "ember.out", "w+")
        self.err = open(tmp_path / "ember.err", "w+")
        self.args = [str(EMBER), *map(str, args)]
        self.proc = subprocess.Popen(self.args, stdout=self.out, stderr=self.err, text=True)
        self.pid = self.proc.pid

    def poll(self):
        return self.proc.poll()

    def wait(self, timeout):
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"ember did not finish within {timeout}s")
        self.out.seek(0)
        self.err.seek(0)
        self.stdout, self.stderr = self.out.read(), self.err.read()
        self.stacks = parse_folded(self.stdout)
        self.summary = parse_summary(self.stderr)
        return self

    def describe(self):
        return f"command: {' '.join(self.args)}\nstderr:\n{self.stderr[-3000:]}"


def test_churn_short_lived_processes_named(ember, tmp_path):
    proc = Run(tmp_path, "--dry-run", "--window", 5, "--duration", CHURN_SECONDS + 6)
    wait_attached(proc.proc)
    time.sleep(0.5)
    churn = subprocess.Popen([str(FIXTURES / "churn"), "--rate", str(RATE), "--seconds",
                              str(CHURN_SECONDS), "--ms", "1"], stdout=subprocess.PIPE,
                             text=True)
    # RSS and fds once the churn is under way (first window's tables built),
    # then near its end: both must stay flat.
    time.sleep(6)
    rss0, fds0 = agent_rss_kb(proc.pid), agent_fds(proc.pid)
    time.sleep(CHURN_SECONDS - 7)
    rss1, fds1 = agent_rss_kb(proc.pid), agent_fds(proc.pid)
    out, _ = churn.communicate(timeout=CHURN_SECONDS + 30)
    run = proc.wait(CHURN_SECONDS + 40)
    assert run.returncode == 0, run.describe()
    done = json.loads(out)
    assert done["failed"] == 0 and done["spawned"] >= 0.5 * RATE * CHURN_SECONDS, done

    f, unnamed = frame_figures(run.stacks, "churnchild")
    total = f["named"] + f["unnamed"]
    print(f"churn: {done} {f} rss_kb {rss0}->{rss1} fds {fds0}->{fds1}")
    assert f["samples"] >= 100, f"too few churnchild samples: {f}\n{run.describe()}"
    assert f["hot"] >= 0.05 * f["samples"], f"fx_churn_burn rarely the leaf: {f}"
    assert f["named"] >= 0.99 * total, \
        f"only {f['named']} of {total} frames named: {f}\nunnamed: {unnamed}"
    assert rss1 - rss0 < 4096, f"agent RSS grew {rss0} -> {rss1} kB under churn"
    # Other processes on a busy host come and go: a few fds more is no leak,
    # one per exec (6000) would be. A file in use holds up to three (the
    # registry's, its symbol table's, its DWARF handle's), per identity the
    # binary had since the agent started: the count on churnchild must not grow.
    assert fds1[1] <= max(fds0[1], 3) and fds1[0] - fds0[0] <= 64, \
        f"agent fds grew {fds0} -> {fds1} (all, on churnchild) under churn"
    s = run.summary
    assert s is not None and int(s.fields.get("mmap_records", 0)) > done["spawned"], \
        run.describe()
    assert s.lost == 0 and int(s.fields["mmap_lost"]) == 0, run.describe()


def test_churn_without_mmap_events_is_what_it_fixes(ember, tmp_path):
    """The baseline the records fix: from /proc alone most frames are lost."""
    proc = Run(tmp_path, "--dry-run", "--window", 5, "--duration", 8, "--no-mmap-events")
    wait_attached(proc.proc)
    time.sleep(0.5)
    subprocess.run([str(FIXTURES / "churn"), "--rate", str(RATE), "--seconds", "4", "--ms", "1"],
                   stdout=subprocess.DEVNULL, timeout=40, check=True)
    run = proc.wait(40)
    assert run.returncode == 0, run.describe()
    f, _ = frame_figures(run.stacks, "churnchild")
    print(f"churn without mmap events: {f}")
    if f["samples"] < 50:
        pytest.skip(f"too few samples to compare: {f}")
    assert f["named"] < 0.5 * (f["named"] + f["unnamed"] + f["unknown"]), f
