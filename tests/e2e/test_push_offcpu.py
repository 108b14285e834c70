# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_push_offcpu.py - off-CPU profiles pushed to the strict receiver

Runs .output/ember --profiles cpu,off-cpu --server against the offcpu fixture
(a thread that blocks in a futex wait, a nanosleep and a pipe read) and
checks what the receiver accepted: the off-CPU profiles arrive as a series of
their own, __name__=off_cpu, sample type off_cpu/nanoseconds, their values the
time blocked, next to the CPU series; nothing is rejected.
"""
import json
import os
import signal
import subprocess
import time

import pytest

import receiver as rx
from e2e_paths import EMBER, OUTPUT

OFFCPU = os.path.join(OUTPUT, "tests", "fixtures", "offcpu")
WAITS = ("ox_wait_futex", "ox_sleep", "ox_read_pipe")

if os.geteuid() != 0:
    pytest.skip("SKIP: the agent e2e tests load BPF programs and need root", allow_module_level=True)
for _path in (EMBER, OFFCPU):
    if not os.access(_path, os.X_OK):
        pytest.skip("SKIP: %s missing: run `make` first" % _path, allow_module_level=True)


def test_offcpu_series_pushed(receiver):
    fx = subprocess.Popen([OFFCPU], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        time.sleep(0.3)
        t0 = time.monotonic()
        agent = subprocess.run([EMBER, "--pid", str(fx.pid), "--server", receiver.url,
                                "--profiles", "cpu,off-cpu", "--off-cpu-max-rate", "0",
                                "--window", "2", "--duration", "5"],
                               capture_output=True, text=True, timeout=60)
        wall = time.monotonic() - t0
    finally:
        fx.send_signal(signal.SIGTERM)
        truth = json.loads(fx.communicate(timeout=20)[0].strip().splitlines()[-1])
    assert agent.returncode == 0, agent.stderr[-3000:]
    profiles = receiver.snapshot()
    off = [p for p in profiles if p.labels.get("__name__") == "off_cpu"]
    assert off, "no off_cpu series among %s" % sorted({p.labels.get("__name__") for p in profiles})
    blocked = dict.fromkeys(WAITS, 0)
    for p in off:
        st = p.profile.string_table
        assert [(st[t.type], st[t.unit]) for t in p.profile.sample_type] == \
            [("off_cpu", "nanoseconds")]
        assert p.labels["service_name"] == "offcpu", p.labels
        for s in p.profile.sample:
            frames = set(rx.sample_frames(p.profile, s))
            for w in WAITS:
                if w in frames:
                    blocked[w] += s.value[0]
    total_s = sum(blocked.values()) / 1e9
    print(f"pushed off_cpu: {len(off)} profiles, {blocked}, {total_s:.3f} s in a {wall:.3f} s run")
    # The blocker waits all the time it is profiled.
    assert 3.0 <= total_s <= wall, f"{total_s:.3f} s blocked pushed for a {wall:.3f} s run"
    for w in WAITS:
        assert blocked[w] > 0, f"{w} missing: {blocked}; fixture measured {truth['blocked_ns']}"
    # CPU series stay what they were.
    for p in profiles:
        if p.labels.get("__name__") != "off_cpu":
            assert p.labels["__name__"] == "process_cpu", p.labels
