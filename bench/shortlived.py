#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Cost and result of naming short-lived processes (issue 8, item 5).

Runs the churn fixture (500 exec/s of 1 ms processes, 60 s by default)
under ember --dry-run, with the side-band mmap records (default) and
without them (--no-mmap-events), and reports for each: the agent's CPU
(utime + stime over the churn), its RSS and fd count every 10 s, the
churn's own throughput, and the share of the short-lived processes' file
frames named. Run as root after `make`:
    bench/shortlived.py [--seconds 60] [--rate 500]
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
OUT = REPO / ".output"
CLK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    f = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()
    return (int(f[11]) + int(f[12])) / CLK


def rss_kb(pid):
    return int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{pid}/status").read())[1])


def one(args, extra):
    # stdout to a file: a pipe nobody drains would block the agent at
    # window end and lose samples.
    folded = open(f"/tmp/ember-shortlived-{os.getpid()}.folded", "w+")
    agent = subprocess.Popen([str(OUT / "ember"), "--dry-run", "--window", "15", "--duration",
                              str(args.seconds * 2 + 30), *extra], stdout=folded,
                             stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    c0 = cpu_s(agent.pid)
    churn = subprocess.Popen([str(OUT / "tests/fixtures/churn"), "--rate", str(args.rate),
                              "--seconds", str(args.seconds), "--ms", "1"],
                             stdout=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    points = []
    while churn.poll() is None:
        time.sleep(1)
        t = time.monotonic() - t0
        if not points or t - points[-1][0] >= 10:
            points.append((round(t), rss_kb(agent.pid), len(os.listdir(f"/proc/{agent.pid}/fd"))))
    c1 = cpu_s(agent.pid)
    wall = time.monotonic() - t0
    done = churn.stdout.read().strip()
    time.sleep(2)
    agent.send_signal(signal.SIGINT)
    _, err = agent.communicate(timeout=args.seconds + 60)
    folded.seek(0)
    out = folded.read()
    folded.close()
    os.unlink(folded.name)
    stacks = []
    for line in out.splitlines():
        head, _, n = line.rpartition(" ")
        parts = head.split(";")
        stacks.append(type("S", (), dict(comm=parts[0], frames=parts[1:], count=int(n))))
    import conftest
    sys.modules.setdefault("integration_helpers", conftest)
    from test_shortlived import frame_figures
    f, unnamed = frame_figures(stacks, "churnchild")
    total = f["named"] + f["unnamed"]
    summary = [l for l in err.splitlines() if "summary" in l]
    print(f"== ember {' '.join(extra) or '(mmap records on)'}")
    print(f"churn: {done}")
    print(f"agent cpu: {c1 - c0:.2f} s over {wall:.1f} s = {100 * (c1 - c0) / wall:.2f} % of a core")
    print(f"agent rss_kb/fds every 10 s: {points}")
    print(f"churnchild: {f}; named {100 * f['named'] / max(total, 1):.2f} % of file frames")
    print(summary[-1] if summary else "(no summary)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--rate", type=int, default=500)
    args = ap.parse_args()
    one(args, [])
    one(args, ["--no-mmap-events"])


if __name__ == "__main__":
    main()
