# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_fds.py - the agent's fds follow the files in use, not the files seen

The agent keeps an fd per mapped file that samples touch, released when the
last reference goes. Under process churn (a CI host running freshly built
binaries, each with its own build-id) nothing may keep fds of files whose
processes are gone: they would pile up with every new binary and pin the
disk space of deleted files. Each process here runs its own copy of uselib
and libfxlib.so (a distinct build-id each), busy in the library so both are
symbolized; after they exited and were deleted and a few windows passed, no
fd of the agent may point at them.
"""
import os
import shutil
import signal
import subprocess
import time

import faultlib as fl

fl.require_root()

USELIB = str(fl.FIX / "uselib")
LIB = str(fl.FIX / "libfxlib.so")
COPIES = 16


def build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        if "Build ID:" in line:
            return bytes.fromhex(line.split(":", 1)[1].strip())
    raise AssertionError("no build-id in " + path)


def copy_with_id(src, dst, i):
    """src with its build-id replaced: a file the agent has never seen."""
    data = open(src, "rb").read()
    old = build_id(src)
    assert data.count(old) == 1
    new = (b"%08x" % (0xfd000000 + i * 7919 + os.getpid()))[:8] + old[8:]
    new = bytes.fromhex(new[:8].decode()) + old[4:]
    with open(dst, "wb") as f:
        f.write(data.replace(old, new))
    os.chmod(dst, 0o755)


def agent_fds(pid):
    d = "/proc/%d/fd" % pid
    out = []
    for n in os.listdir(d):
        try:
            out.append(os.readlink(os.path.join(d, n)))
        except OSError:
            pass
    return out


def test_fds_of_gone_files_are_released(tmp_path):
    agent = subprocess.Popen([fl.EMBER, "--dry-run", "--window", "1", "--frequency", "199",
                              "--duration", "60"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2)
        base = len(agent_fds(agent.pid))
        dirs = []
        for i in range(COPIES):
            d = tmp_path / ("c%d" % i)
            d.mkdir()
            copy_with_id(USELIB, str(d / "uselib"), 2 * i)
            copy_with_id(LIB, str(d / "libfxlib.so"), 2 * i + 1)
            dirs.append(d)
        peak = base
        for k in range(0, COPIES, 4):
            procs = [subprocess.Popen([str(d / "uselib"), "--seconds", "1"],
                                      stdout=subprocess.DEVNULL) for d in dirs[k:k + 4]]
            for p in procs:
                p.wait(30)
            peak = max(peak, len(agent_fds(agent.pid)))
        for d in dirs:
            shutil.rmtree(d)
        time.sleep(4)  # a few windows: the window's references and the process go
        left = [t for t in agent_fds(agent.pid) if str(tmp_path) in t]
        now = len(agent_fds(agent.pid))
        assert peak > base, "the copies were never opened: base=%d peak=%d" % (base, peak)
        assert not left, "fds of gone files still open (base=%d peak=%d now=%d): %s" % (
            base, peak, now, left)
    finally:
        agent.send_signal(signal.SIGTERM)
        _, err = agent.communicate(timeout=30)
    s = fl.parse_summary(err)
    assert int(s["samples"]) > 0
