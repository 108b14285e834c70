# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Two builds of Ember side by side: the agent's CPU, peak RSS and BPF time
per sample of a BEFORE build and an AFTER build, attached at once.

Run apart, one build's figures swing more from run to run on a VM than a
refactor changes them. Attached together to the same workload (split, one
busy thread per CPU), both see the same interval, timer interrupts and
neighbours, so the per-run ratios AFTER/BEFORE are what to read; their
medians are printed. Each agent is host-wide, 100 Hz, --dry-run to
/dev/null. Root and kernel.bpf_stats_enabled=1 (bench/builds_paired.sh
sets it).

    sudo bench/builds_paired.sh BEFORE_OUTPUT_DIR [RUNS] [SECONDS]
"""
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead import bpf_stats, cpu_seconds, perf_events_held, prog_ids, vm_hwm_mb  # noqa: E402

AFTER = Path(os.environ.get("EMBER_OUTPUT", Path(__file__).resolve().parents[1] / ".output"))
STEADY_FROM = 5.0


def start(out, seconds):
    return subprocess.Popen([str(out / "ember"), "--dry-run", "--window", "15", "--duration",
                             str(seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def attached(p):
    t0 = time.monotonic()
    while not perf_events_held(p.pid):
        if p.poll() is not None or time.monotonic() - t0 > 60:
            sys.exit("bench: an agent did not attach")
        time.sleep(0.05)


def one_run(before, seconds):
    agents = {"before": start(before, seconds + 2), "after": start(AFTER, seconds + 2)}
    for p in agents.values():
        attached(p)
    work = subprocess.Popen([str(AFTER / "tests" / "fixtures" / "split"), "--threads",
                             str(os.cpu_count()), "--seconds", str(seconds)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(STEADY_FROM)
    ids = {k: prog_ids(p.pid) for k, p in agents.items()}
    c0 = {k: cpu_seconds(p.pid) for k, p in agents.items()}
    b0 = {k: bpf_stats(ids[k]) for k in agents}
    t0 = time.monotonic()
    time.sleep(seconds - STEADY_FROM - 0.5)
    span = time.monotonic() - t0
    fig = {}
    for k, p in agents.items():
        b1 = bpf_stats(ids[k])
        cnt = b1[1] - b0[k][1]
        fig[k] = {"cpu_pct": 100.0 * (cpu_seconds(p.pid) - c0[k]) / span,
                  "rss_mb": vm_hwm_mb(p.pid),
                  "bpf_ns": (b1[0] - b0[k][0]) / cnt if cnt else float("nan"),
                  "samples": cnt}
    work.wait()
    for p in agents.values():
        p.wait()
    return fig


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    before = Path(sys.argv[1]).resolve()
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    rows = []
    for r in range(runs):
        f = one_run(before, seconds)
        rows.append(f)
        print(f"run {r + 1}: " + "  ".join(
            f"{k}: cpu {v['cpu_pct']:.3f}% rss {v['rss_mb']:.1f} MB bpf {v['bpf_ns']:.0f} ns "
            f"(n={v['samples']})" for k, v in f.items()), flush=True)
    print(f"\nmedians over {runs} paired runs of {seconds} s (split on {os.cpu_count()} CPUs):")
    print("| figure | before | after | after/before (median of per-run ratios) |")
    print("|---|---:|---:|---:|")
    for key, unit in (("cpu_pct", "% of a core"), ("rss_mb", "MB"), ("bpf_ns", "ns/sample")):
        b = statistics.median(x["before"][key] for x in rows)
        a = statistics.median(x["after"][key] for x in rows)
        ratio = statistics.median(x["after"][key] / x["before"][key] for x in rows)
        print(f"| {key} ({unit}) | {b:.3f} | {a:.3f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
