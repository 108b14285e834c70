#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bpf_paired.sh - Ember's and bpftrace's BPF time per sample, measured together
#
# On a VM the per-sample BPF time swings by 2x from one run to the next, more
# than the difference between two profilers run apart. Here both are attached
# at once to the same workload (split on every CPU), so each run compares them
# over the same interval, the same timer interrupts and the same noise; the
# figure to read is the median of the per-run ratios. Root; about 2.5 minutes.
#   sudo bench/bpf_paired.sh [RUNS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${EMBER_OUTPUT:-$here/../.output}
runs=${1:-5}
py=/usr/bin/python3

[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 2; }
old=$(sysctl -n kernel.bpf_stats_enabled)
trap 'sysctl -qw kernel.bpf_stats_enabled="$old"' EXIT
sysctl -qw kernel.bpf_stats_enabled=1

# "run_time_ns run_cnt" of Ember's program, then of the other perf_event program.
stats() {
	bpftool prog show --json | "$py" -c '
import json, sys
progs = [p for p in json.load(sys.stdin) if p["type"] == "perf_event"]
ember = [p for p in progs if p.get("name") == "prof_sample"]
other = [p for p in progs if p.get("name") != "prof_sample"]
if len(ember) != 1 or len(other) != 1:
    sys.exit("bench: expected one Ember and one bpftrace perf_event program")
print(ember[0]["run_time_ns"], ember[0]["run_cnt"], other[0]["run_time_ns"], other[0]["run_cnt"])'
}

ncpu=$(nproc)
ratios=""
for r in $(seq "$runs"); do
	"$out/tests/fixtures/split" --threads "$ncpu" --seconds 26 >/dev/null 2>&1 &
	"$out/ember" --dry-run --window 15 --duration 25 >/dev/null 2>&1 &
	timeout 25 bpftrace -e 'profile:hz:100 { @[kstack, ustack, pid] = count(); }' >/dev/null 2>&1 &
	sleep 6
	read -r et0 ec0 bt0 bc0 <<<"$(stats)"
	sleep 15
	read -r et1 ec1 bt1 bc1 <<<"$(stats)"
	e=$(((et1 - et0) / (ec1 - ec0)))
	b=$(((bt1 - bt0) / (bc1 - bc0)))
	ratio=$("$py" -c "print(f'{$e / $b:.2f}')")
	ratios="$ratios $ratio"
	echo "run $r: ember ${e} ns/sample (n=$((ec1 - ec0)))  bpftrace ${b} ns/sample (n=$((bc1 - bc0)))  ratio $ratio"
	wait
done
"$py" -c "import statistics, sys; print('median ratio ember/bpftrace:', statistics.median(map(float, sys.argv[1:])))" $ratios
