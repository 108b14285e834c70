#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""unwind.py - what CFI unwinding in BPF costs (issue 9); run by bench/unwind.sh

1. BPF time per sample on a ~30-frame stack, paired in one run: Ember with
   CFI tables (--unwind cfi), Ember walking frame pointers (--unwind fp) and
   bpftrace's profile:hz with ustack, all attached at once to the same two
   busy processes (one per CPU), so every round shares its interrupts and
   noise. kernel.bpf_stats_enabled run_time_ns / run_cnt per program, told
   apart by the pid that owns it; medians over rounds.
2. Agent CPU and RSS, and the unwind maps' kernel memory (bpftool
   bytes_memlock), host-wide with the polyglot fixtures and a process that
   maps the largest library on the host.
3. The workload's throughput (split's iterations) without and with Ember.
4. New binaries: fresh copies (new inodes, so nothing cached) of a
   no-frame-pointer program run D ms each while Ember runs; the share of
   their samples whose stack reaches _start, by D.
"""
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = Path(os.environ.get("EMBER_OUTPUT", HERE.parent / ".output")).resolve()
EMBER = OUT / "ember"
FIX = OUT / "tests" / "fixtures"
ENTRIES = {"_start", "__libc_start_call_main", "start_thread", "clone3", "__clone3"}
HOT_PY = "def hot(n):\n s=0\n for i in range(n): s+=i*i\n return s\nwhile True: hot(100000)\n"


def fdinfos(pid, kind):
    """fdinfo fields of pid's anon_inode:bpf-<kind> fds (bpftool here may not
    name the owning processes; the fds do)."""
    res = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") != f"anon_inode:bpf-{kind}":
                continue
            info = dict(l.split(":", 1) for l in open(f"/proc/{pid}/fdinfo/{fd}") if ":" in l)
        except OSError:
            continue
        res.append({k.strip(): v.strip() for k, v in info.items()})
    return res


def prog_stats(pid):
    """(run_time_ns, run_cnt) summed over pid's perf_event programs (type 7)."""
    t = c = 0
    seen = set()
    for i in fdinfos(pid, "prog"):
        if i.get("prog_type") == "7" and i.get("prog_id") not in seen:
            seen.add(i.get("prog_id"))
            t += int(i.get("run_time_ns", 0))
            c += int(i.get("run_cnt", 0))
    return t, c


def maps_of(pid):
    """[{name, bytes_memlock}] of the maps pid holds."""
    res, seen = [], set()
    for i in fdinfos(pid, "map"):
        mid = i.get("map_id")
        if mid in seen:
            continue
        seen.add(mid)
        out = subprocess.run(["bpftool", "map", "show", "id", mid, "--json"],
                             capture_output=True, text=True).stdout
        try:
            m = json.loads(out)
        except ValueError:
            continue
        res.append({"name": m.get("name", ""), "bytes_memlock": int(i.get("memlock", 0))})
    return res


def start(*argv, **kw):
    return subprocess.Popen([str(a) for a in argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, **kw)


def ember(*args, stdout=subprocess.DEVNULL):
    return subprocess.Popen([str(EMBER), "--dry-run", "--no-jvm", "--window", "600",
                             *map(str, args)], stdout=stdout, stderr=subprocess.PIPE, text=True)


def wait_attached(p, timeout=30):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if p.poll() is not None:
            sys.exit(f"bench: ember exited: {p.stderr.read()[-2000:]}")
        fds = os.listdir(f"/proc/{p.pid}/fd")
        for fd in fds:
            try:
                if "perf_event" in os.readlink(f"/proc/{p.pid}/fd/{fd}"):
                    return
            except OSError:
                pass
        time.sleep(0.05)
    sys.exit("bench: ember did not attach")


def stop(p, sig=signal.SIGINT, timeout=60):
    if p.poll() is None:
        p.send_signal(sig)
    try:
        return p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.communicate()


def summary(stderr):
    for line in stderr.splitlines():
        if line.startswith("ember: summary "):
            return dict(kv.split("=", 1) for kv in line.split()[2:])
    return {}


def folded(text):
    for line in text.splitlines():
        head, _, count = line.rpartition(" ")
        parts = head.split(";")
        yield parts[0], parts[1:], int(count)


def paired(rounds, secs, mode):
    """Section 1. mode: the unwind_fp workload ("deep 28": recursion, each
    frame the same function; "chain": 30 distinct functions)."""
    print(f"## BPF time per sample, paired ({rounds} rounds of {secs} s), "
          f"unwind_fp {' '.join(map(str, mode))}\n")
    ncpu = os.cpu_count() or 1
    rows = []
    for r in range(rounds):
        work = [start(FIX / "unwind_fp", *mode) for _ in range(ncpu)]
        pids = [w.pid for w in work]
        pidargs = [a for p in pids for a in ("--pid", p)]
        cfi = ember("--frequency", 499, *pidargs, stdout=subprocess.PIPE)
        fp = ember("--frequency", 499, "--unwind", "fp", *pidargs)
        cond = " || ".join(f"pid == {p}" for p in pids)
        bt = start("bpftrace", "-e", f"profile:hz:499 /{cond}/ {{ @[ustack] = count(); }}")
        wait_attached(cfi)
        wait_attached(fp)
        time.sleep(3)  # tables compiled, bpftrace attached
        who = (("cfi", cfi.pid), ("fp", fp.pid), ("bpftrace", bt.pid))
        s0 = {pid: prog_stats(pid) for _, pid in who}
        time.sleep(secs)
        s1 = {pid: prog_stats(pid) for _, pid in who}
        stop(bt)
        ocfi = stop(cfi)
        stop(fp)
        for w in work:
            w.kill()
            w.wait()
        row = {}
        for name, pid in who:
            if not s1[pid][1]:
                sys.exit(f"bench: no perf_event program run for {name} (pid {pid})")
            dt, dc = s1[pid][0] - s0[pid][0], s1[pid][1] - s0[pid][1]
            row[name] = dt / dc if dc else float("nan")
            row[name + "_n"] = dc
        depth = []
        for _, fr, count in folded(ocfi[0] or ""):
            depth += [len([f for f in fr if not f.endswith("_[k]")])] * count
        rows.append(row)
        print(f"round {r + 1}: cfi {row['cfi']:.0f} ns (n={row['cfi_n']}), fp {row['fp']:.0f} ns "
              f"(n={row['fp_n']}), bpftrace {row['bpftrace']:.0f} ns (n={row['bpftrace_n']}); "
              f"cfi/fp {row['cfi'] / row['fp']:.2f}, cfi/bpftrace {row['cfi'] / row['bpftrace']:.2f}; "
              f"median user frames {statistics.median(depth) if depth else 0}")
    med = {k: statistics.median(r[k] for r in rows) for k in ("cfi", "fp", "bpftrace")}
    rfp = statistics.median(r["cfi"] / r["fp"] for r in rows)
    rbt = statistics.median(r["cfi"] / r["bpftrace"] for r in rows)
    print(f"\nmedian ns/sample: cfi {med['cfi']:.0f}, fp {med['fp']:.0f}, bpftrace "
          f"{med['bpftrace']:.0f}; median ratio cfi/fp {rfp:.2f} (budget <= 2), "
          f"cfi/bpftrace {rbt:.2f}\n")
    return rfp


def largest_library():
    best, size = None, 0
    for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib", "/usr/local/lib"):
        for root, _, files in os.walk(d):
            for f in files:
                if ".so" not in f:
                    continue
                p = os.path.join(root, f)
                try:
                    st = os.stat(p)
                except OSError:
                    continue
                if st.st_size > size and not os.path.islink(p):
                    best, size = p, st.st_size
    return best, size


def host(secs):
    """Section 2."""
    print(f"## Agent CPU, RSS and unwind map memory, host-wide, {secs} s\n")
    lib, size = largest_library()
    loads = [
        [FIX / "hxpoly"], [FIX / "hxrust"], [FIX / "unwind_nofp", "hot"],
        ["/usr/bin/python3", "-c", HOT_PY],
    ]
    if (FIX / "hxgo").exists():
        loads.append([FIX / "hxgo"])
    big = f"import ctypes\nctypes.CDLL({lib!r})\n" + HOT_PY
    work = [start(*w) for w in loads] + [start("/usr/bin/python3", "-c", big)]
    p = ember("--frequency", 99)
    wait_attached(p)
    t0 = time.monotonic()
    cpu0 = cpu_s(p.pid)
    time.sleep(secs)
    cpu1 = cpu_s(p.pid)
    wall = time.monotonic() - t0
    rss, hwm = status_kb(p.pid, "VmRSS"), status_kb(p.pid, "VmHWM")
    maps = maps_of(p.pid)
    _, err = stop(p)
    for w in work:
        w.kill()
        w.wait()
    s = summary(err)
    unwind = [m for m in maps if m.get("name", "").startswith("unwind")]
    by = {}
    for m in unwind:
        by[m["name"]] = by.get(m["name"], 0) + m.get("bytes_memlock", 0)
    total = sum(by.values())
    print(f"largest library: {lib} ({size / 1e6:.0f} MB), mapped by a python3 process")
    print(f"agent CPU {100 * (cpu1 - cpu0) / wall:.2f} % of one CPU over {wall:.0f} s; "
          f"RSS {rss / 1024:.1f} MB (peak {hwm / 1024:.1f} MB; budget < 30 MB)")
    for name, b in sorted(by.items()):
        print(f"  {name}: {b / 1048576:.2f} MiB memlock")
    # The tables themselves are inner maps the store holds only through
    # unwind_tables (it closes their fds): its own count of their bytes.
    total += int(s.get("unwind_table_bytes", 0))
    print(f"unwind maps total {total / 1048576:.1f} MiB (the maps above + the tables) "
          f"(budget < 64 MB); store: "
          f"tables={s.get('unwind_tables')} table_bytes={s.get('unwind_table_bytes')} "
          f"compiles={s.get('unwind_compiles')} too_big={s.get('unwind_too_big')} "
          f"evictions={s.get('unwind_evictions')}; samples={s.get('samples')} "
          f"cfi_frames={s.get('unwind_cfi_frames')}\n")


def cpu_s(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def status_kb(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def throughput(pairs, secs):
    """Section 3."""
    print(f"## Workload throughput without and with Ember ({pairs} pairs of {secs} s)\n")
    ncpu = os.cpu_count() or 1

    def one(with_agent):
        p = ember() if with_agent else None
        if p:
            wait_attached(p)
            time.sleep(2)
        out = subprocess.run([str(FIX / "split"), "--threads", str(ncpu), "--seconds", str(secs)],
                             capture_output=True, text=True, check=True).stdout
        if p:
            stop(p)
        return json.loads(out.strip().splitlines()[-1])["iterations"]
    diffs = []
    for i in range(pairs):
        a, b = (one(False), one(True)) if i % 2 == 0 else tuple(reversed((one(True), one(False))))
        diffs.append(100 * (b - a) / a)
        print(f"pair {i + 1}: without {a}, with {b} iterations: {diffs[-1]:+.2f} %")
    print(f"\nmean {statistics.mean(diffs):+.2f} %, sd {statistics.pstdev(diffs):.2f} points "
          f"(the noise between runs)\n")


def fresh(durations, copies):
    """Section 4."""
    print(f"## New binaries: share of samples reaching _start, by run time "
          f"({copies} fresh copies each, 999 Hz)\n")
    tmp = Path(tempfile.mkdtemp(prefix="uwb"))
    p = ember("--frequency", 999, stdout=subprocess.PIPE)
    wait_attached(p)
    # Host-wide, the agent first compiles every file the host's processes
    # run (libLLVM takes seconds): wait until it is idle (under 5 % of a CPU
    # over a second), so a new binary's compile is all that is measured.
    t0 = time.monotonic()
    last = cpu_s(p.pid)
    while time.monotonic() - t0 < 120:
        time.sleep(1)
        now = cpu_s(p.pid)
        if now - last < 0.05:
            break
        last = now
    print(f"(agent idle {time.monotonic() - t0:.0f} s after attaching)")
    names = {}
    try:
        for d in durations:
            for i in range(copies):
                name = f"f{d}_{i}"
                dst = tmp / name
                shutil.copy2(FIX / "unwind_nofp", dst)
                names[name] = d
                subprocess.run([str(dst), "hot", str(d)], stdout=subprocess.DEVNULL, check=True)
        out, err = stop(p)
    finally:
        shutil.rmtree(tmp)
    got = {d: [0, 0] for d in durations}
    for comm, frames, count in folded(out):
        if comm in names:
            got[names[comm]][0] += count
            if ENTRIES & set(frames):
                got[names[comm]][1] += count
    for d in durations:
        n, ok = got[d]
        print(f"{d:>5} ms: {ok} of {n} samples complete ({100 * ok / n if n else 0:.0f} %)")
    print()


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    if os.geteuid() != 0:
        sys.exit("bench: needs root")
    old = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
    open("/proc/sys/kernel/bpf_stats_enabled", "w").write("1")
    try:
        print(f"# bench/unwind.sh on {os.uname().release}, {os.cpu_count()} CPUs, "
              f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
        only = sys.argv[2].split(",") if len(sys.argv) > 2 else ["bpf", "host", "tput", "fresh"]
        if "bpf" in only:
            paired(rounds, 10, ("chain",))
            paired(rounds, 10, ("deep", 28))
        if "host" in only:
            host(30)
        if "tput" in only:
            throughput(4, 8)
        if "fresh" in only:
            fresh([20, 50, 200, 1000], 5)
    finally:
        open("/proc/sys/kernel/bpf_stats_enabled", "w").write(old)


if __name__ == "__main__":
    main()
