#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""cgroups.py - agent CPU and RSS with a node's worth of pods (cgroup v2 hierarchies)

Makes --pods pod cgroups in the three shapes of tests/e2e/test_cgroup_labels.py
(systemd driver + containerd, cgroupfs driver, systemd driver + CRI-O), one
container cgroup each with one busy `split` process in it (so every CPU is
busy and every sample belongs to a container), runs the agent host-wide,
pushing to the strict receiver with /metrics on, and reports its CPU (% of
one core, from t=5 s to the end, all threads), peak RSS, the distinct
container ids that arrived and the cgroup cache's counters. Budgets
(DESIGN.md): 0.5 % of a core, 30 MB. Needs root; removes what it made.

    sudo /usr/bin/python3 bench/cgroups.py --pods 200 --seconds 60
"""

import argparse
import datetime
import os
import resource
import signal
import subprocess
import sys
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
sys.path.insert(0, os.path.join(REPO, "bench"))
import receiver as rx  # noqa: E402
from kubepods import Tree, move  # noqa: E402
from overhead import cpu_seconds, vm_hwm_mb  # noqa: E402

EMBER = os.path.join(REPO, ".output", "ember")
SPLIT = os.path.join(REPO, ".output", "tests", "fixtures", "split")


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


SHAPES = ("containerd", "cgroupfs", "crio")


def metric(base, name):
    with urllib.request.urlopen(base + "/metrics", timeout=5) as r:
        body = r.read().decode()
    out = {}
    for line in body.splitlines():
        if line.startswith(name):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=200)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--window", type=int, default=15)
    ap.add_argument("--port", type=int, default=4197)
    ap.add_argument("--ember", default=EMBER, help="the agent binary (e.g. a sanitized build)")
    ap.add_argument("--outside", action="store_true",
                    help="the baseline: the same processes left outside the cgroups")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: needs root")
    tree = Tree()
    if tree.root is None:
        sys.exit("bench: no cgroup v2 mount")
    procs, ids = [], set()
    recv = rx.Receiver().start()
    agent = None
    try:
        for i in range(args.pods):
            d, _, _, cid = tree.container(SHAPES[i % len(SHAPES)])
            # Niced: the machine is shared; the CPUs are busy all the same.
            p = subprocess.Popen(["nice", "-n", "19", SPLIT, "--threads", "1", "--seconds", "0"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if not args.outside:
                move(d, p.pid)
            procs.append(p)
            ids.add(cid)
        log("%d pods made, one busy process each" % args.pods)
        base = "http://127.0.0.1:%d" % args.port
        agent = subprocess.Popen([args.ember, "--server", recv.url, "--window", str(args.window),
                                  "--http-listen", "127.0.0.1:%d" % args.port],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                 preexec_fn=lambda: resource.setrlimit(
                                     resource.RLIMIT_CORE, (resource.RLIM_INFINITY,) * 2))
        t0 = time.monotonic()
        time.sleep(5)
        c0 = cpu_seconds(agent.pid)
        t1 = time.monotonic()
        time.sleep(max(1, args.seconds - 5.5))
        c1 = cpu_seconds(agent.pid)
        t2 = time.monotonic()
        hwm = vm_hwm_mb(agent.pid)
        cache = metric(base, "ember_cgroup_cache")
        rss_now = metric(base, "ember_resident_memory_bytes")
        samples = metric(base, "ember_samples_total")
        agent.send_signal(signal.SIGTERM)
        _, err = agent.communicate(timeout=60)
        elapsed = time.monotonic() - t0
    except Exception:
        if agent:
            if agent.poll() is None:
                agent.send_signal(signal.SIGTERM)
            _, err = agent.communicate(timeout=60)
            log("agent exit %s, stderr tail:\n%s" % (agent.returncode,
                                                   "\n".join(err.splitlines()[-15:])))
        raise
    finally:
        if agent and agent.poll() is None:
            agent.kill()
        # All killed first, then reaped: niced on a busy machine, each takes
        # a while to be scheduled and die.
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
        tree.remove()
        recv.stop()
    got = {p.labels.get("container_id") for p in recv.snapshot()} - {None}
    cpu_pct = 100.0 * (c1 - c0) / (t2 - t1)
    summary = [l for l in err.splitlines() if " summary " in l]
    lines = [
        "# Agent cost with %d pods' worth of cgroups%s (%s)" % (
            args.pods, " (baseline: processes left outside them)" if args.outside else "",
            datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")),
        "",
        "`sudo /usr/bin/python3 bench/cgroups.py --pods %d --seconds %d --window %d%s`; "
        "one busy `split` process (nice 19) per container, %d CPUs, agent host-wide at 100 Hz "
        "pushing to the strict receiver, /metrics on." % (
            args.pods, args.seconds, args.window, " --outside" if args.outside else "",
            os.cpu_count()),
        "",
        "| figure | value | budget |",
        "|---|---|---|",
        "| agent CPU, %% of one core (t=5 s to %.0f s) | %.2f | 0.5 |" % (t2 - t0, cpu_pct),
        "| agent peak RSS (VmHWM), MB | %.1f | 30 |" % hwm,
        "| agent RSS at the end (/metrics), MB | %.1f | |" % (
            list(rss_now.values())[0] / 1e6 if rss_now else float("nan")),
        "| samples aggregated | %d | |" % (list(samples.values())[0] if samples else 0),
        "| container ids arrived / made | %d / %d | all |" % (len(got & ids), len(ids)),
        "| cgroup cache (/metrics) | %s | |" % ", ".join(
            "%s=%d" % (k.replace("ember_cgroup_cache_", ""), v) for k, v in sorted(cache.items())),
        "| run length, s | %.0f | |" % elapsed,
        "",
        "Exit summary: `%s`" % (summary[-1].strip() if summary else "(none)"),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    out = os.path.join(REPO, "bench", "results-%s-cgroups.md" %
                       datetime.datetime.utcnow().strftime("%Y-%m-%d"))
    with open(out, "a") as f:
        f.write(text)
    log("report written to " + out)


if __name__ == "__main__":
    main()
