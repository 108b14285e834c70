# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_accounting.py - every window ends once: delivered, failed, dropped
or abandoned, under a server that never answers, answers slowly, fails
half the time, and a queue of 2. The identity holds; exit code 3 when any
window did not arrive."""
import faultlib
from faultlib import make_receiver  # noqa: F401 (a fixture)

faultlib.require_root()


def push_parts(run):
    return faultlib.assert_identity(run.summary, "push")


def test_server_never_answers(make_receiver):
    r = make_receiver()
    r.set_mode("blackhole")
    run = faultlib.run_agent("--server", r.url, "--timeout", "1", "--max-retries", "1", duration=4)
    parts = push_parts(run)
    assert run.rc == 3, run
    assert parts["delivered"] == 0 and run.summary["windows_push"] >= 3, run
    assert parts["failed"] >= 1 and parts["abandoned"] >= 1, run
    # Every request given up is counted under its reason.
    assert run.summary["push_failed_timeout"] == run.summary["push_failed"] >= 1, run
    assert any("timed out" in l for l in run.lines("warn")), run
    assert any("abandoned" in l for l in run.lines("warn")), run


def test_server_answers_slowly(make_receiver):
    """One byte a second: the total timeout cuts it, and it costs no CPU."""
    r = make_receiver()
    r.set_mode("trickle")
    run = faultlib.run_agent("--server", r.url, "--timeout", "1.5", "--max-retries", "0",
                             duration=4)
    parts = push_parts(run)
    assert run.rc == 3, run
    assert parts["delivered"] == 0 and parts["failed"] >= 1, run
    assert any("timed out" in l.lower() or "timeout" in l for l in run.lines("warn")), run
    assert run.cpu_s < 0.25 * run.elapsed, run


def test_server_fails_half_the_time(make_receiver):
    r = make_receiver()
    r.set_mode("flaky")
    run = faultlib.run_agent("--server", r.url, "--max-retries", "0", duration=6)
    parts = push_parts(run)
    assert run.rc == 3, run
    assert parts["delivered"] >= 2 and parts["failed"] >= 2, run
    assert run.summary["push_failed_server"] == run.summary["push_failed"], run
    assert len(r.snapshot()) == run.summary["push_ok"] == parts["delivered"], run


def test_server_fails_half_the_time_retries_deliver_all(make_receiver):
    r = make_receiver()
    r.set_mode("flaky")
    run = faultlib.run_agent("--server", r.url, duration=4)
    parts = push_parts(run)
    assert run.rc == 0, run
    assert parts["delivered"] == run.summary["windows_push"] >= 3, run


def test_queue_of_two(make_receiver):
    """Each request takes 2 s, a window comes every second: the queue of 2
    drops the oldest, and what is left at exit is abandoned."""
    r = make_receiver()
    r.hang_next(2, count=1000)
    run = faultlib.run_agent("--server", r.url, "--queue-size", "2", duration=6)
    parts = push_parts(run)
    assert run.rc == 3, run
    assert parts["dropped"] >= 1 and parts["delivered"] >= 1, run
    assert parts["dropped"] == run.summary["push_dropped"], run
    assert any("queue full" in l for l in run.lines("warn")), run
