# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Debug files from debuginfod, fetched off the naming path (issue 8, item 4).

dbg_dfd is stripped, without a debug link; its debug file is only in
dbg_dfd.srv/, served by a local `debuginfod` on 127.0.0.1 that the test
starts and stops. The first run fetches it (first window named from what
is there, later ones fully); a run with that cache names the hot function
in >= 95 % of the process's samples, less a 3.5-sigma binomial allowance.
Then bad servers (tiny HTTP servers here): one that sends garbage, one
that never answers. The agent keeps naming another process, each window
ends on time (finish_ms under the window's length), the run ends on time,
and the counters move. Needs root and Debian's debuginfod; ~40 s.
"""
import http.server
import math
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.request

import pytest

from integration_helpers import FIXTURES

BUILD_ID = "e8be0d0fdfd0000000000000000000000000dfd1"
WINDOW_RE = re.compile(r"agent: window samples=(\d+) .* finish_ms=(\d+)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def debuginfod(tmp_path):
    """A debuginfod serving dbg_dfd.srv/ on 127.0.0.1; its URL once it has
    scanned the directory (the debug file answers 200)."""
    exe = shutil.which("debuginfod")
    if not exe:
        pytest.fail("debuginfod is missing: run `make deps-test`")
    port = free_port()
    srv = subprocess.Popen([exe, "-F", str(FIXTURES / "dbg_dfd.srv"), "-p", str(port),
                            "-d", str(tmp_path / "dfd.sqlite"), "-t", "1"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/buildid/{BUILD_ID}/debuginfo",
                                            timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert srv.poll() is None, srv.stderr.read().decode(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "debuginfod did not index dbg_dfd.srv/"
            time.sleep(0.2)
        yield url
    finally:
        srv.terminate()
        try:
            srv.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()


def run_on(ember, paths, *args, seconds=3, window=3):
    """Runs each of paths (burning CPU) under one ember -p ...; (run, pids)."""
    fxs = [subprocess.Popen([str(p), "--ms", str((seconds + 2) * 1000)]) for p in paths]
    try:
        pids = []
        for fx in fxs:
            pids += ["-p", fx.pid]
        run = ember.run("--dry-run", *pids, "--duration", seconds, "--window", window,
                        "--log-level", "info", *args)
    finally:
        for fx in fxs:
            fx.kill()
            fx.wait()
    assert run.returncode == 0, run.describe()
    return run


def share(run, comm, hot="fx_short_burn"):
    stacks = [s for s in run.stacks if s[0] == comm]
    n = sum(s.count for s in stacks)
    named = sum(s.count for s in stacks
                if [f for f in s.frames if not f.endswith("_[k]")][-1:] == [hot])
    return named, n


def allowance(n, p=0.95):
    return 3.5 * math.sqrt(p * (1 - p) / n) if n else 1.0


def test_served_only_by_debuginfod(ember, tmp_path, debuginfod, monkeypatch):
    monkeypatch.setenv("DEBUGINFOD_URLS", debuginfod)
    cache = tmp_path / "cache"
    # First run: fetched while the first window is named from .dynsym,
    # then named fully once it lands.
    run = run_on(ember, [FIXTURES / "dbg_dfd"], "--debuginfod-cache", cache, seconds=4,
                 window=1)
    assert int(run.summary.fields["debuginfod_fetched"]) == 1, run.describe()
    assert (cache / f"{BUILD_ID}.debug").exists()
    named, n = share(run, "dbg_dfd")
    assert named > 0, f"never named after the fetch: {run.stdout[:2000]}\n{run.describe()}"
    # From the cache: named from the start. Collected until there are
    # enough samples, bounded in time (a loaded machine samples less).
    named = n = 0
    deadline = time.monotonic() + 40
    while n < 200 and time.monotonic() < deadline:
        run = run_on(ember, [FIXTURES / "dbg_dfd"], "--debuginfod", "--debuginfod-cache",
                     cache)
        a, b = share(run, "dbg_dfd")
        named, n = named + a, n + b
        assert int(run.summary.fields["debuginfod_bad"]) == 0, run.describe()
    assert n >= 100, f"too few samples: {n}\n{run.describe()}"
    assert named >= (0.95 - allowance(n)) * n, f"{named}/{n}\n{run.stdout[:2000]}"


class Bad(http.server.BaseHTTPRequestHandler):
    mode = "garbage"

    def do_GET(self):
        if self.mode == "hang":
            time.sleep(30)
            return
        body = b"this is not an ELF file\n" * 64
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("mode", ["garbage", "hang"])
def test_bad_server(ember, tmp_path, monkeypatch, mode):
    handler = type(f"Bad_{mode}", (Bad,), {"mode": mode})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    monkeypatch.setenv("DEBUGINFOD_URLS", f"http://127.0.0.1:{srv.server_address[1]}")
    monkeypatch.setenv("DEBUGINFOD_TIMEOUT", "2")
    seconds, window = 6, 1
    try:
        run = run_on(ember, [FIXTURES / "dbg_dfd", FIXTURES / "dbg_link"],
                     "--debuginfod-cache", tmp_path / "cache", seconds=seconds,
                     window=window)
    finally:
        srv.shutdown()
        srv.server_close()
    # The other process is named all along (its debug link).
    named, n = share(run, "dbg_link")
    assert n >= 50 and named >= (0.95 - allowance(n)) * n, f"{named}/{n}\n{run.describe()}"
    # This one falls back to file+0xoffset: never a wrong name.
    assert any(f.startswith("dbg_dfd+0x") for s in run.stacks for f in s.frames), \
        run.stdout[:2000]
    named, n = share(run, "dbg_dfd")
    assert named == 0, run.stdout[:2000]
    # No window waits for the server: each is named well within its length,
    # and the run ends on time (the fetch is aborted at exit).
    finish = [int(m[2]) for m in map(WINDOW_RE.search, run.stderr_lines()) if m]
    assert len(finish) >= seconds - 1, run.describe()
    assert max(finish) < window * 1000 / 2, f"finish_ms={finish}\n{run.describe()}"
    assert run.ended - run.started < seconds + 10, run.describe()
    f = run.summary.fields
    if mode == "garbage":
        assert int(f["debuginfod_bad"]) >= 1, run.describe()
        assert any("not the debug file" in l for l in run.stderr_lines()), run.describe()
    else:
        assert int(f["debuginfod_timeouts"]) >= 1, run.describe()
        assert any("deadline" in l for l in run.stderr_lines()), run.describe()
