#!/usr/bin/env bash
# The monthly report a team puts in cron:
#   monthly-report.sh WORKSPACE [YYYY-MM]      (default month: last month)
# Runs `cs-score check` for the month, then writes the month's bulletin as CSV — and, when the
# month ends a quarter, the quarter's results — into WORKSPACE/reports/. Any problem: a message
# on stderr and a non-zero exit (cron mails it); no partial report is left behind.
# CS_SCORE names the binary (default: cs-score on PATH).
set -euo pipefail

die() { echo "monthly-report: $*" >&2; exit 1; }

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: monthly-report.sh WORKSPACE [YYYY-MM]" >&2; exit 2; }
workspace=$1
month=${2:-$(date -d "$(date +%Y-%m-01) -1 month" +%Y-%m)}
[[ $month =~ ^[0-9]{4}-(0[1-9]|1[0-2])$ ]] || { echo "monthly-report: \"$month\" is not a month YYYY-MM" >&2; exit 2; }
bin=${CS_SCORE:-cs-score}
command -v "$bin" >/dev/null 2>&1 || die "cannot run \"$bin\": install cs-score or set CS_SCORE"

reports="$workspace/reports"
mkdir -p "$reports" || die "cannot make $reports"

if ! check_output=$("$bin" --dir "$workspace" check "$month" 2>&1); then
  printf '%s\n' "$check_output" >&2
  die "check failed for $month: fix the data above; no report written"
fi

"$bin" --dir "$workspace" -q month "$month" --format csv --output "$reports/$month-bulletin.csv" \
  || die "the bulletin for $month failed"
written="$reports/$month-bulletin.csv"

year=${month%-*}
mm=${month#*-}
case $mm in
  03|06|09|12)
    quarter="${year}Q$(( 10#$mm / 3 ))"
    "$bin" --dir "$workspace" -q quarter "$quarter" --format csv --output "$reports/$quarter-results.csv" \
      || die "the results for $quarter failed"
    written="$written $reports/$quarter-results.csv"
    ;;
esac

echo "monthly-report: wrote $written"
