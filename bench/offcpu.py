#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""offcpu.py - what off-CPU profiles cost on a host doing ~50,000 context switches a second.

The workload is the pingpong fixture (tests/fixtures/pingpong.c): two threads
passing a byte over pipes, paced to --rate round trips a second (each is two
context switches). For each configuration, in rotating order over --reps
repetitions, the workload runs alone for a second, then Ember starts (host-wide,
--dry-run to /dev/null); once Ember has loaded, the figures are taken over a
steady interval of --seconds:

- host switches/s: the `ctxt` line of /proc/stat over the interval;
- agent CPU, % of one core: the agent process's CPU time (all threads,
  /proc/PID/task/*/schedstat) over the interval;
- BPF, % of one core: run_time_ns of each of the agent's BPF programs (found
  through its fds' fdinfo prog_id), from `bpftool prog show id N --json`,
  over the interval (needs kernel.bpf_stats_enabled=1: bench/offcpu.sh);
- BPF ns/event: run_time_ns / run_cnt of the program, per configuration's
  busiest program (prof_switch with off-CPU on: it runs on every switch);
- total = agent + BPF, and the off-CPU cost = total(cpu,off-cpu) minus
  total(cpu), against the budget: within 1 % of a core at 50k switches/s.

With --build LABEL=OUTPUT_DIR (another build's output directory, e.g.
before=<main's>; repeatable), each configuration runs with every such build
and with this tree's ("NAME@after") in the same rotation, so they are compared
over the same stretch of a shared machine's noise; each build's "vs cpu" is
against its own cpu run.

Prints a markdown report and writes it to bench/results-<UTC date>-offcpu.md.
Root, kernel BTF and bpftool needed.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUTPUT = Path(os.environ.get("EMBER_OUTPUT", REPO / ".output"))
EMBER = OUTPUT / "ember"
PINGPONG = OUTPUT / "tests" / "fixtures" / "pingpong"

# Names without commas (--configs splits on them); all sample CPU too.
# offcpu is the default (--off-cpu-max-rate 50); offcpu-rate200 keeps four
# times as many (the default before 2026-12-02); offcpu-all keeps every
# switch-out (no bound); offcpu-none keeps almost none: the per-switch floor.
CONFIGS = {
    "cpu": ["--profiles", "cpu"],
    "offcpu": ["--profiles", "cpu,off-cpu"],
    "offcpu-rate200": ["--profiles", "cpu,off-cpu", "--off-cpu-max-rate", "200"],
    "offcpu-all": ["--profiles", "cpu,off-cpu", "--off-cpu-max-rate", "0"],
    "offcpu-none": ["--profiles", "cpu,off-cpu", "--off-cpu-sample", "1000000"],
}
DEFAULT_CONFIGS = ("cpu", "offcpu", "offcpu-rate200", "offcpu-all", "offcpu-none")


def host_ctxt():
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("ctxt "):
                return int(line.split()[1])
    raise RuntimeError("no ctxt line in /proc/stat")


def proc_cpu_ns(pid):
    total = 0
    for p in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(p) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def prog_ids(pid):
    ids = set()
    for p in glob.glob(f"/proc/{pid}/fdinfo/*"):
        try:
            with open(p) as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


def prog_stats(ids):
    """{id: (name, run_time_ns, run_cnt)}"""
    out = {}
    for i in ids:
        r = subprocess.run(["bpftool", "prog", "show", "id", str(i), "--json"],
                           capture_output=True, text=True)
        if r.returncode:
            continue
        j = json.loads(r.stdout)
        out[i] = (j.get("name", "?"), j.get("run_time_ns", 0), j.get("run_cnt", 0))
    return out


def run_one(name, args, opts, ember=EMBER):
    wl = subprocess.Popen([str(PINGPONG), "--rate", str(opts.rate)], stdout=subprocess.PIPE,
                          text=True)
    time.sleep(1.0)
    agent = subprocess.Popen([str(ember), "--dry-run", "--window", "15", *args],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        # Loading, verifying and reading kallsyms: not in the figures.
        time.sleep(opts.settle)
        if agent.poll() is not None:
            raise RuntimeError(f"ember exited: {agent.stderr.read()}")
        ids = prog_ids(agent.pid)
        t0, c0, a0, p0 = time.monotonic(), host_ctxt(), proc_cpu_ns(agent.pid), prog_stats(ids)
        time.sleep(opts.seconds)
        t1, c1, a1, p1 = time.monotonic(), host_ctxt(), proc_cpu_ns(agent.pid), prog_stats(ids)
    finally:
        agent.send_signal(signal.SIGINT)
        _, err = agent.communicate(timeout=60)
        wl.send_signal(signal.SIGTERM)
        wl_out, _ = wl.communicate(timeout=30)
    dt = t1 - t0
    progs = {}
    for i, (pname, rt, rc) in p1.items():
        if i in p0:
            progs[pname] = (rt - p0[i][1], rc - p0[i][2])
    bpf_ns = sum(rt for rt, _ in progs.values())
    busiest = max(progs.items(), key=lambda kv: kv[1][1], default=(None, (0, 0)))
    summary = next((l for l in err.splitlines() if "summary" in l), "")
    oc = " ".join(kv for kv in summary.split() if kv.startswith("off_cpu_"))
    return {
        "config": name,
        "switches_s": (c1 - c0) / dt,
        "agent_pct": 100.0 * (a1 - a0) / 1e9 / dt,
        "bpf_pct": 100.0 * bpf_ns / 1e9 / dt,
        "busiest": busiest[0],
        "busiest_ns": busiest[1][0] / busiest[1][1] if busiest[1][1] else 0.0,
        "busiest_runs_s": busiest[1][1] / dt,
        "progs": {k: (v[0] / v[1] if v[1] else 0.0, v[1] / dt) for k, v in progs.items()},
        "workload": json.loads(wl_out.strip().splitlines()[-1]),
        "offcpu": oc,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=int, default=25000,
                    help="pingpong round trips a second (two switches each; default 25000)")
    ap.add_argument("--seconds", type=float, default=15.0, help="measured interval per run")
    ap.add_argument("--settle", type=float, default=4.0, help="seconds before measuring")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--configs", help="comma-separated subset of: " + ", ".join(CONFIGS))
    ap.add_argument("--out", help="report path (default bench/results-<date>-offcpu.md)")
    ap.add_argument("--build", action="append", default=[], metavar="LABEL=DIR",
                    help="another build's output dir: run each configuration with it too "
                    "(NAME@LABEL) next to this tree's (NAME@after); repeatable")
    opts = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("offcpu.py: needs root (BPF); run bench/offcpu.sh with sudo")
    for p in (EMBER, PINGPONG):
        if not p.exists():
            sys.exit(f"offcpu.py: {p} missing: run make first")
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        if f.read().strip() != "1":
            print("offcpu.py: kernel.bpf_stats_enabled is 0: BPF figures will be 0; "
                  "use bench/offcpu.sh", file=sys.stderr)

    configs = opts.configs.split(",") if opts.configs else list(DEFAULT_CONFIGS)
    builds = {"": EMBER}
    if opts.build:
        builds = {}
        for b in opts.build:
            label, _, d = b.partition("=")
            if not label or not d or not (Path(d) / "ember").exists():
                sys.exit(f"offcpu.py: --build {b}: want LABEL=DIR with DIR/ember")
            builds["@" + label] = Path(d) / "ember"
        builds["@after"] = EMBER
    names = [c + b for c in configs for b in builds]
    runs = []
    for rep in range(opts.reps):
        order = names[rep % len(names):] + names[:rep % len(names)]
        for name in order:
            config, _, build = name.partition("@")
            r = run_one(name, CONFIGS[config], opts, builds["@" + build if build else ""])
            r["rep"] = rep + 1
            runs.append(r)
            print(f"rep {rep + 1} {name}: {r['switches_s']:.0f} switches/s, agent "
                  f"{r['agent_pct']:.3f} %, BPF {r['bpf_pct']:.3f} %, {r['busiest']} "
                  f"{r['busiest_ns']:.0f} ns x {r['busiest_runs_s']:.0f}/s {r['offcpu']}",
                  file=sys.stderr)

    def med(name, key):
        return statistics.median(r[key] for r in runs if r["config"] == name)

    rows = []
    for name in names:
        total = med(name, "agent_pct") + med(name, "bpf_pct")
        rows.append((name, med(name, "switches_s"), med(name, "agent_pct"), med(name, "bpf_pct"),
                     total, med(name, "busiest_ns"),
                     next(r["busiest"] for r in runs if r["config"] == name)))
    # "vs cpu": against the first configuration's run of the same build.
    base = {}
    for row in rows:
        config, _, build = row[0].partition("@")
        if config == configs[0]:
            base[build] = row[4]
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    now = datetime.datetime.now(datetime.timezone.utc)
    lines = [
        f"## Off-CPU cost, {now:%Y-%m-%d %H:%M} UTC",
        "",
        f"- machine: {platform.node()}, kernel {platform.release()}, {os.cpu_count()} CPUs; "
        f"load average at the end {os.getloadavg()[0]:.1f} (shared with other work)",
        f"- workload: `pingpong --rate {opts.rate}` (two threads over pipes, paced), "
        f"host-wide switches/s from /proc/stat",
        f"- ember {commit}: `ember --dry-run --window 15 >/dev/null` plus each configuration's "
        f"options; medians of {opts.reps} rotating runs, {opts.seconds:g} s measured each after "
        f"{opts.settle:g} s",
        f"- command: `sudo bench/offcpu.sh --reps {opts.reps} --seconds {opts.seconds:g}"
        f"{''.join(' --build ' + b for b in opts.build)}` "
        f"(kernel.bpf_stats_enabled=1 for the run)",
        "",
        "| configuration | host switches/s | agent CPU, % of a core | BPF, % of a core | total, % of a core | vs cpu, points | busiest program, ns/run |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, sw, ag, bpf, total, ns, prog in rows:
        lines.append(f"| {name} | {sw:.0f} | {ag:.3f} | {bpf:.3f} | {total:.3f} | "
                     f"{total - base.get(name.partition('@')[2], total):+.3f} | {prog} {ns:.0f} |")
    lines += ["", "Per run:", "",
              "| rep | configuration | switches/s | agent % | BPF % | programs (ns/run x runs/s) | off-CPU counters |",
              "|---:|---|---:|---:|---:|---|---|"]
    for r in runs:
        progs = ", ".join(f"{k} {v[0]:.0f} x {v[1]:.0f}" for k, v in sorted(r["progs"].items()))
        lines.append(f"| {r['rep']} | {r['config']} | {r['switches_s']:.0f} | "
                     f"{r['agent_pct']:.3f} | {r['bpf_pct']:.3f} | {progs} | {r['offcpu']} |")
    report = "\n".join(lines) + "\n"
    print(report)
    out = Path(opts.out) if opts.out else REPO / "bench" / f"results-{now:%Y-%m-%d}-offcpu.md"
    out.write_text(report)
    print(f"written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
