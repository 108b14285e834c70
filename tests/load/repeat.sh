#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# repeat.sh - the root suites RUNS times in a row (default 3), stopping at the
# first failing run; prints each run's result line and duration.
#
#   tests/load/under-load.sh tests/load/repeat.sh 3     (make repeat-under-load REPEAT_RUNS=3)
#
# Each run is `make test`'s pytest line over $PYTEST_SUITES (the Makefile
# passes its list; by default the root suites), with -rP so the logs keep
# the figures the truth tests print; logs go to $REPEAT_DIR (default
# .output/repeat).
set -uo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}
dir=${REPEAT_DIR:-.output/repeat}
suites=${PYTEST_SUITES:-tests/integration tests/e2e tests/faults tests/output tests/packaging}
mkdir -p "$dir"
rc=0
for i in $(seq 1 "$runs"); do
	t0=$(date +%s)
	# shellcheck disable=SC2086 # a list of directories
	/usr/bin/python3 -m pytest -ra -rP $suites >"$dir/run$i.log" 2>&1
	rc=$?
	line=$(grep -E '^=+ .* in [0-9.]+s' "$dir/run$i.log" | tail -1)
	echo "repeat: run $i/$runs: exit $rc after $(( $(date +%s) - t0 )) s: ${line:-no result line}" \
		"($dir/run$i.log)"
	[ $rc -eq 0 ] || break
done
exit $rc
