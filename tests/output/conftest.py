# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Helpers for the `ember flamegraph` / `ember diff` tests: no root, no BPF.

Runs `.output/ember` on files the tests write, parses the SVG it draws
(xml.etree: every frame's name, sample range, depth and rect), builds pprof
files from folded stacks with protoc's Python classes, and drives headless
Chromium. Tests that need a tool (xmllint, chromium, go, protoc) skip loudly
without it; CI installs them all (make deps-test).
Run: /usr/bin/python3 -m pytest -ra tests/output  (after `make`).
"""
import gzip
import importlib
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import namedtuple
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("EMBER_OUTPUT", REPO / ".output")).resolve()
EMBER = OUTPUT / "ember"
SVG_NS = "{http://www.w3.org/2000/svg}"
# The drawing width: FG_SVG_WIDTH minus two FG_SVG_PAD (output/fg_svg.h).
DRAW_W = 1180.0

sys.modules.setdefault("output_helpers", sys.modules[__name__])

Frame = namedtuple("Frame", "name start count depth x width y fill info")


def need(tool, package):
    if shutil.which(tool) is None:
        msg = f"`{tool}` is not installed (Debian: {package})"
        sys.stderr.write(f"\n*** SKIPPING: {msg} ***\n")
        pytest.skip(msg)


def ember(*args, stdin=None, check=None):
    """Runs ember with args; check: the exit code expected."""
    if not EMBER.exists():
        pytest.fail(f"{EMBER} is missing: run `make` first")
    p = subprocess.run([str(EMBER), *map(str, args)], input=stdin, capture_output=True,
                       timeout=300)
    if check is not None:
        assert p.returncode == check, (p.returncode, p.stdout[-2000:], p.stderr[-2000:])
    return p


def write_folded(path, stacks):
    """stacks: {"a;b;c": count} -> a folded file."""
    path.write_bytes(b"".join(
        (k if isinstance(k, bytes) else k.encode()) + b" %d\n" % v for k, v in stacks.items()))
    return path


def frames(svg_path):
    """Every frame of a flame graph SVG, in document order."""
    root = ET.parse(svg_path).getroot()
    out = []
    for g in root.iter(SVG_NS + "g"):
        if "f" not in g.get("class", "").split():
            continue
        title = g.find(SVG_NS + "title").text
        rect = g.find(SVG_NS + "rect")
        name, _, info = title.partition("\n")
        out.append(Frame(name, int(g.get("data-s")), int(g.get("data-n")), int(g.get("data-d")),
                         float(rect.get("x")), float(rect.get("width")), float(rect.get("y")),
                         rect.get("fill"), info))
    return out


@pytest.fixture(scope="session")
def profile_pb2(tmp_path_factory):
    """perftools.profiles messages compiled from proto/profile.proto."""
    need("protoc", "protobuf-compiler")
    out = tmp_path_factory.mktemp("pb2")
    subprocess.run(["protoc", f"--proto_path={REPO / 'proto'}", f"--python_out={out}",
                    str(REPO / "proto" / "profile.proto")], check=True)
    sys.path.insert(0, str(out))
    try:
        return importlib.import_module("profile_pb2")
    finally:
        sys.path.remove(str(out))


def pprof_from_stacks(pb2, stacks, types=(("samples", "count"),), values=None, zip=True,
                      kernel=()):
    """A pprof with one sample per stack ("a;b;c" or a tuple, root first); values(count)
    gives the sample's values, one per type (default: the count for each). Functions
    named in kernel sit in the "[kernel.kallsyms]" mapping, as Ember writes them."""
    p = pb2.Profile()
    strings = [""]

    def s(text):
        if text not in strings:
            strings.append(text)
        return strings.index(text)

    if kernel:
        m = p.mapping.add()
        m.id, m.filename = 1, s("[kernel.kallsyms]")

    for t, u in types:
        vt = p.sample_type.add()
        vt.type, vt.unit = s(t), s(u)
    funcs = {}
    for stack, count in stacks.items():
        sample = p.sample.add()
        for name in reversed(stack if isinstance(stack, tuple) else stack.split(";")):
            if name not in funcs:
                funcs[name] = len(funcs) + 1
                f = p.function.add()
                f.id, f.name = funcs[name], s(name)
                loc = p.location.add()
                loc.id = funcs[name]
                if name in kernel:
                    loc.mapping_id = 1
                loc.line.add().function_id = funcs[name]
            sample.location_id.append(funcs[name])
        sample.value.extend(values(count) if values else [count] * len(types))
    p.string_table.extend(strings)
    raw = p.SerializeToString()
    return gzip.compress(raw) if zip else raw


def chromium_bin():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return name
    need("chromium", "chromium")


def chromium(args, url, tmp_path):
    """Headless Chromium on url with args (--dump-dom, --screenshot=...)."""
    cmd = [chromium_bin(), "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'chrome-profile'}",
           "--virtual-time-budget=3000", *args, url]
    p = subprocess.run(cmd, capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode(errors="replace")[-2000:]
    return p.stdout.decode(errors="replace")
