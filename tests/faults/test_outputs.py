# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_outputs.py - outputs fail alone, counted, nothing half-written

A closed or full stdout stops the dry run only; a full or read-only file
system fails the files only; the push goes on. Exit code 3 says a window
did not arrive somewhere.
"""
import os
import subprocess
import time

import pytest

import faultlib
from faultlib import make_receiver  # noqa: F401 (a fixture)

faultlib.require_root()


def test_closed_stdout_stops_only_the_dry_run(make_receiver, tmp_path):
    r = make_receiver()
    rfd, wfd = os.pipe()
    os.close(rfd)  # nobody will ever read: EPIPE at the first write
    try:
        run = faultlib.run_agent("--dry-run", "--output-dir", tmp_path, "--server", r.url,
                                 duration=4, stdout=wfd)
    finally:
        os.close(wfd)
    s = run.summary
    assert run.rc == 3, run
    errors = run.lines("error")
    assert len(errors) == 1 and "stdout" in errors[0] and "Broken pipe" in errors[0], run
    assert faultlib.assert_identity(s, "stdout")["delivered"] == 0
    assert s["failed_stdout"] == s["windows_stdout"] >= 3, run
    assert s["delivered_files"] == s["windows_files"] >= 3, run
    assert s["delivered_push"] == s["windows_push"] == s["windows_files"], run
    assert len(list(tmp_path.glob("*.pb.gz"))) >= 3
    assert r.wait_profiles(s["windows_push"], 5)


def test_full_stdout_counted():
    with open("/dev/full", "w") as full:
        run = faultlib.run_agent("--dry-run", duration=3, stdout=full)
    assert run.rc == 3, run
    errors = run.lines("error")
    assert len(errors) == 1 and "No space left on device" in errors[0], run
    assert run.summary["failed_stdout"] == run.summary["windows_stdout"] >= 2, run


def _tmpfs(path, size="256k"):
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", str(path)], check=True)


def _left_behind(d):
    return [n for n in os.listdir(d) if n.startswith(".")]


@pytest.mark.parametrize("fault", ["enospc", "erofs"])
def test_file_system_fault_fails_files_only(fault, make_receiver, tmp_path):
    r = make_receiver()
    d = tmp_path / "out"
    _tmpfs(d)

    def during(agent):
        time.sleep(2.5)
        if fault == "enospc":
            subprocess.run(["dd", "if=/dev/zero", "of=%s/fill" % d, "bs=4k"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:
            subprocess.run(["mount", "-o", "remount,ro", str(d)], check=True)

    try:
        run = faultlib.run_agent("--output-dir", d, "--server", r.url, duration=5, during=during)
        s = run.summary
        assert run.rc == 3, run
        parts = faultlib.assert_identity(s, "files")
        assert parts["failed"] >= 1 and parts["delivered"] >= 1, run
        want = "No space left on device" if fault == "enospc" else "Read-only file system"
        assert any(want in l for l in run.lines("error")), run
        assert s["delivered_push"] == s["windows_push"] >= 4, run
        assert not _left_behind(d), "half-written files left: %s" % _left_behind(d)
    finally:
        subprocess.run(["umount", str(d)])
