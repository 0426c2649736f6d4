#!/usr/bin/env bash
# A profile-guided build of cs-score for company-scale runs (docs/performance.md, session 16):
# the release build compiled once more with the branch and call counts of a training run, which
# the compiler uses to lay out and inline the hot paths. Same source, so the same output
# (docs/performance.md records the check); only faster.
#
#   benches/pgo.sh                 # builds target/pgo/release/cs-score (~3-4 min)
#   CS_BIN=target/pgo/release/cs-score benches/compare.sh   # times it against the floor and pandas
#
# The training workspace is the seeded generator's, with its own seed and size (PGO_SEED=7,
# PGO_PEOPLE=20000), not the benchmark's files, plus the shipped example; the training runs are
# the year, a quarter and a month in the report formats, and `check`. The profile belongs to this
# compiler (rustc's LLVM): the script makes it afresh each time and never commits it, so the
# default build stays what any toolchain builds. Needs rustup's llvm-tools component (installed
# here if missing), or LLVM_PROFDATA pointing at an llvm-profdata of rustc's LLVM version.
# The profile flags are added to RUSTFLAGS; like any RUSTFLAGS, they make cargo ignore the
# rustflags of .cargo/config files.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PGO_SEED=${PGO_SEED:-7}
PGO_PEOPLE=${PGO_PEOPLE:-20000}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
say() { printf '%s\n' "$*" >&2; }
die() { say "pgo.sh: $*"; exit 1; }
[ -z "${CARGO_ENCODED_RUSTFLAGS:-}" ] || die "CARGO_ENCODED_RUSTFLAGS is set: it would replace the profile flags"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cs-score-pgo.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
WORK=$(cd "$WORK" && pwd) # absolute: rustc runs in each package's folder

host=$(rustc -vV | sed -n 's/^host: //p')
profdata=${LLVM_PROFDATA:-$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata}
if ! [ -x "$profdata" ]; then
  command -v rustup >/dev/null ||
    die "needs llvm-profdata for LLVM $(rustc -vV | sed -n 's/^LLVM version: //p'): set LLVM_PROFDATA"
  say "== installing rustup's llvm-tools (llvm-profdata)"
  rustup component add llvm-tools-preview
  [ -x "$profdata" ] || die "no llvm-profdata at $profdata after installing llvm-tools"
fi

say "== a training workspace: $PGO_PEOPLE people, seed $PGO_SEED"
cargo bench --quiet --bench gen_workspace -- --people "$PGO_PEOPLE" --out "$WORK/ws" --seed "$PGO_SEED" >/dev/null

# --target: only cs-score is instrumented and optimised, not the build scripts run on the way.
say "== the instrumented build"
RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-generate=$WORK/profiles" \
  cargo build --release --quiet --bin cs-score --target "$host" --target-dir "$TARGET/pgo-generate"
train=$TARGET/pgo-generate/$host/release/cs-score
[ -x "$train" ] || die "the instrumented build gave no $train"
for ws in "$WORK/ws" examples/hecheng-2009; do
  for args in "year 2009 --format csv" "quarter 2009Q2 --format csv" "quarter 2009Q2 --format json" \
    "quarter 2009Q2" "month 2009-05 --format csv" "check"; do
    # Exit 1 (warnings as problems, a check's findings) still profiles the reading; anything
    # else (a crash, a usage error) would spoil the profile.
    rc=0
    # shellcheck disable=SC2086
    LLVM_PROFILE_FILE="$WORK/profiles/cs-score-%p-%m.profraw" \
      "$train" --dir "$ws" $args >/dev/null 2>"$WORK/stderr" || rc=$?
    case $rc in
      0) ;;
      1) say "   ($args on $(basename "$ws"): exit 1)" ;;
      *) tail -n 5 "$WORK/stderr" >&2; die "training run '$args' on $ws: exit $rc" ;;
    esac
  done
done
compgen -G "$WORK/profiles/cs-score-*.profraw" >/dev/null || die "the training runs wrote no profile"
"$profdata" merge -o "$WORK/cs-score.profdata" "$WORK/profiles"

say "== the profile-guided build"
RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-use=$WORK/cs-score.profdata" \
  cargo build --release --quiet --bin cs-score --target "$host" --target-dir "$TARGET/pgo"
mkdir -p "$TARGET/pgo/release"
cp "$TARGET/pgo/$host/release/cs-score" "$TARGET/pgo/release/cs-score"
say "built: $TARGET/pgo/release/cs-score"
