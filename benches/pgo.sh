#!/usr/bin/env bash
# A profile-guided build of cs-score for company-scale runs (docs/performance.md, session 16):
# the release build compiled once more with the branch and call counts of a training run, which
# the compiler uses to lay out and inline the hot paths. Same source, same output; only faster.
#
#   benches/pgo.sh                 # builds target/pgo/release/cs-score (~3 min)
#   CS_BIN=target/pgo/release/cs-score benches/compare.sh   # times it against the floor and pandas
#
# The training workspace is the seeded generator's, with its own seed and size (SEED=7,
# PEOPLE=20000), not the benchmark's files, plus the shipped example; the training runs are the
# year, a quarter and a month in the report formats, and `check`. The profile belongs to this
# compiler (rustc's LLVM): the script makes it afresh each time and never commits it, so the
# default build stays what any toolchain builds. Needs rustup's llvm-tools component (installed
# here if missing: `rustup component add llvm-tools-preview`).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SEED=${SEED:-7}
PEOPLE=${PEOPLE:-20000}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cs-score-pgo.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
say() { printf '%s\n' "$*" >&2; }

host=$(rustc -vV | sed -n 's/^host: //p')
tools=$(rustc --print sysroot)/lib/rustlib/$host/bin
if ! [ -x "$tools/llvm-profdata" ]; then
  say "== installing rustup's llvm-tools (llvm-profdata)"
  rustup component add llvm-tools-preview
fi

say "== a training workspace: $PEOPLE people, seed $SEED"
cargo bench --quiet --bench gen_workspace -- --people "$PEOPLE" --out "$WORK/ws" --seed "$SEED" >/dev/null

say "== the instrumented build"
RUSTFLAGS="-Cprofile-generate=$WORK/profiles" \
  cargo build --release --quiet --bin cs-score --target-dir "$TARGET/pgo-generate"
train=$TARGET/pgo-generate/release/cs-score
for ws in "$WORK/ws" examples/hecheng-2009; do
  for args in "year 2009 --format csv" "quarter 2009Q2 --format csv" "quarter 2009Q2 --format json" \
    "quarter 2009Q2" "month 2009-05 --format csv" "check"; do
    # Warnings and a check's findings are expected; only a crash would spoil the profile.
    # shellcheck disable=SC2086
    "$train" --dir "$ws" $args >/dev/null 2>&1 || [ $? -eq 1 ]
  done
done
"$tools/llvm-profdata" merge -o "$WORK/cs-score.profdata" "$WORK/profiles"

say "== the profile-guided build"
RUSTFLAGS="-Cprofile-use=$WORK/cs-score.profdata" \
  cargo build --release --quiet --bin cs-score --target-dir "$TARGET/pgo"
say "built: $TARGET/pgo/release/cs-score"
