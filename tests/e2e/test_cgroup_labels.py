# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_cgroup_labels.py - where a process runs, from its cgroup, on the profiles that arrive

Makes real cgroup v2 hierarchies in the shapes a kubelet and its runtime make
(systemd driver + containerd, cgroupfs driver, systemd driver + CRI-O), moves
one fixture process into each, runs the agent against the strict receiver and
checks that each container's profiles carry its container_id, pod_uid and
container_runtime, and that a process outside them carries none. The cgroups
are removed afterwards. Root; about 10 s.
"""

import os
import signal
import subprocess
import time
import uuid

import pytest

from e2e_paths import EMBER, SPLIT

if os.geteuid() != 0:
    pytest.skip("SKIP: the agent loads BPF programs and makes cgroups: needs root",
                allow_module_level=True)
for _path in (EMBER, SPLIT):
    if not os.access(_path, os.X_OK):
        pytest.skip("SKIP: %s missing: run `make` first" % _path, allow_module_level=True)


def cgroup2_root():
    with open("/proc/self/mounts") as f:
        for line in f:
            dev, path, fstype = line.split()[:3]
            if fstype == "cgroup2":
                return path
    return None


ROOT = cgroup2_root()
if ROOT is None:
    pytest.skip("SKIP: no cgroup v2 mount on this host", allow_module_level=True)


def hexid():
    return (uuid.uuid4().hex + uuid.uuid4().hex)[:64]


def shapes():
    """(relative directories from the top, runtime label, pod uid, container id, qos)."""
    out = []
    uid, cid = str(uuid.uuid4()), hexid()
    u_ = uid.replace("-", "_")
    out.append((["kubepods.slice", "kubepods-burstable.slice",
                 "kubepods-burstable-pod%s.slice" % u_, "cri-containerd-%s.scope" % cid],
                "containerd", uid, cid))
    uid, cid = str(uuid.uuid4()), hexid()
    out.append((["kubepods", "burstable", "pod" + uid, cid], None, uid, cid))
    uid, cid = str(uuid.uuid4()), hexid()
    u_ = uid.replace("-", "_")
    out.append((["kubepods.slice", "kubepods-besteffort.slice",
                 "kubepods-besteffort-pod%s.slice" % u_, "crio-%s.scope" % cid],
                "cri-o", uid, cid))
    return out


@pytest.fixture
def cgroups():
    """Makes the hierarchies; yields [(leaf dir, runtime, uid, id)]; moves any
    process left in them back to the root and removes them, deepest first."""
    made, leaves = [], []
    try:
        for parts, rt, uid, cid in shapes():
            d = ROOT
            for p in parts:
                d = os.path.join(d, p)
                if not os.path.isdir(d):
                    os.mkdir(d)
                    made.append(d)
            leaves.append((d, rt, uid, cid))
        yield leaves
    finally:
        for d in reversed(made):
            try:
                with open(os.path.join(d, "cgroup.procs")) as f:
                    pids = f.read().split()
                for pid in pids:
                    with open(os.path.join(ROOT, "cgroup.procs"), "w") as f:
                        f.write(pid)
            except OSError:
                pass
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    time.sleep(0.1)


def start_in(cgroup_dir):
    """A fixture process burning CPU, moved into cgroup_dir (None: left where it is)."""
    p = subprocess.Popen([SPLIT, "--threads", "1", "--seconds", "0"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    if cgroup_dir:
        with open(os.path.join(cgroup_dir, "cgroup.procs"), "w") as f:
            f.write(str(p.pid))
    return p


def test_container_labels_arrive_on_the_right_profiles(receiver, cgroups):
    procs = []
    try:
        procs = [start_in(leaf) for leaf, _, _, _ in cgroups]
        host = start_in(None)
        procs.append(host)
        for p, (leaf, _, _, _) in zip(procs, cgroups):
            with open("/proc/%d/cgroup" % p.pid) as f:
                assert os.path.relpath(leaf, ROOT) in f.read(), "fixture not moved"
        time.sleep(0.2)
        cmd = [EMBER, "--server", receiver.url, "--window", "2", "--duration", "5",
               "--frequency", "97"]
        for p in procs:
            cmd += ["--pid", str(p.pid)]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=20)
    profiles = receiver.snapshot()
    assert profiles, run.stderr
    by_container = {}
    for prof in profiles:
        by_container.setdefault(prof.labels.get("container_id"), []).append(prof.labels)
    for leaf, rt, uid, cid in cgroups:
        assert cid in by_container, "no profile for %s; got %s" % (leaf, list(by_container))
        for labels in by_container[cid]:
            assert labels["pod_uid"] == uid
            assert labels.get("container_runtime") == rt
            assert labels["service_name"] == "split"
            assert "unit" not in labels
    # The process outside any container has none of its labels.
    assert None in by_container, "the host process's profiles are missing"
    for labels in by_container[None]:
        assert "pod_uid" not in labels and "container_runtime" not in labels
    assert set(by_container) == {None} | {cid for _, _, _, cid in cgroups}
