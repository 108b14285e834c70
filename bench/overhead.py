# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Overhead of Ember next to perf record and bpftrace, with both CPUs busy.

Run through bench/run.sh (root, kernel.bpf_stats_enabled=1). Each run starts
the profiler, waits until it holds its perf events, then runs
`split --threads N --seconds S` (one busy thread per CPU) and measures:

  cpu_pct      CPU time of the profiler process (all threads, schedstat ns)
               from t=5 s to t=S-0.5 s of the fixture, as % of one core
               (steady state: start-up excluded, window flushes included);
  us_sample    that CPU time divided by the samples its BPF program ran for
               over the same interval (agent time per sample, all in);
  bpf_ns       run_time_ns / run_cnt of the profiler's perf_event program over
               the same interval (bpftool prog show --json);
  rss_mb       VmHWM of the profiler process at the end of the run;
  post_s       CPU seconds to name and write the data after the run: perf
               script over perf.data, bpftrace's map print at exit, Ember's
               last window and exit;
  throughput   the fixture's iterations per wall second, from its JSON line,
               and per CPU second it got (per_cpu_s: what a busy neighbour
               does not change, cache and interrupt costs included);
  other_pct    CPU the rest of the machine used meanwhile (/proc/stat minus
               fixture and profiler): a busy neighbour invalidates the run.

Configurations alternate (rotated order every repetition) and each figure is
the median over the repetitions. Prints the markdown report and writes it to
--out.
"""
import argparse
import datetime
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUTPUT = Path(os.environ.get("EMBER_OUTPUT", REPO / ".output")).resolve()
EMBER = OUTPUT / "ember"
SPLIT = OUTPUT / "tests" / "fixtures" / "split"
BPFTRACE_PROG = "profile:hz:100 { @[kstack, ustack, pid] = count(); }"
CLK_TCK = os.sysconf("SC_CLK_TCK")
STEADY_FROM = 5.0  # seconds into the fixture run


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def cpu_seconds(pid):
    """CPU time of every thread of pid, seconds: schedstat's ns, summed over
    /proc/PID/task (utime+stime in /proc/PID/stat tick at only 10 ms)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # the thread just exited
    return total / 1e9


def machine_busy_seconds():
    """CPU seconds the whole machine spent busy so far (/proc/stat)."""
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal guest guest_nice
    return (sum(cpu[:8]) - cpu[3] - cpu[4]) / CLK_TCK


def wait_quiet(limit_pct, max_wait):
    """Waits until the rest of the machine is idle (busy below limit_pct of
    all CPUs over a second); returns the busy % last seen."""
    t_end = time.monotonic() + max_wait
    while True:
        b0, t0 = machine_busy_seconds(), time.monotonic()
        time.sleep(1.0)
        pct = 100.0 * (machine_busy_seconds() - b0) / ((time.monotonic() - t0) * os.cpu_count())
        if pct <= limit_pct or time.monotonic() > t_end:
            return pct
        log(f"machine busy {pct:.1f} % before the run: waiting")


def vm_hwm_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def fd_links(pid):
    out = {}
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                out[fd] = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                pass
    except OSError:
        pass
    return out


def perf_events_held(pid):
    return sum(1 for v in fd_links(pid).values() if v == "anon_inode:[perf_event]")


def prog_ids(pid):
    """ids of the BPF programs pid holds (prog and link fds' fdinfo)."""
    ids = set()
    for fd, target in fd_links(pid).items():
        if not target.startswith("anon_inode:bpf"):
            continue
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


def perf_event_progs():
    """{id: (run_time_ns, run_cnt)} of every loaded perf_event BPF program."""
    out = subprocess.run(["bpftool", "prog", "show", "--json"], capture_output=True, text=True)
    if out.returncode:
        return {}
    return {p["id"]: (p.get("run_time_ns", 0), p.get("run_cnt", 0))
            for p in json.loads(out.stdout) if p.get("type") == "perf_event"}


def profiler_progs(pid, before):
    """The profiler's perf_event programs: those whose fds it holds, else (a
    tool may close them once attached, as bpftrace does) those that appeared
    since `before` was taken."""
    progs = perf_event_progs()
    ids = prog_ids(pid) & progs.keys()
    return ids or (progs.keys() - before)


def bpf_stats(ids):
    """(run_time_ns, run_cnt) summed over ids, or None."""
    if not ids:
        return None
    progs = perf_event_progs()
    found = [progs[i] for i in ids if i in progs]
    if not found:
        return None
    return sum(f[0] for f in found), sum(f[1] for f in found)


def profiler_cmd(config, seconds, tmp):
    if config == "ember":
        return [str(EMBER), "--dry-run", "--window", "15"]
    if config == "perf":
        # Stopped with SIGINT once the fixture is done, as `-- sleep` would.
        return ["perf", "record", "-F", "100", "-a", "-g", "-q", "-o", str(tmp / "perf.data"),
                "--", "sleep", str(seconds + 60)]
    if config == "bpftrace":
        return ["bpftrace", "-e", BPFTRACE_PROG]
    return None


def wait_attached(proc, timeout=60.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"profiler exited early with {proc.returncode}")
        if perf_events_held(proc.pid) > 0:
            return time.monotonic() - t0
        time.sleep(0.05)
    raise RuntimeError("profiler never opened perf events")


def sleep_until(t):
    d = t - time.monotonic()
    if d > 0:
        time.sleep(d)


def one_run(config, seconds, threads):
    """Runs one configuration once; returns a dict of figures."""
    res = {"config": config}
    before = set(perf_event_progs())
    with tempfile.TemporaryDirectory(prefix="ember-bench-") as tmpdir:
        tmp = Path(tmpdir)
        cmd = profiler_cmd(config, seconds, tmp)
        prof = None
        err_path = tmp / "profiler.stderr"
        if cmd:
            with open(err_path, "w") as err:
                prof = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err,
                                        start_new_session=True)
            res["attach_s"] = wait_attached(prof)
            time.sleep(1.0)  # past start-up
        pid = prof.pid if prof else None
        ids = profiler_progs(pid, before) if pid else set()

        fx = subprocess.Popen([str(SPLIT), "--threads", str(threads), "--seconds", str(seconds)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        t_start = time.monotonic()
        sleep_until(t_start + STEADY_FROM)
        b0 = bpf_stats(ids)
        c0 = cpu_seconds(pid) if pid else None
        f0, m0 = cpu_seconds(fx.pid), machine_busy_seconds()
        t0 = time.monotonic()
        sleep_until(t_start + seconds - 0.5)
        t1 = time.monotonic()
        f1, m1 = cpu_seconds(fx.pid), machine_busy_seconds()
        c1 = cpu_seconds(pid) if pid else None
        b1 = bpf_stats(ids)
        out, _ = fx.communicate(timeout=seconds + 30)
        truth = json.loads(out.strip().splitlines()[-1])
        res["throughput"] = truth["iterations"] / (truth["wall_ns"] / 1e9)
        res["per_cpu_s"] = truth["iterations"] / (truth["process_cpu_ns"] / 1e9)
        # Share of the machine the fixture got, and what everything else
        # (not fixture, not profiler) used: a noisy neighbour shows here.
        ncpu = os.cpu_count()
        res["fixture_pct"] = 100.0 * (f1 - f0) / ((t1 - t0) * threads)
        res["other_pct"] = 100.0 * ((m1 - m0) - (f1 - f0) - ((c1 - c0) if pid else 0)) / (
            (t1 - t0) * ncpu)

        if prof:
            res["cpu_pct"] = 100.0 * (c1 - c0) / (t1 - t0)
            if b0 and b1 and b1[1] > b0[1]:
                res["bpf_ns"] = (b1[0] - b0[0]) / (b1[1] - b0[1])
                res["us_sample"] = 1e6 * (c1 - c0) / (b1[1] - b0[1])
            res["rss_mb"] = vm_hwm_mb(pid)
            c_end = cpu_seconds(pid)
            t_sig = time.monotonic()
            prof.send_signal(signal.SIGINT)
            # wait4 gives the CPU the profiler used up to its very end.
            _, status, ru = os.wait4(prof.pid, 0)
            prof.returncode = os.waitstatus_to_exitcode(status)
            res["exit_s"] = time.monotonic() - t_sig
            res["post_s"] = ru.ru_utime + ru.ru_stime - c_end
            if config == "perf":
                t = time.monotonic()
                with open(os.devnull, "w") as null:
                    script = subprocess.Popen(["perf", "script", "-i", str(tmp / "perf.data")],
                                              stdout=null, stderr=subprocess.DEVNULL)
                    _, status, ru = os.wait4(script.pid, 0)
                res["post_s"] += ru.ru_utime + ru.ru_stime
                res["script_wall_s"] = time.monotonic() - t
                res["data_mb"] = (tmp / "perf.data").stat().st_size / 1e6
            if config == "ember":
                for line in err_path.read_text(errors="replace").splitlines():
                    if line.startswith("ember: summary "):
                        res["summary"] = line[len("ember: summary "):]
            # perf record ends its `sleep` with SIGTERM and reports that.
            if prof.returncode not in (0, -signal.SIGINT, -signal.SIGTERM, 130):
                log(f"{config} exited with {prof.returncode}: "
                    f"{err_path.read_text(errors='replace')[-500:]}")
    return res


def med(runs, key):
    vals = [r[key] for r in runs if key in r]
    return statistics.median(vals) if vals else None


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def report(results, args, started):
    base = med(results["baseline"], "throughput") if "baseline" in results else None
    base_eff = med(results["baseline"], "per_cpu_s") if "baseline" in results else None
    lines = []
    lines.append(f"## Overhead, {started:%Y-%m-%d %H:%M} UTC\n")
    lines.append(f"- machine: {platform.node()}, kernel {platform.release()}, "
                 f"{os.cpu_count()} CPUs, {cpu_model()}")
    lines.append(f"- workload: `split --threads {args.threads} --seconds {args.seconds}` "
                 f"(every CPU busy), medians of {args.reps} alternating runs per configuration")
    lines.append(f"- ember {git_rev()}: `ember --dry-run --window 15 >/dev/null` (host-wide, "
                 "100 Hz); perf: `perf record -F 100 -a -g` then `perf script >/dev/null`; "
                 f"bpftrace: `bpftrace -e '{BPFTRACE_PROG}'`")
    lines.append(f"- tools: {tool_version(['perf', '--version'])}, "
                 f"{tool_version(['bpftrace', '--version'])}")
    lines.append(f"- command: `{args.command}`\n")
    lines.append("| configuration | profiler CPU, % of one core | agent us/sample | "
                 "BPF ns/sample | peak RSS MB | post-processing CPU s | "
                 "fixture iterations/s | vs baseline | iterations per fixture CPU s | "
                 "vs baseline | others, % of machine |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for config in args.configs:
        runs = results.get(config, [])
        thr = med(runs, "throughput")
        ratio = f"{100.0 * thr / base:.2f} %" if thr and base else "n/a"
        eff = med(runs, "per_cpu_s")
        eff_ratio = f"{100.0 * eff / base_eff:.2f} %" if eff and base_eff else "n/a"
        lines.append(f"| {config} | {fmt(med(runs, 'cpu_pct'), '.3f')} | "
                     f"{fmt(med(runs, 'us_sample'), '.1f')} | {fmt(med(runs, 'bpf_ns'), '.0f')} | "
                     f"{fmt(med(runs, 'rss_mb'), '.1f')} | {fmt(med(runs, 'post_s'), '.2f')} | "
                     f"{fmt(thr, '.1f')} | {ratio} | {fmt(eff, '.1f')} | {eff_ratio} | "
                     f"{fmt(med(runs, 'other_pct'), '.1f')} |")
    lines.append("\nPer run:\n")
    lines.append("| run | configuration | CPU % | us/sample | BPF ns | RSS MB | post s | "
                 "iterations/s | fixture got % of its CPUs | others used % of machine | notes |")
    lines.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results["_order"]:
        notes = []
        if "summary" in r:
            notes.append(r["summary"])
        if "data_mb" in r:
            notes.append(f"perf.data {r['data_mb']:.1f} MB, perf script {r['script_wall_s']:.2f} s")
        lines.append(f"| {r['run']} | {r['config']} | {fmt(r.get('cpu_pct'), '.3f')} | "
                     f"{fmt(r.get('us_sample'), '.1f')} | {fmt(r.get('bpf_ns'), '.0f')} | "
                     f"{fmt(r.get('rss_mb'), '.1f')} | {fmt(r.get('post_s'), '.2f')} | "
                     f"{r['throughput']:.1f} | {r['fixture_pct']:.1f} | {r['other_pct']:.1f} | "
                     f"{'; '.join(notes)} |")
    return "\n".join(lines) + "\n"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def tool_version(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return f"{cmd[0]} (unknown version)"


def git_rev():
    out = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True)
    rev = out.stdout.strip() or "(no commit)"
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain"],
                           capture_output=True, text=True).stdout.strip()
    return rev + ("+dirty" if dirty else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--configs", default="baseline,ember,perf,bpftrace")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--command", default=" ".join(sys.argv))
    ap.add_argument("--quiet-pct", type=float, default=3.0,
                    help="wait before each run until the machine is busier than this %% no more")
    ap.add_argument("--quiet-wait", type=float, default=120.0,
                    help="seconds to wait for quiet before running anyway")
    args = ap.parse_args()
    args.configs = args.configs.split(",")
    if args.seconds <= STEADY_FROM + 5:
        ap.error(f"--seconds must exceed {STEADY_FROM + 5:.0f}")

    started = datetime.datetime.now(datetime.timezone.utc)
    results = {"_order": []}
    run_no = 0
    for rep in range(args.reps):
        k = rep % len(args.configs)
        for config in args.configs[k:] + args.configs[:k]:
            run_no += 1
            log(f"run {run_no}: {config} (repetition {rep + 1}/{args.reps})")
            busy = wait_quiet(args.quiet_pct, args.quiet_wait)
            r = one_run(config, args.seconds, args.threads)
            r["run"] = run_no
            r["busy_before_pct"] = busy
            log("  " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                 for k, v in r.items() if k not in ("config", "run")))
            results.setdefault(config, []).append(r)
            results["_order"].append(r)
    text = report(results, args, started)
    print(text)
    if args.out:
        args.out.write_text(text)
        log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
