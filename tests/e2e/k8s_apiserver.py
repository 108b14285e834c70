# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""k8s_apiserver.py - a test Kubernetes API server: pods of one node, list and watch, over HTTPS

Serves GET /api/v1/pods as the real one does for the calls an agent makes
(api-concepts.md): a v1 PodList with metadata.resourceVersion, and with
watch=1 a chunked stream of {"type": ..., "object": ...} events newer than
the resourceVersion asked for, ended after timeoutSeconds. Pods and events
are real v1 Pod JSON (pod(...) below). Faults are switched on by the test:
a 410 as a status or as an ERROR event, 401 until the request carries the
expected token, a watch that never ends or ends every second, garbage
JSON, a huge list. Every request is recorded (path, query, token).
"""

import json
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def pod(name, uid, node, namespace="default", containers=(), labels=None, annotations=None,
        owner=None, init_containers=(), phase="Running", rv="1"):
    """A v1 Pod as the API server returns it. containers: [(name, runtime, id)]."""
    md = {
        "name": name, "namespace": namespace, "uid": uid, "resourceVersion": rv,
        "creationTimestamp": "2026-12-02T10:00:00Z",
        "labels": dict(labels or {}),
        "annotations": dict(annotations or {}),
    }
    if owner:
        kind, oname = owner
        md["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": kind, "name": oname,
                                  "uid": "0b8c7c43-5b0e-4b53-9c1f-3c1e7b8f0a11",
                                  "controller": True, "blockOwnerDeletion": True}]

    def status(cname, rt, cid, ready=True):
        return {"name": cname, "image": "registry.example/%s:1.0" % cname,
                "imageID": "registry.example/%s@sha256:%s" % (cname, "0" * 64),
                "containerID": "%s://%s" % (rt, cid) if cid else "",
                "ready": ready, "restartCount": 0, "started": ready,
                "state": {"running": {"startedAt": "2026-12-02T10:00:05Z"}}}

    return {
        "kind": "Pod", "apiVersion": "v1", "metadata": md,
        "spec": {
            "nodeName": node, "restartPolicy": "Always", "serviceAccountName": "default",
            "containers": [{"name": c[0], "image": "registry.example/%s:1.0" % c[0],
                            "resources": {}} for c in containers],
            "initContainers": [{"name": c[0], "image": "busybox"} for c in init_containers],
        },
        "status": {
            "phase": phase, "qosClass": "Burstable", "podIP": "10.244.1.7",
            "hostIP": "192.168.1.10", "startTime": "2026-12-02T10:00:00Z",
            "containerStatuses": [status(*c) for c in containers],
            "initContainerStatuses": [status(*c, ready=False) for c in init_containers],
        },
    }


class ApiServer:
    def __init__(self, tls, node):
        self.node = node
        self.lock = threading.Condition()
        self.rv = 100
        self.pods = {}  # uid -> pod
        self.events = []  # (rv, event dict)
        self.requests = []  # (kind, query dict, token)
        # faults
        self.token = None  # expected bearer token, None: any
        self.gone_status = 0  # next N watches answer 410
        self.gone_event = 0  # next N watches send an ERROR 410 event first
        self.never_end = False
        self.end_after = None  # seconds a watch lasts at most
        self.garbage = False
        self.huge_list_mb = 0
        # Each event cut in two chunks (objects do not follow chunk
        # boundaries); False: one chunk an event, as the API server flushes.
        self.split_events = True
        self.tls = tls
        self.stopping = False
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls["cert"], tls["key"])
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.url = "https://127.0.0.1:%d" % self.port

    def start(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        with self.lock:
            self.stopping = True
            self.lock.notify_all()
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- the test's side ---------------------------------------------------
    def _next_rv(self):
        self.rv += 1
        return str(self.rv)

    def put(self, p, event=None):
        """Stores p; event ADDED/MODIFIED goes to the watchers (None: list only)."""
        with self.lock:
            p = json.loads(json.dumps(p))
            p["metadata"]["resourceVersion"] = self._next_rv()
            self.pods[p["metadata"]["uid"]] = p
            if event:
                self.events.append((self.rv, {"type": event, "object": p}))
            self.lock.notify_all()

    def delete(self, uid):
        with self.lock:
            p = self.pods.pop(uid)
            p["metadata"]["resourceVersion"] = self._next_rv()
            self.events.append((self.rv, {"type": "DELETED", "object": p}))
            self.lock.notify_all()

    def bookmark(self):
        with self.lock:
            rv = self._next_rv()
            self.events.append((self.rv, {"type": "BOOKMARK", "object": {
                "kind": "Pod", "apiVersion": "v1",
                "metadata": {"resourceVersion": rv,
                             "annotations": {"k8s.io/initial-events-end": "true"}}}}))
            self.lock.notify_all()

    def count(self, kind):
        with self.lock:
            return sum(1 for k, _, _ in self.requests if k == kind)

    # --- the server's side -------------------------------------------------
    def _handler(self):
        srv = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _reply(self, code, obj):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _status(self, code, reason, msg):
                self._reply(code, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                   "status": "Failure", "message": msg, "reason": reason,
                                   "code": code})

            def _chunk(self, data):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

            def do_GET(self):
                u = urllib.parse.urlparse(self.path)
                q = dict(urllib.parse.parse_qsl(u.query))
                auth = self.headers.get("Authorization", "")
                token = auth[7:] if auth.startswith("Bearer ") else None
                watch = q.get("watch") in ("1", "true")
                with srv.lock:
                    srv.requests.append(("watch" if watch else "list", q, token))
                if u.path != "/api/v1/pods":
                    return self._status(404, "NotFound", "not found")
                if srv.token is not None and token != srv.token:
                    return self._status(401, "Unauthorized", "Unauthorized")
                if q.get("fieldSelector") != "spec.nodeName=" + srv.node:
                    return self._status(400, "BadRequest", "expected this node's selector")
                if watch:
                    return self._watch(q)
                return self._list()

            def _list(self):
                if srv.huge_list_mb:
                    # A well-formed list, far too big: its bytes, streamed.
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    try:
                        self._chunk(b'{"kind":"PodList","apiVersion":"v1","metadata":'
                                    b'{"resourceVersion":"5"},"items":[')
                        filler = json.dumps(pod("filler", "00000000-0000-0000-0000-000000000000",
                                                srv.node, annotations={"x": "y" * 60000})).encode()
                        sent = 0
                        while sent < srv.huge_list_mb << 20:
                            self._chunk(filler + b",")
                            sent += len(filler) + 1
                        self._chunk(filler + b"]}")
                        self.wfile.write(b"0\r\n\r\n")
                    except OSError:
                        pass
                    return
                with srv.lock:
                    body = {"kind": "PodList", "apiVersion": "v1",
                            "metadata": {"resourceVersion": str(srv.rv)},
                            "items": list(srv.pods.values())}
                self._reply(200, body)

            def _watch(self, q):
                with srv.lock:
                    if srv.gone_status:
                        srv.gone_status -= 1
                        return self._status(410, "Expired", "too old resource version")
                    gone_event = srv.gone_event > 0
                    if gone_event:
                        srv.gone_event -= 1
                try:
                    since = int(q.get("resourceVersion") or 0)
                except ValueError:
                    return self._status(400, "BadRequest", "bad resourceVersion")
                timeout = int(q.get("timeoutSeconds") or 60)
                if srv.end_after is not None:
                    timeout = min(timeout, srv.end_after)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                deadline = time.monotonic() + timeout
                try:
                    if gone_event:
                        self._chunk(json.dumps({"type": "ERROR", "object": {
                            "kind": "Status", "apiVersion": "v1", "metadata": {},
                            "status": "Failure",
                            "message": "too old resource version: %d (%d)" % (since, srv.rv),
                            "reason": "Expired", "code": 410}}).encode() + b"\n")
                        self.wfile.write(b"0\r\n\r\n")
                        return
                    if srv.garbage:
                        self._chunk(b'{"type":"ADDED","object":{"kind":"Pod",,,}}\n{{{{')
                        time.sleep(0.2)
                        self.wfile.write(b"0\r\n\r\n")
                        return
                    while True:
                        with srv.lock:
                            if srv.stopping:
                                break
                            out = [e for rv, e in srv.events if rv > since]
                            if out:
                                since = max(rv for rv, _ in srv.events)
                            elif srv.never_end or time.monotonic() < deadline:
                                srv.lock.wait(0.2)
                        for e in out:
                            data = json.dumps(e).encode() + b"\n"
                            if srv.split_events:
                                half = len(data) // 2
                                self._chunk(data[:half])
                                self._chunk(data[half:])
                            else:
                                self._chunk(data)
                        if not srv.never_end and time.monotonic() >= deadline:
                            break
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:
                    pass

        return H
