# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_packaging.py - the packages in packaging/ are what docs/packaging.md says

The systemd unit passes `systemd-analyze verify`, names only capabilities the
kernel knows, and its sandbox (the bounding set, a private /tmp) still profiles
and names JIT code; `make deb` builds a package that installs, upgrades (an
edited conffile kept), verifies installed and purges to nothing, with lintian's
tags limited to the accepted list; the Kubernetes manifests and the Helm chart
(rendered by helm_render.go, Debian having no helm) carry hostPID, the unit's
capabilities, NODE_NAME, the /healthz probes on the metrics port, and the RBAC;
the Containerfile installs a package for every library the binary links.
Needs root (dpkg, BPF); skips loudly without it or without a tool."""

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
OUTPUT = REPO / ".output"
EMBER = OUTPUT / "ember"
FIXTURES = OUTPUT / "tests" / "fixtures"
PKG = REPO / "packaging"
UNIT = PKG / "systemd" / "ember.service"
CHART = PKG / "helm" / "ember"

# lintian tags accepted on the .deb, with why. No E: or W: tags; two I:
# (informational) ones.
LINTIAN_ACCEPTED = {
    # The binary is the one `make` links (no -Wl,-z,now in the project's
    # LDFLAGS); the package ships it as built rather than linking it again.
    "hardening-no-bindnow": "I: the project Makefile's link, not the package's",
    # A systemd unit and no /etc/init.d script: Ember is supported under
    # systemd (and in containers), where the hardening lives.
    "package-supports-alternative-init-but-no-init.d-script": "I: systemd only, by choice",
}

# Config keys that are not long options of `ember --help`.
FILE_ONLY_KEYS = {"labels", "headers", "relabel_configs"}


def skip_loudly(reason):
    sys.stderr.write(f"\n*** SKIPPING {__name__}: {reason} ***\n")
    pytest.skip(reason)


def need_root():
    if os.geteuid() != 0:
        skip_loudly("needs root")


def need_tool(name):
    if not shutil.which(name):
        skip_loudly(f"needs {name} (make deps-test)")


def run(*args, check=True, **kw):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=check,
                          **kw)


def unit_settings(text):
    """The [Service] etc. settings of a unit: name -> list of values."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;[":
            continue
        key, _, value = line.partition("=")
        out.setdefault(key.strip(), []).append(value.strip())
    return out


def unit_caps():
    (caps,) = unit_settings(UNIT.read_text())["CapabilityBoundingSet"]
    return caps.split()


# --- the systemd unit -------------------------------------------------------


def verify_unit(path):
    return run("systemd-analyze", "verify", "--man=no", path, check=False)


def test_unit_passes_systemd_analyze_verify(tmp_path):
    need_tool("systemd-analyze")
    assert EMBER.exists(), "build first: make"
    # Before installing, ExecStart must name a binary that exists.
    unit = tmp_path / "ember.service"
    unit.write_text(UNIT.read_text().replace("/usr/bin/ember", str(EMBER)))
    r = verify_unit(unit)
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr
    # The check can fail: a setting systemd does not know is reported.
    bad = tmp_path / "bad" / "ember.service"
    bad.parent.mkdir()
    bad.write_text(unit.read_text().replace("ProtectSystem=strict", "ProtectSystem=stricter"))
    r = verify_unit(bad)
    assert "stricter" in r.stdout + r.stderr


def test_unit_hardening():
    s = unit_settings(UNIT.read_text())
    one = {k: v[-1] for k, v in s.items()}
    assert one["ProtectSystem"] == "strict"
    assert one["ProtectHome"] in ("yes", "read-only")
    assert one["NoNewPrivileges"] == "yes"
    assert one["Restart"] == "on-failure"
    assert one["RestartPreventExitStatus"] == "2"  # a refused setting is not retried
    assert one["LimitMEMLOCK"] == "infinity"
    assert one["CacheDirectory"] == "ember"  # the only place it writes
    # Root with the bounding set: no ambient set, no other user.
    assert "User" not in s and "AmbientCapabilities" not in s
    # Everything else comes from the conffile, and SIGHUP reloads it.
    assert s["ExecStart"] == ["/usr/bin/ember --config /etc/ember/ember.yaml"]
    assert s["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    # Kernel names need CAP_SYSLOG, which ProtectKernelLogs would take away.
    assert "CAP_SYSLOG" in unit_caps() and "ProtectKernelLogs" not in s
    assert "CAP_SYS_ADMIN" not in unit_caps()


def test_unit_capabilities_known_to_this_kernel():
    need_tool("capsh")
    caps = unit_caps()
    assert len(caps) == len(set(caps))
    for cap in caps:
        assert run("capsh", f"--supports={cap.lower()}", check=False).returncode == 0, cap


def test_unit_exposure_level():
    need_tool("systemd-analyze")
    r = run("systemd-analyze", "security", "--offline=yes", UNIT, check=False)
    m = re.search(r"Overall exposure level for ember\.service: ([0-9.]+)", r.stdout + r.stderr)
    assert m, r.stdout[-2000:] + r.stderr
    # 4.7 when written; a root BPF agent cannot reach the 1-2 of a plain
    # daemon (its capabilities and host PID view are the point).
    assert float(m.group(1)) <= 5.0


def test_unit_sandbox_still_names_jit_code(tmp_path):
    """The unit's bounding set and a private /tmp (PrivateTmp=yes): the agent
    still loads BPF, names kernel frames and reads a JIT's /tmp/perf-PID.map,
    because it reaches the map through /proc/PID/root."""
    need_root()
    need_tool("capsh")
    need_tool("unshare")
    if os.uname().machine != "x86_64":
        skip_loudly("the jitloop fixture generates x86-64 code")
    jitloop = FIXTURES / "jitloop"
    assert jitloop.exists(), "build first: make"
    exe = tmp_path / "jl_sandbox"
    shutil.copy2(jitloop, exe)
    jl = subprocess.Popen([str(exe), "--map", "jit_seen_through_private_tmp"],
                          stdout=subprocess.PIPE, text=True)
    try:
        json.loads(jl.stdout.readline())  # the map is written
        perf_map = f"/tmp/perf-{jl.pid}.map"
        assert os.path.exists(perf_map)
        keep = {c.lower() for c in unit_caps()}
        bounding = run("capsh", "--print").stdout
        have = re.search(r"^Bounding set =(.*)$", bounding, re.M).group(1).split(",")
        drop = ",".join(c for c in have if c and c not in keep)
        # The agent is opened before the tmpfs hides /tmp (a checkout may
        # live there) and run from that fd.
        agent = f"exec /proc/self/fd/9 --dry-run --pid {jl.pid} --duration 3 --window 1"
        sandbox = (f"exec 9<{EMBER} && mount -t tmpfs ember-private-tmp /tmp && "
                   f"if test -e {perf_map}; then echo tmp-not-private; exit 99; fi && "
                   f"exec capsh --drop={drop} -- -c '{agent}'")
        r = run("unshare", "--mount", "--propagation", "private", "sh", "-c", sandbox,
                check=False, timeout=60)
    finally:
        jl.terminate()
        jl.wait()
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    folded = r.stdout
    named = sum(int(line.rsplit(" ", 1)[1]) for line in folded.splitlines()
                if "jit_seen_through_private_tmp" in line)
    total = sum(int(line.rsplit(" ", 1)[1]) for line in folded.splitlines() if line.strip())
    assert total > 0, r.stderr[-2000:]
    # jitloop spins in its JIT code: most of its samples end there.
    assert named >= total // 2, (named, total, r.stderr[-2000:])
    assert "kernel addresses hidden" not in r.stderr  # CAP_SYSLOG is in the set


def run_with_caps(keep, command, timeout):
    """command (a shell line) as root with only the capabilities keep."""
    have = re.search(r"^Bounding set =(.*)$", run("capsh", "--print").stdout, re.M)
    drop = ",".join(c for c in have.group(1).split(",") if c and c not in keep)
    return run("capsh", f"--drop={drop}", "--", "-c", command, check=False, timeout=timeout)


def summary_value(stderr, key):
    m = re.search(rf"^ember: summary .*\b{key}=(\d+)", stderr, re.M)
    assert m, stderr[-2000:]
    return int(m.group(1))


def test_unit_capabilities_attach_to_another_users_jvm(tmp_path):
    """The JVM half of the set: with the unit's capabilities Ember attaches to
    a JVM of user nobody (trigger file as nobody, SIGQUIT, the 0600 socket);
    without CAP_DAC_OVERRIDE the connect to that socket is refused (and the
    trigger file in nobody's directory cannot be removed)."""
    need_root()
    need_tool("capsh")
    need_tool("setpriv")
    java = shutil.which("java")
    if not java:
        skip_loudly("`java` is not installed (Debian: default-jdk-headless; make deps-test)")
    classes = FIXTURES / "java" / "JitSplit.class"
    if not classes.exists():
        skip_loudly(f"{classes} is missing: `make` builds it where javac is")
    # pytest's tmp_path is root's 0700: nobody needs a directory it reaches.
    home = Path(tempfile.mkdtemp(prefix="ember-jvm-nobody-"))
    os.chmod(home, 0o755)
    shutil.copy2(classes, home)
    shutil.chown(home, "nobody", "nogroup")
    jvm = subprocess.Popen(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                            java, "-cp", str(home), "JitSplit", "1", "25"], cwd=home,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    keep = {c.lower() for c in unit_caps()}
    agent = f"exec {EMBER} --dry-run --pid {jvm.pid} --jvm-min-age 1 --window 2 --duration 5"
    try:
        time.sleep(2)  # past --jvm-min-age, the methods compiled
        assert jvm.poll() is None, jvm.stderr.read()
        assert os.stat(f"/proc/{jvm.pid}").st_uid != 0
        full = run_with_caps(keep, agent, timeout=60)
        # The trigger file is removed (in the JVM user's directory).
        left = list(home.glob(".attach_pid*"))
        no_override = run_with_caps(keep - {"cap_dac_override"}, agent, timeout=60)
    finally:
        jvm.terminate()
        jvm.wait()
        shutil.rmtree(home, ignore_errors=True)
    assert summary_value(full.stderr, "jvm_attached") == 1, full.stderr[-2000:]
    assert "JitSplit.alpha" in full.stdout
    assert not left, left
    assert summary_value(no_override.stderr, "jvm_attached") == 0
    assert summary_value(no_override.stderr, "jvm_failed") >= 1, no_override.stderr[-2000:]


# --- the Debian package -----------------------------------------------------


def dpkg_status(name):
    r = run("dpkg-query", "-W", "-f=${Status} ${Version}", name, check=False)
    return r.stdout if r.returncode == 0 else ""


def build_deb(version):
    r = run("make", "-C", REPO, "deb", f"EMBER_VERSION={version}", check=False, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    arch = run("dpkg", "--print-architecture").stdout.strip()
    deb = OUTPUT / "deb" / f"ember_{version}_{arch}.deb"
    assert deb.exists()
    return deb


@pytest.fixture(scope="module")
def debs():
    need_root()
    for tool in ("dpkg-deb", "dpkg-shlibdeps", "help2man"):
        need_tool(tool)
    if "installed" in dpkg_status("ember"):
        skip_loudly("a package named ember is installed here: not touching it")
    return build_deb("0.1.0"), build_deb("0.1.1")


def test_deb_contents(debs):
    deb = debs[0]
    files = run("dpkg-deb", "-c", deb).stdout
    for path in ("./usr/bin/ember", "./lib/systemd/system/ember.service",
                 "./etc/ember/ember.yaml", "./usr/share/man/man8/ember.8.gz",
                 "./usr/share/doc/ember/copyright", "./usr/share/doc/ember/changelog.gz"):
        assert re.search(rf" {re.escape(path)}$", files, re.M), path
    info = run("dpkg-deb", "-I", deb).stdout
    assert "/etc/ember/ember.yaml" in run("dpkg-deb", "--info", deb, "conffiles").stdout
    depends = re.search(r"^ Depends: (.*)$", info, re.M).group(1)
    for lib in ("libbpf1", "libelf1", "libdw1", "libcurl4", "libc6"):
        assert re.search(rf"\b{lib}\b", depends), depends
    ex = OUTPUT / "deb" / "extract"
    shutil.rmtree(ex, ignore_errors=True)
    run("dpkg-deb", "-x", deb, ex)
    man = gzip.decompress((ex / "usr/share/man/man8/ember.8.gz").read_bytes()).decode()
    assert man.startswith('.\\" DO NOT MODIFY') or ".TH EMBER" in man
    assert ".TH EMBER \"8\"" in man or ".TH EMBER 8" in man
    assert "\\-\\-frequency" in man  # the options, from --help


def test_deb_installs_upgrades_purges(debs):
    v1, v2 = debs
    r = run("dpkg", "-i", v1, check=False)
    try:
        assert r.returncode == 0, r.stdout + r.stderr
        assert dpkg_status("ember") == "install ok installed 0.1.0"
        assert run("/usr/bin/ember", "--help").stdout.startswith("Usage: ember")
        conf = Path("/etc/ember/ember.yaml")
        assert conf.read_text() == (PKG / "ember.yaml").read_text()
        # Installed, the unit verifies as shipped (ExecStart, man page there).
        if shutil.which("systemd-analyze"):
            r = run("systemd-analyze", "verify", "ember.service", check=False)
            assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr
        # Enabled for the next boot, whether or not systemd runs now.
        assert Path("/etc/systemd/system/multi-user.target.wants/ember.service").is_symlink()

        # An admin's edit of the conffile survives the upgrade.
        conf.write_text(conf.read_text() + "# edited by the admin\n")
        r = run("dpkg", "-i", "--force-confold", v2, check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        assert dpkg_status("ember") == "install ok installed 0.1.1"
        assert conf.read_text().endswith("# edited by the admin\n")
        owned = [p for p in run("dpkg", "-L", "ember").stdout.split("\n") if p]

        # Removed, not purged: the binary goes, the admin's config stays.
        r = run("dpkg", "-r", "ember", check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        assert not os.path.exists("/usr/bin/ember")
        assert conf.read_text().endswith("# edited by the admin\n")
    finally:
        r = run("dpkg", "--purge", "ember", check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert dpkg_status("ember") == ""
    # Nothing left: files, config, cache, enablement links, helper state.
    left = [p for p in owned if p not in ("/.", "/etc", "/lib", "/usr", "/usr/bin", "/usr/share",
                                          "/usr/share/doc", "/usr/share/man", "/lib/systemd",
                                          "/lib/systemd/system", "/usr/share/man/man8")
            and os.path.exists(p)]
    assert not left, left
    for gone in ("/etc/ember", "/var/cache/ember"):
        assert not os.path.exists(gone), gone
    for root in ("/etc/systemd/system", "/var/lib/systemd/deb-systemd-helper-enabled",
                 "/var/lib/systemd/deb-systemd-helper-masked"):
        stray = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if "ember" in f]
        assert not stray, stray


def test_deb_lintian(debs):
    need_tool("lintian")
    r = run("lintian", "--display-info", "--tag-display-limit", "0", debs[0], check=False,
            timeout=300)
    tags = set()
    for line in r.stdout.splitlines():
        m = re.match(r"^([EWI]): ember: ([a-z0-9.+-]+)", line)
        if m:
            tags.add(m.group(2))
    unexpected = tags - set(LINTIAN_ACCEPTED)
    assert not unexpected, r.stdout


# --- Kubernetes: manifests and chart ----------------------------------------


def by_kind(docs):
    out = {}
    for d in docs:
        if d:
            out.setdefault(d["kind"], []).append(d)
    return out


def help_long_options():
    text = run(EMBER, "--help").stdout
    return set(re.findall(r"--([a-z][a-z0-9-]+)", text))


def check_config_keys(conf):
    """Every key is an option (or a file-only key), and the agent itself takes
    the file: its parser, its checks, its regex compiler."""
    assert EMBER.exists(), "build first: make"
    options = help_long_options()
    unknown = set(conf) - options - FILE_ONLY_KEYS
    assert not unknown, unknown
    # Keys of options this build does not have yet are left out; the rest
    # must start the agent (a refused file is exit code 2 and one line).
    taken = {k: v for k, v in conf.items() if k in options or k in FILE_ONLY_KEYS}
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        yaml.safe_dump(taken, f)
        f.flush()
        r = run(EMBER, "--config", f.name, "--duration", 1, "--window", 1,
                "--server", "http://127.0.0.1:9", "--max-retries", 0, check=False, timeout=60)
    assert r.returncode != 2 and "ember: error" not in r.stderr, r.stderr[-2000:]


def check_cluster_objects(objs, caps_expected=True):
    """What every way of deploying Ember to Kubernetes must carry."""
    (ds,) = objs["DaemonSet"]
    pod = ds["spec"]["template"]["spec"]
    meta = ds["spec"]["template"]["metadata"]
    assert pod["hostPID"] is True
    assert {"operator": "Exists"} in pod["tolerations"]
    (c,) = pod["containers"]
    env = {e["name"]: e for e in c["env"]}
    assert env["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    assert "$(NODE_NAME)" in c["args"]  # the host label is the node, not the pod
    sc = c["securityContext"]
    assert sc["runAsUser"] == 0
    if caps_expected:
        assert sc["privileged"] is False
        assert sc["capabilities"]["drop"] == ["ALL"]
        assert sorted(sc["capabilities"]["add"]) == sorted(
            cap[len("CAP_"):] for cap in unit_caps())
    else:
        assert sc["privileged"] is True
    # Probes on /healthz at the port that serves it, and Prometheus told.
    (port,) = c["ports"]
    for probe in ("livenessProbe", "readinessProbe"):
        get = c[probe]["httpGet"]
        assert get["path"] == "/healthz"
        assert get["port"] in (port["name"], port["containerPort"])
    ann = meta["annotations"]
    assert ann["prometheus.io/scrape"] == "true"
    assert int(ann["prometheus.io/port"]) == port["containerPort"]
    # Resources within reach of the budget (30 MB RSS, 0.5 % of a core).
    res = c["resources"]
    assert res["requests"]["memory"] in ("32Mi",) and res["requests"]["cpu"] == "10m"
    assert "memory" in res["limits"]
    # The host's cgroup tree, read-only.
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    vols = {v["name"]: v for v in pod["volumes"]}
    cg = [n for n, v in vols.items() if v.get("hostPath", {}).get("path") == "/sys/fs/cgroup"]
    assert cg and mounts[cg[0]]["readOnly"] is True
    # The config file the args name comes from the ConfigMap.
    cm_vol = [n for n, v in vols.items() if "configMap" in v]
    assert mounts[cm_vol[0]]["mountPath"] == "/etc/ember"
    (cm,) = objs["ConfigMap"]
    conf = yaml.safe_load(cm["data"]["ember.yaml"])
    check_config_keys(conf)
    assert conf["http-listen"].rsplit(":", 1)[1] == str(port["containerPort"])
    assert conf["server"].startswith("http")
    # RBAC: this node's pods and its node, nothing more.
    (role,) = objs["ClusterRole"]
    rules = {(tuple(r["apiGroups"]), tuple(r["resources"])): sorted(r["verbs"])
             for r in role["rules"]}
    assert rules == {(("",), ("pods",)): ["get", "list", "watch"],
                     (("",), ("nodes",)): ["get"]}
    (binding,) = objs["ClusterRoleBinding"]
    (sa,) = objs["ServiceAccount"]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": sa["metadata"]["name"],
                                    "namespace": sa["metadata"]["namespace"]}]
    assert pod["serviceAccountName"] == sa["metadata"]["name"]
    return c, conf


def test_kubernetes_manifests():
    need_root()
    docs = []
    for f in sorted((PKG / "kubernetes").glob("*.yaml")):
        docs += list(yaml.safe_load_all(f.read_text()))
    objs = by_kind(docs)
    check_cluster_objects(objs)
    kust = objs["Kustomization"][0]
    listed = set(kust["resources"])
    on_disk = {f.name for f in (PKG / "kubernetes").glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk


def render_chart(tmp_path, overrides=None, release="prof", namespace="monitoring"):
    need_tool("go")
    values = yaml.safe_load((CHART / "values.yaml").read_text())

    def merge(base, over):
        for k, v in over.items():
            if isinstance(v, dict) and isinstance(base.get(k), dict):
                merge(base[k], v)
            else:
                base[k] = v
    merge(values, overrides or {})
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    ctx = {"Values": values,
           "Chart": {"Name": chart["name"], "Version": chart["version"],
                     "AppVersion": chart["appVersion"]},
           "Release": {"Name": release, "Namespace": namespace}}
    ctx_file = tmp_path / f"ctx-{len(list(tmp_path.iterdir()))}.json"
    ctx_file.write_text(json.dumps(ctx))
    env = dict(os.environ, GOFLAGS="-mod=mod", GO111MODULE="off",
               GOCACHE=str(tmp_path / "gocache"), HOME=str(tmp_path))
    return run("go", "run", REPO / "tests/packaging/helm_render.go", CHART, ctx_file,
               check=False, env=env, timeout=120)


def test_helm_chart_default_values(tmp_path):
    need_root()
    r = render_chart(tmp_path)
    assert r.returncode == 0, r.stderr
    objs = by_kind(yaml.safe_load_all(r.stdout))
    c, conf = check_cluster_objects(objs)
    assert objs["DaemonSet"][0]["metadata"]["namespace"] == "monitoring"
    assert c["image"] == "ember:0.1.0"  # the chart's appVersion
    assert conf["relabel_configs"][0]["action"] == "drop"
    # The same privileges, probes and RBAC as the plain manifests.
    plain = []
    for f in sorted((PKG / "kubernetes").glob("*.yaml")):
        plain += list(yaml.safe_load_all(f.read_text()))
    plain_c = by_kind(plain)["DaemonSet"][0]["spec"]["template"]["spec"]["containers"][0]
    for key in ("securityContext", "livenessProbe", "readinessProbe", "resources", "env", "args"):
        assert c[key] == plain_c[key], key


def test_helm_chart_values_take_effect(tmp_path):
    need_root()
    secret_ref = {"type": "basic", "username": "123456", "existingSecret": "grafana-cloud",
                  "secretKey": "pw"}
    rules = [{"source_labels": ["__meta_process_comm"], "regex": "sh|bash", "action": "drop"},
             {"regex": "__meta_kubernetes_pod_label_(.+)", "action": "labelmap"}]
    r = render_chart(tmp_path, {
        "server": {"url": "https://profiles.example.net", "tenant": "team-a"},
        "auth": secret_ref, "relabelConfigs": rules, "labels": {"env": "prod"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "db"}],
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"},
                      "limits": {"memory": "64Mi"}},
        "privileged": True})
    assert r.returncode == 0, r.stderr
    objs = by_kind(yaml.safe_load_all(r.stdout))
    (ds,) = objs["DaemonSet"]
    pod = ds["spec"]["template"]["spec"]
    c = pod["containers"][0]
    conf = yaml.safe_load(objs["ConfigMap"][0]["data"]["ember.yaml"])
    # The Secret's file, which the pod has mounted, stands here in tmp_path.
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    secret.chmod(0o600)
    check_config_keys(dict(conf, **{"basic-auth-password-file": str(secret)}))
    assert conf["server"] == "https://profiles.example.net" and conf["tenant"] == "team-a"
    assert conf["basic-auth-user"] == "123456"
    assert conf["basic-auth-password-file"] == "/etc/ember-auth/pw"
    assert conf["relabel_configs"] == rules and conf["labels"] == {"env": "prod"}
    auth_vol = [v for v in pod["volumes"] if v["name"] == "auth"][0]
    assert auth_vol["secret"]["secretName"] == "grafana-cloud"
    assert {"name": "auth", "mountPath": "/etc/ember-auth", "readOnly": True} in c["volumeMounts"]
    assert pod["tolerations"] == [{"key": "dedicated", "operator": "Equal", "value": "db"}]
    # Values merge as Helm merges them: the default cpu limit stays.
    assert c["resources"]["limits"] == {"cpu": "500m", "memory": "64Mi"}
    assert c["securityContext"]["privileged"] is True and "capabilities" not in c[
        "securityContext"]
    # A changed configuration changes the pods' checksum: they roll.
    r0 = render_chart(tmp_path)
    ds0 = by_kind(yaml.safe_load_all(r0.stdout))["DaemonSet"][0]
    ann = lambda d: d["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    assert ann(ds) != ann(ds0)
    # Auth without a Secret is refused, not rendered half.
    r = render_chart(tmp_path, {"auth": {"type": "bearer", "existingSecret": ""}})
    assert r.returncode != 0 and "existingSecret" in r.stderr


# --- the default config and the container image -----------------------------


def test_default_config_is_taken_by_the_agent():
    need_root()
    text = (PKG / "ember.yaml").read_text()
    conf = yaml.safe_load(text)
    check_config_keys(conf)
    # The packages' address for /metrics and /healthz, commented until this
    # build has --http-listen.
    if "http-listen" in help_long_options():
        assert conf["http-listen"] == "127.0.0.1:4100"
    else:
        assert re.search(r"^# http-listen: 127\.0\.0\.1:4100$", text, re.M)


def test_containerfile_installs_every_linked_library():
    assert EMBER.exists(), "build first: make"
    text = (PKG / "container" / "Containerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", text, re.M)
    assert stages[-1] == "debian:12-slim"
    runtime = text[text.rindex("FROM "):]
    installs = set()
    for cmd in re.findall(r"apt-get install([^&]*)", runtime.replace("\\\n", " ")):
        installs |= {w for w in cmd.split() if not w.startswith("-")}
    needed = re.findall(r"Shared library: \[(.+?)\]", run("readelf", "-d", EMBER).stdout)
    for lib in needed:
        owner = run("dpkg", "-S", f"*/{lib}", check=False).stdout
        pkgs = {line.split(":")[0] for line in owner.splitlines()}
        if pkgs & {"libc6"}:
            continue  # in the base image
        assert pkgs & installs, f"{lib} ({pkgs}) not installed by the Containerfile"
    assert "ca-certificates" in installs
    assert re.search(r"^COPY --from=build \S+/ember /usr/bin/ember$", runtime, re.M)
