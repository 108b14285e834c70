#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""k8s.py - agent CPU and RSS with Kubernetes metadata on: 200 pods, a watch stream of 10 events/s

Makes --pods pod cgroups (systemd driver + containerd shape), one busy
`split` process (nice 19) in each, and the test API server of
tests/e2e/k8s_apiserver.py (HTTPS, a test CA made here with openssl) holding
a real v1 Pod for each (labels, annotations, a Deployment owner, two
containers). While the agent runs host-wide, pushing to the strict
receiver, a thread sends --rate watch events a second (MODIFIED of a random
pod with a changed label; a BOOKMARK every 5 s). Three runs, the same
processes each time: Kubernetes off (the baseline), on, and on with
--rules relabel rules that read __meta_kubernetes_* labels. For each: the
agent's CPU (all threads, % of one core, from t=5 s), the watcher thread's
own CPU (thread "ember-k8s": what the client costs, apart from the host's
churn that every host-wide figure carries), peak RSS, series arrived with a
namespace label, and the k8s counters. Budgets (DESIGN.md): 0.5 % of a
core, 30 MB. Needs root; removes what it made.

    sudo /usr/bin/python3 bench/k8s.py --pods 200 --rate 10 --rules 50 --seconds 60
"""

import argparse
import datetime
import os
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
sys.path.insert(0, os.path.join(REPO, "bench"))
import receiver as rx  # noqa: E402
from k8s_apiserver import ApiServer, pod  # noqa: E402
from kubepods import Tree, hexid, move  # noqa: E402
from overhead import cpu_seconds, vm_hwm_mb  # noqa: E402

EMBER = os.path.join(REPO, ".output", "ember")
SPLIT = os.path.join(REPO, ".output", "tests", "fixtures", "split")
NODE = "bench-node"


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def make_tls(d):
    def ossl(*a):
        subprocess.run(["openssl"] + list(a), cwd=d, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=bench ca",
         "-keyout", "ca.key", "-out", "ca.pem")
    with open(os.path.join(d, "san.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout",
         "server.key", "-out", "server.csr")
    ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-days", "2", "-extfile", "san.cnf", "-out", "server.pem")
    return {"ca": os.path.join(d, "ca.pem"), "cert": os.path.join(d, "server.pem"),
            "key": os.path.join(d, "server.key")}


def thread_cpu(pid, name):
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                if f.read().strip() != name:
                    continue
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e9


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def rules_yaml(n):
    """n rules of the kinds users write against the Kubernetes meta labels."""
    out = ["relabel_configs:"]
    kinds = [
        "- source_labels: [__meta_kubernetes_pod_phase]\n  regex: Succeeded|Failed\n  action: drop",
        "- source_labels: [__meta_kubernetes_namespace, __meta_kubernetes_pod_container_name]\n"
        "  separator: /\n  target_label: service_name\n  replacement: ebpf/$1",
        "- action: labelmap\n  regex: __meta_kubernetes_pod_label_(app|team)",
        "- source_labels: [__meta_kubernetes_pod_annotation_example_com_tier]\n"
        "  target_label: tier",
        "- source_labels: [__meta_kubernetes_pod_label_team]\n  regex: 'nobody-%d'\n"
        "  action: drop",
    ]
    for i in range(n):
        out.append(kinds[i % len(kinds)].replace("%d", str(i)))
    return "\n".join(out) + "\n"


def run(args, mode, srv, recv, kubeconfig, rules_file, port):
    cmd = [args.ember, "--server", recv.url, "--window", str(args.window), "--no-jvm",
           "--http-listen", "127.0.0.1:%d" % port]
    if mode == "off":
        cmd += ["--kubernetes", "off"]
    else:
        cmd += ["--kubeconfig", kubeconfig, "--node-name", NODE]
    if mode == "rules":
        cmd += ["--config", rules_file]
    stop = threading.Event()
    sent = [0]

    def churn():
        # --rate MODIFIED events a second, a bookmark every 5 s.
        uids = list(srv.pods)
        n, t_next, last_bm = 0, time.monotonic(), time.monotonic()
        while not stop.is_set():
            uid = random.choice(uids)
            p = srv.pods[uid]
            p["metadata"]["labels"]["rev"] = str(n)
            srv.put(p, event="MODIFIED")
            n += 1
            if time.monotonic() - last_bm >= 5:
                srv.bookmark()
                last_bm = time.monotonic()
            t_next += 1.0 / args.rate
            stop.wait(max(0, t_next - time.monotonic()))
        sent[0] = n

    before = len(recv.snapshot())
    agent = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: resource.setrlimit(
                                 resource.RLIMIT_CORE, (resource.RLIM_INFINITY,) * 2))
    t = threading.Thread(target=churn)
    t.start()
    try:
        time.sleep(5)
        c0, k0 = cpu_seconds(agent.pid), thread_cpu(agent.pid, "ember-k8s")
        t1 = time.monotonic()
        time.sleep(max(1, args.seconds - 5.5))
        c1, k1 = cpu_seconds(agent.pid), thread_cpu(agent.pid, "ember-k8s")
        t2 = time.monotonic()
        hwm = vm_hwm_mb(agent.pid)
        rss = rss_mb(agent.pid)
        agent.send_signal(signal.SIGTERM)
        _, err = agent.communicate(timeout=60)
    finally:
        stop.set()
        t.join()
        if agent.poll() is None:
            agent.kill()
            agent.wait()
    profs = recv.snapshot()[before:]
    with_ns = {p.labels.get("pod") for p in profs if "namespace" in p.labels}
    summary = [l for l in err.splitlines() if " summary " in l]
    s = dict(re.findall(r"(\w+)=([0-9.]+)", summary[-1])) if summary else {}
    k8s = " ".join("%s=%s" % (k, v) for k, v in s.items() if k.startswith("k8s_"))
    return {
        "mode": mode, "cpu": 100.0 * (c1 - c0) / (t2 - t1), "k8s_cpu": 100.0 * (k1 - k0) / (t2 - t1),
        "hwm": hwm, "rss": rss, "pods_labelled": len(with_ns - {None}), "processes": s.get("processes", "?"),
        "events_sent": sent[0], "k8s": k8s or "(off)", "exit": agent.returncode,
        "seconds": t2 - t1,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=200)
    ap.add_argument("--rate", type=float, default=10.0)
    ap.add_argument("--rules", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--window", type=int, default=15)
    ap.add_argument("--port", type=int, default=4198)
    ap.add_argument("--modes", default="off,on,rules")
    ap.add_argument("--ember", default=EMBER)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: needs root")
    tree = Tree()
    if tree.root is None:
        sys.exit("bench: no cgroup v2 mount")
    tmp = tempfile.mkdtemp(prefix="ember-bench-k8s-")
    tls = make_tls(tmp)
    srv = ApiServer(tls, NODE).start()
    srv.split_events = False  # one chunk an event, as the API server sends them
    recv = rx.Receiver().start()
    procs, results = [], []
    try:
        for i in range(args.pods):
            d, _, uid, cid = tree.container("containerd")
            p = subprocess.Popen(["nice", "-n", "19", SPLIT, "--threads", "1", "--seconds", "0"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            move(d, p.pid)
            procs.append(p)
            h = uuid.uuid4().hex[:10]
            srv.put(pod("svc%d-%s-abcde" % (i, h), uid, NODE, namespace="ns%d" % (i % 20),
                        containers=[("app", "containerd", cid),
                                    ("proxy", "containerd", hexid())],
                        labels={"app": "svc%d" % i, "team": "t%d" % (i % 7),
                                "pod-template-hash": h, "app.kubernetes.io/part-of": "shop"},
                        annotations={"example.com/tier": "gold",
                                     "kubectl.kubernetes.io/restartedAt": "2026-12-01T00:00:00Z"},
                        owner=("ReplicaSet", "svc%d-%s" % (i, h))))
        log("%d pods made, one busy process each; API server at %s" % (args.pods, srv.url))
        kc = os.path.join(tmp, "kubeconfig")
        with open(kc, "w") as f:
            f.write("current-context: b\ncontexts:\n- name: b\n  context: {cluster: c}\n"
                    "clusters:\n- name: c\n  cluster:\n    server: %s\n"
                    "    certificate-authority: %s\n" % (srv.url, tls["ca"]))
        rules = os.path.join(tmp, "rules.yaml")
        with open(rules, "w") as f:
            f.write(rules_yaml(args.rules))
        for mode in args.modes.split(","):
            log("run: %s" % mode)
            results.append(run(args, mode, srv, recv, kc, rules, args.port))
            log(str(results[-1]))
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
        tree.remove()
        recv.stop()
        srv.stop()
    now = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Kubernetes metadata: %d pods, %.0f watch events/s, %d relabel rules (%s)" % (
            args.pods, args.rate, args.rules, now),
        "",
        "`sudo /usr/bin/python3 bench/k8s.py --pods %d --rate %g --rules %d --seconds %d "
        "--window %d`; %d CPUs; agent host-wide at 100 Hz, pushing to the strict receiver." % (
            args.pods, args.rate, args.rules, args.seconds, args.window, os.cpu_count()),
        "",
        "| run | agent CPU, % of a core | of it, the watcher thread | peak RSS, MB | RSS at the end, MB "
        "| processes seen | pods with names arrived | events sent | k8s counters (exit summary) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    names = {"off": "Kubernetes off (baseline)", "on": "on",
             "rules": "on + %d relabel rules" % args.rules}
    for r in results:
        lines.append("| %s | %.2f | %.3f | %.1f | %.1f | %s | %d / %d | %d | %s |" % (
            names.get(r["mode"], r["mode"]), r["cpu"], r["k8s_cpu"], r["hwm"], r["rss"],
            r["processes"],
            r["pods_labelled"], args.pods, r["events_sent"], r["k8s"]))
    lines.append("")
    text = "\n".join(lines)
    print(text)
    out = os.path.join(REPO, "bench", "results-%s-k8s.md" %
                       datetime.datetime.utcnow().strftime("%Y-%m-%d"))
    with open(out, "a") as f:
        f.write(text + "\n")
    log("report written to " + out)


if __name__ == "__main__":
    main()
