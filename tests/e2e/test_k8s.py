# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_k8s.py - pod metadata from a test Kubernetes API server, on the profiles that arrive

Real cgroup v2 hierarchies in the kubelet's systemd + containerd shape, one
fixture process moved into each pod's container cgroup, a test API server on
127.0.0.1 over HTTPS with a test CA (k8s_apiserver.py: real Pod JSON, list,
a watch stream with ADDED/MODIFIED/DELETED/BOOKMARK, 410 both ways, 401 until
the token file changes) and the strict receiver. The agent is reached
through --kubeconfig and through in-cluster config; the right names,
controllers and service names must arrive on the right profiles, a pod
annotated ember.dev/profile: "false" must send nothing, relabel rules must
see __meta_kubernetes_*. Against a bad server (garbage, a watch that never
ends or ends every second, a 100 MB list, nothing listening) profiling must
go on with the cgroup labels, the counters must move and memory must stay
bounded. Root; about 70 s.
"""

import base64
import os
import re
import signal
import subprocess
import time
import uuid

import pytest

from e2e_paths import EMBER, SPLIT
from k8s_apiserver import ApiServer, pod
import kubepods
from kubepods import Tree, hexid, root_or_skip

ROOT = root_or_skip(EMBER, SPLIT)

NODE = "node-7.example"


class Container:
    """A pod's container: its cgroup (systemd driver + containerd) and a process in it."""

    def __init__(self, name, tree):
        self.name = name
        self.dir, _, self.uid, self.cid = tree.container("containerd")
        self.proc = None


@pytest.fixture
def cgroups():
    """make(names) -> a Container for each, with its cgroup made; all removed at the end."""
    tree = Tree(ROOT)
    yield lambda names: [Container(name, tree) for name in names]
    tree.remove()


def start_in(cgroup_dir):
    return kubepods.start_in(SPLIT, cgroup_dir)


@pytest.fixture
def procs():
    started = []

    def start(cgroup_dir):
        p = start_in(cgroup_dir)
        started.append(p)
        return p

    yield start
    for p in started:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=20)


@pytest.fixture
def api(tls):
    servers = []

    def make(node=NODE):
        s = ApiServer(tls, node).start()
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.stop()


def summary(stderr):
    for line in stderr.splitlines():
        if "ember: summary" in line:
            return {k: int(float(v)) for k, v in re.findall(r"(\w+)=([0-9.]+)", line)}
    raise AssertionError("no summary line in:\n" + stderr)


def kubeconfig(path, server, ca, token=None, token_file=None, ca_as_data=True):
    with open(ca, "rb") as f:
        ca_b64 = base64.b64encode(f.read()).decode()
    user = {}
    if token:
        user["token"] = token
    if token_file:
        user["tokenFile"] = token_file
    cluster = ("    certificate-authority-data: %s\n" % ca_b64 if ca_as_data else
               "    certificate-authority: %s\n" % ca)
    text = ("apiVersion: v1\nkind: Config\ncurrent-context: test\n"
            "clusters:\n- name: other\n  cluster:\n    server: https://192.0.2.1:6443\n"
            "- name: kind-test\n  cluster:\n    server: %s\n%s"
            "contexts:\n- name: test\n  context:\n    cluster: kind-test\n    user: agent\n"
            "    namespace: kube-system\n"
            "users:\n- name: agent\n  user:\n" % (server, cluster))
    for k, v in user.items():
        text += "    %s: %s\n" % (k, v)
    with open(path, "w") as f:
        f.write(text)
    return path


def run_agent(args, receiver, pids, env=None, timeout=90, sample_rss=False):
    cmd = [EMBER, "--server", receiver.url, "--window", "2", "--frequency", "97", "--no-jvm"]
    for p in pids:
        cmd += ["--pid", str(p)]
    full_env = dict(os.environ)
    for k in ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "NODE_NAME"):
        full_env.pop(k, None)
    full_env.update(env or {})
    a = subprocess.Popen(cmd + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True, env=full_env)
    hwm = 0
    if sample_rss:
        while a.poll() is None:
            try:
                with open("/proc/%d/status" % a.pid) as f:
                    m = re.search(r"VmHWM:\s+(\d+) kB", f.read())
                    hwm = max(hwm, int(m.group(1)) * 1024)
            except (OSError, AttributeError):
                pass
            time.sleep(0.2)
    _, err = a.communicate(timeout=timeout)
    return a.returncode, err, hwm


def by_container(profiles):
    out = {}
    for prof in profiles:
        out.setdefault(prof.labels.get("container_id"), []).append(prof.labels)
    return out


def test_labels_through_kubeconfig(receiver, cgroups, procs, api, tls, tmp_path):
    web, db, quiet, late, static = cgroups(["web", "db", "quiet", "late", "static"])
    srv = api()
    srv.token = "s3cret-token"
    srv.put(pod("checkout-7d9f8b6c5d-x2x7q", web.uid, NODE, namespace="shop",
                containers=[("web", "containerd", web.cid), ("sidecar", "containerd", hexid())],
                labels={"app.kubernetes.io/name": "checkout", "pod-template-hash": "7d9f8b6c5d"},
                annotations={"pyroscope.io/service_name": "shop-checkout"},
                owner=("ReplicaSet", "checkout-7d9f8b6c5d"),
                init_containers=[("migrate", "containerd", hexid())]))
    srv.put(pod("db-0", db.uid, NODE, namespace="shop",
                containers=[("postgres", "containerd", db.cid)], labels={"app": "db"},
                owner=("StatefulSet", "db")))
    srv.put(pod("noisy-abc12", quiet.uid, NODE, namespace="batch",
                containers=[("noisy", "containerd", quiet.cid)],
                annotations={"ember.dev/profile": "false"}, owner=("Job", "noisy")))
    # A static pod's mirror: its controller is the Node, which is no label.
    srv.put(pod("etcd-" + NODE, static.uid, NODE, namespace="kube-system",
                containers=[("etcd", "containerd", static.cid)], owner=("Node", NODE)))
    gone_uid = str(uuid.uuid4())
    srv.put(pod("gone", gone_uid, NODE, containers=[("g", "containerd", hexid())]))
    for c in (web, db, quiet, late, static):
        c.proc = procs(c.dir)
    host = procs(None)
    cfg = kubeconfig(str(tmp_path / "kubeconfig"), srv.url, tls["ca"], token="s3cret-token")

    def later():
        # The watch: a pod that only an ADDED event names, a bookmark, a
        # MODIFIED that adds a label, a DELETED.
        time.sleep(1.5)
        srv.put(pod("late-5f6d", late.uid, NODE, namespace="ops",
                    containers=[("agent", "containerd", late.cid)], owner=("DaemonSet", "late")),
                event="ADDED")
        srv.bookmark()
        p = dict(srv.pods[db.uid])
        p["metadata"] = dict(p["metadata"], labels={"app": "db", "version": "v2"})
        srv.put(p, event="MODIFIED")
        srv.delete(gone_uid)

    import threading
    t = threading.Thread(target=later)
    t.start()
    rc, err, _ = run_agent(["--kubeconfig", cfg, "--node-name", NODE, "--duration", "7",
                            "--kubernetes-pod-labels"], receiver,
                           [c.proc.pid for c in (web, db, quiet, late, static)] + [host.pid])
    t.join()
    assert rc == 0, err
    s = summary(err)
    assert s["k8s_lists"] >= 1 and s["k8s_watch_events"] >= 4, err
    assert s["k8s_pods_not_profiled"] >= 1 and s["k8s_not_profiled_samples"] > 0, err
    # The agent asked for this node's pods only, with bookmarks.
    watches = [q for k, q, _ in srv.requests if k == "watch"]
    assert watches and all(q.get("allowWatchBookmarks") == "true" for q in watches)
    assert all(tok == "s3cret-token" for _, _, tok in srv.requests)

    got = by_container(receiver.snapshot())
    assert quiet.cid not in got, "a pod annotated ember.dev/profile: false was profiled"
    w = got[web.cid]
    for labels in w:
        assert labels["namespace"] == "shop" and labels["pod"] == "checkout-7d9f8b6c5d-x2x7q"
        assert labels["container"] == "web" and labels["node"] == NODE
        assert labels["deployment"] == "checkout" and labels["pod_uid"] == web.uid
        assert labels["service_name"] == "shop-checkout"
        assert labels["pod_label_app_kubernetes_io_name"] == "checkout"
    for labels in got[db.cid]:
        assert labels["statefulset"] == "db" and labels["container"] == "postgres"
        assert labels["service_name"] == "shop/postgres"
    assert any(l.get("pod_label_version") == "v2" for l in got[db.cid]), \
        "the MODIFIED event's label never arrived"
    # Known only from the watch: at least the windows after it came.
    assert any(l.get("pod") == "late-5f6d" and l.get("daemonset") == "late" and
               l.get("service_name") == "ops/agent" for l in got[late.cid]), got[late.cid]
    for labels in got[static.cid]:
        assert labels["pod"] == "etcd-" + NODE and labels["node"] == NODE
        assert labels["service_name"] == "kube-system/etcd"
        assert not {"deployment", "replicaset", "daemonset", "statefulset", "job"} & set(labels)
    for labels in got[None]:
        assert "namespace" not in labels and "pod" not in labels


def test_in_cluster_410_401_and_relabel(receiver, cgroups, procs, api, tls, tmp_path):
    a, b = cgroups(["a", "b"])
    srv = api()
    srv.token = "new-token"
    srv.gone_status = 1
    srv.gone_event = 1
    srv.put(pod("api-0", a.uid, NODE, namespace="prod", containers=[("api", "containerd", a.cid)],
                labels={"team": "payments"}, annotations={"example.com/tier": "gold"},
                owner=("StatefulSet", "api")))
    srv.put(pod("tool-1", b.uid, NODE, namespace="dev", containers=[("tool", "containerd", b.cid)]))
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("old-token\n")
    (sa / "namespace").write_text("ember\n")
    with open(tls["ca"]) as f:
        (sa / "ca.crt").write_text(f.read())
    config = tmp_path / "ember.yaml"
    config.write_text(
        "relabel_configs:\n"
        "- source_labels: [__meta_kubernetes_namespace]\n"
        "  regex: prod\n"
        "  action: keep\n"
        "- action: labelmap\n"
        "  regex: __meta_kubernetes_pod_label_(.+)\n"
        "  replacement: k8s_$1\n"
        "- source_labels: [__meta_kubernetes_pod_annotation_example_com_tier]\n"
        "  target_label: tier\n")
    a.proc = procs(a.dir)
    b.proc = procs(b.dir)

    def rotate():
        time.sleep(2.5)
        (sa / "token.tmp").write_text("new-token\n")
        os.rename(str(sa / "token.tmp"), str(sa / "token"))

    import threading
    t = threading.Thread(target=rotate)
    t.start()
    rc, err, _ = run_agent(["--config", str(config), "--duration", "10"], receiver,
                           [a.proc.pid, b.proc.pid],
                           env={"KUBERNETES_SERVICE_HOST": "127.0.0.1",
                                "KUBERNETES_SERVICE_PORT": str(srv.port),
                                "EMBER_K8S_SA_DIR": str(sa), "NODE_NAME": NODE,
                                "EMBER_K8S_BACKOFF_MAX_MS": "1000"})
    t.join()
    assert rc == 0, err
    s = summary(err)
    assert s["k8s_401"] >= 1, err
    assert s["k8s_410"] >= 2 and s["k8s_lists"] >= 3, err
    # A re-list after a 410 is a consistent read, not the cache's rv=0.
    lists = [q for k, q, tok in srv.requests if k == "list" and tok == "new-token"]
    assert any("resourceVersion" not in q for q in lists), lists
    got = by_container(receiver.snapshot())
    assert set(got) == {a.cid}, "the keep rule on __meta_kubernetes_namespace let %s through" % got
    assert any(l.get("k8s_team") == "payments" and l.get("tier") == "gold" and
               l.get("namespace") == "prod" and l.get("statefulset") == "api"
               for l in got[a.cid]), got[a.cid]
    for labels in got[a.cid]:
        assert not any(k.startswith("__meta") for k in labels)


@pytest.mark.parametrize("fault", ["garbage", "never_end", "end_every_second", "huge_list",
                                   "nothing_listening"])
def test_bad_server_profiling_goes_on(receiver, cgroups, procs, api, tls, tmp_path, fault):
    (c,) = cgroups(["app"])
    srv = api()
    srv.put(pod("app-1", c.uid, NODE, namespace="ns1", containers=[("app", "containerd", c.cid)]))
    url = srv.url
    args = ["--duration", "8"]
    if fault == "garbage":
        srv.garbage = True
    elif fault == "never_end":
        srv.never_end = True
        args += ["--kubernetes-watch-timeout", "1"]
    elif fault == "end_every_second":
        srv.end_after = 1
    elif fault == "huge_list":
        srv.huge_list_mb = 100
    elif fault == "nothing_listening":
        srv.stop()
    c.proc = procs(c.dir)
    cfg = kubeconfig(str(tmp_path / "kc"), url, tls["ca"], token="t", ca_as_data=False)
    rc, err, hwm = run_agent(["--kubeconfig", cfg, "--node-name", NODE] + args, receiver,
                             [c.proc.pid], env={"EMBER_K8S_BACKOFF_MAX_MS": "1000"},
                             sample_rss=True)
    assert rc == 0, err
    s = summary(err)
    got = by_container(receiver.snapshot())
    assert c.cid in got, "profiling stopped with a bad API server: %s" % err
    for labels in got[c.cid]:
        assert labels["pod_uid"] == c.uid  # the cgroup labels at least
    errors = {k: v for k, v in s.items() if k.startswith("k8s_errors_")}
    if fault == "garbage":
        assert s["k8s_errors_json"] >= 2, err
        assert all(l.get("namespace") == "ns1" for l in got[c.cid])  # the list was fine
    elif fault == "never_end":
        # Each watch cut at 1.25 x its timeout, then watched again.
        assert s["k8s_watch_restarts"] >= 1 and s["k8s_errors_timeout"] >= 2, err
    elif fault == "end_every_second":
        assert 3 <= s["k8s_watch_restarts"] <= 20, err
    elif fault == "huge_list":
        assert s["k8s_errors_too_large"] >= 1, err
        assert "k8s: the pod list is over" in err
        assert all("namespace" not in l for l in got[c.cid])
        # The list's bound (16 MB) over the agent's own ~25 MB.
        assert hwm < 64 << 20, "RSS peaked at %d MB with a 100 MB list" % (hwm >> 20)
    elif fault == "nothing_listening":
        assert s["k8s_errors_connect"] >= 2, err
        assert s["k8s_lists"] >= 2 and s["k8s_lists"] <= 20, err
    assert hwm < 100 << 20, "RSS peaked at %d MB" % (hwm >> 20)
    assert errors or fault in ("never_end", "end_every_second")


def test_bad_kubeconfig_refused_at_start(tmp_path):
    bad = tmp_path / "kc"
    bad.write_text("current-context: x\ncontexts: []\n")
    r = subprocess.run([EMBER, "--dry-run", "--kubeconfig", str(bad), "--node-name", NODE,
                        "--duration", "1"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r.stderr
    lines = [l for l in r.stderr.splitlines() if "error" in l]
    assert len(lines) == 1 and "current-context 'x' is not in contexts" in lines[0], r.stderr
    exe = tmp_path / "kc2"
    exe.write_text("current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n"
                   "clusters:\n- name: k\n  cluster: {server: 'https://127.0.0.1:1'}\n"
                   "users:\n- name: u\n  user:\n    exec: {command: aws}\n")
    r = subprocess.run([EMBER, "--dry-run", "--kubeconfig", str(exe), "--node-name", NODE,
                        "--duration", "1"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "exec or auth-provider" in r.stderr, r.stderr
    env = {k: v for k, v in os.environ.items() if k not in ("KUBERNETES_SERVICE_HOST", "NODE_NAME")}
    r = subprocess.run([EMBER, "--dry-run", "--kubernetes", "on", "--duration", "1"],
                       capture_output=True, text=True, timeout=30, env=env)
    assert r.returncode == 2 and "no in-cluster config" in r.stderr, r.stderr


def test_profile_annotated_only(receiver, cgroups, procs, api, tls, tmp_path):
    yes, plain = cgroups(["yes", "plain"])
    srv = api()
    srv.put(pod("yes-1", yes.uid, NODE, containers=[("y", "containerd", yes.cid)],
                annotations={"ember.dev/profile": "true"}))
    srv.put(pod("plain-1", plain.uid, NODE, containers=[("p", "containerd", plain.cid)]))
    yes.proc = procs(yes.dir)
    plain.proc = procs(plain.dir)
    host = procs(None)
    cfg = kubeconfig(str(tmp_path / "kc"), srv.url, tls["ca"])
    rc, err, _ = run_agent(["--kubeconfig", cfg, "--node-name", NODE, "--duration", "5",
                            "--profile-annotated-only"], receiver,
                           [yes.proc.pid, plain.proc.pid, host.pid])
    assert rc == 0, err
    got = by_container(receiver.snapshot())
    # Only the pod that asked; not the plain pod, not the host process.
    assert set(got) == {yes.cid}, got.keys()
    assert summary(err)["k8s_pods_not_profiled"] >= 2, err
