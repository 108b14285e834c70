#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# under-load.sh - run a command while tests/load/halfbusy.py keeps CPU 1 about
# half busy (5 ms on, 5 ms off); its exit status is the command's.
#
#   tests/load/under-load.sh make test        (make test-under-load)
set -uo pipefail
here=$(dirname "$0")
/usr/bin/python3 "$here/halfbusy.py" &
load=$!
trap 'kill $load 2>/dev/null; wait $load 2>/dev/null' EXIT
"$@"
