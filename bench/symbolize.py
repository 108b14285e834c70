#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""symbolize.py - what naming frames costs: first symbolization of the
largest library installed, peak agent RSS, and steady agent CPU with
--lines on and off (root).

Targets: a process spinning in the largest shared library found (libLLVM:
ctypes calls LLVMContextCreate/Dispose in a loop), plus the language
fixtures (C++, Rust, Go stripped and not, inlined C). Per configuration one
Ember run, --dry-run --window W --duration 3W, with:
- first-window delay: when the first window's folded text reaches stdout,
  minus when that window ended (attach + W): the symbolization and output
  of a window whose files were all new (cold caches);
- later-window delays (warm caches);
- peak RSS (VmHWM) and steady RSS (VmRSS at the end);
- agent CPU % of one core over the run.
Usage: bench/symbolize.py [--window 5] [--lib PATH]
"""
import argparse
import glob
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = Path(os.environ.get("EMBER_OUTPUT", REPO / ".output"))
FIX = OUT / "tests" / "fixtures"
SPIN = """
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.LLVMContextCreate.restype = ctypes.c_void_p
lib.LLVMContextDispose.argtypes = [ctypes.c_void_p]
while True:
    lib.LLVMContextDispose(lib.LLVMContextCreate())
"""


def cpu_ns(pid):
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            total += int(open(f"/proc/{pid}/task/{t}/schedstat").read().split()[0])
        except (OSError, ValueError):
            pass
    return total


def status(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) // 1024  # MB
    return 0


def perf_fds(pid):
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:[perf_event]"
        except OSError:
            pass
    return n


def run(pids, window, extra):
    args = [str(OUT / "ember"), "--dry-run", "--window", str(window), "--duration",
            str(3 * window), *extra]
    for p in pids:
        args += ["--pid", str(p)]
    ag = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    outputs = []  # time each window's text began

    def reader():
        last = 0.0
        for _ in ag.stdout:
            t = time.monotonic()
            if t - last > 1.0:
                outputs.append(t)
            last = t
    th = threading.Thread(target=reader, daemon=True)
    th.start()
    while perf_fds(ag.pid) == 0:
        time.sleep(0.01)
    attached = time.monotonic()
    c0 = cpu_ns(ag.pid)
    hwm = rss = 0
    while ag.poll() is None:
        try:
            hwm = max(hwm, status(ag.pid, "VmHWM"))
            rss = status(ag.pid, "VmRSS")
            c1, t1 = cpu_ns(ag.pid), time.monotonic()
        except (OSError, ValueError):
            break
        time.sleep(0.1)
    th.join(5)
    delays = [t - (attached + (i + 1) * window) for i, t in enumerate(outputs)]
    cpu = 100.0 * (c1 - c0) / 1e9 / (t1 - attached)
    return delays, hwm, rss, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--lib", default=None)
    a = ap.parse_args()
    lib = a.lib or max(glob.glob("/usr/lib/x86_64-linux-gnu/libLLVM*.so*"),
                       key=os.path.getsize, default=None)
    if not lib:
        sys.exit("no libLLVM found: apt-get install llvm (or pass --lib)")
    procs = [subprocess.Popen(["/usr/bin/python3", "-c", SPIN, lib])]
    procs += [subprocess.Popen([str(FIX / n)]) for n in
              ("hxpoly", "hxrust", "hxgo", "hxgostrip", "hxinline")]
    time.sleep(1.0)
    try:
        print(f"library: {lib} ({os.path.getsize(lib) / 1e6:.0f} MB); window {a.window} s")
        print("| run | first window delay s | later delays s | peak RSS MB | end RSS MB"
              " | agent CPU % |")
        print("|---|---|---|---|---|---|")
        for name, extra in (("default", []), ("--lines", ["--lines"]),
                            ("--no-demangle", ["--no-demangle"])):
            d, hwm, rss, cpu = run([p.pid for p in procs], a.window, extra)
            later = ", ".join(f"{x:.2f}" for x in d[1:])
            print(f"| {name} | {d[0]:.2f} | {later} | {hwm} | {rss} | {cpu:.2f} |"
                  if d else f"| {name} | no output | | {hwm} | {rss} | {cpu:.2f} |")
    finally:
        for p in procs:
            p.kill()
            p.wait()


if __name__ == "__main__":
    main()
