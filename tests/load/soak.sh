#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# soak.sh - the root suites RUNS times in a row (default 3), stopping at the
# first failing run; prints each run's result line and duration.
#
#   tests/load/under-load.sh tests/load/soak.sh 3       (make soak SOAK_RUNS=3)
#
# Each run is the README's line, `/usr/bin/python3 -m pytest -ra
# tests/integration tests/e2e`, with -rP so the logs keep the figures the
# truth tests print; logs go to $SOAK_DIR (default .output/soak).
set -uo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}
dir=${SOAK_DIR:-.output/soak}
mkdir -p "$dir"
rc=0
for i in $(seq 1 "$runs"); do
	t0=$(date +%s)
	/usr/bin/python3 -m pytest -ra -rP tests/integration tests/e2e >"$dir/run$i.log" 2>&1
	rc=$?
	line=$(grep -E '^=+ .* in [0-9.]+s' "$dir/run$i.log" | tail -1)
	echo "soak: run $i/$runs: exit $rc after $(( $(date +%s) - t0 )) s: ${line:-no result line}" \
		"($dir/run$i.log)"
	[ $rc -eq 0 ] || break
done
exit $rc
