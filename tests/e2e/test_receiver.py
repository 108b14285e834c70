# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_receiver.py - the test receiver follows the Pyroscope protocol

Drives the receiver with urllib and hand-built protobuf bodies: content
types, methods, gzip, every validation rule with its status and Connect code,
the rate limiter, tenants, /ingest, and the programmable faults. This is what
makes the agent tests mean something: the receiver rejects what Pyroscope
rejects. No root needed.
"""

import json
import socket
import ssl
import time
import urllib.error
import urllib.parse

import pytest

import receiver as rx

PROTO = {"Content-Type": "application/proto"}


def push(r, h, body, headers=PROTO, **kw):
    return h.post(r.url + rx.PUSH_PATH, body, headers, **kw)


def one(h, prof=None, labels=None, gzipped=True):
    raw = (prof if prof is not None else h.profile()).SerializeToString()
    return h.body([(labels if labels is not None else h.labels, [h.gz(raw) if gzipped else raw])])


def expect_error(resp, status, code, text=None):
    st, hdrs, body = resp
    assert st == status, (st, body)
    assert hdrs["Content-Type"] == "application/json"
    err = json.loads(body)
    assert err["code"] == code, err
    if text:
        assert text in err["message"], err
    return err


# --- transport ---------------------------------------------------------------

def test_push_proto_accepted_and_recorded(receiver, helpers):
    st, hdrs, body = push(receiver, helpers, one(helpers), {**PROTO, "Connect-Protocol-Version": "1",
                                                            "X-Extra": "yes"})
    assert st == 200 and body == b""
    assert hdrs["Content-Type"] == "application/proto"
    [p] = receiver.profiles
    assert p.endpoint == "push"
    assert p.labels == {"__name__": "process_cpu", "service_name": "split", "host": "h1"}
    assert p.samples == 9
    assert p.headers["x-extra"] == "yes"
    names = {rx.sample_frames(p.profile, s)[-1] for s in p.profile.sample}
    assert names == {"fx_work_a", "fx_work_b"}


def test_push_json_codec(receiver, helpers, pb):
    from google.protobuf import json_format
    msg = pb["push"].PushRequest.FromString(one(helpers))
    body = json_format.MessageToJson(msg).encode()
    assert b"rawProfile" in body
    st, hdrs, out = push(receiver, helpers, body, {"Content-Type": "application/json; charset=utf-8"})
    assert (st, out) == (200, b"{}")
    assert len(receiver.profiles) == 1


def test_push_json_garbage_is_400(receiver, helpers):
    expect_error(push(receiver, helpers, b"{not json", {"Content-Type": "application/json"}),
                 400, "invalid_argument")


@pytest.mark.parametrize("ctype", ["application/x-protobuf", "application/octet-stream", "text/plain", ""])
def test_push_wrong_content_type_is_415(receiver, helpers, ctype):
    st, hdrs, _ = push(receiver, helpers, one(helpers), {"Content-Type": ctype} if ctype else {})
    assert st == 415
    assert not receiver.profiles


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_push_non_post_is_405(receiver, helpers, method):
    st, hdrs, _ = helpers.post(receiver.url + rx.PUSH_PATH, b"", PROTO, method=method)
    assert st == 405 and hdrs["Allow"] == "POST"


def test_push_gzip_content_encoding(receiver, helpers):
    st, _, _ = push(receiver, helpers, helpers.gz(one(helpers)), {**PROTO, "Content-Encoding": "gzip"})
    assert st == 200 and len(receiver.profiles) == 1
    expect_error(push(receiver, helpers, b"\x1f\x8bnot gzip", {**PROTO, "Content-Encoding": "gzip"}),
                 400, "invalid_argument")
    expect_error(push(receiver, helpers, one(helpers), {**PROTO, "Content-Encoding": "br"}),
                 501, "unimplemented")


def test_push_bad_protocol_headers(receiver, helpers):
    expect_error(push(receiver, helpers, one(helpers), {**PROTO, "Connect-Protocol-Version": "2"}),
                 400, "invalid_argument")
    expect_error(push(receiver, helpers, one(helpers), {**PROTO, "Connect-Timeout-Ms": "soon"}),
                 400, "invalid_argument")


def test_push_garbage_body_is_400(receiver, helpers):
    expect_error(push(receiver, helpers, b"\xff\xff\xff\xff"), 400, "invalid_argument", "unmarshal")


def test_unknown_path_is_404(receiver, helpers):
    st, _, _ = helpers.post(receiver.url + "/push.v1.PusherService/Nope", b"", PROTO)
    assert st == 404


# --- request shape and raw_profile -------------------------------------------

def test_empty_request_and_series(receiver, helpers):
    expect_error(push(receiver, helpers, b""), 400, "invalid_argument", "no profiles received")
    expect_error(push(receiver, helpers, helpers.body([(helpers.labels, [])])), 400,
                 "invalid_argument", "no profiles received")


def test_raw_profile_plain_or_gzip(receiver, helpers):
    assert push(receiver, helpers, one(helpers, gzipped=False))[0] == 200
    assert push(receiver, helpers, one(helpers, gzipped=True))[0] == 200
    assert len(receiver.profiles) == 2


def test_undecodable_raw_profile_is_500_unknown(receiver, helpers):
    body = helpers.body([(helpers.labels, [b"\x0a\xff\xff\xff\xff\xff garbage"])])
    expect_error(push(receiver, helpers, body), 500, "unknown")
    body = helpers.body([(helpers.labels, [b"\x1f\x8b\x08\x00broken gzip"])])
    expect_error(push(receiver, helpers, body), 500, "unknown")
    assert not receiver.profiles


def test_several_series_and_samples_per_request(receiver, helpers):
    raw = helpers.gz(helpers.profile().SerializeToString())
    body = helpers.body([(helpers.labels, [raw, raw]),
                         ([("__name__", "process_cpu"), ("service_name", "other")], [raw])])
    assert push(receiver, helpers, body)[0] == 200
    assert sorted(p.labels["service_name"] for p in receiver.profiles) == ["other", "split", "split"]


def test_first_coded_error_wins_and_good_series_are_kept(receiver, helpers):
    good = helpers.gz(helpers.profile().SerializeToString())
    body = helpers.body([(helpers.labels, [b"garbage\xff"]), ([("service_name", "x")], [good]),
                         (helpers.labels, [good])])
    expect_error(push(receiver, helpers, body), 400, "invalid_argument", "invalid metric name")
    assert len(receiver.profiles) == 1


# --- labels (reference 3.1, 3.2) ----------------------------------------------

def test_service_name_filled_with_unknown_service(receiver, helpers):
    assert push(receiver, helpers, one(helpers, labels=[("__name__", "process_cpu")]))[0] == 200
    assert receiver.profiles[0].labels["service_name"] == "unknown_service"


@pytest.mark.parametrize("labels,text", [
    ([("service_name", "x")], "invalid metric name"),
    ([("__name__", ""), ("service_name", "x")], "invalid metric name"),
    ([("__name__", "process_cpu"), ("service_name", "")], "service name is not provided"),
    ([("__name__", "process_cpu")] + [("l%02d" % i, "v") for i in range(30)], "label names; limit 30"),
    ([("__name__", "process_cpu"), ("n" * 1025, "v")], "label name too long"),
    ([("__name__", "process_cpu"), ("long", "v" * 2049)], "label value too long"),
    ([("__name__", "process_cpu"), ("a", "1"), ("a", "2")], "duplicate label name"),
    ([("__name__", "process_cpu"), ("a-b", "1")], "invalid label name"),
    ([("__name__", "process_cpu"), ("1abc", "1")], "invalid label name"),
])
def test_label_validation(receiver, helpers, labels, text):
    expect_error(push(receiver, helpers, one(helpers, labels=labels)), 400, "invalid_argument", text)
    assert not receiver.profiles


def test_label_limits_inclusive(receiver, helpers):
    # 30 names with service_name, which the server adds when missing.
    labels = [("__name__", "process_cpu"), ("n" * 1024, "v" * 2048)] + [("l%02d" % i, "v") for i in range(27)]
    assert push(receiver, helpers, one(helpers, labels=labels))[0] == 200
    expect_error(push(receiver, helpers, one(helpers, labels=labels + [("l99", "v")])), 400,
                 "invalid_argument", "has 31 label names; limit 30")


def test_legacy_mode_sanitizes_dots_utf8_mode_keeps_them(make_receiver, helpers):
    labels = helpers.labels + [("otel.scope.name", "ember"), ("a-b", "x")]
    legacy = make_receiver()
    expect_error(push(legacy, helpers, one(helpers, labels=labels)), 400, "invalid_argument", "a-b")
    assert push(legacy, helpers, one(helpers, labels=helpers.labels + [("otel.scope.name", "e")]))[0] == 200
    assert "otel_scope_name" in legacy.profiles[0].labels
    utf8 = make_receiver(utf8_names=True)
    assert push(utf8, helpers, one(helpers, labels=labels))[0] == 200
    assert {"otel.scope.name", "a-b"} <= set(utf8.profiles[0].labels)


def _ld(tag, payload):
    """One length-delimited protobuf field."""
    n, v = len(payload), b""
    while True:
        v += bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)])
        n >>= 7
        if not n:
            return bytes([tag]) + v + payload


def test_invalid_utf8_label_value_is_400(receiver, helpers):
    raw = helpers.gz(helpers.profile().SerializeToString())
    label = lambda k, v: _ld(0x0A, _ld(0x0A, k) + _ld(0x12, v))  # noqa: E731
    ok = label(b"__name__", b"process_cpu") + _ld(0x12, _ld(0x0A, raw))
    assert push(receiver, helpers, _ld(0x0A, ok))[0] == 200
    expect_error(push(receiver, helpers, _ld(0x0A, label(b"x", b"\xc3\x28") + ok)), 400,
                 "invalid_argument")
    assert len(receiver.profiles) == 1


# --- profiles (reference 3.3, 3.4) --------------------------------------------

def mutated(h, fn):
    p = h.profile()
    fn(p)
    return p


@pytest.mark.parametrize("mutate,text", [
    (lambda p: p.ClearField("sample_type"), "empty profile"),
    (lambda p: setattr(p, "time_nanos", time.time_ns() - 2 * 3600 * 10**9), "not_in_ingestion_window"),
    (lambda p: setattr(p, "time_nanos", time.time_ns() + 3600 * 10**9), "not_in_ingestion_window"),
    (lambda p: setattr(p.location[0], "id", 0), "location id is 0"),
    (lambda p: setattr(p.function[0], "id", 0), "function id is 0"),
    (lambda p: p.sample[0].value.append(1), "sample value length mismatch"),
    (lambda p: p.string_table.__setitem__(0, "x"), "string 0 should be empty string"),
    (lambda p: setattr(p.function[0], "name", 999), "string index out of range"),
    (lambda p: setattr(p.sample_type[0], "unit", 999), "string index out of range"),
    (lambda p: setattr(p.mapping[0], "filename", 999), "string index out of range"),
    (lambda p: p.string_table.__setitem__(p.sample_type[0].type, "cpu-time"), "sample type contains -"),
])
def test_profile_validation(receiver, helpers, mutate, text):
    expect_error(push(receiver, helpers, one(helpers, prof=mutated(helpers, mutate))), 400,
                 "invalid_argument", text)
    assert not receiver.profiles


def test_time_zero_means_now(receiver, helpers):
    assert push(receiver, helpers, one(helpers, prof=mutated(helpers, lambda p: setattr(p, "time_nanos", 0))))[0] == 200


def test_invalid_utf8_in_string_table_is_400(receiver, helpers):
    raw = bytearray(helpers.profile().SerializeToString())
    i = raw.index(b"fx_work_a")
    raw[i] = 0xFF
    body = helpers.body([(helpers.labels, [bytes(raw)])])
    expect_error(push(receiver, helpers, body), 400, "invalid_argument", "UTF-8")


def test_samples_limit(receiver, helpers):
    stacks = {("main", "f%05d" % i): 1 for i in range(16001)}
    expect_error(push(receiver, helpers, one(helpers, prof=helpers.profile(stacks=stacks))), 400,
                 "invalid_argument", "max_profile_stacktrace_samples")
    del stacks[("main", "f00000")]
    assert push(receiver, helpers, one(helpers, prof=helpers.profile(stacks=stacks)))[0] == 200


def big_profile(h, raw_bytes):
    """A valid profile of about raw_bytes uncompressed (long function names)."""
    n = raw_bytes // 60000 + 1
    return h.profile(stacks={("main", ("f%04d" % i) + "x" * 60000): 1 for i in range(n)})


def test_size_limit_4mib(make_receiver, helpers):
    # A bigger burst isolates the size cap from the rate limiter.
    r = make_receiver(burst_bytes=64 * rx.MIB, rate_bytes=64 * rx.MIB)
    p = big_profile(helpers, 4 * rx.MIB + 1000)
    assert len(p.SerializeToString()) > 4 * rx.MIB
    expect_error(push(r, helpers, one(helpers, prof=p)), 400, "invalid_argument",
                 "uncompressed profile payload size exceeds limit")
    assert not r.profiles


def test_rate_limit_profile_over_burst_is_429(receiver, helpers):
    p = big_profile(helpers, 2 * rx.MIB + 100000)
    size = len(p.SerializeToString())
    assert 2 * rx.MIB < size < 4 * rx.MIB
    body = one(helpers, prof=p)
    for _ in range(2):  # never passes, however long one waits
        expect_error(push(receiver, helpers, body), 429, "resource_exhausted", "push rate limit")
    assert push(receiver, helpers, one(helpers))[0] == 200


def test_rate_limit_sustained(make_receiver, helpers):
    r = make_receiver(rate_bytes=1 * rx.MIB, burst_bytes=2 * rx.MIB)
    body = one(helpers, prof=big_profile(helpers, 900 * 1024))
    statuses = [push(r, helpers, body)[0] for _ in range(4)]
    assert statuses[:2] == [200, 200] and 429 in statuses[2:], statuses


# --- tenants and proxy auth ----------------------------------------------------

def test_multitenancy(make_receiver, helpers):
    r = make_receiver(multitenancy=True)
    expect_error(push(r, helpers, one(helpers)), 401, "unauthenticated")
    assert push(r, helpers, one(helpers), {**PROTO, "X-Scope-OrgID": "team-a"})[0] == 200
    assert r.profiles[0].headers["x-scope-orgid"] == "team-a"


def test_required_basic_bearer_tenant(make_receiver, helpers):
    import base64
    r = make_receiver(basic_auth=("u", "p"))
    expect_error(push(r, helpers, one(helpers)), 401, "unauthenticated")
    good = "Basic " + base64.b64encode(b"u:p").decode()
    assert push(r, helpers, one(helpers), {**PROTO, "Authorization": good})[0] == 200
    r = make_receiver(bearer_token="tok")
    expect_error(push(r, helpers, one(helpers), {**PROTO, "Authorization": "Bearer nope"}), 401, "unauthenticated")
    assert push(r, helpers, one(helpers), {**PROTO, "Authorization": "Bearer tok"})[0] == 200
    r = make_receiver(tenant="t1")
    expect_error(push(r, helpers, one(helpers), {**PROTO, "X-Scope-OrgID": "t2"}), 401, "unauthenticated")
    assert push(r, helpers, one(helpers), {**PROTO, "X-Scope-OrgID": "t1"})[0] == 200


# --- /ingest (reference 1) ------------------------------------------------------

def ingest(r, h, name, body, fmt="pprof", path="/ingest", method="POST", extra=""):
    q = "name=%s&from=%d&until=%d&format=%s&sampleRate=100&spyName=ember%s" % (
        urllib.parse.quote(name, safe=""), time.time() - 2, time.time(), fmt, extra)
    return h.post(r.url + path + "?" + q, body, {"Content-Type": "application/octet-stream"},
                  method=method)


def test_ingest_pprof_accepted(receiver, helpers):
    raw = helpers.profile().SerializeToString()
    assert ingest(receiver, helpers, "split{host=h1,env=a b}", helpers.gz(raw))[0] == 200
    assert ingest(receiver, helpers, "my.app-1/x{}", raw, path="/pyroscope/ingest")[0] == 200
    a, b = receiver.profiles
    assert a.endpoint == "ingest"
    assert a.labels == {"__name__": "process_cpu", "__delta__": "false", "pyroscope_spy": "ember",
                        "service_name": "split", "host": "h1", "env": "a b"}
    assert b.labels["service_name"] == "my.app-1/x"


def test_ingest_service_name_tag_and_private_labels(receiver, helpers):
    raw = helpers.profile().SerializeToString()
    assert ingest(receiver, helpers, "app{service_name=svc@1,__x__=y,__name__=ignored}", raw)[0] == 200
    labels = receiver.profiles[0].labels
    assert labels["service_name"] == "svc@1" and labels["app_name"] == "ignored"
    assert "__x__" not in labels


def test_ingest_time_zero_uses_from(receiver, helpers):
    raw = helpers.profile(time_nanos=0).SerializeToString()
    assert ingest(receiver, helpers, "split{}", raw)[0] == 200
    assert abs(receiver.profiles[0].profile.time_nanos - time.time_ns()) < 10 * 10**9


@pytest.mark.parametrize("name", ["", "{a=b}", "bad app{}", "app@1{}", "app{a-b=1}", "app{=1}"])
def test_ingest_bad_name_is_400(receiver, helpers, name):
    st, _, body = ingest(receiver, helpers, name, helpers.profile().SerializeToString())
    assert st == 400, body
    assert json.loads(body)["message"].startswith("name: ")


def test_ingest_validation_is_422_rate_is_429(receiver, helpers):
    bad = mutated(helpers, lambda p: setattr(p.location[0], "id", 0)).SerializeToString()
    st, _, body = ingest(receiver, helpers, "split{}", bad)
    assert st == 422 and "location id is 0" in json.loads(body)["message"]
    st, _, _ = ingest(receiver, helpers, "split{}", b"\x0a\xff\xffgarbage")
    assert st == 422
    big = big_profile(helpers, 2 * rx.MIB + 100000).SerializeToString()
    st, _, body = ingest(receiver, helpers, "split{}", big)
    assert st == 429 and json.loads(body)["code"] == "resource_exhausted"
    assert not receiver.profiles


def test_ingest_non_post_is_405(receiver, helpers):
    assert ingest(receiver, helpers, "split{}", b"", method="GET")[0] == 405


def test_ingest_needs_tenant_in_multitenancy(make_receiver, helpers):
    r = make_receiver(multitenancy=True)
    assert ingest(r, helpers, "split{}", helpers.profile().SerializeToString())[0] == 401


def test_labelset_parser():
    assert rx.parse_labelset(" app { a = 1 , b=x y}") == {"__name__": "app", "a": "1", "b": "x y"}
    assert rx.parse_labelset("app") == {"__name__": "app"}
    with pytest.raises(ValueError):
        rx.parse_labelset("a b{}")


# --- programmed faults and TLS ---------------------------------------------------

def test_fail_next_then_normal(receiver, helpers):
    receiver.fail_next(503, count=2)
    expect_error(push(receiver, helpers, one(helpers)), 503, "unavailable")
    expect_error(push(receiver, helpers, one(helpers)), 503, "unavailable")
    assert push(receiver, helpers, one(helpers))[0] == 200
    assert [q.status for q in receiver.protocol_requests()] == [503, 503, 200]


def test_hang_next(receiver, helpers):
    receiver.hang_next(1.0)
    t = time.monotonic()
    assert push(receiver, helpers, one(helpers))[0] == 200
    assert time.monotonic() - t >= 0.9
    receiver.hang_next(3.0)
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        push(receiver, helpers, one(helpers), timeout=0.5)


def test_refuse_for_then_listen_again(receiver, helpers):
    port = receiver.port
    receiver.refuse_for(1.0)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    time.sleep(1.5)
    assert receiver.port == port
    assert push(receiver, helpers, one(helpers))[0] == 200


def test_tls(make_receiver, helpers, tls):
    r = make_receiver(tls_cert=tls["cert"], tls_key=tls["key"])
    assert r.url.startswith("https://")
    ok = ssl.create_default_context(cafile=tls["ca"])
    assert push(r, helpers, one(helpers), context=ok)[0] == 200
    wrong = ssl.create_default_context(cafile=tls["wrong_ca"])
    with pytest.raises(urllib.error.URLError) as e:
        push(r, helpers, one(helpers), context=wrong)
    assert "CERTIFICATE_VERIFY_FAILED" in str(e.value)
    assert len(r.profiles) == 1
    assert r.wait_until(lambda: r.tls_errors, 2)
