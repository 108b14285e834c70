#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# flamegraph.sh - `ember flamegraph` and `ember diff` on a 1-million-line folded
# file, next to `go tool pprof -svg` on the same profile (no root; ~5 minutes)
#
# Generates the inputs (bench/flamegraph_gen.py) in a temporary directory,
# then times each command 3 times with /usr/bin/time -v (wall and CPU time,
# peak RSS) and writes the medians to bench/results-flamegraph-<date>.md.
# Needs: protoc and python3-protobuf (to write the pprof), golang-go and
# graphviz (for go tool pprof -svg). LINES=N for another size.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out_dir=${EMBER_OUTPUT:-$repo/.output}
py=/usr/bin/python3
lines=${LINES:-1000000}

die() { echo "bench: $*" >&2; exit 2; }

[ -x "$out_dir/ember" ] || die "$out_dir/ember is missing: run make first"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing: apt-get install time"
for tool in protoc go dot; do
	command -v "$tool" >/dev/null 2>&1 ||
		die "$tool is missing: apt-get install protobuf-compiler golang-go graphviz"
done

work=$(mktemp -d /tmp/ember-fgbench.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

"$py" "$here/flamegraph_gen.py" --lines "$lines" "$work"
"$py" "$here/flamegraph_bench.py" --ember "$out_dir/ember" --dir "$work" \
	--out "$here/results-flamegraph-$(date -u +%Y-%m-%d).md" --command "bench/flamegraph.sh"
