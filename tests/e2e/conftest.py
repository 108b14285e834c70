# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""conftest.py - fixtures for the end-to-end tests: the receiver, protobuf
bindings generated at test time, test TLS material (made with the openssl CLI
in a temporary directory, never committed) and hand-built pprof/Push bodies."""

import gzip
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

import receiver as rx

# tests/sampling_truth.py (the timeline and the tolerances) is shared with
# tests/integration.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from e2e_paths import EMBER, OUTPUT, REPO, SPLIT  # noqa: E402,F401 (used by the tests)


@pytest.fixture(scope="session")
def pb(tmp_path_factory):
    """The perftools.profiles / push.v1 / types.v1 Python modules."""
    return rx.load_pb(out_dir=str(tmp_path_factory.mktemp("pb")))


@pytest.fixture
def make_receiver(pb):
    """Factory: make_receiver(**options) -> a started Receiver, stopped at teardown."""
    started = []

    def make(**kw):
        r = rx.Receiver(**kw).start()
        started.append(r)
        return r

    yield make
    for r in started:
        r.stop()


@pytest.fixture
def receiver(make_receiver):
    return make_receiver()


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def tls(tmp_path_factory):
    """A test CA, a server certificate for 127.0.0.1/localhost signed by it,
    and an unrelated CA (the wrong one). Paths in a dict."""
    if not shutil.which("openssl"):
        pytest.skip("SKIP: the openssl CLI is needed to make test certificates (apt-get install openssl)")
    d = str(tmp_path_factory.mktemp("tls"))
    for ca in ("ca", "wrongca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                 "/CN=ember test %s" % ca, "-keyout", ca + ".key", "-out", ca + ".pem", cwd=d)
    with open(os.path.join(d, "san.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout",
             "server.key", "-out", "server.csr", cwd=d)
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", "san.cnf", "-out", "server.pem", cwd=d)
    return {k: os.path.join(d, v) for k, v in
            (("ca", "ca.pem"), ("wrong_ca", "wrongca.pem"), ("cert", "server.pem"),
             ("key", "server.key"))}


# --- hand-built bodies -----------------------------------------------------

def valid_profile(pb, stacks=None, period=10_000_000, time_nanos=None):
    """A CPU profile as Ember sends it: stacks maps root-first function name
    tuples to sample counts."""
    stacks = stacks or {("main", "fx_work_a"): 6, ("main", "fx_work_b"): 3}
    p = pb["profile"].Profile()
    strings = [""]

    def s(x):
        if x not in strings:
            strings.append(x)
        return strings.index(x)

    p.sample_type.add(type=s("cpu"), unit=s("nanoseconds"))
    p.period_type.type = s("cpu")
    p.period_type.unit = s("nanoseconds")
    p.period = period
    p.time_nanos = time.time_ns() if time_nanos is None else time_nanos
    p.duration_nanos = 2 * 10**9
    p.mapping.add(id=1, filename=s("split"), has_functions=True)
    fids = {}
    for stack, count in stacks.items():
        locs = []
        for name in reversed(stack):  # leaf first
            if name not in fids:
                fids[name] = len(fids) + 1
                p.function.add(id=fids[name], name=s(name))
                p.location.add(id=fids[name], mapping_id=1).line.add(function_id=fids[name])
            locs.append(fids[name])
        p.sample.add(location_id=locs, value=[count * period])
    p.string_table.extend(strings)
    return p


def gz(data):
    return gzip.compress(data, 1)


def push_body(pb, series):
    """series: list of (labels as list of (name, value), [raw_profile bytes])."""
    req = pb["push"].PushRequest()
    for labels, raws in series:
        s = req.series.add()
        for k, v in labels:
            s.labels.add(name=k, value=v)
        for raw in raws:
            s.samples.add(raw_profile=raw)
    return req.SerializeToString()


DEFAULT_LABELS = [("__name__", "process_cpu"), ("service_name", "split"), ("host", "h1")]


def post(url, body=b"", headers=None, method="POST", context=None, timeout=10):
    """-> (status, headers, body); HTTP errors are answers, not exceptions."""
    req = urllib.request.Request(url, data=body if method != "GET" else None, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


@pytest.fixture
def helpers(pb):
    """The body builders and post(), bound to the generated modules."""

    class H:
        profile = staticmethod(lambda **kw: valid_profile(pb, **kw))
        body = staticmethod(lambda series: push_body(pb, series))
        labels = DEFAULT_LABELS
        gz = staticmethod(gz)
        post = staticmethod(post)

    return H
