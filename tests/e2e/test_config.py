# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_config.py - the --config file, relabel rules and SIGHUP reload, end to end

Runs .output/ember (root: it loads BPF) with a YAML file against the strict
receiver, profiling .output/tests/fixtures/split and, where a rule needs a
second process, a busy python3. Checks what arrives (a drop rule's process
does not, a labelmap rule's labels do, no __meta_ label ever does), that a
SIGHUP with a valid file changes the labels of later windows without losing
one (every sample the agent counted arrived, or was dropped by a rule), and
that an invalid file is refused with one line while the old labels go on.
About 30 seconds in all.
"""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from e2e_paths import EMBER, SPLIT

if os.geteuid() != 0:
    pytest.skip("SKIP: the agent e2e tests load BPF programs and need root", allow_module_level=True)
for _path in (EMBER, SPLIT):
    if not os.access(_path, os.X_OK):
        pytest.skip("SKIP: %s missing: run `make` first" % _path, allow_module_level=True)

HZ = 97


def summary_of(err):
    m = re.findall(r"^ember: summary (.*)$", err, re.M)
    assert m, "no summary line in stderr:\n" + err
    return {k: v for k, v in (kv.split("=", 1) for kv in m[-1].split())}


class Agent:
    """split (and optionally a busy python3) profiled by ember --config."""

    def __init__(self, receiver, config, *args, busy_python=False):
        self.split = subprocess.Popen([SPLIT, "--threads", "1", "--seconds", "0"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.busy = None
        pids = ["--pid", str(self.split.pid)]
        if busy_python:
            self.busy = subprocess.Popen(["/usr/bin/python3", "-c", "while True: pass"])
            pids += ["--pid", str(self.busy.pid)]
        time.sleep(0.3)
        self.proc = subprocess.Popen([EMBER, "--config", str(config), "--server", receiver.url,
                                      "--frequency", str(HZ)] + pids + list(args),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.err = None

    def stop(self):
        """SIGTERM, then the exit code and stderr."""
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            _, self.err = self.proc.communicate(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.communicate()
            for p in (self.split, self.busy):
                if p:
                    p.kill()
                    p.wait()
        return self.proc.returncode, self.err


def write(path, text):
    # Written aside and renamed, as an editor or a ConfigMap update does: a
    # SIGHUP never reads half a file.
    tmp = str(path) + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def assert_all_accounted(s, received, dropped_samples=0):
    """No window lost: every window went out and arrived, and every sample
    the agent counted is in a profile or was dropped by a rule."""
    assert s["failed_push"] == "0" and s["dropped_push"] == "0", s
    assert s["windows_push"] == s["delivered_push"], s
    assert received + dropped_samples == int(s["samples"]), (received, dropped_samples, s)


def test_drop_and_labelmap_rules(receiver, tmp_path):
    cfg = tmp_path / "ember.yaml"
    write(cfg, """
window: 1
labels:
  team: core
relabel_configs:
  # python3 is profiled (--pid) but dropped
  - source_labels: [__meta_process_comm]
    regex: python3
    action: drop
  - action: labelmap
    regex: __meta_process_(comm|pid)
    replacement: proc_$1
  - source_labels: [team, proc_comm]
    separator: "/"
    target_label: owner
""")
    agent = Agent(receiver, cfg, busy_python=True)
    time.sleep(3.5)
    rc, err = agent.stop()
    s = summary_of(err)
    assert rc == 0, err
    profiles = receiver.snapshot()
    assert profiles, err
    for p in profiles:
        assert p.labels["proc_comm"] == "split", p.labels
        assert p.labels["proc_pid"] == str(agent.split.pid), p.labels
        assert p.labels["owner"] == "core/split", p.labels
        assert p.labels["service_name"] == "split", p.labels
        assert not any(k.startswith("__") and k != "__name__" for k in p.labels), p.labels
    # python3 burnt CPU in every window: its samples were counted, not sent
    # (how many depends on how busy the machine is)
    assert int(s["relabel_dropped"]) >= 2, s
    dropped = int(s["relabel_dropped_samples"])
    assert dropped > 0, s
    assert_all_accounted(s, sum(p.samples for p in profiles), dropped)


def test_sighup_reload_valid(receiver, tmp_path):
    cfg = tmp_path / "ember.yaml"
    write(cfg, "window: 1\nlabels: {stage: one}\n")
    agent = Agent(receiver, cfg)
    assert receiver.wait_until(lambda: len(receiver.profiles) >= 2, 15), "no profiles"
    # frequency cannot change while running: logged, kept
    write(cfg, "window: 1\nfrequency: 50\nlabels: {stage: two, extra: yes}\n")
    agent.proc.send_signal(signal.SIGHUP)
    assert receiver.wait_until(
        lambda: sum(p.labels.get("stage") == "two" for p in receiver.profiles) >= 2, 15), \
        "no profile with the reloaded label"
    rc, err = agent.stop()
    s = summary_of(err)
    assert rc == 0, err
    assert s["reloads"] == "1" and s["reloads_refused"] == "0", s
    assert re.search(r"^ember: warn config: frequency changed in .* needs a restart", err, re.M), err
    assert re.search(r"^ember: warn agent: reloaded .* needs_restart=1$", err, re.M), err
    profiles = sorted(receiver.snapshot(), key=lambda p: p.profile.time_nanos)
    stages = [p.labels.get("stage") for p in profiles]
    assert set(stages) == {"one", "two"}, stages
    # once reloaded, every later window has the new labels
    first_two = stages.index("two")
    assert all(x == "two" for x in stages[first_two:]), stages
    assert all(p.labels.get("extra") == "yes" for p in profiles[first_two:])
    assert all("extra" not in p.labels for p in profiles[:first_two])
    # the sampling period did not change with the file
    assert all(p.profile.period == 10**9 // HZ for p in profiles), profiles[0].profile.period
    assert_all_accounted(s, sum(p.samples for p in profiles))


def test_sighup_reload_invalid_keeps_running_config(receiver, tmp_path):
    cfg = tmp_path / "ember.yaml"
    write(cfg, "window: 1\nlabels: {stage: one}\n")
    agent = Agent(receiver, cfg)
    assert receiver.wait_until(lambda: len(receiver.profiles) >= 1, 15), "no profiles"
    write(cfg, "window: 1\nlabels: {stage: two}\nrelabel_configs:\n"
               "  - source_labels: [stage]\n    regex: '(unclosed'\n    target_label: x\n")
    agent.proc.send_signal(signal.SIGHUP)
    n = len(receiver.snapshot())
    assert receiver.wait_until(lambda: len(receiver.profiles) >= n + 2, 15), "pushing stopped"
    rc, err = agent.stop()
    s = summary_of(err)
    assert rc == 0, err
    assert s["reloads"] == "0" and s["reloads_refused"] == "1", s
    refusals = [l for l in err.splitlines() if "reload is refused" in l]
    assert len(refusals) == 1, err
    assert refusals[0].startswith("ember: error %s:4: relabel_configs entry 1: regex '(unclosed'"
                                  % cfg), refusals
    profiles = receiver.snapshot()
    assert all(p.labels.get("stage") == "one" for p in profiles), [p.labels for p in profiles]
    assert_all_accounted(s, sum(p.samples for p in profiles))


def test_bad_config_refused_at_start(tmp_path):
    cfg = tmp_path / "ember.yaml"
    write(cfg, "dry-run: true\nwindow: 2\nrelabel_configs:\n  - action: drop\n"
               "    source_labels: [a]\n    regex: 'a{2,1}'\n")
    r = subprocess.run([EMBER, "--config", str(cfg)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("ember: error %s:4: relabel_configs entry 1: regex 'a{2,1}' "
                               "does not compile" % cfg), lines
