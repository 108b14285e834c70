#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# run.sh - Ember's overhead next to perf record and bpftrace (root; ~8 minutes)
#
# Runs bench/overhead.py with the kernel's BPF run-time statistics switched on
# (kernel.bpf_stats_enabled=1) and puts the setting back afterwards, whatever
# happens. The report goes to stdout and to bench/results-<date>.md.
# Extra arguments go to overhead.py (--reps N, --seconds S, --configs a,b).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out_dir=${EMBER_OUTPUT:-$repo/.output}
py=/usr/bin/python3

die() { echo "bench: $*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "needs root (BPF, perf events, bpf_stats): run as root"
[ -r /sys/kernel/btf/vmlinux ] || die "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
[ -x "$out_dir/ember" ] || die "$out_dir/ember is missing: run make first"
[ -x "$out_dir/tests/fixtures/split" ] || die "the split fixture is missing: run make first"
for tool in perf bpftrace bpftool; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: apt-get install linux-perf bpftrace bpftool"
done

old_stats=$(sysctl -n kernel.bpf_stats_enabled)
restore() { sysctl -q -w kernel.bpf_stats_enabled="$old_stats" || true; }
trap restore EXIT
trap 'exit 130' INT TERM
sysctl -q -w kernel.bpf_stats_enabled=1

result="$here/results-$(date -u +%Y-%m-%d).md"
"$py" "$here/overhead.py" --out "$result" --command "bench/run.sh $*" "$@"
