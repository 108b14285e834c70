# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""`ember report` on hand-made files: the verdict rules, the split, bad input.

No root, no sampler: folded and pprof files written here with known CPU and
off-CPU time, so each verdict's rule and threshold (output/triage.c) is
exercised on both sides of its boundary. Live runs and the fixtures are in
tests/integration/test_report.py.
Run: /usr/bin/python3 -m pytest -q tests/output/test_report_files.py
"""
import gzip
import json

import pytest

from output_helpers import ember, pprof_from_stacks, write_folded

HZ = 100  # the folded CPU files' rate: ember report's default
K = "_[k]"
FUTEX = f"schedule{K};futex_wait_queue{K};futex_wait{K};do_futex{K};__x64_sys_futex{K}"
PIPE = f"schedule{K};pipe_read{K};vfs_read{K};ksys_read{K}"
EPOLL = f"schedule_hrtimeout_range{K};ep_poll{K};do_epoll_wait{K}"
SLEEP = f"schedule{K};do_nanosleep{K};hrtimer_nanosleep{K}"
PREEMPT = f"__schedule{K};preempt_schedule_irq{K};irqentry_exit{K};asm_sysvec_apic_timer_interrupt{K}"
# A page fault's wait with no I/O frame: the frames do not say why.
UNKNOWN = f"schedule{K};do_fault{K};handle_mm_fault{K}"


def futex(root):
    # Leaf first in the kernel part: the folded line is root first.
    return ";".join([root, *reversed(FUTEX.split(";"))])


def kstack(root, kernel):
    return ";".join([root, *reversed(kernel.split(";"))])


def report(tmp_path, cpu, off, *args, seconds=None):
    """cpu: {"svc;a;b": samples}; off: {"svc;a;b": microseconds}."""
    files = []
    if cpu:
        files += ["--cpu", write_folded(tmp_path / "cpu.folded", cpu)]
    if off:
        files += ["--off-cpu", write_folded(tmp_path / "off.folded", off)]
    if seconds:
        files += ["--seconds", seconds]
    p = ember("report", "--json", *files, *args, check=0)
    return {s["service"]: s for s in json.loads(p.stdout)["services"]}


def test_cpu_bound(tmp_path):
    # 10 s on CPU, 1 s blocked in I/O over 10 s: 91 % of the busy time on CPU.
    s = report(tmp_path, {"app;main;work": 10 * HZ}, {kstack("app;main;read", PIPE): 1_000_000},
               seconds=10)["app"]
    assert s["verdict"] == "cpu-bound", s
    assert s["cpu_seconds"] == pytest.approx(10.0)
    assert s["off_cpu_by_wait_seconds"]["io"] == pytest.approx(1.0)
    assert s["cpu_share_of_busy"] == pytest.approx(10 / 11, abs=1e-4)
    assert s["top_functions"][0] == {"name": "work", "self_share": 1}


def test_lock_bound(tmp_path):
    # 1 s on CPU, 5 s in futex waits: the lock is what it waits on.
    s = report(tmp_path, {"db;main;query": HZ}, {futex("db;main;pthread_mutex_lock"): 5_000_000},
               seconds=10)["db"]
    assert s["verdict"] == "lock-bound", s
    assert s["off_cpu_by_wait_seconds"]["lock"] == pytest.approx(5.0)


@pytest.mark.parametrize("kernel", [PIPE, EPOLL])
def test_io_bound(tmp_path, kernel):
    s = report(tmp_path, {"web;main;parse": HZ}, {kstack("web;main;loop", kernel): 4_000_000},
               seconds=10)["web"]
    assert s["verdict"] == "io-bound", s
    assert s["off_cpu_by_wait_seconds"]["io"] == pytest.approx(4.0)


def test_lock_or_io_the_larger_wins(tmp_path):
    off = {futex("svc;a"): 2_000_000, kstack("svc;b", PIPE): 3_000_000}
    assert report(tmp_path, {"svc;x": HZ}, off, seconds=10)["svc"]["verdict"] == "io-bound"
    off = {futex("svc;a"): 3_000_000, kstack("svc;b", PIPE): 2_000_000}
    assert report(tmp_path, {"svc;x": HZ}, off, seconds=10)["svc"]["verdict"] == "lock-bound"


@pytest.mark.parametrize("cpu_s,verdict", [(2.9, "lock-bound"), (3.1, "cpu-bound")])
def test_cpu_share_threshold(tmp_path, cpu_s, verdict):
    # Half the busy time on CPU is the line: 3 s blocked on a lock.
    s = report(tmp_path, {"svc;spin": int(cpu_s * HZ)}, {futex("svc;wait"): 3_000_000},
               seconds=10)["svc"]
    assert s["verdict"] == verdict, s


def test_gc_bound(tmp_path):
    cpu = {"java;GC Thread#0;G1ParScanThreadState::trim_queue": 40 * HZ // 10,
           "java;main;Interpreter": 60 * HZ // 10}
    s = report(tmp_path, cpu, {}, seconds=10)["java"]
    assert s["verdict"] == "gc-bound", s
    assert s["gc_share"] == pytest.approx(0.4)
    # Under a quarter of the CPU in GC is the code's own.
    cpu = {"java;GC Thread#0;G1ParScanThreadState::trim_queue": 20 * HZ // 10,
           "java;main;Interpreter": 80 * HZ // 10}
    assert report(tmp_path, cpu, {}, seconds=10)["java"]["verdict"] == "cpu-bound"


@pytest.mark.parametrize("cpu_samples,verdict", [(2 * HZ, "healthy"), (3 * HZ, "cpu-bound")])
def test_healthy_threshold(tmp_path, cpu_samples, verdict):
    # Over 10 s: 0.2 cores is under a quarter core, 0.3 is not. Sleeping is
    # never busy, however long.
    s = report(tmp_path, {"cron;tick": cpu_samples}, {kstack("cron;wait", SLEEP): 9_000_000},
               seconds=10)["cron"]
    assert s["verdict"] == verdict, s
    assert s["off_cpu_by_wait_seconds"]["sleep"] == pytest.approx(9.0)


def test_runqueue_is_cpu_demand(tmp_path):
    # 1 s on CPU, 4 s preempted waiting for a CPU, 2 s on a lock: it wants
    # CPU (5 of 7 s), and it would be lock-bound if preemption counted as
    # blocked. Preempted inside a read is still preempted.
    off = {kstack("svc;main;work", PREEMPT): 3_000_000,
           kstack("svc;main;read", f"{PREEMPT};pipe_read{K};vfs_read{K};ksys_read{K}"):
           1_000_000,
           futex("svc;main;lock"): 2_000_000}
    s = report(tmp_path, {"svc;main;work": HZ}, off, seconds=10)["svc"]
    assert s["off_cpu_by_wait_seconds"]["runqueue"] == pytest.approx(4.0)
    assert s["off_cpu_by_wait_seconds"]["io"] == 0
    assert s["verdict"] == "cpu-bound", s
    assert "preempted" in s["why"], s
    # Starved of CPU is not healthy: 0.1 cores on CPU, 0.5 wanted.
    s = report(tmp_path, {"svc;main;work": HZ}, {kstack("svc;w", PREEMPT): 4_000_000},
               seconds=10)["svc"]
    assert s["verdict"] == "cpu-bound", s


def test_unexplained_waits_are_shown_not_judged(tmp_path):
    # 9 s in waits the frames do not explain, 1 s on a lock, 3 s on CPU:
    # judged on what is known (3 s demand vs 1 s lock), the 9 s shown.
    off = {kstack("svc;main;touch", UNKNOWN): 9_000_000, futex("svc;main;lock"): 1_000_000}
    s = report(tmp_path, {"svc;main;work": 3 * HZ}, off, seconds=10)["svc"]
    assert s["off_cpu_by_wait_seconds"]["other"] == pytest.approx(9.0)
    assert s["verdict"] == "cpu-bound", s
    assert s["cpu_share_of_busy"] == pytest.approx(3 / 4, abs=1e-4)


def test_condition_wait_is_idle_not_lock(tmp_path):
    # A worker parked in pthread_cond_wait blocks in the kernel's futex too,
    # but it has no work: not contention.
    off = {futex("pool;worker;pthread_cond_wait"): 9_000_000}
    s = report(tmp_path, {"pool;work": 2 * HZ}, off, seconds=10)["pool"]
    assert s["off_cpu_by_wait_seconds"]["idle"] == pytest.approx(9.0)
    assert s["off_cpu_by_wait_seconds"]["lock"] == 0
    assert s["verdict"] == "healthy", s


def test_services_apart_and_top_n(tmp_path):
    cpu = {"a;f1": 50, "a;f2": 30, "a;f3": 20, "b;g": 10}
    out = report(tmp_path, cpu, {}, "--top", 2)
    assert [f["name"] for f in out["a"]["top_functions"]] == ["f1", "f2"]
    assert out["a"]["top_functions"][1]["self_share"] == pytest.approx(0.3)
    assert out["b"]["cpu_seconds"] == pytest.approx(0.1)


def test_dry_run_folded_with_off_cpu_root(tmp_path):
    # The dry run of --profiles cpu,off-cpu: one file, off-CPU lines under
    # [off-cpu] in microseconds.
    f = write_folded(tmp_path / "dry.folded", {"svc;main;spin": 1 * HZ,
                                               "[off-cpu];" + futex("svc;main"): 4_000_000})
    p = ember("report", "--json", "--seconds", 10, f, check=0)
    s = json.loads(p.stdout)["services"][0]
    assert (s["service"], s["verdict"]) == ("svc", "lock-bound"), s
    assert s["cpu_seconds"] == pytest.approx(1.0)
    assert s["off_cpu_seconds"] == pytest.approx(4.0)


def ember_pprof(pb2, stacks, kind, start_s=1_700_000_000, seconds=10):
    """A pprof as Ember writes it: one sample type, nanoseconds, a time span."""
    raw = pprof_from_stacks(pb2, stacks, types=((kind, "nanoseconds"),), zip=False)
    p = pb2.Profile()
    p.ParseFromString(raw)
    p.time_nanos = start_s * 10**9
    p.duration_nanos = seconds * 10**9
    return gzip.compress(p.SerializeToString())


def test_output_dir_series(tmp_path, profile_pb2):
    # Two windows of 5 s, CPU and off-CPU each, for two services named by
    # file, the way --output-dir writes them.
    d = tmp_path / "series"
    d.mkdir()
    for w, stamp in enumerate(("20261202T120000Z", "20261202T120005Z")):
        t0 = 1_700_000_000 + 5 * w
        (d / f"api-server-{stamp}-0.pb.gz").write_bytes(
            ember_pprof(profile_pb2, {"main;handle": 4 * 10**9}, "cpu", t0, 5))
        (d / f"api-server-{stamp}-1.pb.gz").write_bytes(
            ember_pprof(profile_pb2, {"main;recv;" + ";".join(reversed(PIPE.split(";"))).replace(K, ""):
                                      10**9}, "off_cpu", t0, 5))
        (d / f"batch-{stamp}-0.pb.gz").write_bytes(
            ember_pprof(profile_pb2, {"main;lock;futex_wait;schedule": 8 * 10**9},
                        "off_cpu", t0, 5))
        (d / f"batch-{stamp}-1.pb.gz").write_bytes(
            ember_pprof(profile_pb2, {"main;crunch": 10**9}, "cpu", t0, 5))
    p = ember("report", "--json", d, check=0)
    out = json.loads(p.stdout)
    assert out["wall_seconds"] == pytest.approx(10.0)
    svcs = {s["service"]: s for s in out["services"]}
    assert set(svcs) == {"api-server", "batch"}
    assert svcs["api-server"]["verdict"] == "cpu-bound"
    assert svcs["api-server"]["cpu_seconds"] == pytest.approx(8.0)
    assert svcs["api-server"]["off_cpu_by_wait_seconds"]["io"] == pytest.approx(2.0)
    assert svcs["batch"]["verdict"] == "lock-bound"
    # The text says the same, one block per service.
    text = ember("report", d, check=0).stdout.decode()
    assert "api-server: cpu-bound" in text and "batch: lock-bound" in text


def test_text_names_the_why(tmp_path):
    p = ember("report", "--seconds", 10, "--cpu",
              write_folded(tmp_path / "c.folded", {"db;q": HZ}), "--off-cpu",
              write_folded(tmp_path / "o.folded", {futex("db;m"): 5_000_000}), check=0)
    text = p.stdout.decode()
    assert "db: lock-bound" in text
    assert "why: blocked 83% of its busy time, mostly on locks" in text
    assert "lock 5.00 s" in text


def one_error(p):
    lines = p.stderr.decode().strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1, (p.returncode, p.stderr)
    return lines[0]


def test_bad_inputs(tmp_path, profile_pb2):
    assert "no INPUT" in one_error(ember("report"))
    assert "No such file" in one_error(ember("report", tmp_path / "missing"))
    bad = tmp_path / "bad.folded"
    bad.write_bytes(b"a;b c\n")
    assert "bad.folded" in one_error(ember("report", bad))
    trunc = tmp_path / "t.pb.gz"
    trunc.write_bytes(ember_pprof(profile_pb2, {"a;b": 5}, "cpu")[:-9])
    assert "t.pb.gz" in one_error(ember("report", trunc))
    heap = tmp_path / "heap.pb.gz"
    heap.write_bytes(pprof_from_stacks(profile_pb2, {"a;b": 5}, types=(("alloc_space", "bytes"),)))
    assert "neither CPU" in one_error(ember("report", heap))
    off = tmp_path / "off.pb.gz"
    off.write_bytes(ember_pprof(profile_pb2, {"a;b": 5}, "off_cpu"))
    assert "given as --cpu" in one_error(ember("report", "--cpu", off))
    empty = tmp_path / "empty.folded"
    empty.write_bytes(b"")
    assert one_error(ember("report", empty))
    assert "--top" in one_error(ember("report", "--top", "x", empty))
