# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_start.py - what cannot work is refused at start: one line, exit 2

Each case runs the real agent with one bad setting and expects it to stop
before sampling (no BPF is loaded, so these need no root): exit code 2,
exactly one line on stderr, naming the cause.
"""
import os
import subprocess
import tempfile

import pytest

import faultlib

if not os.access(faultlib.EMBER, os.X_OK):
    pytest.skip("SKIP: %s missing: run `make` first" % faultlib.EMBER, allow_module_level=True)

TMP = tempfile.mkdtemp(prefix="ember-faults-start-")
A_FILE = os.path.join(TMP, "a-file")
open(A_FILE, "w").close()
PASSWORD = os.path.join(TMP, "password")
with open(PASSWORD, "w") as f:
    f.write("secret\n")


def no_pid():
    """A pid that is not running now (pid_max is far above what is used)."""
    with open("/proc/sys/kernel/pid_max") as f:
        pid = int(f.read()) - 1
    while os.path.exists("/proc/%d" % pid):
        pid -= 1
    return pid


CASES = [
    (["--output-dir", A_FILE], "Not a directory"),
    (["--output-dir", os.path.join(A_FILE, "sub")], "Not a directory"),
    (["--output-dir", "/proc/ember-cannot-create"], "--output-dir"),
    (["--server", "http://"], "No host"),
    (["--server", "http://127.0.0.1:99999"], "Port number"),
    (["--server", "http://[::1"], "IPv6"),
    (["--server", "http://127.0.0.1:4040\r\nX-Injected: 1"], "control characters"),
    (["--server", "http://127.0.0.1:0"], "port 0"),
    (["--server", "http://127.0.0.1:4040/?q=1"], "query"),
    (["--server", "gopher://127.0.0.1"], "http"),
    (["--server", "http://127.0.0.1:4040", "--basic-auth-password-file", PASSWORD],
     "--basic-auth-password-file needs --basic-auth-user"),
    (["--server", "http://127.0.0.1:4040", "--basic-auth-user", "u"],
     "--basic-auth-user needs --basic-auth-password-file"),
    (["--dry-run", "--pid", str(no_pid())], "no process with --pid"),
    (["--dry-run", "--frequency", " 10"], "--frequency"),
]


@pytest.mark.parametrize("args,want", CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_refused_at_start(args, want):
    p = subprocess.run([faultlib.EMBER] + args, capture_output=True, text=True, timeout=10)
    lines = p.stderr.splitlines()
    assert p.returncode == 2, p
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("ember: error "), p.stderr
    assert want in lines[0], p.stderr
    assert not p.stdout


def test_read_only_output_dir_refused(tmp_path):
    """A directory root cannot write to (a read-only mount: root passes any
    permission check) is found by writing a probe file, which is removed."""
    if os.geteuid() != 0:
        pytest.skip("SKIP: mounting a read-only tmpfs needs root")
    d = tmp_path / "ro"
    d.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(d)], check=True)
    try:
        p = subprocess.run([faultlib.EMBER, "--output-dir", str(d / "sub")], capture_output=True,
                           text=True, timeout=10)
        assert p.returncode == 2 and "Read-only file system" in p.stderr, p
    finally:
        subprocess.run(["umount", str(d)], check=True)
    w = tmp_path / "w"
    p = subprocess.run([faultlib.EMBER, "--output-dir", str(w), "--server", "http://"],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 2
    # Refused before the directory was made: nothing left behind either way.
    assert not w.exists() or not os.listdir(w)
