#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""flamegraph_gen.py - the inputs of bench/flamegraph.sh, made up but shaped
like Ember's: a window series of folded stacks (each window's lines sorted, as
the dry run prints them) drawn from a fixed set of unique stacks walked through
a random call graph, the same profile as pprof for `go tool pprof`, and an AFTER
series in which one function's share grew.

Writes DIR/before.folded, DIR/after.folded, DIR/shuffled.folded (before, lines
in random order) and DIR/before.pb.gz. Deterministic for a given --seed.
"""
import argparse
import gzip
import importlib
import random
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def call_graph(rng, nfuncs):
    names = []
    for i in range(nfuncs):
        kind = rng.random()
        if kind < 0.5:
            names.append(f"ns{i % 40}::Class{i % 300}::method_{i}(int, char const*)")
        elif kind < 0.7:
            names.append(f"github.com/acme/svc{i % 20}/pkg.(*T{i % 50}).Handle{i}")
        elif kind < 0.85:
            names.append(f"void com.acme.app{i % 30}.Service.call{i}(java.lang.String)")
        else:
            names.append(f"do_syscall_{i}_[k]")
    callees = [rng.sample(range(nfuncs), rng.randint(2, 6)) for _ in range(nfuncs)]
    return names, callees


def unique_stacks(rng, n, names, callees):
    comms = [f"worker-{i}" for i in range(12)]
    out = set()
    while len(out) < n:
        f = rng.randrange(len(names))
        stack = [rng.choice(comms), "main", names[f]]
        for _ in range(rng.randint(2, 24)):
            f = rng.choice(callees[f])
            stack.append(names[f])
        out.add(";".join(stack))
    return sorted(out)


def windows(rng, stacks, weights, lines, per_window):
    """lines folded lines: windows of per_window distinct stacks, sorted."""
    out = []
    while len(out) < lines:
        k = min(per_window, lines - len(out))
        picked = set(rng.choices(range(len(stacks)), weights=weights, k=k))
        while len(picked) < k:
            picked.add(rng.randrange(len(stacks)))
        out.extend(sorted(f"{stacks[i]} {1 + int(weights[i] * rng.random() * 4)}" for i in picked))
    return out


def write_pprof(path, lines):
    """The folded lines as one pprof (samples/count, cpu/nanoseconds at 100 Hz)."""
    tmp = Path(tempfile.mkdtemp())
    subprocess.run(["protoc", f"--proto_path={REPO / 'proto'}", f"--python_out={tmp}",
                    str(REPO / "proto" / "profile.proto")], check=True)
    sys.path.insert(0, str(tmp))
    pb2 = importlib.import_module("profile_pb2")
    agg = {}
    for line in lines:
        stack, _, n = line.rpartition(" ")
        agg[stack] = agg.get(stack, 0) + int(n)
    p = pb2.Profile()
    strings = {"": 0}

    def s(t):
        if t not in strings:
            strings[t] = len(strings)
        return strings[t]

    for t, u in (("samples", "count"), ("cpu", "nanoseconds")):
        vt = p.sample_type.add()
        vt.type, vt.unit = s(t), s(u)
    funcs = {}
    for stack, n in agg.items():
        sample = p.sample.add()
        for name in reversed(stack.split(";")):
            if name not in funcs:
                funcs[name] = len(funcs) + 1
                f = p.function.add()
                f.id, f.name = funcs[name], s(name)
                loc = p.location.add()
                loc.id = funcs[name]
                loc.line.add().function_id = funcs[name]
            sample.location_id.append(funcs[name])
        sample.value.extend([n, n * 10_000_000])
    p.period_type.type, p.period_type.unit = s("cpu"), s("nanoseconds")
    p.period = 10_000_000
    p.string_table.extend(strings)
    path.write_bytes(gzip.compress(p.SerializeToString()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--unique", type=int, default=60_000, help="unique stacks")
    ap.add_argument("--per-window", type=int, default=40_000, help="lines per window")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("dir", type=Path)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    names, callees = call_graph(rng, 4000)
    stacks = unique_stacks(rng, a.unique, names, callees)
    weights = [rng.paretovariate(1.2) for _ in stacks]
    a.dir.mkdir(parents=True, exist_ok=True)
    before = windows(rng, stacks, weights, a.lines, a.per_window)
    (a.dir / "before.folded").write_text("\n".join(before) + "\n")
    shuffled = before[:]
    rng.shuffle(shuffled)
    (a.dir / "shuffled.folded").write_text("\n".join(shuffled) + "\n")
    # AFTER: the stacks through one function weigh four times more.
    hot = names[7]
    after_w = [w * 4 if hot in s else w for s, w in zip(stacks, weights)]
    after = windows(rng, stacks, after_w, a.lines, a.per_window)
    (a.dir / "after.folded").write_text("\n".join(after) + "\n")
    write_pprof(a.dir / "before.pb.gz", before)
    print(f"{a.lines} lines, {a.unique} unique stacks, grown function: {hot}")


if __name__ == "__main__":
    main()
