#!/bin/sh
# Dim throughput of two shapefuzz binaries side by side (BENCHMARKS.md): interleaved rounds
# of the same 600 cases (the default generator configuration, so both draw exactly the same
# cases), each printing its time and case-phase speed.
#   benches/run_ab.sh OLD_BINARY NEW_BINARY [ROUNDS]
set -eu
A=$1
B=$2
ROUNDS=${3:-4}
DIR=$(mktemp -d)
: > "$DIR/default.toml"
r=1
while [ "$r" -le "$ROUNDS" ]; do
  for side in A B; do
    if [ "$side" = A ]; then bin=$A; else bin=$B; fi
    "$bin" fuzz --cases 600 --seed 4242 --jobs 2 --no-reduce --quiet \
      --gen-config "$DIR/default.toml" --out "$DIR/$side-$r" > "$DIR/log-$side-$r" 2>&1 ||
      [ $? -eq 1 ] # exit 1: the run found bugs, as it should
    echo "$r $side $(grep -o '600 cases in [0-9.]* s ([0-9.]* cases/s)' "$DIR/log-$side-$r" | head -1)"
  done
  r=$((r + 1))
done
