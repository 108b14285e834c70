#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""soak.py - an hour of process churn with pushes to a flaky receiver

`make soak` (SOAK_SECONDS=3600 by default; not in CI). Runs the agent
host-wide with --server pointing at the e2e receiver in "flaky" mode (every
other request 503, so retries, failures and the queue are all exercised),
while a spawner execs --rate short processes a second (/bin/true). Every
--sample seconds it records the agent's RSS and open fd count; at the end it
compares the last quarter with the second (the first is warm-up: caches
filling). The agent is host-wide and keeps one fd per distinct mapped file
that live processes use, so on a shared machine the fd count also follows
what else runs there. It checks the accounting identity of the summary, prints a markdown
report and writes it to bench/soak-<UTC date>.md. Exit 1 when RSS grew more
than 3 MB or 10 %, or the fd count by more than 8. Needs root.
"""
import argparse
import datetime
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
import receiver as rx  # noqa: E402

EMBER = os.path.join(REPO, ".output", "ember")


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def spawner(rate, stop, counter):
    """Execs /bin/true rate times a second, on a fixed schedule."""
    period = 1.0 / rate
    nxt = time.monotonic()
    live = []
    while not stop.is_set():
        live.append(subprocess.Popen(["/bin/true"]))
        counter[0] += 1
        if len(live) > 64:
            live = [p for p in live if p.poll() is None]
        nxt += period
        delay = nxt - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        elif delay < -1:
            nxt = time.monotonic()  # behind: do not burst to catch up
    for p in live:
        p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=3600)
    ap.add_argument("--rate", type=int, default=500, help="execs per second")
    ap.add_argument("--sample", type=float, default=10.0)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--agent-args", default="",
                    help="more agent options, e.g. --no-jvm when tests run on the host at the "
                         "same time (their fake JVMs count the signals they get)")
    ap.add_argument("--agent-log", default=os.path.join(REPO, ".output", "soak-agent.log"),
                    help="where the agent's stderr goes")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("soak: needs root (the agent loads BPF)")

    r = rx.Receiver().start()
    r.set_mode("flaky")
    agent = subprocess.Popen([EMBER, "--server", r.url, "--window", str(a.window),
                              "--duration", str(a.seconds), "--max-retries", "2"]
                             + a.agent_args.split(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err_lines = []
    os.makedirs(os.path.dirname(a.agent_log), exist_ok=True)

    def keep(stream):
        """The agent's log, kept whole on disk: a crash an hour in needs it."""
        with open(a.agent_log, "w") as log:
            for line in stream:
                err_lines.append(line)
                log.write(line)
                log.flush()
    reader = threading.Thread(target=keep, args=(agent.stderr,), daemon=True)
    reader.start()
    stop, execs = threading.Event(), [0]
    sp = threading.Thread(target=spawner, args=(a.rate, stop, execs), daemon=True)
    t0 = time.monotonic()
    sp.start()
    samples = []  # (t, rss_kb, fds, execs)
    try:
        while agent.poll() is None:
            time.sleep(a.sample)
            try:
                kb, nfd = rss_kb(agent.pid), fds(agent.pid)
            except OSError:
                break
            if not kb:  # exited, not yet reaped: no figure
                break
            samples.append((time.monotonic() - t0, kb, nfd, execs[0]))
    finally:
        stop.set()
        sp.join(30)
        if agent.poll() is None:
            agent.send_signal(signal.SIGTERM)
        agent.wait(60)
        reader.join(5)
        r.stop()
    elapsed = time.monotonic() - t0

    summary = {}
    for line in err_lines:
        m = re.match(r"^ember: summary (.*)$", line)
        if m:
            summary = dict(kv.split("=", 1) for kv in m.group(1).split())
    n = len(samples)
    q = max(1, n // 4)
    early, late = samples[q:2 * q] or samples[:q], samples[-q:]
    rss_early = statistics.median(s[1] for s in early) / 1024
    rss_late = statistics.median(s[1] for s in late) / 1024
    fd_early = max(s[2] for s in early)
    fd_late = max(s[2] for s in late)
    rss_max = max(s[1] for s in samples) / 1024
    win = {k: int(summary.get(k + "_push", -1)) for k in
           ("windows", "delivered", "failed", "dropped", "abandoned")}
    identity = win["windows"] == sum(win[k] for k in ("delivered", "failed", "dropped", "abandoned"))
    rss_ok = rss_late - rss_early <= max(3.0, 0.10 * rss_early)
    fd_ok = fd_late - fd_early <= 8
    date = datetime.datetime.utcnow().strftime("%Y-%m-%d")
    report = "\n".join([
        "# Soak %s: %d s, %d exec/s target, flaky receiver" % (date, a.seconds, a.rate),
        "",
        "Command: `make soak SOAK_SECONDS=%d` (bench/soak.py --seconds %d --rate %d, window %d s%s)."
        % (a.seconds, a.seconds, a.rate, a.window,
           ", agent options `%s`" % a.agent_args if a.agent_args else ""),
        "",
        "| figure | value |",
        "|---|---|",
        "| run time | %.0f s |" % elapsed,
        "| execs done | %d (%.0f/s) |" % (execs[0], execs[0] / elapsed),
        "| agent RSS, 2nd quarter median | %.1f MB |" % rss_early,
        "| agent RSS, last quarter median | %.1f MB |" % rss_late,
        "| agent RSS, max | %.1f MB |" % rss_max,
        "| agent fds, 2nd quarter max / last quarter max | %d / %d |" % (fd_early, fd_late),
        "| processes seen | %s |" % summary.get("processes", "?"),
        "| samples / lost | %s / %s |" % (summary.get("samples", "?"), summary.get("lost", "?")),
        "| push windows: produced = delivered + failed + dropped + abandoned | %d = %d + %d + %d + %d (%s) |"
        % (win["windows"], win["delivered"], win["failed"], win["dropped"], win["abandoned"],
           "holds" if identity else "BROKEN"),
        "| push requests ok / failed / retries | %s / %s / %s |"
        % (summary.get("push_ok"), summary.get("push_failed"), summary.get("push_retries")),
        "| agent exit code | %d |" % agent.returncode,
        "| verdict | RSS %s, fds %s |" % ("flat" if rss_ok else "GREW", "flat" if fd_ok else "GREW"),
        "",
        "Samples (t s, RSS MB, fds, execs): " + ", ".join(
            "%.0f/%.1f/%d/%d" % (t, kb / 1024, f, e) for t, kb, f, e in samples[:: max(1, n // 30)]),
        "",
    ])
    if agent.returncode not in (0, 3):
        report += "\nThe agent ended with %d; the end of its log (%s):\n\n%s\n" % (
            agent.returncode, a.agent_log, "".join("    " + l for l in err_lines[-15:]))
    print(report)
    path = os.path.join(REPO, "bench", "soak-%s.md" % date)
    with open(path, "w") as f:
        f.write(report)
    print("soak: wrote %s" % path, file=sys.stderr)
    sys.exit(0 if rss_ok and fd_ok and identity else 1)


if __name__ == "__main__":
    main()
