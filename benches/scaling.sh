#!/usr/bin/env bash
# How cs-score's whole-process time and peak memory grow with the number of people
# (docs/performance.md): one run of each command per size under /usr/bin/time -v, on the
# same generated workspaces as benches/compare.sh (reused from its cache).
#
#   benches/scaling.sh                              # 1,000 … 500,000 people
#   SIZES="1000 2000 4000" benches/scaling.sh
#
# Settings: SIZES, SEED (2009), TIMEOUT (300 s per run), CACHE, CARGO_TARGET_DIR, as in compare.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SIZES=${SIZES:-"1000 5000 20000 100000 200000 500000"}
SEED=${SEED:-2009}
TIMEOUT=${TIMEOUT:-300}
CACHE=${CACHE:-${TMPDIR:-/tmp}/cs-score-bench}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
[ -x /usr/bin/time ] || { echo "scaling.sh: GNU time is needed: apt-get install time" >&2; exit 1; }

cargo build --release --quiet --bin cs-score
cargo bench --no-run --quiet --bench gen_workspace
CS=$TARGET/release/cs-score
GEN=$(find "$TARGET/release/deps" -maxdepth 1 -type f -executable -name 'gen_workspace-*' -printf '%T@ %p\n' |
  sort -n | tail -1 | cut -d' ' -f2)
GENHASH=$(cat benches/support/gen.rs benches/gen_workspace.rs | sha256sum | cut -c1-10)
mkdir -p "$CACHE"

echo "| people | command | wall | µs per person | peak RSS | KB per person |"
echo "|---:|---|---:|---:|---:|---:|"
for size in $SIZES; do
  ws=$CACHE/ws-$size-seed$SEED-$GENHASH
  if [ ! -f "$ws/.complete" ]; then
    rm -rf "$ws"
    "$GEN" --people "$size" --out "$ws" --seed "$SEED" >&2
    touch "$ws/.complete"
  fi
  for cmd in "quarter 2009Q2" "year 2009"; do
    tf=$(mktemp)
    # shellcheck disable=SC2086 # $cmd is two words on purpose
    if /usr/bin/time -f '%e %M' -o "$tf" timeout "$TIMEOUT" "$CS" --dir "$ws" -q $cmd --format csv >/dev/null; then
      read -r wall rss <"$tf"
      awk -v n="$size" -v c="$cmd" -v w="$wall" -v r="$rss" 'BEGIN {
        printf "| %d | cs-score %s --format csv | %.2f s | %.0f | %.0f MB | %.1f |\n", n, c, w, w * 1e6 / n, r / 1024, r / n }'
    else
      echo "| $size | cs-score $cmd --format csv | > $TIMEOUT s (stopped) | | | |"
    fi
    rm -f "$tf"
  done
done
