#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# builds_paired.sh - two builds of Ember attached together (bench/builds_paired.py)
#   sudo bench/builds_paired.sh BEFORE_OUTPUT_DIR [RUNS] [SECONDS]
# e.g. git worktree add /tmp/before REV && make -C /tmp/before && \
#      sudo bench/builds_paired.sh /tmp/before/.output 5
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 2; }
old=$(sysctl -n kernel.bpf_stats_enabled)
trap 'sysctl -qw kernel.bpf_stats_enabled="$old"' EXIT
sysctl -qw kernel.bpf_stats_enabled=1
/usr/bin/python3 "$here/builds_paired.py" "$@"
