# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""kubepods.py - real cgroup v2 hierarchies in the shapes a kubelet makes, for tests and bench

One place for the tests (test_cgroup_labels.py, test_k8s.py) and the benchmarks
(bench/cgroups.py, bench/k8s.py) to make pod and container cgroups, move
processes into them and take them down again.
"""

import os
import subprocess
import time
import uuid


def cgroup2_root():
    """Where cgroup v2 is mounted, or None."""
    with open("/proc/self/mounts") as f:
        for line in f:
            _, path, fstype = line.split()[:3]
            if fstype == "cgroup2":
                return path
    return None


def hexid():
    """A container id as runtimes write them: 64 hex digits."""
    return (uuid.uuid4().hex + uuid.uuid4().hex)[:64]


# The shapes, by name: (pod uid, container id) -> directories from the root,
# with the container_runtime label the agent reports (None: the cgroupfs
# driver's path does not say).
SHAPES = {
    "containerd": (lambda uid, cid: [
        "kubepods.slice", "kubepods-burstable.slice",
        "kubepods-burstable-pod%s.slice" % uid.replace("-", "_"), "cri-containerd-%s.scope" % cid],
        "containerd"),
    "cgroupfs": (lambda uid, cid: ["kubepods", "burstable", "pod" + uid, cid], None),
    "crio": (lambda uid, cid: [
        "kubepods.slice", "kubepods-besteffort.slice",
        "kubepods-besteffort-pod%s.slice" % uid.replace("-", "_"), "crio-%s.scope" % cid],
        "cri-o"),
}


class Tree:
    """The directories made under the cgroup v2 root, removed deepest first by
    remove(), with any process still in them moved back to the root."""

    def __init__(self, root=None):
        self.root = root or cgroup2_root()
        self.made = []

    def container(self, shape="containerd", uid=None, cid=None):
        """Makes one container's cgroup; returns (leaf dir, runtime, uid, cid)."""
        uid, cid = uid or str(uuid.uuid4()), cid or hexid()
        parts, runtime = SHAPES[shape]
        d = self.root
        for p in parts(uid, cid):
            d = os.path.join(d, p)
            if not os.path.isdir(d):
                os.mkdir(d)
                self.made.append(d)
        return d, runtime, uid, cid

    def remove(self):
        for d in reversed(self.made):
            try:
                with open(os.path.join(d, "cgroup.procs")) as f:
                    pids = f.read().split()
                for pid in pids:
                    move(self.root, int(pid))
            except OSError:
                pass
            # A killed process leaves its cgroup only once it is reaped.
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    time.sleep(0.1)
        self.made = []


def move(cgroup_dir, pid):
    """Moves pid (the whole process) into cgroup_dir."""
    with open(os.path.join(cgroup_dir, "cgroup.procs"), "w") as f:
        f.write(str(pid))


def start_in(program, cgroup_dir):
    """The split fixture (program) burning CPU on one thread, moved into
    cgroup_dir (None: left where it is)."""
    p = subprocess.Popen([program, "--threads", "1", "--seconds", "0"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    if cgroup_dir:
        move(cgroup_dir, p.pid)
    return p


def root_or_skip(*binaries):
    """For a test module: the cgroup v2 root, or the module skipped (not root,
    a binary not built, no cgroup v2)."""
    import pytest
    if os.geteuid() != 0:
        pytest.skip("SKIP: the agent loads BPF programs and makes cgroups: needs root",
                    allow_module_level=True)
    for path in binaries:
        if not os.access(path, os.X_OK):
            pytest.skip("SKIP: %s missing: run `make` first" % path, allow_module_level=True)
    root = cgroup2_root()
    if root is None:
        pytest.skip("SKIP: no cgroup v2 mount on this host", allow_module_level=True)
    return root
