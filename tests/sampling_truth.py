# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""sampling_truth.py - what a CPU-clock sampler should have counted, and how far off it may be.

Shared by tests/integration and tests/e2e (each conftest puts tests/ on
sys.path). Two parts:

Timeline follows a fixture's CPU time and run slices (/proc schedstat) and
whether the agent holds its perf events, so the CPU the fixture used while the
agent was sampling is known within a bracket, however busy the machine is.

The tolerances model the sample counts, so they hold at the n a run got and
not only at the n one quiet machine gives:

- A share (a function's fraction of a process's samples) is a binomial
  proportion: each sample lands in the function with probability p, the true
  share measured by the fixture itself. Its standard error is
  sqrt(p(1-p)/n); the tolerance is the design budget or Z standard errors,
  whichever is larger. samples_for_share() is the n at which the statistical
  term fits in the budget, the n a truth test should collect.

- A count (a process's samples vs frequency x its CPU seconds) is not
  binomial over the timer ticks. The CPU-clock event fires every 1/f s on each
  CPU and samples whatever runs there; the process runs in slices (from being
  switched in until it is switched out). A slice of L seconds holds
  floor(L f) or floor(L f) + 1 ticks depending on its phase against the
  timer, a Bernoulli with variance r(1-r) <= min(1/4, L f), r the fractional
  part of L f. Summed over k slices holding E = f x CPU seconds in all, the
  variance is at most k h(E/k), h(q) = q(1-q) below 1/2 and 1/4 above
  (h is concave). A process alone on a CPU runs in a few long slices: its
  count is exact to a sample or two. One that shares a CPU with a 5 ms
  on/5 ms off neighbour runs in slices shorter than the 10 ms period: the
  variance approaches E, twice what a binomial over the ticks with
  p = CPU share would say. The tolerance is the design budget (3 %) or Z
  standard deviations, whichever is larger. The model takes each slice's
  phase against the timer as random; a period that shares a small multiple
  with the scheduler tick (100 Hz and HZ=250 meet every 20 ms) can lock it
  on a crowded CPU, so the truth tests sample at 97 Hz.

Z = 3.5 makes a false alarm about 1 in 2000 per compared figure when the
statistical term decides, and rarer when the budget does.
"""
import bisect
import math
import os
import random
import signal
import threading
import time
from collections import namedtuple

Z = 3.5


def share_tolerance(p, n, budget):
    """Allowed |measured - true| share, in points, for a true share p (0..1)
    over n samples: the budget, or Z binomial standard errors if larger."""
    if n <= 0:
        return math.inf
    return max(budget, Z * 100.0 * math.sqrt(p * (1.0 - p) / n))


def samples_for_share(budget, p=0.5):
    """Samples needed for Z standard errors of a share p to fit in budget
    points (p = 0.5 is the worst case, so it holds for any split)."""
    return math.ceil((Z * 100.0) ** 2 * p * (1.0 - p) / budget ** 2)


def count_sd(expected, slices):
    """Upper bound on the standard deviation of a sample count whose mean is
    `expected`, collected over `slices` run slices (see the module doc)."""
    if expected <= 0 or slices <= 0:
        return 0.0
    q = expected / slices
    return math.sqrt(slices * (q * (1.0 - q) if q < 0.5 else 0.25))


def count_tolerance(expected, slices, budget=0.03):
    """Allowed |count - expected|: budget x expected, or Z count_sd if larger."""
    return max(budget * expected, Z * count_sd(expected, slices))


def schedstat(pid):
    """(ns on a CPU, ns runnable waiting for one, run slices) summed over every
    thread of pid, or None if gone. /proc/PID/schedstat is the leader thread
    only, so the tasks are summed; its third field counts switches in."""
    cpu = wait = slices = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                fields = f.read().split()
            cpu += int(fields[0])
            wait += int(fields[1])
            slices += int(fields[2])
        except (OSError, ValueError, IndexError):
            pass  # a thread that just exited
    return cpu, wait, slices


def process_cpu_ns(pid):
    """CPU ns of every thread of pid (schedstat, ns precision), or None if gone."""
    st = schedstat(pid)
    return None if st is None else st[0]


def perf_event_fds(pid):
    """How many perf event fds pid holds (0 when gone)."""
    n = 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:[perf_event]":
                    n += 1
            except OSError:
                pass
    except OSError:
        pass
    return n


# What a run should have counted: lo..hi samples (the sampled interval is only
# known within a bracket), over `slices` run slices, with the CPU seconds and
# wall seconds behind hi, for messages.
Expected = namedtuple("Expected", "lo hi slices cpu_s wall_s")


class Timeline:
    """Polls a target's CPU time and run slices and, once told the agent's pid
    (set .agent before the agent attaches), whether the agent holds perf
    events, on CLOCK_MONOTONIC. stop_agent() signals the agent and notes when,
    so a run stopped by a signal is bounded as well as one stopped by
    --duration.

    It polls every `fast` s where the bounds need it (until the agent has
    attached, and near the end of its run) and every `slow` s on average, at
    random intervals, in between: the poller is load on the machine it
    measures, and a periodic one (every 20 ms, twice per 100 Hz period) is
    the kind of neighbour that skewed split's shares before split stopped
    reading its CPU clock through the scheduler (see split.c)."""

    def __init__(self, target_pid, fast=0.02, slow=0.3, agent=None, duration=None):
        self.target = target_pid
        self.agent = agent
        self.duration = duration  # the agent's --duration, to poll fast near its end
        self.fast, self.slow = fast, slow
        self._lock = threading.Lock()
        self.points = []        # (t, target cpu ns, wait ns, slices)
        self.polls = []         # (t, agent holds perf events) once .agent is set
        self.signalled = None   # when stop_agent() sent its signal
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _poll(self):
        with self._lock:
            t = time.monotonic()
            st = schedstat(self.target)
            if st is not None:
                self.points.append((t, *st))
            if self.agent is not None:
                self.polls.append((t, perf_event_fds(self.agent) > 0))

    def _run(self):
        while not self._stop.is_set():
            self._poll()
            now = time.monotonic()
            since = self.attached_at()
            ending = self.signalled is not None or (
                self.duration and since and now + 2 * self.slow >= since + self.duration)
            if since is not None and self.polls[-1][1] and not ending:
                self._wake.wait(random.uniform(0.5, 1.5) * self.slow)
                self._wake.clear()
            else:
                self._stop.wait(self.fast)

    def stop(self):
        """Stops polling, after one last poll (the agent has exited by now)."""
        self._stop.set()
        self._wake.set()
        self._thread.join()
        self._poll()

    def stop_agent(self, sig=signal.SIGINT):
        self._poll()  # a reading right before the end
        self.signalled = time.monotonic()
        os.kill(self.agent, sig)
        self._wake.set()

    def cpu_s(self):
        """Target CPU seconds so far (the latest poll)."""
        return self.points[-1][1] / 1e9 if self.points else 0.0

    def _at(self, t, col):
        """Column col of the target's readings at time t, interpolated."""
        pts = self.points
        assert pts, "no CPU readings of the target"
        i = bisect.bisect_left(pts, (t,))
        if i == 0 or i == len(pts):
            return pts[min(i, len(pts) - 1)][col]
        (t0, v0), (t1, v1) = (pts[i - 1][0], pts[i - 1][col]), (pts[i][0], pts[i][col])
        return v0 + (v1 - v0) * (t - t0) / (t1 - t0) if t1 > t0 else v1

    def cpu_at(self, t):
        """Target CPU ns at time t, interpolated between polls."""
        return self._at(t, 1)

    def cpu_between(self, t0, t1):
        """Target CPU seconds between t0 and t1."""
        return (self.cpu_at(t1) - self.cpu_at(t0)) / 1e9

    def slices_between(self, t0, t1):
        """Target run slices between t0 and t1."""
        return self._at(t1, 3) - self._at(t0, 3)

    def attached_at(self):
        """When the agent was first seen holding perf events, or None."""
        return next((t for t, on in self.polls if on), None)

    def sampled_bounds(self, duration=None):
        """((start_lo, start_hi), (end_lo, end_hi)): the agent's samples cover
        [start, end] with start and end inside these brackets.

        Start: it samples from attaching (its perf events appear), between
        the last poll without them and the first with them. End: its last
        ring buffer poll, after the stop signal (or --duration s after it
        started, which is after attaching) and before it closes its perf
        events. What it samples between its last poll and exit is dropped."""
        duration = duration or self.duration
        polls = self.polls
        first = next((i for i, (_, on) in enumerate(polls) if on), None)
        assert first is not None, "never saw the agent holding perf events"
        assert first > 0, "the agent was attached at the first poll: set .agent before it starts"
        last = max(i for i, (_, on) in enumerate(polls) if on)
        assert last + 1 < len(polls), "the agent still held perf events when the timeline stopped"
        start = (polls[first - 1][0], polls[first][0])
        end_hi = polls[last + 1][0]
        ends = [t for t in (self.signalled, duration and start[0] + duration) if t]
        assert ends, "neither a signal nor a --duration ended the run"
        return start, (min(min(ends), end_hi), end_hi)

    def _reading(self, t, after):
        """The first reading at or after t (after=True), or the last at or
        before t: a bracket built from these holds whatever the CPU did
        between polls."""
        pts = self.points
        i = bisect.bisect_left(pts, (t,)) if after else bisect.bisect_right(pts, (t, math.inf)) - 1
        return pts[max(0, min(i, len(pts) - 1))]

    def expected(self, freq, duration=None):
        """Expected for frequency x the CPU the target used while sampled:
        lo from the readings inside the shortest interval the samples may
        cover, hi from those around the longest."""
        (s_lo, s_hi), (e_lo, e_hi) = self.sampled_bounds(duration)
        inner = (self._reading(s_hi, True), self._reading(e_lo, False))
        outer = (self._reading(s_lo, False), self._reading(e_hi, True))
        cpu_lo = max(0, inner[1][1] - inner[0][1]) / 1e9 if inner[1][0] > inner[0][0] else 0.0
        cpu_hi = (outer[1][1] - outer[0][1]) / 1e9
        slices = outer[1][3] - outer[0][3]
        return Expected(freq * cpu_lo, freq * cpu_hi, slices, cpu_hi, outer[1][0] - outer[0][0])


def check_count(got, exp, budget=0.03):
    """(ok, detail): is a count of `got` samples within count_tolerance of
    the Expected bracket? The detail states the figures and the model."""
    lo = exp.lo - count_tolerance(exp.lo, exp.slices, budget)
    hi = exp.hi + count_tolerance(exp.hi, exp.slices, budget)
    mid = (exp.lo + exp.hi) / 2
    off = 100.0 * (got - mid) / mid if mid else math.inf
    detail = (f"samples={got} expected={exp.lo:.0f}..{exp.hi:.0f} ({off:+.2f} %), allowed "
              f"{lo:.0f}..{hi:.0f} (max({100 * budget:g} %, {Z} sd), sd<={count_sd(exp.hi, exp.slices):.1f} "
              f"over {exp.slices:.0f} run slices); {exp.cpu_s:.3f} CPU s in {exp.wall_s:.3f} s")
    return lo <= got <= hi, detail
