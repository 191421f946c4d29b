#!/bin/sh
# BENCHMARKS.md's throughput ratios in one command, from interleaved runs on the same cases:
# a 1-job campaign against the plain loop (benches/plain_loop.py: the same checks in one
# Python process, no shapefuzz around them), 2 jobs against 1, and, as the machine's own
# ceiling for two processes, two plain loops at once (each on half the cases) against one.
# Each round runs the four one after another, so a machine that slows down slows all of
# them; the medians are compared.
#
#   benches/ratio.sh [ROUNDS=3] [CASES=300] [SEED=42]
#
# SHAPEFUZZ names the binary (default target/release/shapefuzz; build it with
# `cargo build --release`). Everything goes under a fresh temporary directory.
set -eu
ROUNDS=${1:-3}
CASES=${2:-300}
SEED=${3:-42}
SF=${SHAPEFUZZ:-target/release/shapefuzz}
cd "$(dirname "$0")/.."
PY=$("$SF" setup | sed -n 's/^python: //p')
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$SF" gen --campaign "$SEED" --count "$CASES" --requests --out "$TMP/cases" >/dev/null 2>&1
mkdir -p "$TMP/half0" "$TMP/half1"
k=0
for f in "$TMP"/cases/*.request.json; do
    cp "$f" "$TMP/half$((k % 2))/"
    k=$((k + 1))
done
rate() { "$PY" -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["cases_per_s"], 2))' "$1"; }
plain() { "$PY" benches/plain_loop.py "$1" 2>/dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["seconds"])'; }
campaign() {
    rm -rf "$TMP/run"
    "$SF" fuzz --seed "$SEED" --cases "$CASES" --jobs "$1" --no-reduce --quiet --out "$TMP/run" >/dev/null 2>&1 || true
    rate "$TMP/run/summary.json"
}
: >"$TMP/rounds"
r=1
while [ "$r" -le "$ROUNDS" ]; do
    one=$(campaign 1)
    plain=$("$PY" -c 'import sys; print(round(int(sys.argv[1]) / float(sys.argv[2]), 2))' "$CASES" "$(plain "$TMP/cases")")
    two=$(campaign 2)
    plain "$TMP/half0" >"$TMP/t0" &
    plain "$TMP/half1" >"$TMP/t1"
    wait
    # both halves' cases over the slower half's time
    pair=$("$PY" -c 'import sys; print(round(int(sys.argv[1]) / max(float(sys.argv[2]), float(sys.argv[3])), 2))' "$CASES" "$(cat "$TMP/t0")" "$(cat "$TMP/t1")")
    echo "round $r: shapefuzz 1 job $one cases/s, plain loop $plain, shapefuzz 2 jobs $two, two plain loops at once $pair"
    echo "$one $plain $two $pair" >>"$TMP/rounds"
    r=$((r + 1))
done
"$PY" - "$TMP/rounds" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
one, plain, two, pair = (statistics.median(c) for c in zip(*rows))
print(f"medians: 1 job {one:.2f}, plain loop {plain:.2f}, 2 jobs {two:.2f}, two plain loops {pair:.2f} cases/s")
print(f"1 job / plain loop = {one / plain:.3f}; 2 jobs / 1 job = {two / one:.3f}; "
      f"two plain loops / one = {pair / plain:.3f} (the machine's ceiling for two processes)")
PY
