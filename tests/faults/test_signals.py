# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_signals.py - a signal at any moment ends in a summary, never a death

SIGTERM/SIGINT at once (during start-up), SIGHUP (logged and ignored without
--config; tests/e2e/test_config.py reloads a file), SIGUSR1 (ends the window now).

A signal that comes before the handlers exist (while ld.so maps the 38
shared libraries, about 10-20 ms after exec) still has the default action:
no code of Ember runs yet. The tests send theirs from the moment
/proc/PID/status shows the handler installed (SigCgt), which is the
first thing main() does, and so cover everything Ember itself does at
start-up (BPF load, symbol tables).
"""
import signal
import subprocess
import time

import pytest

import faultlib
from faultlib import make_receiver  # noqa: F401 (a fixture)

faultlib.require_root()


def wait_handler(pid, sig, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/%d/status" % pid) as f:
            cgt = next(int(l.split()[1], 16) for l in f if l.startswith("SigCgt:"))
        if cgt & (1 << (sig - 1)):
            return
        time.sleep(0.0005)
    raise AssertionError("no handler for signal %d after %ss" % (sig, timeout))


@pytest.mark.parametrize("sig,delay", [(signal.SIGTERM, 0), (signal.SIGINT, 0.02),
                                       (signal.SIGTERM, 0.3)])
def test_stop_signal_during_start_gives_summary(sig, delay, tmp_path):
    def during(agent):
        wait_handler(agent.pid, sig)
        time.sleep(delay)
        agent.send_signal(sig)

    run = faultlib.run_agent("--dry-run", "--output-dir", tmp_path, duration=None, window=15,
                             during=during, timeout=30)
    assert run.rc == 0, run
    assert run.summary["windows"] >= 0
    assert not run.lines("error"), run


def test_sighup_logged_and_ignored():
    def during(agent):
        time.sleep(1.5)
        agent.send_signal(signal.SIGHUP)

    run = faultlib.run_agent("--dry-run", duration=3, window=1, during=during)
    assert run.rc == 0, run
    assert any("SIGHUP ignored" in l for l in run.lines("warn")), run
    assert run.summary["windows"] >= 2 and run.summary["samples"] > 0, run


def test_sigusr1_writes_the_window_now(tmp_path):
    """A 60 s window: the files SIGUSR1 asked for are there before the end."""
    seen = {}

    def during(agent):
        time.sleep(2)
        agent.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not list(tmp_path.glob("*.pb.gz")):
            time.sleep(0.1)
        seen["files"] = list(tmp_path.glob("*.pb.gz"))
        agent.send_signal(signal.SIGTERM)

    run = faultlib.run_agent("--output-dir", tmp_path, duration=None, window=60, during=during,
                             timeout=40)
    assert run.rc == 0, run
    assert seen["files"], run
    s = run.summary
    # The early window, then the last one at SIGTERM.
    assert s["windows"] == 2 and s["delivered_files"] == s["windows_files"] >= 1, run
