# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""`ember flamegraph`: valid SVG, widths that match the input's shares, names
escaped, and a viewer that works in a real browser (render, search, zoom)."""
import random
import struct
import zlib

from output_helpers import (DRAW_W, chromium, ember, frames, need, pprof_from_stacks,
                            write_folded)

# A known split, Ember-style: comm first, kernel frames marked _[k].
KNOWN = {
    "app;main;compute;hash": 500,
    "app;main;compute;mix": 200,
    "app;main;io;write;vfs_write_[k]": 150,
    "app;main;io;write": 50,
    "app;main": 25,
    "other;runtime.mcall;runtime.gcBgMarkWorker": 75,
}
TOTAL = sum(KNOWN.values())


def totals(stacks):
    """Total samples per stack prefix, as the flame graph must draw them."""
    out = {}
    for stack, n in stacks.items():
        parts = stack.split(";")
        for i in range(1, len(parts) + 1):
            key = ";".join(parts[:i])
            out[key] = out.get(key, 0) + n
    return out


def paths(fs):
    """Each frame's path from the root, from depth and document order."""
    out, at = {}, {}
    for f in sorted(fs, key=lambda f: (f.depth, f.start)):
        at[f.depth] = f
    by_depth = {}
    for f in fs:
        by_depth.setdefault(f.depth, []).append(f)
    for f in fs:
        chain, d, cur = [f.name], f.depth, f
        while d > 1:
            parent = next(p for p in by_depth[d - 1]
                          if p.start <= cur.start and cur.start + cur.count <= p.start + p.count)
            chain.append(parent.name)
            cur, d = parent, d - 1
        if f.depth >= 1:
            out[";".join(reversed(chain))] = f
    return out


def test_widths_match_shares(tmp_path):
    need("xmllint", "libxml2-utils")
    src = write_folded(tmp_path / "known.folded", KNOWN)
    svg = tmp_path / "known.svg"
    ember("flamegraph", "-o", svg, "--title", "known <split> & co", src, check=0)
    x = ember.__globals__["subprocess"].run(["xmllint", "--noout", str(svg)], capture_output=True)
    assert x.returncode == 0, x.stderr
    fs = frames(svg)
    drawn = paths(fs)
    want = totals(KNOWN)
    assert set(drawn) == set(want)
    for path, n in want.items():
        share = 100.0 * n / TOTAL
        width_share = 100.0 * drawn[path].width / DRAW_W
        assert abs(width_share - share) < 0.1, (path, width_share, share)
        assert drawn[path].count == n
        assert f"{share:.2f}%" in drawn[path].info
    # Children sit inside their parent, left to right in name order.
    assert drawn["app;main;compute"].x < drawn["app;main;io"].x
    # Kinds get told apart: kernel orange-ish, Go aqua-ish, native red-ish.
    k = drawn["app;main;io;write;vfs_write_[k]"].fill
    go = drawn["other;runtime.mcall"].fill
    r, g, b = (int(v) for v in go[4:-1].split(","))
    assert b > r, go
    r, g, b = (int(v) for v in k[4:-1].split(","))
    assert r > 200 and b < 60, k


def test_hostile_names_are_escaped(tmp_path, profile_pb2):
    need("xmllint", "libxml2-utils")
    names = [b"a b c", b"say \"hi\" 'x'", b"<script>alert(1)</script>", b"AT&T", b"bad\xff\xfeutf8",
             b"ctl\x01\x1fchars", b"]]>cdata", b"\xef\xbf\xbe nonchar"]
    src = tmp_path / "hostile.folded"
    src.write_bytes(b"".join(b"root;" + n + b" 10\n" for n in names))
    svg = tmp_path / "hostile.svg"
    ember("flamegraph", "-o", svg, "--title", "<&>", src, check=0)
    x = ember.__globals__["subprocess"].run(["xmllint", "--noout", str(svg)], capture_output=True)
    assert x.returncode == 0, x.stderr
    got = {f.name for f in frames(svg)}
    assert {"a b c", "say \"hi\" 'x'", "<script>alert(1)</script>", "AT&T", "bad__utf8",
            "ctl??chars", "]]>cdata", "? nonchar"} <= got
    assert b"<script>alert" not in svg.read_bytes()
    # A pprof name may hold ';': one frame, not two.
    pb = tmp_path / "semi.pb.gz"
    pb.write_bytes(pprof_from_stacks(profile_pb2, {("main", "ns::f(a;b)"): 5, "main": 1}))
    svg2 = tmp_path / "semi.svg"
    ember("flamegraph", "-o", svg2, pb, check=0)
    assert "ns::f(a;b)" in {f.name for f in frames(svg2)}


def test_icicle_reverse_stdin(tmp_path):
    src = write_folded(tmp_path / "k.folded", KNOWN)
    flame, icicle, rev = tmp_path / "f.svg", tmp_path / "i.svg", tmp_path / "r.svg"
    ember("flamegraph", "-o", flame, src, check=0)
    ember("flamegraph", "-o", icicle, "--icicle", "-", stdin=src.read_bytes(), check=0)
    ember("flamegraph", "-o", rev, "--reverse", src, check=0)
    f = {x.name: x for x in frames(flame)}
    i = {x.name: x for x in frames(icicle)}
    assert f["all"].y > f["app"].y          # flame: root at the bottom
    assert i["all"].y < i["app"].y          # icicle: root at the top
    r = [x for x in frames(rev) if x.depth == 1]
    # Reversed: the leaves at depth 1, each with its own samples.
    assert {x.name: x.count for x in r} == {"hash": 500, "mix": 200, "vfs_write_[k]": 150,
                                           "write": 50, "main": 25,
                                           "runtime.gcBgMarkWorker": 75}


def png_is_blank(png):
    """True when every pixel row of the PNG decodes to one colour."""
    pos, idat, width = 8, b"", 0
    while pos < len(png):
        n, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"IHDR":
            width = struct.unpack(">I", png[pos + 8:pos + 12])[0]
        if kind == b"IDAT":
            idat += png[pos + 8:pos + 8 + n]
        pos += 12 + n
    raw = zlib.decompress(idat)
    return len(set(raw)) < 8 or width == 0


def test_renders_in_chromium(tmp_path):
    src = write_folded(tmp_path / "k.folded", KNOWN)
    svg = tmp_path / "k.svg"
    ember("flamegraph", "-o", svg, src, check=0)
    png = tmp_path / "shot.png"
    chromium([f"--screenshot={png}", "--window-size=1200,300"], svg.as_uri(), tmp_path)
    assert png.exists() and not png_is_blank(png.read_bytes())
    dom = chromium(["--dump-dom"], svg.as_uri(), tmp_path)
    # The widest frame below the root, named in the rendered document.
    assert ">app</text>" in dom


def test_search_and_zoom_in_browser(tmp_path):
    src = write_folded(tmp_path / "k.folded", KNOWN)
    svg = tmp_path / "k.svg"
    ember("flamegraph", "-o", svg, src, check=0)
    # Matches at several depths: "compute" contains "hash" and "mix", so
    # the union is compute's 700 plus write's 200 (vfs_write inside it).
    dom = chromium(["--dump-dom"], svg.as_uri() + "?s=compute|hash|write", tmp_path)
    share = 100.0 * 900 / TOTAL
    assert f'data-matched="{share:.2f}"' in dom, dom[:600]
    assert f"Matched: {share:.2f}%" in dom
    assert dom.count("rgb(230,0,230)") >= 4
    # Zoom on "io": it fills the width; "compute" (not under it) is hidden.
    dom = chromium(["--dump-dom"], svg.as_uri() + "?x=io", tmp_path)
    assert 'data-zoom="io"' in dom
    import re
    io = re.search(r'<g class="f"[^>]*data-d="3"[^>]*><title>io\n[^<]*</title><rect x="([\d.]+)"'
                   r'[^>]*width="([\d.]+)"', dom)
    assert io and abs(float(io.group(2)) - DRAW_W) < 0.01, dom[:2000]
    hidden = re.search(r'<g class="f"[^>]*style="display: none;"[^>]*><title>compute\n', dom)
    assert hidden


def test_sample_types_and_window_series(tmp_path, profile_pb2):
    # Go's CPU profile layout: samples/count then cpu/nanoseconds: cpu wins.
    stacks = {"main;work": 3, "main;idle": 1}
    pb = tmp_path / "cpu.pb.gz"
    pb.write_bytes(pprof_from_stacks(profile_pb2, stacks, (("samples", "count"),
                                                           ("cpu", "nanoseconds")),
                                     lambda n: [n, n * 10_000_000]))
    svg = tmp_path / "cpu.svg"
    p = ember("flamegraph", "-o", svg, pb, check=0)
    assert b"using cpu/nanoseconds" in p.stderr
    work = next(f for f in frames(svg) if f.name == "work")
    assert work.count == 30_000_000
    # Another profiler's types (no cpu): the first one, and said so.
    pb2 = tmp_path / "heap.pb"
    pb2.write_bytes(pprof_from_stacks(profile_pb2, stacks, (("alloc_objects", "count"),
                                                            ("alloc_space", "bytes")),
                                      lambda n: [n, n * 4096], zip=False))
    p = ember("flamegraph", "-o", svg, pb2, check=0)
    assert b"using alloc_objects/count" in p.stderr and b"the first" in p.stderr
    # A window series directory: summed, its hidden temporaries ignored.
    d = tmp_path / "series"
    d.mkdir()
    for i in range(3):
        (d / f"svc-2026120{i}T000000Z-0.pb.gz").write_bytes(
            pprof_from_stacks(profile_pb2, {"main;work": 10 * (i + 1), "main;idle": 5}))
    (d / ".svc-tmp.tmpXYZ").write_bytes(b"half a fi")
    ember("flamegraph", "-o", svg, d, check=0)
    got = {f.name: f.count for f in frames(svg)}
    assert got["work"] == 60 and got["idle"] == 15


def test_many_unique_names_svg_bounded(tmp_path):
    # 20k distinct stacks of 1 sample under one hot path: the tiny frames
    # are left out, the file stays small, and the totals are still exact.
    rng = random.Random(7)
    stacks = {"app;hot": 1_000_000}
    for i in range(20_000):
        stacks[f"app;cold;f{rng.randrange(10**9)}_{i}"] = 1
    src = write_folded(tmp_path / "wide.folded", stacks)
    svg = tmp_path / "wide.svg"
    ember("flamegraph", "-o", svg, src, check=0)
    assert svg.stat().st_size < 200_000
    got = {f.name: f.count for f in frames(svg)}
    assert got["all"] == 1_020_000 and got["cold"] == 20_000


def test_pprof_kernel_frames_marked_like_folded(tmp_path, profile_pb2):
    """A pprof's kernel frames (the "[kernel.kallsyms]" mapping) are drawn and coloured
    as the folded file of the same profile draws them: "_[k]"."""
    pb = tmp_path / "k.pb.gz"
    pb.write_bytes(pprof_from_stacks(profile_pb2, {"main;write;vfs_write": 3, "main;work": 2},
                                     kernel=("vfs_write",)))
    folded = write_folded(tmp_path / "k.folded",
                          {"main;write;vfs_write_[k]": 3, "main;work": 2})
    a, b = tmp_path / "a.svg", tmp_path / "b.svg"
    ember("flamegraph", "-o", a, pb, check=0)
    ember("flamegraph", "-o", b, folded, check=0)
    fa = {x.name: x.fill for x in frames(a)}
    fb = {x.name: x.fill for x in frames(b)}
    assert "vfs_write_[k]" in fa and "vfs_write" not in fa, sorted(fa)
    assert fa["vfs_write_[k]"] == fb["vfs_write_[k]"]
    assert fa["write"] == fb["write"]
