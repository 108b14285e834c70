# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_http.py - /metrics and /healthz of a running agent (--http-listen)

/metrics is read by the Prometheus client library's own text parser, twice,
and its counters must move with the sampling between the scrapes. /healthz
must answer 200 while windows go out, 503 (with the reason) once the push
server has been away long enough to push windows out of the agent's queue,
and 200 again once it is back and a window is delivered. Other paths 404,
other methods 405, a bad address exits 2 with one line. Root; about 30 s.
"""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from e2e_paths import EMBER, SPLIT

if os.geteuid() != 0:
    pytest.skip("SKIP: the agent loads BPF programs and needs root", allow_module_level=True)
for _path in (EMBER, SPLIT):
    if not os.access(_path, os.X_OK):
        pytest.skip("SKIP: %s missing: run `make` first" % _path, allow_module_level=True)
try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    pytest.skip("SKIP: needs python3-prometheus-client (apt-get install python3-prometheus-client)",
                allow_module_level=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, method="GET", data=None):
    req = urllib.request.Request(url, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def scrape(base):
    """{(name, sorted label items): value} through the Prometheus parser."""
    status, headers, body = get(base + "/metrics")
    assert status == 200, body
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    out = {}
    for fam in text_string_to_metric_families(body):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def wait_for(pred, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


class Agent:
    """The agent sampling a split fixture and pushing to url, with /metrics on a free port."""

    def __init__(self, url, *args):
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.split = subprocess.Popen([SPLIT, "--threads", "1", "--seconds", "0"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cmd = [EMBER, "--pid", str(self.split.pid), "--server", url, "--window", "1",
               "--frequency", "97", "--http-listen", "127.0.0.1:%d" % self.port] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        up = wait_for(lambda: self._up(), 15)
        assert up, "no /healthz answer; stderr:\n" + self.stop()

    def _up(self):
        try:
            return get(self.base + "/healthz")[0] in (200, 503)
        except OSError:
            return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=30)
        finally:
            self.split.send_signal(signal.SIGTERM)
            self.split.wait(timeout=20)
        return err


def test_metrics_parse_and_move(receiver):
    agent = Agent(receiver.url)
    try:
        first = scrape(agent.base)
        assert wait_for(lambda: receiver.snapshot(), 10), "nothing pushed"
        time.sleep(2.5)
        second = scrape(agent.base)
    finally:
        err = agent.stop()
    for name in ("ember_samples_total", "ember_windows_total", "ember_processes_total",
                 "ember_push_requests_total", "ember_push_bytes_total",
                 "ember_resident_memory_bytes", "ember_frames_total",
                 "ember_output_windows_total", "ember_jvm_attaches_total",
                 "ember_cache_bytes", "ember_caps_hit_total", "ember_samples_lost_total"):
        assert any(k[0] == name for k in second), "%s missing from /metrics" % name
    assert second[("ember_samples_total", ())] > first[("ember_samples_total", ())], err
    assert second[("ember_windows_total", ())] > first[("ember_windows_total", ())]
    ok = ("ember_push_requests_total", (("result", "ok"),))
    assert second[ok] > first.get(ok, 0)
    assert second[("ember_push_bytes_total", ())] > 0
    delivered = ("ember_output_windows_total", (("end", "delivered"), ("output", "push")))
    assert second[delivered] >= 1
    rss = second[("ember_resident_memory_bytes", ())]
    assert 1 << 20 < rss < 1 << 30
    assert second[("ember_samples_lost_total", (("reason", "ring_buffer"),))] >= 0
    # The summary line at exit and /metrics are one list: same windows count or more.
    assert "summary samples=" in err


def test_healthz_flips_when_push_fails_past_the_queue(receiver):
    agent = Agent(receiver.url, "--queue-size", "1", "--max-retries", "1000",
                  "--timeout", "1", "--connect-timeout", "0.5")
    try:
        assert wait_for(lambda: receiver.snapshot(), 10), "nothing pushed"
        status, _, body = get(agent.base + "/healthz")
        assert status == 200 and body == "ok\n"
        receiver.refuse()
        # Window 1 s, queue of one request: within seconds windows are
        # pushed out of the queue and health says why.
        bad = wait_for(lambda: (lambda r: r if r[0] == 503 else None)(
            get(agent.base + "/healthz")), 20)
        assert bad, "healthz never turned 503 with the server down"
        assert "push failing" in bad[2] and "dropped" in bad[2], bad[2]
        m = scrape(agent.base)
        assert m[("ember_output_windows_total", (("end", "dropped"), ("output", "push")))] >= 1
        receiver.resume()
        good = wait_for(lambda: get(agent.base + "/healthz")[0] == 200, 30)
        assert good, "healthz stayed 503 after the server came back: %r" % (
            get(agent.base + "/healthz"),)
    finally:
        err = agent.stop()
    assert "summary" in err


def test_other_paths_methods_and_bad_address(receiver):
    agent = Agent(receiver.url)
    try:
        assert get(agent.base + "/")[0] == 404
        assert get(agent.base + "/metrics/../x")[0] == 404
        assert get(agent.base + "/healthz?x=1")[0] in (200, 503)
        assert get(agent.base + "/metrics", method="POST", data=b"x" * 10000)[0] == 405
        assert get(agent.base + "/metrics", method="HEAD")[0] == 200
        # A request that never finishes its headers does not block others.
        with socket.create_connection(("127.0.0.1", agent.port)) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            assert get(agent.base + "/healthz")[0] in (200, 503)
    finally:
        agent.stop()
    for bad in ("nonsense", "127.0.0.1:99999", "[::1", "127.0.0.1:"):
        r = subprocess.run([EMBER, "--server", receiver.url, "--http-listen", bad,
                            "--duration", "1"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, (bad, r.returncode, r.stderr)
        lines = [l for l in r.stderr.splitlines() if "http" in l]
        assert len(lines) == 1 and bad in lines[0], r.stderr
