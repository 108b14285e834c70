# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""receiver.py - a strict Pyroscope-compatible push receiver for the tests

Implements the write path of Grafana Pyroscope as described in
/work/shared/reference/pyroscope-protocol.md: the Connect unary
POST /push.v1.PusherService/Push (application/proto and application/json,
optional gzip of the whole message) and the legacy POST /ingest
(and /pyroscope/ingest) with format=pprof, with the server's validation rules,
limits, rate limiter, tenant check and Connect JSON error bodies. Every
accepted profile is decoded and recorded (labels, profile, request headers,
arrival time) for the tests to inspect. Faults can be programmed: answer the
next N requests with a status, hang before answering, refuse connections for
a while, require basic auth / bearer / tenant, serve TLS.

In-process use:  r = Receiver(); r.start(); ... r.profiles ...; r.stop()
Manual use:      /usr/bin/python3 tests/e2e/receiver.py --port 4040
"""

import argparse
import atexit
import base64
import http.server
import importlib
import json
import os
import shutil
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import zlib

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PUSH_PATH = "/push.v1.PusherService/Push"
INGEST_PATHS = ("/ingest", "/pyroscope/ingest")
CONTROL_PATH = "/_ember/control"
MIB = 1 << 20

# Connect code -> HTTP status (connect-go protocol_connect.go connectCodeToHTTP).
CONNECT_HTTP = {
    "canceled": 499, "unknown": 500, "invalid_argument": 400, "deadline_exceeded": 504,
    "not_found": 404, "already_exists": 409, "permission_denied": 403,
    "resource_exhausted": 429, "failed_precondition": 400, "aborted": 409,
    "out_of_range": 400, "unimplemented": 501, "internal": 500, "unavailable": 503,
    "data_loss": 500, "unauthenticated": 401,
}
HTTP_CONNECT = {400: "invalid_argument", 401: "unauthenticated", 403: "permission_denied",
                404: "not_found", 408: "deadline_exceeded", 409: "aborted",
                429: "resource_exhausted", 499: "canceled", 500: "unknown",
                501: "unimplemented", 503: "unavailable", 504: "deadline_exceeded"}

_PB = {}
_PB_LOCK = threading.Lock()


def load_pb(proto_dir=None, out_dir=None):
    """Generates and imports the Python bindings of proto/*.proto once.
    Returns a dict with the modules 'profile', 'push', 'types'."""
    with _PB_LOCK:
        if _PB:
            return _PB
        proto_dir = proto_dir or os.path.join(REPO, "proto")
        if not out_dir:
            out_dir = tempfile.mkdtemp(prefix="ember-pb-")
            atexit.register(shutil.rmtree, out_dir, True)
        files = [os.path.join(proto_dir, f) for f in ("profile.proto", "push.proto", "types.proto")]
        subprocess.run(["protoc", "--python_out=" + out_dir, "--proto_path=" + proto_dir] + files,
                       check=True)
        if out_dir not in sys.path:
            sys.path.insert(0, out_dir)
        _PB["profile"] = importlib.import_module("profile_pb2")
        _PB["push"] = importlib.import_module("push_pb2")
        _PB["types"] = importlib.import_module("types_pb2")
        return _PB


class ConnectError(Exception):
    """An error with a Connect code, answered as {"code","message"}."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self):
        return CONNECT_HTTP.get(self.code, 500)


class UncodedError(Exception):
    """A plain Go error in the server: connect-go wraps it as code unknown."""


# --- decoding helpers ------------------------------------------------------

def gunzip_limited(data, limit):
    """pprof.openBytes: gunzip when the gzip header is there, else as-is; a
    result over limit bytes is an error."""
    if data[:2] != b"\x1f\x8b":
        if len(data) > limit:
            raise ConnectError("invalid_argument", "uncompressed profile payload size exceeds "
                               "limit of %.1f MB" % (limit / 1e6))
        return data
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(data, limit + 1)
    except zlib.error as e:
        raise UncodedError("gzip: %s" % e)
    if len(out) > limit:
        raise ConnectError("invalid_argument", "uncompressed profile payload size exceeds "
                           "limit of %.1f MB" % (limit / 1e6))
    if not d.eof:
        raise UncodedError("gzip: unexpected EOF")
    return out


def _varint(b, i):
    v = shift = 0
    while True:
        if i >= len(b) or shift > 63:
            raise ValueError("bad varint")
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def _has_invalid_utf8_string(b, field=6):
    """True when a top-level length-delimited field (string_table) holds
    invalid UTF-8: the only decode failure Pyroscope reports as 400."""
    i = 0
    try:
        while i < len(b):
            key, i = _varint(b, i)
            wt = key & 7
            if wt == 0:
                _, i = _varint(b, i)
            elif wt == 1:
                i += 8
            elif wt == 5:
                i += 4
            elif wt == 2:
                n, i = _varint(b, i)
                if key >> 3 == field:
                    try:
                        b[i:i + n].decode("utf-8")
                    except UnicodeDecodeError:
                        return True
                i += n
            else:
                return False
    except ValueError:
        return False
    return False


def decode_profile(raw, limit):
    """raw_profile bytes -> (Profile, uncompressed size)."""
    pb = load_pb()
    data = gunzip_limited(raw, limit)
    try:
        prof = pb["profile"].Profile.FromString(data)
    except Exception as e:  # DecodeError from the cpp or python implementation
        if _has_invalid_utf8_string(data):
            raise ConnectError("invalid_argument", "invalid UTF-8 string in string table")
        raise UncodedError("failed to parse profile: %s" % e)
    return prof, len(data)


def profile_samples(prof):
    """Samples a CPU profile stands for: sum of first values / period."""
    total = sum(s.value[0] for s in prof.sample if s.value)
    return total // prof.period if prof.period else total


def sample_frames(prof, sample):
    """Function names of one sample, root first."""
    st = prof.string_table
    fn = {f.id: st[f.name] for f in prof.function}
    loc = {l.id: l for l in prof.location}
    names = []
    for lid in sample.location_id:  # leaf first
        l = loc.get(lid)
        if l is None:
            names.append("?")
            continue
        for line in l.line:  # callee first within a location
            names.append(fn.get(line.function_id, "?"))
    return list(reversed(names))


def labels_str(labels):
    return "{" + ", ".join('%s="%s"' % (k, v) for k, v in labels) + "}"


# --- validation (reference section 3) --------------------------------------

def _legacy_name_ok(name):
    if not name or not (name[0].isascii() and (name[0].isalpha() or name[0] == "_")):
        return False
    return all(c.isascii() and (c.isalnum() or c == "_") for c in name)


def _legacy_metric_ok(name):
    return bool(name) and all(c.isascii() and (c.isalnum() or c in "_:") for c in name) \
        and not name[0].isdigit()


def validate_labels(labels, utf8_names):
    """ValidateLabels: labels is a sorted list of (name, value). Returns the
    possibly renamed labels (1.x sanitizes dots) or raises."""
    if not labels:
        raise ConnectError("invalid_argument", "error at least one label pair is required per profile")
    ls = labels_str(labels)
    if len(labels) > 30:
        raise ConnectError("invalid_argument", "profile series '%s' has %d label names; limit %d"
                           % (ls, len(labels), 30))
    d = dict(labels)
    metric = d.get("__name__", "")
    if not metric or (not utf8_names and not _legacy_metric_ok(metric)):
        raise ConnectError("invalid_argument", "invalid labels '%s' with error: invalid metric name" % ls)
    if d.get("service_name", "") == "":
        raise ConnectError("invalid_argument", "invalid labels '%s' with error: service name is not provided" % ls)
    out = []
    for name, value in labels:
        if len(name.encode()) > 1024:
            raise ConnectError("invalid_argument", "profile with labels '%s' has label name too long: '%s'" % (ls, name))
        if len(value.encode()) > 2048:
            raise ConnectError("invalid_argument", "profile with labels '%s' has label value too long: '%s'" % (ls, value))
        if not utf8_names:
            if not _legacy_name_ok(name):
                renamed = name.replace(".", "_")
                if not _legacy_name_ok(renamed):
                    raise ConnectError("invalid_argument", "invalid labels '%s' with error: invalid label name '%s'" % (ls, name))
                name = renamed
        elif not name:
            raise ConnectError("invalid_argument", "invalid labels '%s' with error: invalid label name '%s'" % (ls, name))
        out.append((name, value))
    out.sort()
    for a, b in zip(out, out[1:]):
        if a[0] == b[0]:
            raise ConnectError("invalid_argument", "profile with labels '%s' has duplicate label name: '%s'" % (ls, a[0]))
    return out


def validate_profile(prof, size, labels, now_ns, max_size, max_samples):
    """ValidateProfile (reference 3.3); all invalid_argument."""
    bad = lambda msg: ConnectError("invalid_argument", msg)  # noqa: E731
    ls = labels_str(labels)
    if not prof.sample_type:
        raise bad("empty profile")
    t = prof.time_nanos or now_ns
    if t < now_ns - 3600 * 10**9 or t > now_ns + 600 * 10**9:
        raise bad("profile with labels '%s' is outside of ingestion window (profile timestamp: %d, "
                  "reason: not_in_ingestion_window)" % (ls, t))
    if size > max_size:
        raise bad("the profile with labels '%s' exceeds the size limit (max_profile_size_byte, "
                  "actual: %d, limit: %d)" % (ls, size, max_size))
    if len(prof.sample) > max_samples:
        raise bad("the profile with labels '%s' exceeds the samples count limit "
                  "(max_profile_stacktrace_samples, actual: %d, limit: %d)" % (ls, len(prof.sample), max_samples))
    for s in prof.sample:
        if len(s.label) > 100:
            raise bad("the profile with labels '%s' exceeds the sample labels limit "
                      "(max_profile_stacktrace_sample_labels, actual: %d, limit: 100)" % (ls, len(s.label)))
    if any(l.id == 0 for l in prof.location):
        raise bad("location id is 0")
    if any(f.id == 0 for f in prof.function):
        raise bad("function id is 0")
    for s in prof.sample:
        if len(s.value) != len(prof.sample_type):
            raise bad("sample value length mismatch")
    if not prof.string_table or prof.string_table[0] != "":
        raise bad("string 0 should be empty string")
    n = len(prof.string_table)
    idx = []
    for vt in prof.sample_type:
        idx += [vt.type, vt.unit]
    for s in prof.sample:
        for l in s.label:
            idx += [l.key, l.str, l.num_unit]
    for f in prof.function:
        idx += [f.name, f.system_name, f.filename]
    for m in prof.mapping:
        idx += [m.filename, m.build_id]
    if any(i < 0 or i >= n for i in idx):
        raise bad("string index out of range")
    for vt in prof.sample_type:
        if "-" in prof.string_table[vt.type]:
            raise bad("sample type contains -")


def metric_from_sample_types(prof):
    """RawProfile.metricName for /ingest pprof."""
    st = prof.string_table
    types = [st[vt.type] for vt in prof.sample_type if 0 <= vt.type < len(st)]
    for t in types:
        if t == "wall":
            return "wall"
    for t in types:
        if "cpu" in t:
            return "process_cpu"
        if any(k in t for k in ("alloc_", "inuse_", "space", "objects")):
            return "memory"
        if t.startswith("mutex_"):
            return "mutex"
        if t.startswith("block_"):
            return "block"
        if t == "goroutines":
            return "goroutines"
    return "unknown"


def parse_labelset(name):
    """labelset.Parse of /ingest's name: APP{k=v,...} -> dict with __name__."""
    labels = {}
    state, key, value = "name", "", ""
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")
    for r in name + "{":
        if state == "name":
            if r == "{":
                app = value.strip()
                if not app:
                    raise ValueError("service name is required")
                bad = [c for c in app if c not in allowed and c not in "-/"]
                if bad:
                    raise ValueError("invalid service name: %s: character is not allowed: %r" % (app, bad[0]))
                labels["__name__"] = app
                state, value = "tags", ""
            else:
                value += r
        elif state == "tags":
            if r == "}":
                state = "done"
            elif r == "=":
                state, value = "value", ""
            else:
                key += r
        elif state == "value":
            if r in ",}":
                k = key.strip()
                if k != "__name__":
                    if not k:
                        raise ValueError("label name is required")
                    bad = [c for c in k if c not in allowed]
                    if bad:
                        raise ValueError("invalid label name: %s: character is not allowed: %r" % (k, bad[0]))
                labels[k] = value.strip()
                key = ""
                state = "done" if r == "}" else "tags"
            else:
                value += r
    return labels


# --- the receiver ----------------------------------------------------------

class Request:
    """One HTTP request as it arrived and how it was answered."""

    def __init__(self, method, path, query, headers, body_len):
        self.time = time.time()
        self.mono = time.monotonic()
        self.method, self.path, self.query = method, path, query
        self.headers = headers  # lower-case name -> value
        self.body_len = body_len
        self.status = None
        self.answered = None  # time.monotonic() when the reply was sent
        self.code = None
        self.message = None
        self.accepted = 0

    def __repr__(self):
        return "<Request %s %s status=%s code=%s t=%.3f>" % (self.method, self.path, self.status,
                                                               self.code, self.mono)


class Accepted:
    """One profile the receiver accepted."""

    def __init__(self, endpoint, labels, profile, raw, size, req):
        self.endpoint = endpoint
        self.labels = dict(labels)
        self.profile = profile
        self.raw = raw
        self.size = size
        self.request = req
        self.headers = req.headers
        self.time = req.time
        self.mono = req.mono

    @property
    def samples(self):
        return profile_samples(self.profile)


class TokenBucket:
    """rate.Limiter semantics: AllowN never spends tokens it refuses."""

    def __init__(self, rate, burst):
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.last = time.monotonic()

    def allow(self, n):
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if n > self.burst or n > self.tokens:
            return False
        self.tokens -= n
        return True


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, addr, handler, receiver):
        self.receiver = receiver
        super().__init__(addr, handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        self.receiver._track(sock, True)
        return sock, addr

    def finish_request(self, request, client_address):
        conn = request
        try:
            if self.receiver.tls_ctx is not None:
                request.settimeout(10)
                try:
                    conn = self.receiver.tls_ctx.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    self.receiver._tls_failed(e)
                    return
                self.receiver._track(conn, True)
                conn.settimeout(None)
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            self.receiver._track(request, False)
            if conn is not request:
                self.receiver._track(conn, False)
                try:
                    conn.close()
                except OSError:
                    pass

    def handle_error(self, request, client_address):
        pass  # a client that went away (timeouts, refused phases) is normal here


class Receiver:
    """A Pyroscope-compatible receiver on a loopback port, in a thread.

    Options: multitenancy (401 without X-Scope-OrgID), utf8_names (2.x label
    names; default is the 1.x legacy charset), basic_auth=(user, password),
    bearer_token, tenant (an authenticating proxy in front: 401 otherwise),
    tls_cert/tls_key (serve HTTPS), limits (rate/burst bytes, profile size,
    samples, body size). Read profiles/requests under .lock or via the
    wait_* helpers."""

    def __init__(self, host="127.0.0.1", port=0, multitenancy=False, utf8_names=False,
                 basic_auth=None, bearer_token=None, tenant=None, tls_cert=None, tls_key=None,
                 rate_bytes=4 * MIB, burst_bytes=2 * MIB, max_profile_bytes=4 * MIB,
                 max_samples=16000, body_limit=256 * MIB, control=False, on_accept=None,
                 verbose=False):
        load_pb()
        self.host, self.port = host, port
        self.multitenancy, self.utf8_names = multitenancy, utf8_names
        self.basic_auth, self.bearer_token, self.tenant = basic_auth, bearer_token, tenant
        self.rate_bytes, self.burst_bytes = rate_bytes, burst_bytes
        self.max_profile_bytes, self.max_samples, self.body_limit = max_profile_bytes, max_samples, body_limit
        self.control, self.on_accept, self.verbose = control, on_accept, verbose
        self.tls_ctx = None
        if tls_cert:
            self.tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls_ctx.load_cert_chain(tls_cert, tls_key)
        self.lock = threading.Condition()
        self.profiles = []
        self.requests = []
        self.tls_errors = []
        self._buckets = {}
        self._faults = []  # [status, count, code, message]
        self._hangs = []   # [seconds, count]
        self._conns = set()
        self._server = None
        self._thread = None
        self._stopping = threading.Event()
        self._refusing = False
        self.mode = None  # see set_mode
        self._mode_n = 0

    # lifecycle
    @property
    def url(self):
        return "%s://%s:%d" % ("https" if self.tls_ctx else "http", self.host, self.port)

    def start(self):
        self._server = _Server((self.host, self.port), self._handler_class(), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        self._close_listener()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _close_listener(self):
        srv, self._server = self._server, None
        if srv is not None:
            srv.shutdown()
            srv.server_close()
        with self.lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _track(self, sock, add):
        with self.lock:
            if add:
                self._conns.add(sock)
            else:
                self._conns.discard(sock)

    def _tls_failed(self, err):
        with self.lock:
            self.tls_errors.append((time.monotonic(), str(err)))
            self.lock.notify_all()

    # faults
    def fail_next(self, status, count=1, code=None, message=None):
        """Answers the next count protocol requests with status (Connect JSON)."""
        with self.lock:
            self._faults.append([status, count, code or HTTP_CONNECT.get(status, "unknown"),
                                 message or "injected failure status %d" % status])

    def hang_next(self, seconds, count=1):
        """Waits seconds before handling each of the next count requests."""
        with self.lock:
            self._hangs.append([seconds, count])

    def set_mode(self, mode):
        """How every protocol request is answered from now on, for the
        fault tests: None (normally), "blackhole" (read, never answer),
        "trickle" (200 headers, then the body one byte a second),
        "endless" (200 with a body that never ends, as fast as it goes),
        "huge_header" (a 200 KiB header line), "many_headers" (100 KiB of
        headers in small lines), "flaky" (every other request 503)."""
        with self.lock:
            self.mode = mode
            self._mode_n = 0

    def clear_faults(self):
        with self.lock:
            self._faults.clear()
            self._hangs.clear()

    def refuse(self):
        """Stops listening (connections are refused) and drops open ones."""
        self._refusing = True
        self._close_listener()

    def resume(self):
        """Listens again on the same port."""
        self._refusing = False
        self.start()

    def refuse_for(self, seconds):
        """Refuses connections for seconds, then listens again (background)."""
        self.refuse()
        t = threading.Timer(seconds, lambda: None if self._stopping.is_set() else self.resume())
        t.daemon = True
        t.start()
        return t

    # inspection
    def wait_until(self, pred, timeout):
        """Waits until pred() (called under the lock) is true; returns it."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                v = pred()
                if v or time.monotonic() >= deadline:
                    return v
                self.lock.wait(min(0.2, max(0.01, deadline - time.monotonic())))

    def wait_profiles(self, n, timeout):
        return self.wait_until(lambda: len(self.profiles) >= n, timeout)

    def protocol_requests(self):
        with self.lock:
            return [r for r in self.requests if r.path == PUSH_PATH or r.path in INGEST_PATHS]

    def snapshot(self):
        with self.lock:
            return list(self.profiles)

    # request handling
    def _take_fault(self):
        with self.lock:
            hang = None
            if self._hangs:
                hang = self._hangs[0][0]
                self._hangs[0][1] -= 1
                if self._hangs[0][1] <= 0:
                    self._hangs.pop(0)
            fault = None
            if self._faults:
                f = self._faults[0]
                fault = (f[0], f[2], f[3])
                f[1] -= 1
                if f[1] <= 0:
                    self._faults.pop(0)
            return hang, fault

    def _proxy_auth(self, headers):
        if self.basic_auth:
            want = "Basic " + base64.b64encode(("%s:%s" % self.basic_auth).encode()).decode()
            if headers.get("authorization") != want:
                raise ConnectError("unauthenticated", "invalid or missing basic auth credentials")
        if self.bearer_token and headers.get("authorization") != "Bearer " + self.bearer_token:
            raise ConnectError("unauthenticated", "invalid or missing bearer token")
        if self.tenant and headers.get("x-scope-orgid") != self.tenant:
            raise ConnectError("unauthenticated", "wrong or missing X-Scope-OrgID")

    def _tenant(self, headers):
        if not self.multitenancy:
            return "anonymous"
        t = headers.get("x-scope-orgid")
        if not t:
            raise ConnectError("unauthenticated", "no org id")
        ok = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!-_.*'()")
        if len(t) > 150 or t in (".", "..") or any(c not in ok for c in t):
            raise ConnectError("unauthenticated", "tenant ID is invalid")
        return t

    def _ingest_series(self, req, tenant, endpoint, series_labels, raws, fix_time_ns=None):
        """The distributor's per-profile pipeline. Returns the errors
        (ConnectError / UncodedError) in order; records what passes."""
        errors = []
        now = time.time_ns()
        accepted = []
        for raw in raws:
            try:
                prof, size = decode_profile(raw, self.max_profile_bytes)
                if fix_time_ns is not None and prof.time_nanos < 365 * 86400 * 10**9:
                    prof.time_nanos = fix_time_ns
                labels = list(series_labels(prof))
                if not any(k == "service_name" for k, _ in labels):
                    labels.append(("service_name", "unknown_service"))
                labels.sort()
                cost = size + sum(len(k.encode()) + len(v.encode()) for k, v in labels)
                with self.lock:
                    b = self._buckets.setdefault(tenant, TokenBucket(self.rate_bytes, self.burst_bytes))
                    allowed = b.allow(cost)
                if not allowed:
                    raise ConnectError("resource_exhausted", "push rate limit (%.1f MiB) exceeded while "
                                       "adding %d bytes for user %s" % (self.rate_bytes / MIB, cost, tenant))
                validate_profile(prof, size, labels, now, self.max_profile_bytes, self.max_samples)
                labels = validate_labels(labels, self.utf8_names)
                accepted.append(Accepted(endpoint, labels, prof, raw, size, req))
            except (ConnectError, UncodedError) as e:
                errors.append(e)
        with self.lock:
            self.profiles.extend(accepted)
            req.accepted += len(accepted)
            self.lock.notify_all()
        for a in accepted:
            if self.on_accept:
                self.on_accept(a)
        return errors

    @staticmethod
    def _first_error(errors):
        """dskit multierror + errors.As: the first Connect-coded error wins;
        only plain errors make it code unknown."""
        for e in errors:
            if isinstance(e, ConnectError):
                return e
        return ConnectError("unknown", "; ".join(str(e) for e in errors))

    def _push(self, h, req, body):
        if h.command != "POST":
            return h.reply(405, b"", extra={"Allow": "POST"})
        ctype = (h.headers.get("Content-Type") or "").lower().replace(" ", "")
        if ctype == "application/proto":
            codec = "proto"
        elif ctype in ("application/json", "application/json;charset=utf-8"):
            codec = "json"
        else:
            return h.reply(415, b"", extra={"Accept-Post": "application/json, application/proto"})
        version = h.headers.get("Connect-Protocol-Version")
        if version is not None and version != "1":
            raise ConnectError("invalid_argument", 'connect-protocol-version must be "1": got "%s"' % version)
        timeout = h.headers.get("Connect-Timeout-Ms")
        if timeout is not None and (not timeout.isdigit() or len(timeout) > 10):
            raise ConnectError("invalid_argument", "protocol error: invalid timeout %r" % timeout)
        enc = (h.headers.get("Content-Encoding") or "identity").lower()
        if enc == "gzip":
            try:
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                body = d.decompress(body, self.body_limit + 1)
                if not d.eof:
                    raise zlib.error("unexpected EOF")
            except zlib.error as e:
                raise ConnectError("invalid_argument", "decompress: %s" % e)
        elif enc != "identity":
            raise ConnectError("unimplemented", 'unknown compression "%s": supported encodings are gzip' % enc)
        if len(body) > self.body_limit:
            raise ConnectError("resource_exhausted", "message size %d is larger than configured max %d"
                               % (len(body), self.body_limit))
        pb = load_pb()
        msg = pb["push"].PushRequest()
        try:
            if codec == "proto":
                msg.ParseFromString(body)
            else:
                from google.protobuf import json_format
                json_format.Parse(body.decode("utf-8"), msg)
        except Exception as e:
            raise ConnectError("invalid_argument", "unmarshal into push.v1.PushRequest: %s" % e)
        tenant = self._tenant(req.headers)
        if not any(len(s.samples) for s in msg.series):
            raise ConnectError("invalid_argument", "no profiles received")
        errors = []
        for s in msg.series:
            labels = [(l.name, l.value) for l in s.labels]
            errors += self._ingest_series(req, tenant, "push", lambda _p, ls=labels: ls,
                                          [x.raw_profile for x in s.samples])
        if errors:
            raise self._first_error(errors)
        if codec == "json":
            return h.reply(200, b"{}", ctype="application/json")
        return h.reply(200, b"", ctype="application/proto")

    def _ingest(self, h, req, body):
        if h.command != "POST":
            return h.reply(405, b"Method Not Allowed\n", ctype="text/plain; charset=utf-8",
                           extra={"Allow": "POST"})
        tenant = self._tenant(req.headers)
        q = urllib.parse.parse_qs(req.query, keep_blank_values=True)
        get = lambda k, d="": q.get(k, [d])[0]  # noqa: E731
        try:
            ls = parse_labelset(get("name"))
        except ValueError as e:
            return h.error(ConnectError("invalid_argument", "name: %s" % e))
        if len(body) > self.body_limit:
            return h.error(ConnectError("resource_exhausted", "request body too large"), status=413)
        if get("format") != "pprof" or "multipart/form-data" in (h.headers.get("Content-Type") or ""):
            return h.error(ConnectError("invalid_argument", "this test receiver only implements "
                                        "format=pprof with a raw body, got format=%r" % get("format")),
                           status=422)
        frm = get("from")
        from_ns = int(frm) * 10**9 if frm.isdigit() and len(frm) <= 11 else time.time_ns()
        app = ls.pop("__name__")
        spy = get("spyName") or "unknown"

        def labels_of(prof):
            out = [("__name__", metric_from_sample_types(prof)), ("__delta__", "false"),
                   ("pyroscope_spy", spy)]
            for k, v in ls.items():
                if k.startswith("__") and k != "__session_id__":
                    continue
                out.append((k, v))
            if "service_name" in ls:
                if "app_name" not in ls:
                    out.append(("app_name", app))
            else:
                out.append(("service_name", app))
            return out

        errors = self._ingest_series(req, tenant, "ingest", labels_of, [body], fix_time_ns=from_ns)
        if errors:
            e = self._first_error(errors)
            return h.error(e, status=429 if e.code == "resource_exhausted" else 422)
        return h.reply(200, b"", ctype="text/plain; charset=utf-8")

    def _control(self, h, body):
        try:
            c = json.loads(body or b"{}")
        except ValueError:
            return h.reply(400, b"bad json\n")
        if "fail_status" in c:
            self.fail_next(int(c["fail_status"]), int(c.get("fail_count", 1)), c.get("code"), c.get("message"))
        if "hang_s" in c:
            self.hang_next(float(c["hang_s"]), int(c.get("hang_count", 1)))
        if "refuse_s" in c:
            threading.Thread(target=self.refuse_for, args=(float(c["refuse_s"]),), daemon=True).start()
        with self.lock:
            out = {"profiles": len(self.profiles), "requests": len(self.requests)}
        return h.reply(200, json.dumps(out).encode(), ctype="application/json")

    def _handle(self, h):
        path, _, query = h.path.partition("?")
        body = h.read_body()
        if body is None:
            return
        headers = {k.lower(): v for k, v in h.headers.items()}
        if self.control and path == CONTROL_PATH:
            return self._control(h, body)
        req = Request(h.command, path, query, headers, len(body))
        with self.lock:
            self.requests.append(req)
            self.lock.notify_all()
        h.req = req
        if path != PUSH_PATH and path not in INGEST_PATHS:
            return h.reply(404, b"404 page not found\n", ctype="text/plain; charset=utf-8")
        with self.lock:
            mode = self.mode
            self._mode_n += 1
            if mode == "flaky":
                mode = "fail" if self._mode_n % 2 else None
        if mode and mode != "fail":
            return self._misbehave(h, mode)
        hang, fault = self._take_fault()
        if mode == "fail":
            fault = (503, "unavailable", "flaky receiver: every other request fails")
        if hang:
            self._stopping.wait(hang)
        if fault:
            return h.error(ConnectError(fault[1], fault[2]), status=fault[0])
        try:
            self._proxy_auth(headers)
            if path == PUSH_PATH:
                return self._push(h, req, body)
            return self._ingest(h, req, body)
        except ConnectError as e:
            return h.error(e)

    def _misbehave(self, h, mode):
        """Answers as a broken or hostile server would, until the client
        goes away or the receiver stops."""
        w = h.wfile
        h.close_connection = True
        try:
            if mode == "blackhole":
                self._stopping.wait(3600)
                return
            if mode in ("huge_header", "many_headers"):
                w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n")
                if mode == "huge_header":
                    w.write(b"X-Big: " + b"a" * (200 << 10) + b"\r\n")
                else:
                    for i in range(1024):
                        w.write(b"X-H%d: %s\r\n" % (i, b"b" * 100))
                w.write(b"\r\n")
                w.flush()
                return
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/proto\r\n")
            w.write(b"Content-Length: 1000000000000\r\n\r\n")
            w.flush()
            chunk = b"x" * (1 if mode == "trickle" else 65536)
            while not self._stopping.is_set():
                w.write(chunk)
                w.flush()
                if mode == "trickle":
                    self._stopping.wait(1.0)
        except OSError:
            pass

    def _handler_class(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 30
            req = None

            def log_message(self, fmt, *args):
                if receiver.verbose:
                    sys.stderr.write("receiver: " + (fmt % args) + "\n")

            def read_body(self):
                te = (self.headers.get("Transfer-Encoding") or "").lower()
                try:
                    if te == "chunked":
                        out = bytearray()
                        while True:
                            size = int(self.rfile.readline(100).split(b";")[0].strip() or b"0", 16)
                            if size == 0:
                                while self.rfile.readline(1000) not in (b"\r\n", b"\n", b""):
                                    pass
                                return bytes(out)
                            if len(out) + size > receiver.body_limit + 1:
                                raise ValueError("too large")
                            out += self.rfile.read(size)
                            self.rfile.readline(10)
                    n = int(self.headers.get("Content-Length") or 0)
                    if n < 0 or n > receiver.body_limit + MIB:
                        raise ValueError("bad length")
                    return self.rfile.read(n) if n else b""
                except (ValueError, OSError):
                    self.close_connection = True
                    try:
                        self.reply(400, b"bad request body\n")
                    except OSError:
                        pass
                    return None

            def reply(self, status, body, ctype=None, extra=None):
                if self.req is not None:
                    with receiver.lock:
                        self.req.status = status
                        self.req.answered = time.monotonic()
                        receiver.lock.notify_all()
                try:
                    self.send_response(status)
                    if ctype:
                        self.send_header("Content-Type", ctype)
                    for k, v in (extra or {}).items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    self.close_connection = True  # the client gave up (its timeout)

            def error(self, e, status=None):
                if self.req is not None:
                    with receiver.lock:
                        self.req.code, self.req.message = e.code, e.message
                body = json.dumps({"code": e.code, "message": e.message}).encode()
                self.reply(status or e.status, body, ctype="application/json")

            def _any(self):
                receiver._handle(self)

            do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _any

        return Handler


def _print_accepted(a):
    st = a.profile.string_table
    period = a.profile.period or 1
    top = {}
    for s in a.profile.sample:
        fr = sample_frames(a.profile, s)
        if fr and s.value:
            top[fr[-1]] = top.get(fr[-1], 0) + s.value[0] // period
    best = sorted(top.items(), key=lambda kv: -kv[1])[:3]
    print("accepted endpoint=%s labels=%s samples=%d bytes=%d type=%s top=%s" % (
        a.endpoint, labels_str(sorted(a.labels.items())), a.samples, a.size,
        ",".join(st[vt.type] + "/" + st[vt.unit] for vt in a.profile.sample_type),
        ";".join("%s:%d" % kv for kv in best)), flush=True)


def main():
    ap = argparse.ArgumentParser(description="Pyroscope-compatible test receiver")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=4040)
    ap.add_argument("--multitenancy", action="store_true", help="401 without X-Scope-OrgID")
    ap.add_argument("--utf8-label-names", action="store_true", help="2.x label names (default: 1.x legacy)")
    ap.add_argument("--basic-auth", metavar="USER:PASSWORD")
    ap.add_argument("--bearer-token")
    ap.add_argument("--tenant", help="require this X-Scope-OrgID")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--fail-status", type=int, help="answer the first requests with this status")
    ap.add_argument("--fail-count", type=int, default=1)
    ap.add_argument("--control", action="store_true", help="enable POST %s" % CONTROL_PATH)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    r = Receiver(host=a.host, port=a.port, multitenancy=a.multitenancy, utf8_names=a.utf8_label_names,
                 basic_auth=tuple(a.basic_auth.split(":", 1)) if a.basic_auth else None,
                 bearer_token=a.bearer_token, tenant=a.tenant, tls_cert=a.tls_cert, tls_key=a.tls_key,
                 control=a.control, on_accept=_print_accepted, verbose=a.verbose)
    if a.fail_status:
        r.fail_next(a.fail_status, a.fail_count)
    r.start()
    print("receiver: listening on %s" % r.url, file=sys.stderr, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        r.stop()


if __name__ == "__main__":
    main()
