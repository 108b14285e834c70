#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""flamegraph_bench.py - times the flame graph commands on bench/flamegraph_gen.py's
inputs: 3 runs each under /usr/bin/time -v, medians of wall time, CPU time
(user + system) and peak RSS, in a markdown table. Run by bench/flamegraph.sh."""
import argparse
import os
import platform
import re
import statistics
import subprocess
from pathlib import Path

BUDGET_S, BUDGET_MB = 2.0, 200


def timed(cmd, env=None):
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, env=env, timeout=1800)
    err = p.stderr.decode(errors="replace")
    if p.returncode not in (0, 1):   # ember diff exits 1 when a share grew
        raise SystemExit(f"bench: {' '.join(cmd)} failed ({p.returncode}):\n{err[-2000:]}")

    def field(name):
        return re.search(rf"{re.escape(name)}: (.+)", err).group(1).strip()

    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")
    wall_s = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
    cpu_s = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    rss_mb = int(field("Maximum resident set size (kbytes)")) / 1024
    return wall_s, cpu_s, rss_mb


def load():
    return open("/proc/loadavg").read().split()[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ember", required=True)
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--command", default="bench/flamegraph.sh")
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    d = a.dir
    go_env = dict(os.environ, HOME=str(d), GOFLAGS="-mod=mod")
    lines = sum(1 for _ in open(d / "before.folded", "rb"))
    size_mb = (d / "before.folded").stat().st_size / 2**20
    cases = [
        ("ember flamegraph (window series, each window sorted)",
         [a.ember, "flamegraph", "-o", str(d / "fg.svg"), str(d / "before.folded")], None),
        ("ember flamegraph (same lines, random order)",
         [a.ember, "flamegraph", "-o", str(d / "fg2.svg"), str(d / "shuffled.folded")], None),
        ("ember diff BEFORE AFTER -o diff.svg",
         [a.ember, "diff", str(d / "before.folded"), str(d / "after.folded"), "-o",
          str(d / "diff.svg")], None),
        ("ember flamegraph on the pprof",
         [a.ember, "flamegraph", "-o", str(d / "fg3.svg"), str(d / "before.pb.gz")], None),
        ("go tool pprof -svg on the pprof",
         ["go", "tool", "pprof", "-svg", "-output", str(d / "pprof.svg"), str(d / "before.pb.gz")],
         go_env),
    ]
    rows = []
    for name, cmd, env in cases:
        runs = [timed(cmd, env) for _ in range(a.reps)]
        med = [statistics.median(r[i] for r in runs) for i in range(3)]
        rows.append((name, med, load()))
        print(f"{name}: wall {med[0]:.2f} s, cpu {med[1]:.2f} s, peak RSS {med[2]:.0f} MB")
    svg_kb = (d / "fg.svg").stat().st_size / 1024
    text = [
        f"# Flame graph benchmark, {Path(a.out).stem.split('-', 2)[-1]}",
        "",
        f"Command: `{a.command}` (no root). Machine: {platform.node()}, {os.cpu_count()} CPUs, "
        f"kernel {platform.release()}.",
        "",
        f"Input (bench/flamegraph_gen.py, seed 11): {lines} folded lines, {size_mb:.0f} MB, "
        "60 000 unique stacks of 5-27 frames over 4 000 function names (C++, Go, Java, "
        "kernel), as a window series: 25 windows of 40 000 lines, each sorted as Ember's dry "
        "run prints it. AFTER: the same stacks, those through one function weighted 4x. "
        "The pprof holds BEFORE's stacks once each (what Ember or Go would write).",
        "",
        f"Median of {a.reps} runs; wall and CPU (user + system) time and peak RSS from "
        "`/usr/bin/time -v`. Budget: 1 M lines in under "
        f"{BUDGET_S:g} s and {BUDGET_MB} MB.",
        "",
        "| command | wall s | CPU s | peak RSS MB | load avg after |",
        "|---|---|---|---|---|",
    ]
    for name, med, ld in rows:
        text.append(f"| {name} | {med[0]:.2f} | {med[1]:.2f} | {med[2]:.0f} | {ld} |")
    text += ["", f"The flame graph SVG: {svg_kb:.0f} KB (frames under 0.1 px left out).", ""]
    a.out.write_text("\n".join(text))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
