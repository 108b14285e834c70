# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Separate debug information, each fixture reachable one way only.

dbg_link is stripped, its symbols in dbg_link.dbg beside it, reached only
through .gnu_debuglink; dbg_mini has only MiniDebugInfo (.gnu_debugdata).
For each, the dry run must name the hot function (fx_short_burn) in >= 95 %
of that process's samples. Then bad input: a debug link candidate with the
wrong CRC is skipped (counted) for the right one in .debug/, and a corrupt
.gnu_debugdata leaves file+0xoffset frames, a counter, and no crash.
Needs root; about 4 s per case.
"""
import shutil
import subprocess

from integration_helpers import FIXTURES, wait_attached

SECONDS = 3


def profile(ember, path):
    """Runs path (burning CPU for SECONDS + 1) under ember -p; its stacks."""
    fx = subprocess.Popen([str(path), "--ms", str((SECONDS + 1) * 1000)])
    try:
        run = ember.run("--dry-run", "-p", fx.pid, "--duration", SECONDS, "--window",
                        SECONDS)
    finally:
        fx.kill()
        fx.wait()
    assert run.returncode == 0, run.describe()
    return run


def hot_share(run):
    n = sum(s.count for s in run.stacks)
    hot = sum(s.count for s in run.stacks
              if [f for f in s.frames if not f.endswith("_[k]")][-1:] == ["fx_short_burn"])
    return hot, n


def test_debuglink_only(ember):
    run = profile(ember, FIXTURES / "dbg_link")
    hot, n = hot_share(run)
    assert n >= 100 and hot >= 0.95 * n, f"{hot}/{n}\n{run.stdout[:2000]}\n{run.describe()}"
    assert int(run.summary.fields["debug_files"]) >= 1, run.describe()


def test_minidebuginfo_only(ember):
    run = profile(ember, FIXTURES / "dbg_mini")
    hot, n = hot_share(run)
    assert n >= 100 and hot >= 0.95 * n, f"{hot}/{n}\n{run.stdout[:2000]}\n{run.describe()}"


def test_debuglink_crc_mismatch_falls_back(ember, tmp_path):
    """Beside the binary, a file with the link's name but other bytes (a
    stale build); in .debug/ the right one: the wrong one is counted and
    logged, the right one names the frames."""
    shutil.copy2(FIXTURES / "dbg_link", tmp_path / "dbg_link")
    (tmp_path / ".debug").mkdir()
    shutil.copy2(FIXTURES / "dbg_link.dbg", tmp_path / ".debug" / "dbg_link.dbg")
    shutil.copy2(FIXTURES / "dbg_mini", tmp_path / "dbg_link.dbg")
    run = profile(ember, tmp_path / "dbg_link")
    hot, n = hot_share(run)
    assert int(run.summary.fields["debug_crc_mismatch"]) >= 1, run.describe()
    assert any("another CRC" in l for l in run.stderr_lines()), run.describe()
    assert n >= 100 and hot >= 0.95 * n, f"{hot}/{n}\n{run.describe()}"


def test_debuglink_wrong_file_only_gives_offsets(ember, tmp_path):
    shutil.copy2(FIXTURES / "dbg_link", tmp_path / "dbg_link")
    shutil.copy2(FIXTURES / "dbg_mini", tmp_path / "dbg_link.dbg")
    run = profile(ember, tmp_path / "dbg_link")
    assert int(run.summary.fields["debug_crc_mismatch"]) >= 1, run.describe()
    assert not any("fx_short_burn" in s.frames for s in run.stacks), run.stdout[:2000]
    assert any(f.startswith("dbg_link+0x") for s in run.stacks for f in s.frames), \
        run.stdout[:2000]


def test_corrupt_minidebuginfo_counted_not_fatal(ember, tmp_path):
    data = bytearray((FIXTURES / "dbg_mini").read_bytes())
    out = subprocess.run(["readelf", "-SW", str(FIXTURES / "dbg_mini")], text=True,
                         capture_output=True, check=True).stdout
    line = next(l for l in out.splitlines() if ".gnu_debugdata" in l)
    off = int(line.split("PROGBITS")[1].split()[1], 16)
    size = int(line.split("PROGBITS")[1].split()[2], 16)
    for i in range(off + 12, off + size - 12):      # keep the xz header: a corrupt body
        data[i] ^= 0xA5
    bad = tmp_path / "dbg_mini"
    bad.write_bytes(bytes(data))
    bad.chmod(0o755)
    run = profile(ember, bad)
    assert int(run.summary.fields["debug_bad"]) >= 1, run.describe()
    assert any("MiniDebugInfo not used" in l for l in run.stderr_lines()), run.describe()
    assert any(f.startswith("dbg_mini+0x") for s in run.stacks for f in s.frames), \
        run.stdout[:2000]
