#!/usr/bin/env bash
# Memory is bounded by the data kept, not by the size of a file (issue "check and hardening"):
# the same month of 100,000 people is read twice, once as a 10 MB points file and once padded
# to about 200 MB with a 2 KB note on every row; both runs must give the same bulletin with
# about the same peak memory. Prints both peaks (GNU time) and the files' sizes.
#
#   benches/big_file.sh            # needs cargo, python3 and /usr/bin/time
set -euo pipefail
cd "$(dirname "$0")/.."
PEOPLE=${PEOPLE:-100000}
NOTE=${NOTE:-720} # characters; a Chinese character is 3 bytes
WORK=${WORK:-${TMPDIR:-/tmp}/cs-score-big-file}
cargo build --release --quiet --bin cs-score
cargo bench --no-run --quiet --bench gen_workspace 2>/dev/null
GEN=$(ls -t target/release/deps/gen_workspace-* | grep -v '\.d$' | head -1)
rm -rf "$WORK" && mkdir -p "$WORK"
"$GEN" --people "$PEOPLE" --out "$WORK/small" --seed 2009 >/dev/null
cp -r "$WORK/small" "$WORK/big"
python3 - "$WORK/big/data/points/2009-06.csv" "$NOTE" <<'PY'
import sys
path, size = sys.argv[1], int(sys.argv[2])
lines = open(path, encoding="utf-8").read().split("\n")
header = lines[0].split(",")
note = header.index("note")
out = [lines[0]]
for line in lines[1:]:
    if line:
        cells = line.split(",")
        cells[note] = (cells[note] + " " + "备注" * size)[: size]
        line = ",".join(cells)
    out.append(line)
open(path, "w", encoding="utf-8").write("\n".join(out))
PY
for ws in small big; do
  size=$(du -m "$WORK/$ws/data/points/2009-06.csv" | cut -f1)
  peak=$( { /usr/bin/time -f "%M" target/release/cs-score -q --dir "$WORK/$ws" month 2009-06 --format csv >"$WORK/$ws.csv"; } 2>&1 | tail -1)
  echo "$ws: points file ${size} MB, peak memory $((peak / 1024)) MB"
done
cmp "$WORK/small.csv" "$WORK/big.csv" && echo "same bulletin from both"
