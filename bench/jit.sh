#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bench/jit.sh - what JIT naming costs: attach wall time and the agent's CPU
# and peak RSS with N JVMs on the host, and reading a 50 MB perf map.
# Needs root, `make` (ember, fixtures, JitSplit.class), java, /usr/bin/time.
# Usage: bench/jit.sh [JVMS (default 10)] [SECONDS (default 20)]
set -eu
cd "$(dirname "$0")/.."
FIX=.output/tests/fixtures
JVMS=${1:-10}
SECS=${2:-20}
T=$(mktemp -d)
JL=0
JPIDS=""
cleanup() {
	# shellcheck disable=SC2086
	[ -z "$JPIDS" ] || kill $JPIDS 2>/dev/null || true
	[ "$JL" = 0 ] || { kill "$JL" 2>/dev/null || true; rm -f "/tmp/perf-$JL.map"; }
	rm -rf "$T"
}
trap cleanup EXIT

agent() { # label, ember args...
	label=$1; shift
	/usr/bin/time -f "%U %S %M" -o "$T/time" .output/ember --dry-run --log-level info "$@" \
		>"$T/out" 2>"$T/err"
	read -r u s m < "$T/time"
	sum=$(grep '^ember: summary' "$T/err" | sed 's/^ember: summary //')
	# Samples whose leaf is the JIT loop named from the map, of all samples.
	hot=$(awk '{n=$NF; t+=n} / *jit_hot_loop [0-9]+$/ {h+=n} END {printf "%d/%d", h, t}' "$T/out")
	echo "| $label | $(echo "$u + $s" | bc) | $((m / 1024)) | $hot | $sum |"
}

echo "| run | agent CPU s | agent peak RSS MiB | jit_hot_loop leaf / samples | summary |"
echo "|---|---|---|---|---|"
# 1. N JVMs, 1 busy thread each, with and without attach.
i=0
while [ $i -lt "$JVMS" ]; do
	java -cp $FIX/java JitSplit 1 $((3 * SECS + 25)) >/dev/null &
	JPIDS="$JPIDS $!"
	i=$((i + 1))
done
sleep 5
agent "$JVMS JVMs, --no-jvm" --no-jvm --duration "$SECS" --window 5
agent "$JVMS JVMs, attach" --jvm-min-age 1 --duration "$SECS" --window 5
grep 'perf map written' "$T/err" | sed 's/.*ms=/attach_ms=/' | sort -t= -k2 -n | tr '\n' ' '
echo
# The same, the JVMs only (--pid each): what they cost, apart from the rest of
# a busy host. Their maps are on disk now, so this run reads them.
# shellcheck disable=SC2046
agent "$JVMS JVMs only (--pid), attach" --jvm-min-age 1 --duration "$SECS" --window 5 \
	$(for p in $JPIDS; do echo --pid "$p"; done)
# shellcheck disable=SC2086
kill $JPIDS 2>/dev/null || true
for p in $JPIDS; do rm -f "/tmp/perf-$p.map"; done
JPIDS=""

# 2. A 50 MB perf map (600k entries) for one JIT process, named at its end.
$FIX/jitloop > "$T/jl" &
JL=$!
sleep 0.3
ADDR=$(sed 's/.*"addr":\([0-9]*\).*/\1/' "$T/jl")
python3 - "$JL" "$ADDR" <<'PY'
import sys
pid, addr = int(sys.argv[1]), int(sys.argv[2])
with open(f"/tmp/perf-{pid}.map", "w") as f:
    base = 0x10000000
    i = 0
    while f.tell() < 50 << 20:
        f.write(f"{base + i * 0x40:x} 40 LazyCompile:*someFunction_{i} /app/src/module_{i % 977}.js:{i % 5000}:17\n")
        i += 1
    f.write(f"{addr:x} 15 jit_hot_loop\n")
PY
ls -l /tmp/perf-$JL.map | awk '{print "map bytes:", $5}'
mv "/tmp/perf-$JL.map" "$T/big.map"
printf '%x 15 jit_hot_loop\n' "$ADDR" > "/tmp/perf-$JL.map"
agent "the same process, a 1-line map (baseline)" --pid $JL --duration 6 --window 3
mv "$T/big.map" "/tmp/perf-$JL.map"
agent "one 50 MB map, default bound (8 MiB)" --pid $JL --duration 6 --window 3
agent "one 50 MB map, --perfmap-max-mb 256 (as before the bound)" --pid $JL --duration 6 \
	--window 3 --perfmap-max-mb 256
