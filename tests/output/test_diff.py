# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""`ember diff`: the per-function table's numbers, the growth gate's exit
codes, the red/blue SVG, and pprof inputs that went through Go's pprof."""
import re
import subprocess

from output_helpers import ember, frames, need, pprof_from_stacks, write_folded

BEFORE = {
    "app;main;parse": 300,
    "app;main;compute;hash": 400,
    "app;main;compute;hash;hash": 100,   # recursion: counted once in total
    "app;main;io_[k]": 200,
}
AFTER = {                                # 2000 samples
    "app;main;parse": 150,
    "app;main;compute;hash": 1000,
    "app;main;compute;hash;hash": 50,    # hash: 50 % -> 52.5 %
    "app;main;io_[k]": 200,
    "app;main;regex": 600,               # new in AFTER: 30 %
}
ROW = re.compile(r"^\s*([-\d.]+)%\s+([-\d.]+)%\s+([-+\d.]+)\s+([-\d.]+)%\s+([-\d.]+)%\s+"
                 r"([-+\d.]+)\s+(.+)$")


def shares(stacks):
    """Self and total share (percent) per function, recursion counted once."""
    total = sum(stacks.values())
    self_, tot = {}, {}
    for stack, n in stacks.items():
        parts = stack.split(";")
        self_[parts[-1]] = self_.get(parts[-1], 0) + n
        for f in set(parts):
            tot[f] = tot.get(f, 0) + n
    return ({f: 100.0 * v / total for f, v in self_.items()},
            {f: 100.0 * v / total for f, v in tot.items()})


def table(out):
    rows = {}
    for line in out.decode().splitlines()[2:]:
        m = ROW.match(line)
        assert m, line
        rows[m.group(7)] = tuple(m.group(i) for i in range(1, 7))
    return rows


def expected_rows(before, after):
    sb, tb = shares(before)
    sa, ta = shares(after)
    out = {}
    for f in set(tb) | set(ta):
        b_s, a_s, b_t, a_t = sb.get(f, 0), sa.get(f, 0), tb.get(f, 0), ta.get(f, 0)
        out[f] = (f"{b_s:.2f}", f"{a_s:.2f}", f"{a_s - b_s:+.2f}", f"{b_t:.2f}", f"{a_t:.2f}",
                  f"{a_t - b_t:+.2f}")
    return out


def test_table_is_exact_and_sorted(tmp_path):
    b = write_folded(tmp_path / "b.folded", BEFORE)
    a = write_folded(tmp_path / "a.folded", AFTER)
    p = ember("diff", b, a, check=0)
    got = table(p.stdout)
    assert got == expected_rows(BEFORE, AFTER)
    # Largest growth first: regex (+30), then hash; parse shrank most.
    order = [ROW.match(l).group(7) for l in p.stdout.decode().splitlines()[2:]]
    assert order[0] == "regex" and order[-1] == "parse"
    deltas = [float(got[f][5]) for f in order]
    assert deltas == sorted(deltas, reverse=True)


def test_gate_exit_codes(tmp_path):
    b = write_folded(tmp_path / "b.folded", BEFORE)
    a = write_folded(tmp_path / "a.folded", AFTER)
    # regex grew by 30 points: past 29.99 fails, 30 itself passes.
    p = ember("diff", b, a, "--fail-on-growth", "29.99", check=1)
    assert b"regex total share 0.00% -> 30.00% (+30.00 points" in p.stderr
    assert len(p.stderr.splitlines()) == 1
    ember("diff", b, a, "--fail-on-growth", "30", check=0)
    ember("diff", b, a, "--fail-on-growth", "40", check=0)
    # Only the selected functions are gated: hash grew 2.5 points.
    ember("diff", b, a, "--fail-on-growth", "2", "--function", "^hash$", check=1)
    ember("diff", b, a, "--fail-on-growth", "2.5", "--function", "^hash$", check=0)
    p = ember("diff", b, a, "--fail-on-growth", "2", "--function", "^(hash|compute)$", check=1)
    assert len(p.stderr.splitlines()) == 2
    ember("diff", b, a, "--fail-on-growth", "0", "--function", "^parse$", "--function", "io",
          check=0)
    # A --function that matches nothing is a typo, never a pass.
    p = ember("diff", b, a, "--fail-on-growth", "1", "--function", "^nosuch$", check=2)
    assert len(p.stderr.splitlines()) == 1
    # No gate asked: 0 whatever grew.
    ember("diff", b, a, check=0)


def test_diff_svg_colours(tmp_path):
    need("xmllint", "libxml2-utils")
    b = write_folded(tmp_path / "b.folded", BEFORE)
    a = write_folded(tmp_path / "a.folded", AFTER)
    svg = tmp_path / "d.svg"
    ember("diff", b, a, "-o", svg, "--normalize", check=0)
    assert subprocess.run(["xmllint", "--noout", str(svg)]).returncode == 0
    fs = {f.name: f for f in frames(svg) if f.depth == 3}

    def rgb(f):
        return tuple(int(v) for v in f.fill[4:-1].split(","))

    r, g, bl = rgb(fs["regex"])          # new: red
    assert r == 255 and g < 200 and bl < 200
    r, g, bl = rgb(fs["parse"])          # 30 % -> 7.5 %: blue
    assert bl == 255 and r < 200
    assert "before 300, 30.00%" in fs["parse"].info
    assert fs["regex"].count == 600 and "before 0, 0.00%" in fs["regex"].info


def test_pprof_through_go_round_trips(tmp_path, profile_pb2):
    need("go", "golang-go")
    folded = write_folded(tmp_path / "after.folded", AFTER)
    raw = tmp_path / "after.pb"
    raw.write_bytes(pprof_from_stacks(profile_pb2, AFTER, (("samples", "count"),
                                                           ("cpu", "nanoseconds")),
                                      lambda n: [n, n * 10_000_000], zip=False))
    go = tmp_path / "after-go.pb.gz"
    p = subprocess.run(["go", "tool", "pprof", "-proto", "-output", str(go), str(raw)],
                       capture_output=True, timeout=120, env={"HOME": str(tmp_path),
                                                              "PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stderr
    # Go's encoder (its own ids, string order, gzip): the same shares as the
    # folded text, so every change is zero both ways.
    for x, y in ((folded, go), (go, folded)):
        got = table(ember("diff", x, y, check=0).stdout)
        assert set(got) == {"app", "main", "parse", "compute", "hash", "io_[k]", "regex"}
        assert all(r[2] == "+0.00" and r[5] == "+0.00" for r in got.values()), got
    # BEFORE as a directory of pprof windows, AFTER as Go's file.
    d = tmp_path / "before"
    d.mkdir()
    half = {k: v // 2 for k, v in BEFORE.items()}
    for i in range(2):
        (d / f"svc-2026120{i}T000000Z-0.pb.gz").write_bytes(pprof_from_stacks(profile_pb2, half))
    got = table(ember("diff", d, go, check=0).stdout)
    assert got == expected_rows(BEFORE, AFTER)
