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

import pytest

from e2e_paths import EMBER, SPLIT
import kubepods
from kubepods import Tree, root_or_skip

ROOT = root_or_skip(EMBER, SPLIT)


@pytest.fixture
def cgroups():
    """The three shapes (systemd + containerd, cgroupfs, systemd + CRI-O); yields
    [(leaf dir, runtime, uid, id)]; all removed afterwards."""
    tree = Tree(ROOT)
    try:
        yield [tree.container(shape) for shape in ("containerd", "cgroupfs", "crio")]
    finally:
        tree.remove()


def start_in(cgroup_dir):
    return kubepods.start_in(SPLIT, cgroup_dir)


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
