# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""`ember report` on what the real sampler recorded, and live.

Three fixtures with a known bottleneck run together: split (two threads
always on CPU: cpu-bound), contend (four threads taking turns with one
mutex, so three wait in the kernel's futex at any time: lock-bound) and
offcpu --ms 0,1,10 (a thread that mostly waits for a pipe: io-bound).
They are recorded with `--profiles cpu,off-cpu --output-dir` and reported
on from the files, and sampled again by `ember report --live`. The verdict
rules themselves, on both sides of each threshold, are tested on hand-made
files in tests/output/test_report_files.py.
Root and kernel BTF required.
Run: /usr/bin/python3 -m pytest -q tests/integration/test_report.py
"""
import json
import subprocess
import time

import pytest

EXPECTED = {"split": "cpu-bound", "contend": "lock-bound", "offcpu": "io-bound"}
# service_name is the process's systemd unit when it runs in one: under a CI
# runner's unit all three fixtures would be one service. A relabel rule
# names each by its comm, as an operator's config would (ember top and
# report --live take the agent's --config for exactly this).
CONFIG = """relabel_configs:
  - source_labels: [__meta_process_comm]
    target_label: service_name
"""


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    path = tmp_path_factory.mktemp("config") / "ember.yaml"
    path.write_text(CONFIG)
    return path


def start_fixtures(procs):
    p = {
        "split": procs.start("split", "--threads", 2, "--seconds", 0),
        "contend": procs.start("contend", "--threads", 4),
        "offcpu": procs.start("offcpu", "--ms", "0,1,10"),
    }
    time.sleep(0.3)
    return p


def pid_args(fixtures):
    return [a for p in fixtures.values() for a in ("--pid", p.pid)]


@pytest.fixture(scope="module")
def recorded(ember, module_procs, tmp_path_factory, config):
    """An --output-dir series of the three fixtures: two 4 s windows."""
    out = tmp_path_factory.mktemp("series")
    fixtures = start_fixtures(module_procs)
    run = ember.run("--profiles", "cpu,off-cpu", "--output-dir", out, "--window", 4,
                    "--duration", 8, "--no-jvm", "--config", config, *pid_args(fixtures))
    for p in fixtures.values():
        module_procs.stop(p)
    assert run.returncode == 0, run.describe()
    return out


def report_json(ember, *args):
    p = subprocess.run([str(ember.path), "report", "--json", *map(str, args)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, (p.returncode, p.stderr)
    return json.loads(p.stdout)


def check_verdicts(out, text_for_errors):
    svcs = {s["service"]: s for s in out["services"]}
    for name, verdict in EXPECTED.items():
        assert name in svcs, f"{name} missing:\n{text_for_errors}"
        assert svcs[name]["verdict"] == verdict, f"{name}: {svcs[name]}"
    # The figures behind them, loosely: split's CPU is its three functions,
    # contend's off-CPU is mostly futex waits, offcpu's mostly the pipe.
    assert [f["name"] for f in svcs["split"]["top_functions"][:1]] == ["fx_work_a"], svcs["split"]
    lock = svcs["contend"]["off_cpu_by_wait_seconds"]
    assert lock["lock"] > 0.8 * (lock["lock"] + lock["io"] + lock["other"]), lock
    io = svcs["offcpu"]["off_cpu_by_wait_seconds"]
    assert io["io"] > 0.8 * (io["lock"] + io["io"] + io["other"]), io
    return svcs


def test_report_on_output_dir(ember, recorded):
    out = report_json(ember, recorded)
    svcs = check_verdicts(out, out)
    # The span the files say they cover: two 4 s windows.
    assert 7.0 <= out["wall_seconds"] <= 9.5, out["wall_seconds"]
    # Two threads on a 2-CPU machine shared with the others: some CPU, at
    # most two cores.
    cores = svcs["split"]["cpu_seconds"] / out["wall_seconds"]
    print(f"split: {cores:.2f} cores; contend: {svcs['contend']}")
    assert 0.1 <= cores <= 2.05, cores


def test_report_text_reads_like_the_json(ember, recorded):
    p = subprocess.run([str(ember.path), "report", recorded], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    print(p.stdout)
    for name, verdict in EXPECTED.items():
        assert f"\n{name}: {verdict}\n  why: " in p.stdout, p.stdout


def test_report_live(ember, procs, config):
    fixtures = start_fixtures(procs)
    run = ember.run("report", "--live", "--duration", 6, "--json", "--no-jvm", "--config", config,
                    *pid_args(fixtures), timeout=60)
    assert run.returncode == 0, run.describe()
    out = json.loads(run.stdout)
    check_verdicts(out, run.stdout)
    assert 5.0 <= out["wall_seconds"] <= 7.5, out
    assert out["off_cpu_profiles"] is True


def test_report_live_bad_usage(ember):
    for args, why in ((["--live"], "--live needs --duration"),
                      (["--live", "--duration", 2, "some.folded"], "reads no files"),
                      (["--live", "--duration", 0], "--duration '0'")):
        p = subprocess.run([str(ember.path), "report", *map(str, args)], capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, (args, p)
        assert why in p.stderr, (args, p.stderr)
