#!/usr/bin/env bash
# Whole-process comparison, in one run on the same files (docs/performance.md):
#   cs-score year 2009 / quarter 2009Q2 --format csv,
#   the parse floor (benches/parse_floor.rs: the csv crate reading the same files, nothing else),
#   the pandas alternative (benches/pandas_scores.py), which must agree with cs-score,
# on generated workspaces of 1,000 / 20,000 / 500,000 people, plus `cs-score quarter 2009Q2`
# on examples/hecheng-2009. Prints medians, ratios and peak RSS as a markdown table.
#
#   benches/compare.sh                       # all three sizes
#   SIZES="1000 20000" benches/compare.sh    # a quick run
#
# Settings (environment): SIZES, SEED (2009), TIMEOUT (300: seconds one run may take before it
# is stopped and reported as timed out), BUDGET (60: seconds of timed runs per command; fewer
# runs for slow commands, at least MIN_RUNS=3, at most RUNS=10), CACHE (where workspaces are
# generated once and reused: ${TMPDIR:-/tmp}/cs-score-bench), OUT (where results go),
# CHECK_MAX (20000: run `cs-score check` on workspaces up to this size), HYPERFINE (none: use
# the timing loop), CARGO_TARGET_DIR, COLD_RUNS (5: runs of the year and the quarter, and of
# their parse floors, each after a pause of PAUSE=3 seconds; 0: none), CS_BIN (the cs-score
# binary to time instead of the release build, e.g. benches/pgo.sh's).
#
# Two timings of each command: back to back (hyperfine), as benchmarks run, and each after a
# pause, as a report run by hand or by cron runs. On the virtual machine measured they differ:
# memory freed for a few seconds is handed back to the host, which backs it again at its next
# first touch (docs/performance.md, The machine).
# Needs: cargo, python3 with pandas (installed with pip if missing), /usr/bin/time (GNU time:
# `apt-get install time`); hyperfine if installed (`apt-get install hyperfine`), else a loop.
set -euo pipefail
# Named from where the script is run, before it moves to the repository's root.
if [ -n "${CS_BIN:-}" ]; then
  CS_BIN=$(realpath -- "$CS_BIN") || { echo "compare.sh: CS_BIN $CS_BIN: no such file" >&2; exit 1; }
fi
cd "$(dirname "$0")/.."
ROOT=$PWD

SIZES=${SIZES:-"1000 20000 500000"}
SEED=${SEED:-2009}
TIMEOUT=${TIMEOUT:-300}
BUDGET=${BUDGET:-60}
RUNS=${RUNS:-10}
MIN_RUNS=${MIN_RUNS:-3}
CHECK_MAX=${CHECK_MAX:-20000}
CACHE=${CACHE:-${TMPDIR:-/tmp}/cs-score-bench}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${OUT:-$CACHE/results-$(date +%Y%m%d-%H%M%S)}
COLD_RUNS=${COLD_RUNS:-5}
PAUSE=${PAUSE:-3}
PYTHON=${PYTHON:-python3}

say() { printf '%s\n' "$*" >&2; }
die() { say "compare.sh: $*"; exit 1; }

[ -x /usr/bin/time ] || die "GNU time is needed for peak memory: apt-get install time"
if ! "$PYTHON" -c 'import pandas' 2>/dev/null; then
  say "pandas is missing: installing it with pip"
  "$PYTHON" -m pip install --quiet pandas || die "pip install pandas failed"
fi
HYPERFINE=${HYPERFINE:-hyperfine} # HYPERFINE=none: use the timing loop
HAVE_HYPERFINE=0
command -v "$HYPERFINE" >/dev/null 2>&1 && HAVE_HYPERFINE=1
mkdir -p "$CACHE" "$OUT"

say "== building (release) into $TARGET"
cargo build --release --quiet --bin cs-score
cargo bench --no-run --quiet --bench gen_workspace --bench parse_floor --message-format=json >"$OUT/build.json"
exe() { # the executable of a bench target, from cargo's JSON messages
  "$PYTHON" - "$1" "$OUT/build.json" <<'EOF'
import json, sys
for line in open(sys.argv[2]):
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == sys.argv[1] and m.get("executable"):
        print(m["executable"])
EOF
}
CS=${CS_BIN:-$TARGET/release/cs-score}
GEN=$(exe gen_workspace)
FLOOR=$(exe parse_floor)
[ -x "$CS" ] || die "$CS is not an executable cs-score"
if ! [ -x "$GEN" ] || ! [ -x "$FLOOR" ]; then
  die "build did not produce gen_workspace and parse_floor"
fi
GENHASH=$(cat benches/support/gen.rs benches/gen_workspace.rs | sha256sum | cut -c1-10)

RESULTS=$OUT/results.tsv
{
  printf 'timer\t%s\n' "$([ "$HAVE_HYPERFINE" = 1 ] && "$HYPERFINE" --version || echo "a timing loop")"
  printf 'timeout\t%s\n' "$TIMEOUT"
  printf 'started\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf 'cpu\t%s (%s cores)\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(nproc)"
  printf 'memory\t%s\n' "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  printf 'load\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'binary\t%s\n' "$CS"
  printf 'python\t%s\n' "$("$PYTHON" -c 'import sys, pandas; print(sys.version.split()[0], "pandas", pandas.__version__)')"
} >"$OUT/meta.tsv"
: >"$OUT/files.tsv"
printf 'size\tgroup\tlabel\tkind\tstatus\truns\tmedian\tmin\tmax\trss_kb\tnote\n' >"$RESULTS"

# time_cmd SIZE GROUP KIND LABEL OUTFILE -- COMMAND...
# One probe run under /usr/bin/time -v (peak RSS; its output kept in OUTFILE), stopped after
# TIMEOUT seconds; then the timed runs (hyperfine, or a loop), as many as BUDGET allows.
time_cmd() {
  local size=$1 group=$2 kind=$3 label=$4 outfile=$5
  shift 6
  local slug tf rc wall rss runs
  slug=$(printf '%s' "$size-$label" | tr -c 'A-Za-z0-9.-' '_')
  tf=$OUT/$slug.time
  say "-- $size: $label"
  set +e
  /usr/bin/time -v -o "$tf" timeout "$TIMEOUT" "$@" >"$outfile" 2>"$OUT/$slug.stderr"
  rc=$?
  set -e
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tf")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tf" |
    awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  if [ "$rc" = 124 ]; then
    say "   timed out after ${TIMEOUT}s (peak RSS so far ${rss} KB)"
    printf '%s\t%s\t%s\t%s\ttimeout\t0\t%s\t\t\t%s\tstopped after %ss\n' \
      "$size" "$group" "$label" "$kind" "$TIMEOUT" "$rss" "$TIMEOUT" >>"$RESULTS"
    return
  elif [ "$rc" != 0 ]; then
    say "   failed (exit $rc): $(tail -3 "$OUT/$slug.stderr")"
    printf '%s\t%s\t%s\t%s\tfailed\t0\t\t\t\t%s\texit %s\n' "$size" "$group" "$label" "$kind" "$rss" "$rc" >>"$RESULTS"
    return
  fi
  runs=$("$PYTHON" -c "import sys; w=max(float(sys.argv[1]), 1e-3); print(max($MIN_RUNS, min($RUNS, int($BUDGET / w))))" "$wall")
  local json=$OUT/$slug.json
  if [ "$HAVE_HYPERFINE" = 1 ]; then
    "$HYPERFINE" --shell=none --style=none --runs "$runs" --export-json "$json" -- "$(printf '%q ' "$@")" >/dev/null
  else
    "$PYTHON" - "$json" "$runs" "$@" <<'EOF'
import json, subprocess, sys, time
out, runs, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times.append(time.perf_counter() - t)
s = sorted(times)
med = s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2
json.dump({"results": [{"median": med, "min": s[0], "max": s[-1], "times": times}]}, open(out, "w"))
EOF
  fi
  "$PYTHON" - "$json" "$size" "$group" "$label" "$kind" "$runs" "$rss" >>"$RESULTS" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
size, group, label, kind, runs, rss = sys.argv[2:]
print(f"{size}\t{group}\t{label}\t{kind}\tok\t{runs}\t{r['median']:.6f}\t{min(r['times']):.6f}\t{max(r['times']):.6f}\t{rss}\t")
EOF
}

# time_cold SIZE GROUP KIND LABEL -- COMMAND...: COLD_RUNS runs, each after PAUSE seconds of
# nothing, output to /dev/null; their median, as time_cmd's.
time_cold() {
  local size=$1 group=$2 kind=$3 label=$4
  shift 5
  [ "$COLD_RUNS" -gt 0 ] || return 0
  say "-- $size: $label"
  "$PYTHON" - "$size" "$group" "$label" "$kind" "$COLD_RUNS" "$PAUSE" "$TIMEOUT" "$@" >>"$RESULTS" <<'EOF'
import statistics, subprocess, sys, time
size, group, label, kind = sys.argv[1:5]
runs, pause, timeout, cmd = int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7]), sys.argv[8:]
times = []
for _ in range(runs):
    time.sleep(pause)
    t = time.perf_counter()
    # A run that fails or outlasts TIMEOUT ends the series with a row that says so, as
    # time_cmd's do; the other commands and the report still run.
    try:
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"{size}\t{group}\t{label}\t{kind}\ttimeout\t0\t{timeout}\t\t\t\tstopped after {timeout:.0f}s")
        sys.exit()
    except subprocess.CalledProcessError as e:
        print(f"{size}\t{group}\t{label}\t{kind}\tfailed\t0\t\t\t\t\texit {e.returncode}")
        sys.exit()
    times.append(time.perf_counter() - t)
print(f"{size}\t{group}\t{label}\t{kind}\tok\t{runs}\t{statistics.median(times):.6f}\t{min(times):.6f}\t{max(times):.6f}\t\t")
EOF
}

# agree SIZE PERIOD CS_OUTPUT: the pandas script checks cs-score's scores.
agree() {
  local size=$1 period=$2 csv=$3 ws=$4 status
  if [ ! -s "$csv" ]; then
    status="not checked: cs-score gave no output"
  elif "$PYTHON" benches/pandas_scores.py "$ws" "$period" --check "$csv" >"$csv.check" 2>&1; then
    status="agree: $(sed 's/.*agree with [^:]*: //' "$csv.check")"
  else
    status="DISAGREE: $(head -4 "$csv.check" | tr '\n' ' ')"
  fi
  say "   pandas vs cs-score $period: $status"
  printf '%s\tcheck\tpandas agrees with cs-score %s\tcheck\t%s\t\t\t\t\t\t%s\n' "$size" "$period" \
    "$([[ $status == agree* ]] && echo ok || echo fail)" "$status" >>"$RESULTS"
}

for size in $SIZES; do
  ws=$CACHE/ws-$size-seed$SEED-$GENHASH
  if [ ! -f "$ws/.complete" ]; then
    say "== generating $size people into $ws"
    rm -rf "$ws"
    "$GEN" --people "$size" --out "$ws" --seed "$SEED" >&2
    touch "$ws/.complete"
  fi
  if [ "$size" -le "$CHECK_MAX" ]; then
    set +e
    timeout "$TIMEOUT" "$CS" --dir "$ws" check >"$OUT/$size-check.out" 2>&1
    rc=$?
    set -e
    say "== $size: cs-score check exit $rc: $(tail -1 "$OUT/$size-check.out")"
    printf '%s\tcheck\tcs-score check\tcheck\t%s\t\t\t\t\t\texit %s: %s\n' "$size" \
      "$([ $rc = 0 ] && echo ok || echo fail)" "$rc" "$(tail -1 "$OUT/$size-check.out")" >>"$RESULTS"
  fi
  "$FLOOR" "$ws" 2009 | sed "s/^/$size\tfiles\t2009\t/" >>"$OUT/files.tsv"
  "$FLOOR" "$ws" 2009Q2 | sed "s/^/$size\tfiles\t2009Q2\t/" >>"$OUT/files.tsv"
  time_cmd "$size" year floor "parse floor (the year's files)" /dev/null -- "$FLOOR" "$ws" 2009
  time_cmd "$size" year cs "cs-score year 2009 --format csv" "$OUT/$size-cs-year.csv" -- \
    "$CS" --dir "$ws" year 2009 --format csv
  time_cmd "$size" year pandas "pandas_scores.py 2009" /dev/null -- "$PYTHON" benches/pandas_scores.py "$ws" 2009
  time_cmd "$size" quarter floor "parse floor (2009Q2's files)" /dev/null -- "$FLOOR" "$ws" 2009Q2
  time_cmd "$size" quarter cs "cs-score quarter 2009Q2 --format csv" "$OUT/$size-cs-q2.csv" -- \
    "$CS" --dir "$ws" quarter 2009Q2 --format csv
  time_cmd "$size" quarter pandas "pandas_scores.py 2009Q2" /dev/null -- \
    "$PYTHON" benches/pandas_scores.py "$ws" 2009Q2
  after="each after a ${PAUSE} s pause"
  time_cold "$size" year-cold floor "parse floor (the year's files), $after" -- "$FLOOR" "$ws" 2009
  time_cold "$size" year-cold cs "cs-score year 2009 --format csv, $after" -- "$CS" --dir "$ws" year 2009 --format csv
  time_cold "$size" quarter-cold floor "parse floor (2009Q2's files), $after" -- "$FLOOR" "$ws" 2009Q2
  time_cold "$size" quarter-cold cs "cs-score quarter 2009Q2 --format csv, $after" -- \
    "$CS" --dir "$ws" quarter 2009Q2 --format csv
  agree "$size" 2009 "$OUT/$size-cs-year.csv" "$ws"
  agree "$size" 2009Q2 "$OUT/$size-cs-q2.csv" "$ws"
done

ex=examples/hecheng-2009
RUNS=50 MIN_RUNS=50 time_cmd example example cs "cs-score quarter 2009Q2 (table)" /dev/null -- \
  "$CS" --dir "$ex" quarter 2009Q2
RUNS=50 MIN_RUNS=50 time_cmd example example cs "cs-score quarter 2009Q2 --format csv" /dev/null -- \
  "$CS" --dir "$ex" quarter 2009Q2 --format csv

"$PYTHON" benches/compare_report.py "$OUT" | tee "$OUT/results.md"
say "results: $OUT (results.md, results.tsv, hyperfine JSON, /usr/bin/time -v output)"
