# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What pushing costs: bytes on the wire and the CPU to build a window.

Root. With `split --threads 2` busy on both CPUs, runs Ember host-wide at
100 Hz pushing to the strict test receiver (tests/e2e/receiver.py) on
loopback, for --windows windows of --window seconds, --reps times. Per window:

  samples         CPU samples in the window (Ember's own count)
  push bytes      request bodies the receiver accepted for that window
                  (protobuf PushRequest holding gzipped pprof)
  raw / gzip      the pprof encodings before and after gzip
  build cpu       CPU time of the agent's main thread turning the window into
                  profiles: labels, pprof encoding, gzip, request encoding

The first window of each run is left out (it pays for loading symbol tables).
Prints a markdown table of medians; --out also writes it to a file.

    sudo /usr/bin/python3 bench/push.py --reps 3 --windows 4 --window 15
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import receiver as rx  # noqa: E402

OUTPUT = Path(os.environ.get("EMBER_OUTPUT", REPO / ".output")).resolve()
EMBER = OUTPUT / "ember"
SPLIT = OUTPUT / "tests" / "fixtures" / "split"
LINE = re.compile(r"agent: profiles samples=(\d+) series=(\d+) profiles=(\d+) "
                  r"raw_bytes=(\d+) gzip_bytes=(\d+) build_cpu_us=(\d+)")


def one_run(window, windows):
    rec = rx.Receiver().start()
    seconds = window * windows + 3
    split = subprocess.Popen([str(SPLIT), "--threads", "2", "--seconds", str(seconds + 5)],
                             stdout=subprocess.DEVNULL)
    try:
        agent = subprocess.run(
            [str(EMBER), "--server", rec.url, "--window", str(window), "--duration",
             str(window * windows), "--log-level", "info"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            timeout=seconds + 60)
    finally:
        split.terminate()
        split.wait()
    time.sleep(0.5)
    rec.stop()
    wins = [tuple(int(x) for x in m.groups()) for m in LINE.finditer(agent.stderr)]
    bodies = [r.body_len for r in rec.protocol_requests() if r.status == 200]
    if agent.returncode != 0 or len(bodies) != len(wins):
        sys.exit(f"bench: run failed rc={agent.returncode} windows={len(wins)} "
                 f"accepted_requests={len(bodies)}\n{agent.stderr[-2000:]}")
    # One Push request per window, in order: pair them.
    return [dict(samples=w[0], series=w[1], profiles=w[2], raw=w[3], gzip=w[4], cpu_us=w[5],
                 body=b) for w, b in zip(wins, bodies)][1:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--windows", type=int, default=4)
    ap.add_argument("--window", type=int, default=15)
    ap.add_argument("--out")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: needs root (BPF)")
    rx.load_pb()
    rows = []
    for rep in range(args.reps):
        rows += one_run(args.window, args.windows)
        print(f"bench: run {rep + 1}/{args.reps} done", file=sys.stderr)

    def med(key):
        return statistics.median(r[key] for r in rows)

    per_sample = statistics.median(r["body"] / r["samples"] for r in rows)
    cpu_per_sample = statistics.median(r["cpu_us"] / r["samples"] for r in rows)
    report = "\n".join([
        f"## Push cost, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
        f"- `split --threads 2` busy on both CPUs; `ember --server <receiver> --window "
        f"{args.window}` host-wide at 100 Hz; {len(rows)} windows over {args.reps} runs "
        f"(first window of each run left out); medians",
        f"- command: `sudo /usr/bin/python3 bench/push.py --reps {args.reps} --windows "
        f"{args.windows} --window {args.window}`",
        "",
        "| figure | median |",
        "|---|---:|",
        f"| samples per window | {med('samples'):.0f} |",
        f"| series (label sets) per window | {med('series'):.0f} |",
        f"| pprof raw bytes per window | {med('raw'):.0f} |",
        f"| pprof gzip bytes per window | {med('gzip'):.0f} |",
        f"| bytes pushed per window (request body) | {med('body'):.0f} |",
        f"| bytes pushed per sample | {per_sample:.1f} |",
        f"| CPU to build and compress a window | {med('cpu_us') / 1000:.2f} ms |",
        f"| CPU per sample | {cpu_per_sample:.2f} us |",
        "",
    ])
    print(report)
    if args.out:
        with open(args.out, "a") as f:
            f.write(report + "\n")


if __name__ == "__main__":
    main()
