#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# offcpu.sh - what off-CPU profiles cost at ~50,000 context switches a second (root; ~3 minutes)
#
# Runs bench/offcpu.py with the kernel's BPF run-time statistics switched on
# (kernel.bpf_stats_enabled=1) and puts the setting back afterwards, whatever
# happens. The report goes to stdout and to bench/results-<date>-offcpu.md.
# Extra arguments go to offcpu.py (--reps N, --seconds S, --rate ROUND_TRIPS).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out_dir=${EMBER_OUTPUT:-$repo/.output}

die() { echo "bench: $*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "needs root (BPF, bpf_stats): run as root"
[ -r /sys/kernel/btf/vmlinux ] || die "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
[ -x "$out_dir/ember" ] || die "$out_dir/ember is missing: run make first"
[ -x "$out_dir/tests/fixtures/pingpong" ] || die "the pingpong fixture is missing: run make first"
command -v bpftool >/dev/null 2>&1 || die "bpftool is missing: apt-get install bpftool"

old_stats=$(sysctl -n kernel.bpf_stats_enabled)
restore() { sysctl -q -w kernel.bpf_stats_enabled="$old_stats" || true; }
trap restore EXIT
trap 'exit 130' INT TERM
sysctl -q -w kernel.bpf_stats_enabled=1

/usr/bin/python3 "$here/offcpu.py" "$@"
