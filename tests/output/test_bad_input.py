# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Bad input (issue 11, item 6): what cannot be read is one line on stderr and
exit 2, with no SVG left behind half written; what can be read is drawn; and
memory follows the unique stacks, not the lines (10 million of them)."""
import gzip
import os
import subprocess
import sys

import pytest

from output_helpers import EMBER, ember, frames, pprof_from_stacks, write_folded

GOOD = {"app;main;work": 30, "app;main;idle": 10}


def one_error(p, *words):
    assert p.returncode == 2, (p.returncode, p.stderr)
    lines = p.stderr.decode(errors="replace").splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("ember ") and "error" in lines[0], lines
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


@pytest.mark.parametrize("text,words", [
    (b"app;main;work 30\napp;main;idle\n", ["line 2", "no sample count"]),
    (b"app;main;work 3x0\n", ["line 1", "bad sample count"]),
    (b"app;main;work 30\napp;main;wo", ["line 2"]),                  # cut mid-line
    (b"a 99999999999999999999\n", ["bad sample count"]),
    (b"a 9223372036854775807\nb 9223372036854775807\n", ["past 2^63"]),
    (b"", ["no samples"]),
    (b"# only a comment\n\n", ["no samples"]),
])
def test_bad_folded(tmp_path, text, words):
    src = tmp_path / "bad.folded"
    src.write_bytes(text)
    out = tmp_path / "out.svg"
    one_error(ember("flamegraph", "-o", out, src), str(src), *words)
    one_error(ember("diff", src, write_folded(tmp_path / "good.folded", GOOD)), *words)


def test_bad_pprof(tmp_path, profile_pb2):
    good = pprof_from_stacks(profile_pb2, GOOD)
    cases = {
        "truncated.pb.gz": (good[:len(good) // 2], "truncated gzip stream"),
        "corrupt.pb.gz": (good[:12] + bytes(b ^ 0x5a for b in good[12:]), "corrupt gzip"),
        "notproto.pb.gz": (gzip.compress(b"\x00\xff" * 100), "not a pprof"),
    }
    p = profile_pb2.Profile()
    p.ParseFromString(gzip.decompress(good))
    p.sample[0].location_id.append(999)
    cases["noloc.pb.gz"] = (gzip.compress(p.SerializeToString()), "location 999")
    p = profile_pb2.Profile()
    p.ParseFromString(gzip.decompress(good))
    p.sample[1].value[0] = -5
    cases["negative.pb.gz"] = (gzip.compress(p.SerializeToString()), "negative")
    p = profile_pb2.Profile()
    p.ParseFromString(gzip.decompress(good))
    p.sample[0].value.append(7)
    cases["values.pb.gz"] = (gzip.compress(p.SerializeToString()), "2 values for 1 types")
    for name, (data, word) in cases.items():
        f = tmp_path / name
        f.write_bytes(data)
        out = tmp_path / (name + ".svg")
        one_error(ember("flamegraph", "-o", out, f), name, word)
        assert not out.exists() or out.stat().st_size == 0


def test_missing_and_mixed(tmp_path, profile_pb2):
    one_error(ember("flamegraph", "-o", tmp_path / "x.svg", tmp_path / "nope.folded"),
              "No such file")
    empty = tmp_path / "empty"
    empty.mkdir()
    one_error(ember("diff", empty, write_folded(tmp_path / "g.folded", GOOD)),
              "no profiles in the directory")
    # Counts and nanoseconds do not add up: one side must be one unit.
    cpu = tmp_path / "cpu.pb.gz"
    cpu.write_bytes(pprof_from_stacks(profile_pb2, GOOD, (("cpu", "nanoseconds"),)))
    one_error(ember("flamegraph", "-o", tmp_path / "m.svg", tmp_path / "g.folded", cpu),
              "cpu/nanoseconds does not match samples/count")
    # ...but BEFORE and AFTER may differ: shares compare.
    ember("diff", tmp_path / "g.folded", cpu, check=0)
    one_error(ember("diff", cpu), "needs BEFORE and AFTER")
    one_error(ember("diff", cpu, cpu, "--fail-on-growth", "lots"), "--fail-on-growth")
    one_error(ember("diff", cpu, cpu, "--function", "(unclosed"), "--function")
    one_error(ember("flamegraph"), "no INPUT")


def test_ten_million_lines_bounded_memory(tmp_path):
    """10 M lines over 2000 unique stacks, through a pipe: the peak RSS is
    the tree's, a few MB, not the input's 350 MB."""
    chunk = b"".join(b"svc%d;main;layer%d;work%d;leaf%d %d\n" % (k % 7, k % 13, k % 97, k, 1 + k % 5)
                     for k in (i * 7919 % 2000 for i in range(100_000)))
    want = sum(1 + k % 5 for k in (i * 7919 % 2000 for i in range(100_000))) * 100
    svg = tmp_path / "big.svg"
    # A fresh interpreter whose only child is ember: its RUSAGE_CHILDREN
    # peak is ember's alone.
    runner = (
        "import resource, subprocess, sys\n"
        "chunk = sys.stdin.buffer.read()\n"
        "p = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE)\n"
        "for _ in range(100):\n"
        "    p.stdin.write(chunk)\n"
        "p.stdin.close()\n"
        "rc = p.wait()\n"
        "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    p = subprocess.run([sys.executable, "-c", runner, str(EMBER), "flamegraph", "-o", str(svg),
                        "-"], input=chunk, capture_output=True, timeout=600)
    rc, rss_kb = (int(v) for v in p.stdout.split())
    assert rc == 0, p.stderr
    assert rss_kb < 40 * 1024, rss_kb
    root = next(f for f in frames(svg) if f.name == "all")
    assert root.count == want
