#!/usr/bin/env bash
# Same minutes, old against new: runs two cs-score binaries alternately on the same workspace
# and prints, for each, the median wall time (and the best), the median user and system CPU,
# peak RSS and fresh huge pages (the kernel's count of 2 MB pages it zeroed for the run,
# `thp_fault_alloc` in /proc/vmstat), then whether the two gave the same output in every run.
# Single timings on a shared virtual machine move with the host by up to a half from one minute
# to the next; alternating is how docs/performance.md measures a change (its "Same hour" tables).
#
#   benches/ab.sh OLD NEW RUNS WORKSPACE ARGS...
#   benches/ab.sh /tmp/cs-old target/release/cs-score 9 /tmp/ws-500k year 2009 --format csv
#
# Each run is `BINARY --dir WORKSPACE ARGS... -q`; its stdout and exit code are compared (stderr
# is dropped: warnings are not timed). Needs GNU time (`apt-get install time`) and python3.
set -euo pipefail
if [ $# -lt 5 ]; then
  sed -n '2,13p' "$0" >&2
  exit 2
fi
OLD=$1 NEW=$2 RUNS=$3 WS=$4
shift 4
[ -x /usr/bin/time ] || { echo "ab.sh: GNU time is needed: apt-get install time" >&2; exit 1; }
for b in "$OLD" "$NEW"; do [ -x "$b" ] || { echo "ab.sh: $b is not an executable" >&2; exit 1; }; done
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
huge() { awk '/^thp_fault_alloc /{print $2}' /proc/vmstat; }
differ=0
for i in $(seq "$RUNS"); do
  for side in old new; do
    bin=$OLD
    [ $side = new ] && bin=$NEW
    before=$(huge)
    status=0
    /usr/bin/time -f "%e %U %S %M" -o "$OUT/$side.time" "$bin" --dir "$WS" "$@" -q >"$OUT/$side.out" 2>/dev/null || status=$?
    echo "exit $status" >>"$OUT/$side.out"
    echo "$(tail -n 1 "$OUT/$side.time") $(($(huge) - before))" >>"$OUT/$side.runs"
  done
  cmp -s "$OUT/old.out" "$OUT/new.out" || differ=$((differ + 1))
done
echo "| $* ($RUNS runs each) | wall median, best | user, system CPU | peak RSS | fresh huge pages |"
echo "|---|---:|---:|---:|---:|"
for side in old new; do
  bin=$OLD
  [ $side = new ] && bin=$NEW
  python3 - "$bin" "$OUT/$side.runs" <<'EOF'
import statistics as s, sys
runs = [line.split() for line in open(sys.argv[2])]
col = lambda k: [float(r[k]) for r in runs]
wall, user, system, rss, huge = col(0), col(1), col(2), col(3), col(4)
print(f"| {sys.argv[1]} | {s.median(wall):.2f} s, {min(wall):.2f} s | {s.median(user):.2f} s, "
      f"{s.median(system):.2f} s | {s.median(rss) / 1024:.0f} MB | {s.median(huge):.0f} |")
EOF
done
if [ $differ = 0 ]; then
  echo "output identical in all $RUNS runs"
else
  echo "output DIFFERS in $differ of $RUNS runs"
  exit 1
fi
