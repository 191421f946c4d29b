#!/bin/bash -eu
# Builds shapefuzz's libFuzzer targets the ClusterFuzzLite / OSS-Fuzz way: in the builder
# image, from $SRC/shapefuzz, into $OUT (with $WORK as scratch). For each target: the
# binary, `<target>_seed_corpus.zip` from corpus/fuzz/<target>, and `<target>.options`.
# export_diff runs real torch, so the pinned Python environment goes to
# $OUT/shapefuzz-python, where the target looks for it; SHAPEFUZZ_BUNDLE_PYTHON=0 skips it.
# It stops only on new bugs: the repository's known list (known-issues.toml, else
# known-issues.example.toml) goes to $OUT/shapefuzz-known-issues.toml beside it.
#
# The builder passes its sanitizer through cargo-fuzz's defaults (nightly Rust);
# CARGO_FUZZ_FLAGS adds flags, e.g. `--sanitizer none` on stable Rust.

# Its own shell options: `bash build.sh` ignores the shebang's.
set -euo pipefail

cd "$SRC/shapefuzz"
# Which targets: all, unless .clusterfuzzlite/targets names some (the PR workflow keeps to
# the Rust-only ones, which need no torch).
TARGETS="generate export_diff load_case render_record"
if [ -f .clusterfuzzlite/targets ]; then
  TARGETS=$(tr -s ' \n' ' ' < .clusterfuzzlite/targets)
fi

for t in $TARGETS; do
  # shellcheck disable=SC2086
  cargo fuzz build -O ${CARGO_FUZZ_FLAGS:-} "$t"
done
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
BUILT="fuzz/target/$TRIPLE/release"

for t in $TARGETS; do
  cp "$BUILT/$t" "$OUT/$t"
  cp ".clusterfuzzlite/$t.options" "$OUT/$t.options"
  rm -f "$OUT/${t}_seed_corpus.zip"
  (cd "corpus/fuzz/$t" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
done

case " $TARGETS " in
  *" export_diff "*) WANT_PYTHON=1 ;;
  *) WANT_PYTHON=0 ;;
esac
if [ "$WANT_PYTHON" = 1 ]; then
  if [ -f known-issues.toml ]; then
    cp known-issues.toml "$OUT/shapefuzz-known-issues.toml"
  else
    cp known-issues.example.toml "$OUT/shapefuzz-known-issues.toml"
  fi
fi
if [ "$WANT_PYTHON" = 1 ] && [ "${SHAPEFUZZ_BUNDLE_PYTHON:-1}" != 0 ]; then
  VENV="$OUT/shapefuzz-python"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  # The same hash-checked locks shapefuzz's own setup installs: uv, then everything else.
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --require-hashes \
    --no-deps -r harness/python/tools.lock
  "$VENV/bin/uv" pip install -q --require-hashes --no-deps --python "$VENV/bin/python" \
    -r harness/python/requirements.lock
  "$VENV/bin/python" -c "import torch; print('shapefuzz-python: torch', torch.__version__)"
fi
