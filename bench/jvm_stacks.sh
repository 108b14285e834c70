#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bench/jvm_stacks.sh - what Ember sees of a JVM with and without
# -XX:+PreserveFramePointer: stack depth, named shares, stacks that reach
# start_thread, per method. Needs root, `make` (ember, JitSplit.class), java.
set -eu
cd "$(dirname "$0")/.."
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for flags in "" "-XX:+PreserveFramePointer"; do
	# shellcheck disable=SC2086
	java $flags -cp .output/tests/fixtures/java JitSplit 2 20 >"$T/jvm" &
	jvm=$!
	sleep 3
	.output/ember --dry-run --pid $jvm --jvm-min-age 1 --window 5 --duration 15 \
		>"$T/folded" 2>"$T/err"
	wait $jvm
	echo "== flags: ${flags:-none}; truth: $(cat "$T/jvm")"
	python3 - "$T/folded" <<'PY'
import re, sys
java = re.compile(r"[\w$]+\.[\w$<>]+\(")
tot = depth = leaf = frames = named = start = 0
per = {}
for line in open(sys.argv[1]):
    head, _, c = line.rstrip("\n").rpartition(" ")
    c = int(c)
    u = [f for f in head.split(";")[1:] if not f.endswith("_[k]")]
    tot += c
    depth += c * len(u)
    leaf += c * bool(u and java.search(u[-1]))
    frames += c * len(u)
    named += c * sum(f != "[unknown]" and "+0x" not in f for f in u)
    start += c * ("start_thread" in u)
    k = "alpha" if u and "alpha" in u[-1] else "beta" if u and "beta" in u[-1] else "other"
    t = per.setdefault(k, [0, 0])
    t[0] += c
    t[1] += c * ("start_thread" in u)
print(f"samples={tot} mean_user_depth={depth / tot:.1f} leaf_java={100 * leaf / tot:.1f}% "
      f"named_frames={100 * named / frames:.1f}% reach_start_thread={100 * start / tot:.1f}%")
for k, (n, s) in sorted(per.items()):
    print(f"  {k}: samples={n} reach_start_thread={100 * s / n:.1f}%")
PY
done
