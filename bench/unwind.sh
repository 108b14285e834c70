#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# unwind.sh - the cost of CFI unwinding in BPF (issue 9): BPF time per sample
# paired against the frame-pointer walk and bpftrace, agent CPU and RSS, the
# unwind maps' memory, the workload's throughput, and how soon a new binary's
# stacks are complete. Root; about 4 minutes. Details in bench/unwind.py.
#   sudo bench/unwind.sh [ROUNDS] [SECTIONS: bpf,host,tput,fresh]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 "$here/unwind.py" "$@"
