# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_names.py - a process with 100,000 mappings stays named; a comm that
is not UTF-8 is repaired in the folded output as in pprof."""
import subprocess
import sys

import pytest

import faultlib
from faultlib import make_receiver  # noqa: F401 (a fixture)

faultlib.require_root()

MAX_MAP_COUNT = "/proc/sys/vm/max_map_count"


@pytest.fixture
def max_map_count():
    with open(MAX_MAP_COUNT) as f:
        old = f.read().strip()
    with open(MAX_MAP_COUNT, "w") as f:
        f.write("262144")
    yield
    with open(MAX_MAP_COUNT, "w") as f:
        f.write(old)


def test_100k_mappings_named(max_map_count):
    mm = subprocess.Popen([str(faultlib.FIX / "manymaps"), "--maps", "100000"], stdout=subprocess.PIPE,
                          text=True)
    try:
        assert mm.stdout.readline().strip() == "ready"
        with open("/proc/%d/maps" % mm.pid) as f:
            assert sum(1 for _ in f) >= 100000
        run = faultlib.run_agent("--dry-run", duration=3, window=3, target=mm.pid)
    finally:
        mm.terminate()
        mm.wait(10)
    assert run.rc == 0, run
    s = run.summary
    assert s["maps_over_cap"] == 0, run
    assert s["named_pct"] >= 90, run
    spin = sum(int(l.rsplit(" ", 1)[1]) for l in run.out.splitlines() if ";fx_lib_spin" in l)
    assert spin >= 0.8 * s["samples"], (spin, run)


SPIN = r"""
import sys
with open("/proc/self/comm", "wb") as f:
    f.write(b"ab\xff\xfecd")
print("ready", flush=True)
x = 0
while True:
    x += 1
"""


def test_non_utf8_comm_repaired():
    p = subprocess.Popen([sys.executable, "-c", SPIN], stdout=subprocess.PIPE)
    try:
        assert p.stdout.readline().strip() == b"ready"
        split = faultlib.run_agent("--dry-run", duration=2, window=2, target=p.pid,
                                   stdout=subprocess.PIPE)
    finally:
        p.kill()
        p.wait()
    assert split.rc == 0, split
    lines = split.out.splitlines()
    assert lines and all(l.startswith("ab__cd;") for l in lines), lines[:3]
