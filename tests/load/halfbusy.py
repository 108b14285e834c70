#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""halfbusy.py - keep one CPU about half busy, to run the tests under load.

Pinned to --cpu (default 1), it spins for --spin-ms of its own CPU time, then
sleeps for --sleep-ms, forever (or --seconds), so the profiled fixtures share
that CPU with it the way they would share a production host with a neighbour. With --jitter J each
spin and sleep is drawn uniformly from [ms*(1-J), ms*(1+J)]: same mean duty,
no fixed period. On SIGTERM/SIGINT it prints the duty cycle it achieved.

    tests/load/halfbusy.py &            # 5 ms on, 5 ms off, on CPU 1
    make test-under-load                # `make test` with this running
"""
import argparse
import os
import random
import signal
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cpu", type=int, default=1)
    ap.add_argument("--spin-ms", type=float, default=5.0)
    ap.add_argument("--sleep-ms", type=float, default=5.0)
    ap.add_argument("--jitter", type=float, default=0.0)
    ap.add_argument("--seconds", type=float, default=0, help="0: until SIGTERM/SIGINT")
    a = ap.parse_args()
    cpus = os.sched_getaffinity(0)
    cpu = a.cpu if a.cpu in cpus else max(cpus)
    os.sched_setaffinity(0, {cpu})

    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(1))

    def draw(ms):
        return ms * (1 + random.uniform(-a.jitter, a.jitter)) / 1000.0

    t0 = time.monotonic()
    c0 = time.process_time()
    print(f"halfbusy: pid={os.getpid()} cpu={cpu} spin_ms={a.spin_ms} sleep_ms={a.sleep_ms} "
          f"jitter={a.jitter}", file=sys.stderr, flush=True)
    while not stop and (not a.seconds or time.monotonic() - t0 < a.seconds):
        # Spin on this thread's CPU clock: preempted, it still takes its half.
        end = time.thread_time() + draw(a.spin_ms)
        while time.thread_time() < end:
            pass
        time.sleep(draw(a.sleep_ms))
    wall = time.monotonic() - t0
    print(f"halfbusy: {100.0 * (time.process_time() - c0) / wall:.1f} % of CPU {cpu} "
          f"over {wall:.1f} s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
